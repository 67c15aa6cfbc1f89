// What codexmcp itself costs per call, without a model: N calls in a row
// (default 300) behind --max-parallel 1, each running a fake codex that
// answers at once (tests/e2e/fixtures/fast-codex.sh). Spawning the call's
// supervisor and ending it are in the figure; codex's own start-up is not.
// Usage: node bench/fast-calls.mjs [calls]   (make bench)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rawServer, serverBin } from '../tests/e2e/lib/mcp.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const FAST = path.join(here, '..', 'tests', 'e2e', 'fixtures', 'fast-codex.sh');
const N = Number(process.argv[2] ?? 300);

const srv = rawServer(['--codex', FAST, '--max-parallel', '1'], process.env);
try {
  await srv.initialize();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const r = await srv.request({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'codex', arguments: { PROMPT: 'x', cd: here } } }, 10000);
    if (!JSON.parse(r.result.content[0].text).success) throw new Error(`call ${i} failed: ${r.result.content[0].text}`);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`${serverBin()}: ${N} calls in a row through a fake codex that answers at once: ${(ms / N).toFixed(2)} ms per call`);
} finally {
  await srv.dispose();
}
