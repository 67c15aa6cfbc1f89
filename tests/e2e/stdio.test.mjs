// stdin and stdout as regular files, and a client that stops reading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serverBin, withTimeout } from './lib/mcp.mjs';

const T = { timeout: 30000 };

function run(stdio, args = []) {
  const p = spawn(serverBin(), args, { stdio });
  let stderr = '';
  p.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => p.on('exit', (code, signal) => resolve({ code, signal, stderr: () => stderr })));
  return { p, exited };
}

test('stdin /dev/null and stdout a file: exits 0 with nothing written', T, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-stdio-'));
  try {
    for (let i = 0; i < 5; i++) {
      const out = path.join(dir, `out-${i}`);
      const { exited } = run([fs.openSync('/dev/null', 'r'), fs.openSync(out, 'w'), 'pipe']);
      const r = await withTimeout(exited, 10000, 'exit');
      assert.equal(r.code, 0, r.stderr());
      assert.equal(fs.readFileSync(out, 'utf8'), '');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('stdin and stdout both files: every reply written in order, exit 0', T, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-stdio-'));
  try {
    const reqs = path.join(dir, 'req.jsonl');
    const lines = [{ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25' } }];
    for (let i = 1; i <= 200; i++) lines.push({ jsonrpc: '2.0', id: i, method: i % 2 ? 'ping' : 'tools/list' });
    fs.writeFileSync(reqs, lines.map((l) => JSON.stringify(l)).join('\n')); // no final newline
    for (let i = 0; i < 5; i++) {
      const out = path.join(dir, `out-${i}`);
      const { exited } = run([fs.openSync(reqs, 'r'), fs.openSync(out, 'w'), 'pipe']);
      const r = await withTimeout(exited, 10000, 'exit');
      assert.equal(r.code, 0, r.stderr());
      const replies = fs.readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(replies.map((m) => m.id), lines.map((l) => l.id));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a client that stops reading stdout: a second SIGTERM still ends the server', T, async () => {
  const { p, exited } = run(['pipe', 'pipe', 'pipe']);
  // Never read stdout: replies pile up in the pipe and then in the server.
  p.stdout.pause();
  p.stdin.on('error', () => {});
  const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) + '\n';
  p.stdin.write(ping.repeat(20000));
  await new Promise((r) => setTimeout(r, 500));
  p.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(p.exitCode, null, 'still flushing after the first SIGTERM');
  p.kill('SIGTERM');
  const r = await withTimeout(exited, 5000, 'exit after the second SIGTERM');
  assert.equal(r.code, 1);
  p.stdout.destroy();
});
