// Peak memory of codexmcp while one call streams 100 MiB of command output:
// a fake codex (bench/fake-codex-cat.sh) prints a recorded stream as fast as
// the pipe takes it: thread.started, turn.started, then command_execution
// items (item.started, item.completed) whose aggregated_output totals
// 100 MiB (1 KiB to 400 KiB each), an agent message and turn.completed.
// The stream is generated once, deterministically, into
// build/bench/output-100mb.jsonl. The client is the MCP SDK (connectSdk);
// VmRSS of the codexmcp process alone (not its children) is read from
// /proc every 20 ms, and VmHWM when the call has returned. Each case runs
// REPEAT times (default 3), with and without return_all_messages, with and
// without a progress token. The state directory (registry and the call's
// 100 MiB transcript) is a temporary directory, removed afterwards.
// Usage: node bench/stream-rss.mjs [repeat] [stream.jsonl]   (another recorded stream instead)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { callToolChecked, connectSdk, serverBin } from '../tests/e2e/lib/mcp.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const FAKE = path.join(here, 'fake-codex-cat.sh');
const STREAM = process.argv[3] ? path.resolve(process.argv[3]) : path.join(root, 'build', 'bench', 'output-100mb.jsonl');
const OUTPUT_BYTES = 100 * 1024 * 1024;
const REPEAT = Number(process.argv[2] ?? 3);
const SAMPLE_MS = 20;

// mulberry32: a small deterministic generator, so the stream is the same on every machine.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(file) {
  const rand = rng(0x636f6465);
  const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = (a) => a[Math.floor(rand() * a.length)];
  const words = ['parser', 'buffer', 'request', 'session', 'handler', 'config', 'result', 'token', 'stream',
    'offset', 'timeout', 'client', 'value', 'error', 'index', 'message', 'the', 'of', 'to', 'and', 'is',
    'returns', 'when', 'fails', 'reads', 'état', 'größe', '→', '✓', '—'];
  const dirs = ['src', 'lib', 'tests', 'pkg/core', 'internal/api'];
  const exts = ['.c', '.h', '.py', '.ts', '.go', '.rs'];
  const file_ = () => `${pick(dirs)}/${pick(words)}_${int(0, 40)}${pick(exts)}`;
  const sentence = (n) => Array.from({ length: n }, () => pick(words)).join(' ');
  const lines = [
    () => `${file_()}:${int(1, 2000)}:${int(1, 80)}: warning: ${sentence(int(3, 10))} [-W${pick(words)}]`,
    () => `${rand() < 0.3 ? '\x1b[32mPASSED\x1b[0m' : 'ok'} ${file_()}::test_${pick(words)}[${int(0, 9)}] (${int(0, 3)}.${int(100, 999)} s)`,
    () => `-rw-r--r--  1 u u ${String(int(0, 999999)).padStart(8)} Jan ${int(1, 31)} 12:${int(10, 59)} ${file_()}`,
    () => `${'\t'.repeat(int(0, 3))}if (${pick(words)}->${pick(words)} != NULL && strcmp(x, "${pick(words)}\\n") == 0) { /* ${sentence(int(2, 8))} */`,
    () => `${file_()}:${int(1, 3000)}:    ${sentence(int(4, 14))}`,
  ];
  const size = () => {
    const r = rand();
    if (r < 0.5) return int(1024, 32 * 1024);
    if (r < 0.85) return int(32 * 1024, 128 * 1024);
    return int(128 * 1024, 400 * 1024);
  };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  const put = (obj) => fs.writeSync(fd, JSON.stringify(obj) + '\n');
  put({ type: 'thread.started', thread_id: '01a20a14-b0b0-7000-8000-000000100a1b' });
  put({ type: 'turn.started' });
  let total = 0;
  let n = 0;
  while (total < OUTPUT_BYTES) {
    const id = `item_${n++}`;
    const command = `/bin/bash -lc 'cat ${file_()}'`;
    const want = Math.min(size(), OUTPUT_BYTES - total);
    const parts = [];
    let got = 0;
    let style = int(0, lines.length - 1);
    while (got < want) {
      if (rand() < 0.1) style = int(0, lines.length - 1);
      const l = lines[style]() + '\n';
      parts.push(l);
      got += Buffer.byteLength(l);
    }
    const out = parts.join('');
    total += Buffer.byteLength(out);
    put({ type: 'item.started', item: { id, type: 'command_execution', command, aggregated_output: '', exit_code: null, status: 'in_progress' } });
    put({ type: 'item.completed', item: { id, type: 'command_execution', command, aggregated_output: out, exit_code: 0, status: 'completed' } });
  }
  put({ type: 'item.completed', item: { id: `item_${n}`, type: 'agent_message', text: `Ran ${n} commands; ${total} bytes of output.` } });
  put({ type: 'turn.completed', usage: { input_tokens: 1000, cached_input_tokens: 0, cache_write_input_tokens: 0, output_tokens: 10, reasoning_output_tokens: 0 } });
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  console.log(`wrote ${path.relative(root, file)}: ${fs.statSync(file).size} bytes, ${n} commands, ${total} bytes of aggregated_output`);
}

function status(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN);
  return { rss: kib('VmRSS'), hwm: kib('VmHWM'), anon: kib('RssAnon'), file: kib('RssFile') };
}

const mib = (k) => (k / 1024).toFixed(1);

async function once(allMessages, progress) {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-bench-rss-'));
  const env = { ...process.env, CODEXMCP_STATE_DIR: state, BENCH_CODEX_STREAM: STREAM };
  const srv = await connectSdk(['--codex', FAKE], env, { name: 'bench-rss' });
  try {
    const base = status(srv.pid);
    let peak = base;
    let samples = 0;
    const timer = setInterval(() => {
      try {
        const s = status(srv.pid);
        samples++;
        if (s.rss > peak.rss) peak = s;
      } catch {}
    }, SAMPLE_MS);
    let notes = 0;
    const opts = progress ? { onprogress: () => notes++, resetTimeoutOnProgress: true } : {};
    const t0 = process.hrtime.bigint();
    const { obj, res } = await callToolChecked(srv.client, 'codex',
      { PROMPT: 'stream 100 MiB', cd: state, return_all_messages: allMessages }, 600000, opts);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    clearInterval(timer);
    const end = status(srv.pid);
    if (!obj.success) throw new Error(`the call failed: ${res.content[0].text.slice(0, 500)}`);
    const transcripts = fs.readdirSync(state, { recursive: true })
      .map((f) => path.join(state, f)).filter((f) => f.endsWith('.jsonl'))
      .reduce((n, f) => n + fs.statSync(f).size, 0);
    return { base, peak, end, samples, notes, secs, resultChars: res.content[0].text.length, transcripts };
  } finally {
    await srv.close();
    fs.rmSync(state, { recursive: true, force: true });
  }
}

if (!fs.existsSync(STREAM)) {
  if (process.argv[3]) throw new Error(`${STREAM}: no such file`);
  generate(STREAM);
}
const size = fs.statSync(STREAM).size;
console.log(`${serverBin()}: one call streaming ${path.relative(root, STREAM)} (${(size / 1048576).toFixed(1)} MiB); ` +
  `VmRSS of codexmcp sampled every ${SAMPLE_MS} ms; ${REPEAT} runs per case; MiB = 2^20 bytes`);
for (const progress of [false, true]) {
  for (const allMessages of [false, true]) {
    const runs = [];
    for (let i = 0; i < REPEAT; i++) runs.push(await once(allMessages, progress));
    // VmHWM can lag VmRSS (the kernel updates it lazily): the peak is the larger of the two.
    const peakOf = (r) => Math.max(r.end.hwm, r.peak.rss);
    const peaks = runs.map(peakOf).sort((a, b) => a - b);
    const top = runs.reduce((a, r) => (peakOf(r) > peakOf(a) ? r : a));
    console.log(`return_all_messages ${allMessages ? 'on ' : 'off'}, progress ${progress ? 'on ' : 'off'}: ` +
      `peak RSS median ${mib(peaks[Math.floor(peaks.length / 2)])} MiB, max ${mib(peaks.at(-1))} MiB ` +
      `[${peaks.map(mib).join(', ')}]; VmHWM ${mib(top.end.hwm)}, highest sampled VmRSS ${mib(top.peak.rss)} MiB ` +
      `(anon ${mib(top.peak.anon)}, file ${mib(top.peak.file)}); before the call ${mib(top.base.rss)} MiB, ` +
      `after ${mib(top.end.rss)} MiB; ${top.secs.toFixed(2)} s, ${top.samples} samples` +
      `${progress ? `, ${top.notes} progress notifications` : ''}; result ${top.resultChars} chars; ` +
      `transcript ${(top.transcripts / 1048576).toFixed(1)} MiB`);
  }
}
