// What codexmcp keeps to itself, through the real Codex CLI against the fake
// Responses endpoint: its state files are private whatever the umask, and
// its log at the default level names no prompt and no word of Codex's
// output (a call that succeeds, one whose command prints, one that fails).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sharedFakeCodex, codexBin, env as codexEnv } from './lib/codex-env.mjs';
import { connectSdk, usingSdk, serverBin, serverExists, callToolChecked } from './lib/mcp.mjs';
import { tempTree } from './lib/tmp.mjs';

const T = { timeout: 90000 };
const CALL_MS = 30000;

if (!serverExists()) {
  test('server binary exists', () => {
    assert.fail(`codexmcp binary not found at ${serverBin()} (build it or set CODEXMCP_BIN)`);
  });
}

const codex = sharedFakeCodex();
const tree = tempTree('codexmcp-e2e-security-');

/** Every file and directory below dir, with its mode. */
function walk(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out.push({ p, dir: e.isDirectory(), mode: fs.statSync(p).mode & 0o777 });
    if (e.isDirectory()) walk(p, out);
  }
  return out;
}

test('state files are 0600 and directories 0700 even under umask 000', T, async () => {
  const state = path.join(tree.dir('umask'), 'state'); // created by the server
  const cd = fs.realpathSync(tree.dir('umask-project'));
  // The server inherits the umask of the shell that starts it.
  const sdk = await connectSdk(['-c', `umask 000; exec "${serverBin()}" --codex "${codexBin()}" --state-dir "${state}"`],
    codexEnv(codex.home), { command: '/bin/sh' });
  await usingSdk(sdk, async () => {
    const r = await callToolChecked(sdk.client, 'codex', { PROMPT: 'say hi', cd, wait_s: 30 }, CALL_MS);
    assert.equal(r.obj.success, true, JSON.stringify(r.obj));
  });
  const entries = walk(state);
  assert.ok(entries.some((e) => e.p.endsWith('.jsonl')), 'a transcript was written');
  assert.ok(entries.some((e) => e.p.endsWith('codexmcp.sqlite')), 'the registry was written');
  assert.equal(fs.statSync(state).mode & 0o777, 0o700, state);
  for (const e of entries) assert.equal(e.mode, e.dir ? 0o700 : 0o600, `${e.p} is ${e.mode.toString(8)}`);
});

test('the log at the default level holds no prompt and no Codex output', T, async () => {
  const cd = fs.realpathSync(tree.dir('log-project'));
  const secret = `SECRETPROMPT${process.pid}`;
  const said = `SECRETANSWER${process.pid}`;
  const printed = `SECRETOUTPUT${process.pid}`;
  const sdk = await connectSdk(['--codex', codexBin(), '--state-dir', tree.dir('log-state')], codexEnv(codex.home));
  let stderr = '';
  await usingSdk(sdk, async () => {
    const ok = await callToolChecked(sdk.client, 'codex', { PROMPT: `${secret} [[reply:${said}]]`, cd }, CALL_MS);
    assert.equal(ok.obj.agent_messages, said);
    const cmd = await callToolChecked(sdk.client, 'codex', { PROMPT: `${secret} [[shell:echo ${printed}]]`, cd }, CALL_MS);
    assert.ok(JSON.stringify(cmd.obj).includes(printed), 'the command ran and printed');
    const bad = await callToolChecked(sdk.client, 'codex', { PROMPT: `${secret} [[fail400]]`, cd }, CALL_MS);
    assert.equal(bad.obj.success, false);
    stderr = sdk.stderr();
  });
  for (const word of [secret, said, printed])
    assert.ok(!stderr.includes(word), `the log holds ${word}:\n${stderr}`);
});
