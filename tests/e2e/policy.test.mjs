// Policy caps set by whoever starts the server (the model cannot change them):
// --max-sandbox, --no-yolo, --read-only, --allow-root and their environment
// forms (CODEXMCP_MAX_SANDBOX, CODEXMCP_NO_YOLO, CODEXMCP_READ_ONLY,
// CODEXMCP_ALLOW_ROOTS), through the REAL codex CLI against the fake
// Responses endpoint (lib/fake-responses.mjs).
//
// A refused call is a normal tool result, isError with {"success":false,
// "error":"…"} naming the option (or variable) that refused, and it is refused
// before anything runs: the fake endpoint never sees its prompt (each prompt
// carries a unique marker). Allowed calls run the real codex end to end, and
// the sandbox the model endpoint was told (x-codex-turn-metadata) is checked.
// Every server keeps serving after its refusals: each test ends with a call
// that works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { codexBin, sharedFakeCodex, env as codexEnv } from './lib/codex-env.mjs';
import { connectSdk, rawServer, serverBin, serverExists, callToolChecked, withTimeout } from './lib/mcp.mjs';
import { tempTree, git } from './lib/tmp.mjs';

const T = { timeout: 90000 };
const CALL_MS = 30000;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const POLICY_VARS = ['CODEXMCP_MAX_SANDBOX', 'CODEXMCP_NO_YOLO', 'CODEXMCP_READ_ONLY', 'CODEXMCP_ALLOW_ROOTS'];
const uniq = () => `p${process.pid}x${Date.now().toString(36)}x${Math.random().toString(36).slice(2, 8)}`;

if (!serverExists()) {
  test('server binary exists', () => {
    assert.fail(`codexmcp binary not found at ${serverBin()} (build it or set CODEXMCP_BIN)`);
  });
}

// One fake endpoint and one CODEX_HOME for the whole file: every prompt is unique.
const codex = sharedFakeCodex();
const tree = tempTree('codexmcp-e2e-policy-');
/** A fresh directory, symlinks resolved (os.tmpdir() may be one). */
const realDir = (name) => fs.realpathSync(tree.dir(name));

/** The server's environment: offline codex env, no policy variables unless given. */
function serverEnv(extra = {}) {
  const e = codexEnv(codex.home);
  for (const k of POLICY_VARS) delete e[k];
  return { ...e, ...extra };
}

/**
 * Run fn(s) against a fresh codexmcp (real codex, the shared CODEX_HOME, a
 * fresh state dir) started with `args` and policy variables `envExtra`.
 * s = { client, sdk, ok(args, tool?), refused(args, re, tool?) }. After fn,
 * the fake endpoint is checked to have seen none of the refused prompts.
 */
async function withServer({ args = [], envExtra = {} } = {}, fn) {
  const argv = ['--codex', codexBin(), '--state-dir', tree.dir('state'), ...args];
  let sdk;
  try {
    sdk = await connectSdk(argv, serverEnv(envExtra));
  } catch (err) {
    // Say why: run it again to read its stderr.
    const srv = rawServer(argv, serverEnv(envExtra));
    await srv.waitClosed(3000).catch(() => {});
    await srv.dispose();
    err.message += ` (codexmcp ${args.join(' ')} ${JSON.stringify(envExtra)}; its stderr: ${srv.stderr.slice(-1500)})`;
    throw err;
  }
  const refusedMarkers = [];
  const s = {
    client: sdk.client,
    sdk,
    /** A call that must run codex: its answer is the one the fake gave for this very prompt. */
    async ok(callArgs, { tool = 'codex', sandbox } = {}) {
      const u = uniq();
      const a = { ...callArgs, PROMPT: `policy ok ${u} [[reply:answer ${u}]]` };
      const { obj } = await callToolChecked(sdk.client, tool, a, CALL_MS);
      const what = `${tool} ${JSON.stringify(callArgs)} under ${JSON.stringify(args)} ${JSON.stringify(envExtra)}`;
      assert.equal(obj.success, true, `${what} should run: ${JSON.stringify(obj).slice(0, 1500)}`);
      assert.match(obj.SESSION_ID, UUID_RE);
      assert.equal(obj.agent_messages, `answer ${u}`, what);
      const reqs = codex.fake.requestsFor(u);
      assert.ok(reqs.length >= 1, `the model endpoint saw ${what}`);
      if (sandbox) {
        const meta = JSON.parse(reqs[0].headers['x-codex-turn-metadata'] ?? '{}');
        assert.equal(meta.sandbox_mode, sandbox, `${what}: the sandbox codex ran in`);
      }
      return obj;
    },
    /** A call that must be refused before codex runs, with an error matching every regexp of `res`. */
    async refused(callArgs, res, { tool = 'codex' } = {}) {
      const u = uniq();
      const a = { ...callArgs, PROMPT: `policy refused ${u} [[reply:should not run ${u}]]` };
      const { res: r, obj } = await callToolChecked(sdk.client, tool, a, CALL_MS);
      const what = `${tool} ${JSON.stringify(callArgs)} under ${JSON.stringify(args)} ${JSON.stringify(envExtra)}`;
      assert.equal(obj.success, false, `${what} should be refused: ${JSON.stringify(obj).slice(0, 1500)}`);
      assert.equal(r.isError, true, what);
      assert.equal(typeof obj.error, 'string', what);
      for (const re of [res].flat()) assert.match(obj.error, re, `${what}: error`);
      assert.equal(codex.fake.requestsFor(u).length, 0, `${what}: refused, yet the model endpoint saw its prompt`);
      refusedMarkers.push(u);
      return obj;
    },
  };
  try {
    const out = await fn(s);
    // Nothing a refused call could have started turns up late either.
    for (const u of refusedMarkers) assert.equal(codex.fake.requestsFor(u).length, 0, `refused call ${u} reached the model endpoint`);
    return out;
  } catch (err) {
    err.message += `\n--- server stderr (tail) ---\n${sdk.stderr().slice(-3000)}`;
    throw err;
  } finally {
    await sdk.close();
  }
}

/** tools/list entry of `name`. */
async function toolOf(client, name) {
  const { tools } = await withTimeout(client.listTools(), 10000, 'tools/list');
  const t = tools.find((x) => x.name === name);
  assert.ok(t, `tool ${name} listed: ${tools.map((x) => x.name)}`);
  return t;
}

const lit = (s) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

// ---------------------------------------------------------------------------

test('--max-sandbox read-only: workspace-write, danger-full-access and yolo are refused before codex runs; read-only and the default run', T, () =>
  withServer({ args: ['--max-sandbox', 'read-only'] }, async (s) => {
    const cd = realDir('cwd');
    const e1 = await s.refused({ cd, sandbox: 'workspace-write' }, [/--max-sandbox/, /workspace-write/]);
    assert.match(e1.error, /read-only/, 'the error names the cap');
    await s.refused({ cd, sandbox: 'danger-full-access' }, [/--max-sandbox/, /danger-full-access/]);
    await s.refused({ cd, yolo: true }, [/--max-sandbox/, /yolo/]);
    await s.refused({ cd, yolo: true, sandbox: 'read-only' }, /--max-sandbox/);
    await s.ok({ cd, sandbox: 'read-only' }, { sandbox: 'read-only' });
    await s.ok({ cd }, { sandbox: 'read-only' });
    await s.ok({ cd, yolo: false }, { sandbox: 'read-only' });
  }));

test('--max-sandbox workspace-write: danger-full-access and yolo are refused, workspace-write runs', T, () =>
  withServer({ args: ['--max-sandbox', 'workspace-write'] }, async (s) => {
    const cd = realDir('cwd');
    await s.refused({ cd, sandbox: 'danger-full-access' }, [/--max-sandbox/, /danger-full-access/]);
    await s.refused({ cd, yolo: true }, /--max-sandbox/);
    await s.ok({ cd, sandbox: 'workspace-write' }, { sandbox: 'workspace-write' });
    await s.ok({ cd }, { sandbox: 'read-only' });
  }));

test('--no-yolo: yolo is refused naming --no-yolo; workspace-write runs', T, () =>
  withServer({ args: ['--no-yolo'] }, async (s) => {
    const cd = realDir('cwd');
    await s.refused({ cd, yolo: true }, [/--no-yolo/, /yolo/]);
    await s.ok({ cd, sandbox: 'workspace-write' }, { sandbox: 'workspace-write' });
    await s.refused({ cd, yolo: true, sandbox: 'workspace-write' }, /--no-yolo/);
    await s.ok({ cd, yolo: false }, { sandbox: 'read-only' });
  }));

test('--read-only: workspace-write, danger-full-access and yolo are refused naming --read-only; read-only runs; tools are annotated read-only', T, () =>
  withServer({ args: ['--read-only'] }, async (s) => {
    const cd = realDir('cwd');
    await s.refused({ cd, sandbox: 'workspace-write' }, [/--read-only/, /workspace-write/]);
    await s.refused({ cd, sandbox: 'danger-full-access' }, /--read-only/);
    await s.refused({ cd, yolo: true }, [/--read-only/, /yolo/]);
    for (const name of ['codex', 'codex_review']) {
      const t = await toolOf(s.client, name);
      assert.equal(t.annotations?.readOnlyHint, true, `${name} readOnlyHint under --read-only: ${JSON.stringify(t.annotations)}`);
      assert.equal(t.annotations?.destructiveHint, false, `${name} destructiveHint under --read-only: ${JSON.stringify(t.annotations)}`);
    }
    await s.ok({ cd, sandbox: 'read-only' }, { sandbox: 'read-only' });
    await s.ok({ cd }, { sandbox: 'read-only' });
  }));

test('without caps: codex is annotated as not read-only and destructive; workspace-write and yolo run', T, () =>
  withServer({}, async (s) => {
    const t = await toolOf(s.client, 'codex');
    assert.equal(t.annotations?.readOnlyHint, false, `codex readOnlyHint without --read-only: ${JSON.stringify(t.annotations)}`);
    assert.equal(t.annotations?.destructiveHint, true, `codex destructiveHint without --read-only: ${JSON.stringify(t.annotations)}`);
    const cd = realDir('cwd');
    await s.ok({ cd, sandbox: 'workspace-write' }, { sandbox: 'workspace-write' });
    await s.ok({ cd, yolo: true });
  }));

test('environment forms: CODEXMCP_READ_ONLY=1, CODEXMCP_MAX_SANDBOX=read-only, CODEXMCP_NO_YOLO=1 refuse, naming the variable', T, async () => {
  const cd = realDir('cwd');
  await withServer({ envExtra: { CODEXMCP_READ_ONLY: '1' } }, async (s) => {
    await s.refused({ cd, sandbox: 'workspace-write' }, /CODEXMCP_READ_ONLY/);
    await s.refused({ cd, yolo: true }, /CODEXMCP_READ_ONLY/);
    const t = await toolOf(s.client, 'codex');
    assert.equal(t.annotations?.readOnlyHint, true, `readOnlyHint under CODEXMCP_READ_ONLY=1: ${JSON.stringify(t.annotations)}`);
    assert.equal(t.annotations?.destructiveHint, false, `destructiveHint under CODEXMCP_READ_ONLY=1: ${JSON.stringify(t.annotations)}`);
    await s.ok({ cd }, { sandbox: 'read-only' });
  });
  await withServer({ envExtra: { CODEXMCP_MAX_SANDBOX: 'read-only' } }, async (s) => {
    await s.refused({ cd, sandbox: 'workspace-write' }, [/CODEXMCP_MAX_SANDBOX/, /workspace-write/]);
    await s.refused({ cd, yolo: true }, /CODEXMCP_MAX_SANDBOX/);
    await s.ok({ cd, sandbox: 'read-only' }, { sandbox: 'read-only' });
  });
  await withServer({ envExtra: { CODEXMCP_NO_YOLO: '1' } }, async (s) => {
    await s.refused({ cd, yolo: true }, /CODEXMCP_NO_YOLO/);
    await s.ok({ cd, sandbox: 'workspace-write' }, { sandbox: 'workspace-write' });
  });
});

// ---- --allow-root ---------------------------------------------------------------

/** A git repository with one commit in dir (for codex_review). */
function gitRepo(dir) {
  fs.mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(dir, 'a.txt'), 'one\n');
  git(dir, 'add', 'a.txt');
  git(dir, 'commit', '-q', '-m', 'init');
  return dir;
}

test('--allow-root DIR: cd inside (also via .. and inner symlinks) runs; outside, a prefix sibling, .. out of it and a symlink out are refused; codex_review too', T, () => {
  const root = realDir('root');
  fs.mkdirSync(path.join(root, 'sub'));
  fs.mkdirSync(path.join(root, 'sub2'));
  const outside = realDir('outside');
  const sibling = `${root}-evil`; // string prefix of nothing: root + "-evil"
  fs.mkdirSync(sibling);
  fs.symlinkSync(outside, path.join(root, 'link-out'));
  fs.symlinkSync(path.join(root, 'sub'), path.join(root, 'link-in'));
  const repoIn = gitRepo(path.join(root, 'repo'));
  const repoOut = gitRepo(path.join(outside, 'repo'));
  return withServer({ args: ['--allow-root', root] }, async (s) => {
    await s.ok({ cd: root });
    await s.ok({ cd: path.join(root, 'sub') });
    await s.ok({ cd: `${root}/sub/..` });
    await s.ok({ cd: `${root}/sub/../sub2` });
    await s.ok({ cd: `${root}/` });
    await s.ok({ cd: path.join(root, 'link-in') });

    const e = await s.refused({ cd: outside }, [/--allow-root/, lit(outside)]);
    assert.match(e.error, lit(root), 'the error names the allowed root');
    await s.refused({ cd: sibling }, [/--allow-root/, lit(sibling)]);
    await s.refused({ cd: `${root}/../${path.basename(outside)}` }, /--allow-root/);
    await s.refused({ cd: `${root}/sub/../..` }, /--allow-root/);
    await s.refused({ cd: '/' }, /--allow-root/);
    const link = path.join(root, 'link-out');
    const el = await s.refused({ cd: link }, [/--allow-root/, /resolves to/, lit(outside)]);
    assert.match(el.error, lit(link), 'the error names the cd given');

    // codex_review: only --allow-root applies (a review always runs read-only).
    await s.refused({ cd: repoOut }, /--allow-root/, { tool: 'codex_review' });
    await s.ok({ cd: repoIn }, { tool: 'codex_review', sandbox: 'read-only' });
    // Still serving after the refusals.
    await s.ok({ cd: root });
  });
});

test('--allow-root A --allow-root B and CODEXMCP_ALLOW_ROOTS=A:B: both roots allowed, anything else refused naming the option', T, async () => {
  const a = realDir('rootA');
  const b = realDir('rootB');
  const c = realDir('rootC');
  const repoC = gitRepo(path.join(c, 'repo'));
  fs.mkdirSync(path.join(b, 'deep', 'er'), { recursive: true });
  await withServer({ args: ['--allow-root', a, '--allow-root', b] }, async (s) => {
    await s.ok({ cd: a });
    await s.ok({ cd: path.join(b, 'deep', 'er') });
    const e = await s.refused({ cd: c }, [/--allow-root/, lit(c)]);
    assert.match(e.error, lit(a), 'the error names root A');
    assert.match(e.error, lit(b), 'the error names root B');
    await s.ok({ cd: b });
  });
  await withServer({ envExtra: { CODEXMCP_ALLOW_ROOTS: `${a}:${b}` } }, async (s) => {
    await s.ok({ cd: a });
    await s.ok({ cd: path.join(b, 'deep') });
    await s.refused({ cd: c }, [/CODEXMCP_ALLOW_ROOTS/, lit(c)]);
    await s.refused({ cd: repoC }, /CODEXMCP_ALLOW_ROOTS/, { tool: 'codex_review' });
    await s.ok({ cd: b });
  });
});

test('--allow-root given as a symlink: the root is resolved too, so cd through the link or to its target runs', T, () => {
  const real = realDir('realroot');
  fs.mkdirSync(path.join(real, 'sub'));
  const link = tree.path('linkroot');
  fs.symlinkSync(real, link);
  const other = realDir('other');
  return withServer({ args: ['--allow-root', link] }, async (s) => {
    await s.ok({ cd: path.join(real, 'sub') });
    await s.ok({ cd: path.join(link, 'sub') });
    await s.ok({ cd: link });
    await s.refused({ cd: other }, /--allow-root/);
  });
});

test('an --allow-root (or CODEXMCP_ALLOW_ROOTS entry) that does not exist: the server exits 2 at start with a clear message', T, async () => {
  const missing = '/does/not/exist';
  const cases = [
    { what: '--allow-root', args: ['--allow-root', missing], envExtra: {} },
    { what: 'a second --allow-root', args: ['--allow-root', realDir('fine'), '--allow-root', missing], envExtra: {} },
    { what: 'CODEXMCP_ALLOW_ROOTS', args: [], envExtra: { CODEXMCP_ALLOW_ROOTS: `${realDir('fine')}:${missing}` } },
  ];
  for (const c of cases) {
    const srv = rawServer(['--codex', codexBin(), '--state-dir', tree.dir('state'), ...c.args], serverEnv(c.envExtra));
    try {
      const { code, signal } = await srv.waitClosed(10000);
      assert.equal(signal, null, `${c.what}: killed by ${signal}; stderr: ${srv.stderr}`);
      assert.equal(code, 2, `${c.what}: exit status; stderr: ${srv.stderr}`);
      assert.match(srv.stderr, lit(missing), `${c.what}: stderr names the directory`);
      assert.match(srv.stderr, c.what === 'CODEXMCP_ALLOW_ROOTS' ? /CODEXMCP_ALLOW_ROOTS/ : /--allow-root/, `${c.what}: stderr names the option`);
      assert.equal(srv.stdout, '', `${c.what}: nothing on stdout`);
    } finally {
      await srv.dispose();
    }
  }
});

// A call that passed the check can wait in the queue; its cd may meanwhile
// become a link to elsewhere (the running turn's own Codex can do that, its
// root is writable to it). The check is made again when it starts. A fake
// codex: the point is what codexmcp starts, not what codex does.
test('--allow-root: a queued call whose cd was replaced by a link out of the root is refused when it starts, not run there', T, async () => {
  const FAKE = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'fake-codex.mjs');
  const root = realDir('swap-root');
  const outside = realDir('swap-outside');
  const sub = path.join(root, 'sub');
  fs.mkdirSync(sub);
  const sdk = await connectSdk(['--codex', FAKE, '--engine', 'exec', '--max-parallel', '1', '--allow-root', root,
    '--state-dir', tree.dir('state-swap')], { ...serverEnv(), FAKE_CODEX_THREAD_ID: 'random' });
  try {
    const first = callToolChecked(sdk.client, 'codex', { PROMPT: 'hold [[sleep:1500]]', cd: root }, CALL_MS);
    await new Promise((r) => setTimeout(r, 300));
    const queued = sdk.client.callTool({ name: 'codex', arguments: { PROMPT: 'queued', cd: sub } }, undefined, { timeout: CALL_MS });
    await new Promise((r) => setTimeout(r, 300));
    fs.rmdirSync(sub);
    fs.symlinkSync(outside, sub);
    await first;
    const r = await queued;
    const obj = JSON.parse(r.content[0].text);
    assert.equal(r.isError, true, `the queued call ran: ${r.content[0].text}`);
    assert.match(obj.error, /--allow-root/);
    assert.ok(obj.error.includes(outside), obj.error);
  } finally {
    await sdk.close();
  }
});
