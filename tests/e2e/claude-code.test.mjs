// The README's way of adding codexmcp to Claude Code, with the real Claude
// Code CLI (pinned in package.json): `claude mcp add … -s user` and then
// `claude mcp list` / `claude mcp get`, which start the server and run the
// MCP handshake and tools/list. They work offline, with a fresh HOME.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serverBin } from './lib/mcp.mjs';
import { claudeBin, CLAUDE_QUIET_ENV } from './lib/claude.mjs';

function run(args, home, cwd) {
  return new Promise((resolve) => {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (/^(ANTHROPIC_|CLAUDE_)/.test(k)) delete env[k];
    Object.assign(env, { HOME: home, ...CLAUDE_QUIET_ENV });
    execFile(claudeBin, args, { env, cwd, timeout: 60000 }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code : 0, out: stdout + stderr }));
  });
}

test('claude mcp add codex -s user --transport stdio: Claude Code connects', { timeout: 120000 }, async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-claude-'));
  const proj = path.join(home, 'proj');
  fs.mkdirSync(proj);
  try {
    const add = await run(['mcp', 'add', 'codex', '-s', 'user', '--transport', 'stdio', '--', serverBin()], home, proj);
    assert.match(add.out, /Added stdio MCP server codex/, add.out);
    const list = await run(['mcp', 'list'], home, proj);
    // The exit code is always 0: the status line is the answer.
    assert.match(list.out, /codex: .*codexmcp.* - ✔ Connected/, list.out);
    const get = await run(['mcp', 'get', 'codex'], home, proj);
    assert.match(get.out, /Status: ✔ Connected/, get.out);
    // A server that does not start is reported as such: the check can fail.
    await run(['mcp', 'add', 'broken', '-s', 'user', '--', serverBin(), '--no-such-flag'], home, proj);
    const list2 = await run(['mcp', 'list'], home, proj);
    assert.match(list2.out, /broken: .* - ✘ Failed to connect/, list2.out);
    assert.match(list2.out, /codex: .* - ✔ Connected/, list2.out);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
