// Memory and output volume when the client falls behind (issue: "memory stays
// bounded"). Three runs against codexmcp with fake codex processes:
//   1. stalled: a client that stops reading while codex prints N events
//      (default 1,000,000) under a progress token, with return_all_messages;
//      after a while it cancels, then reads again. Reports how far codex got,
//      the server's peak RSS, and what the client received.
//   2. slow: the same flood, but the client reads in bursts (stops for 2 s,
//      then drains) until the result arrives: the peak RSS over a whole turn
//      and the size of the result.
//   3. big: codex prints five agent messages of 7 MiB each.
//   4. queue: C calls (default 1,000) behind --max-parallel 1, each with a
//      progress token: how many "queued: N ahead" lines and bytes they cost.
// Usage: node bench/backpressure.mjs [events] [calls]   (make bench)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rawServer } from '../tests/e2e/lib/mcp.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const FAKE = path.join(here, '..', 'tests', 'e2e', 'fixtures', 'fake-codex.mjs');
const FAST = path.join(here, '..', 'tests', 'e2e', 'fixtures', 'fast-codex.sh');
const N = Number(process.argv[2] ?? 1000000);
const C = Number(process.argv[3] ?? 1000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const kib = (pid) => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const mib = (k) => `${(k / 1024).toFixed(1)} MiB`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-bench-bp-'));
const countFile = path.join(dir, 'count');
const written = () => (fs.existsSync(countFile) ? Number(fs.readFileSync(countFile, 'utf8') || 0) : 0);

function floodServer() {
  fs.rmSync(countFile, { force: true });
  return rawServer(['--codex', FAKE], {
    ...process.env,
    FAKE_CODEX_MODE: 'flood',
    FAKE_CODEX_EVENTS: String(N),
    FAKE_CODEX_COUNT_FILE: countFile,
  });
}

function floodCall(srv, id) {
  return srv.sendJson({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'codex', arguments: { PROMPT: 'flood', cd: dir, return_all_messages: true }, _meta: { progressToken: id } },
  });
}

async function steady(limitMs = 60000) {
  let last = -1;
  let since = Date.now();
  const t0 = Date.now();
  while (Date.now() - t0 < limitMs && Date.now() - since < 1500 && last < N) {
    await sleep(100);
    const now = written();
    if (now !== last) [last, since] = [now, Date.now()];
  }
  return last;
}

async function stalled() {
  const srv = floodServer();
  try {
    await srv.initialize();
    await floodCall(srv, 'flood');
    srv.child.stdout.pause();
    const held = await steady();
    const peakStalled = kib(srv.pid);
    await srv.sendJson({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'flood' } });
    await sleep(500);
    srv.child.stdout.resume();
    await srv.ping(60000);
    const progress = srv.notifications.filter((m) => m.method === 'notifications/progress').length;
    console.log(`stalled client, ${N} events: codex held at ${held} events; server peak RSS ${mib(peakStalled)} ` +
      `while stalled, ${mib(kib(srv.pid))} after; ${progress} progress notifications; ` +
      `reply to the cancelled call: ${srv.others.some((m) => m.id === 'flood') ? 'yes (wrong)' : 'none'}`);
  } finally {
    await srv.dispose();
  }
}

async function slow() {
  const srv = floodServer();
  try {
    await srv.initialize();
    const t0 = Date.now();
    await floodCall(srv, 'flood');
    let result;
    let progress = 0;
    // Read in bursts: 2 s of nothing, then everything queued.
    const reader = (async () => {
      for (;;) {
        const line = await srv.nextRaw(600000);
        const m = JSON.parse(line);
        if (m.method === 'notifications/progress') progress++;
        else if (m.id === 'flood') return (result = { m, bytes: line.length });
      }
    })();
    const pauser = (async () => {
      while (!result) {
        srv.child.stdout.pause();
        await sleep(2000);
        srv.child.stdout.resume();
        await sleep(300);
      }
    })();
    await reader;
    await pauser;
    const obj = JSON.parse(result.m.result.content[0].text);
    console.log(`client reading in bursts, ${N} events: done in ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
      `server peak RSS ${mib(kib(srv.pid))}; ${progress} progress notifications; result line ` +
      `${mib(result.bytes / 1024)}, all_messages ${obj.all_messages.length} entries, success ${obj.success}`);
  } finally {
    await srv.dispose();
  }
}

async function big() {
  const srv = rawServer(['--codex', FAKE], { ...process.env, FAKE_CODEX_MODE: 'bigmessages', FAKE_CODEX_EVENTS: '5' });
  try {
    await srv.initialize();
    await srv.sendJson({
      jsonrpc: '2.0', id: 'big', method: 'tools/call',
      params: { name: 'codex', arguments: { PROMPT: 'big', cd: dir, return_all_messages: true }, _meta: { progressToken: 'big' } },
    });
    const r = await srv.request({ jsonrpc: '2.0', id: 'never', method: 'ping' }, 120000).then(() => srv.nextReply(120000));
    const line = r.raw;
    console.log(`5 agent messages of 7 MiB: server peak RSS ${mib(kib(srv.pid))}; result line ${mib(line.length / 1024)}`);
  } finally {
    await srv.dispose();
  }
}

async function queue() {
  const srv = rawServer(['--codex', FAST, '--max-parallel', '1'], process.env);
  try {
    await srv.initialize();
    for (let i = 0; i < C; i++)
      await srv.sendJson({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'codex', arguments: { PROMPT: `q${i}`, cd: dir }, _meta: { progressToken: i } } });
    let lines = 0, bytes = 0, replies = 0;
    while (replies < C) {
      const raw = await srv.nextRaw(120000);
      const m = JSON.parse(raw);
      if (m.method === 'notifications/progress' && m.params.message.startsWith('queued:')) {
        lines++;
        bytes += raw.length + 1;
      } else if (m.id !== undefined) replies++;
    }
    console.log(`${C} calls behind --max-parallel 1: ${lines} queue-position notifications (${(bytes / 1024).toFixed(0)} KiB), ` +
      `${(lines / C).toFixed(2)} per call`);
  } finally {
    await srv.dispose();
  }
}

try {
  await stalled();
  await slow();
  await big();
  await queue();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
