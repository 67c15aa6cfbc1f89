// Median wall time of one `codex` tool call through codexmcp, next to the
// same turn run as `codex exec --json` directly, both against the fake
// Responses endpoint of the e2e tests (no network, the real Codex CLI).
// Usage: node bench/call-latency.mjs [runs]   (make bench)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFakeResponses } from '../tests/e2e/lib/fake-responses.mjs';
import { codexBin, makeCodexHome, removeCodexHome, env } from '../tests/e2e/lib/codex-env.mjs';
import { connectSdk } from '../tests/e2e/lib/mcp.mjs';

const runs = Number(process.argv[2] ?? 20);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (xs) => `median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}, n=${xs.length})`;

function direct(home, dir, prompt) {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const p = spawn(codexBin(), ['exec', '--json', '--sandbox', 'read-only', '--cd', dir, '--skip-git-repo-check', '--', '-'],
      { env: env(home), cwd: dir, stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stdin.end(prompt);
    p.on('exit', (code) => {
      if (code !== 0 || !out.includes('turn.completed')) reject(new Error(`codex exec failed: ${code}`));
      else resolve(Number(process.hrtime.bigint() - t) / 1e6);
    });
  });
}

const fake = await startFakeResponses();
const home = makeCodexHome(fake.url);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-bench-'));
const srv = await connectSdk(['--codex', codexBin()], env(home));
const viaMcp = [], viaExec = [];
try {
  // one warm-up each: the first codex start pays for page-cache misses
  await direct(home, dir, 'warm up');
  await srv.client.callTool({ name: 'codex', arguments: { PROMPT: 'warm up', cd: dir } });
  for (let i = 0; i < runs; i++) {
    viaExec.push(await direct(home, dir, `bench prompt ${i}`));
    const t = process.hrtime.bigint();
    const r = await srv.client.callTool({ name: 'codex', arguments: { PROMPT: `bench prompt ${i}`, cd: dir } });
    viaMcp.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (r.isError) throw new Error(r.content[0].text);
  }
} finally {
  await srv.close();
  await fake.close();
  removeCodexHome(home);
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(`codex exec --json directly : ${fmt(viaExec)}`);
console.log(`codex tool via codexmcp    : ${fmt(viaMcp)}`);
console.log(`codexmcp overhead (medians): ${(median(viaMcp) - median(viaExec)).toFixed(1)} ms`);
