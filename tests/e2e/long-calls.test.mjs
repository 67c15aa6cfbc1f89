// Long-running codex calls through the REAL codex CLI (against the fake
// Responses API): progress notifications, cancellation, time limits,
// shutdown (stdin EOF, signals, SIGKILL), --max-parallel queueing and
// per-session serialization. Process checks read /proc, never the server's word.
//
// Run: CODEXMCP_BIN=/work/main/build/codexmcp node --test long-calls.test.mjs
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFakeResponses } from './lib/fake-responses.mjs';
import { codexBin, makeCodexHome, removeCodexHome, env } from './lib/codex-env.mjs';
import { rawServer, jsonLineMux, serverBin, serverExists, ENGINE } from './lib/mcp.mjs';
import {
  hasProc,
  pidsWithEnv,
  procCmdline,
  describePids,
  waitNoneWithEnv,
  pollUntil,
  sampler,
  terminateWithEnv,
  descendants,
  isAlive,
  procStat,
  procEnviron,
  engineProcs,
} from './lib/procs.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const uniq = () => `u${process.pid}x${Date.now().toString(36)}x${Math.random().toString(36).slice(2, 8)}`;

const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-e2e-long-'));
const contexts = new Set();

after(async () => {
  for (const ctx of contexts) await ctx.dispose();
  fs.rmSync(workdir, { recursive: true, force: true });
});

if (!serverExists()) {
  test('server binary exists', () => {
    assert.fail(`codexmcp binary not found at ${serverBin()} (build it or set CODEXMCP_BIN)`);
  });
}

// ---------------------------------------------------------------------------
// A multiplexing client over rawServer's stdout: every message is logged with
// its arrival time and index; replies are matched by id, so several calls can
// be in flight at once.

function mux(srv) {
  const m = jsonLineMux(srv);
  const { log } = m;
  let auto = 1;
  Object.assign(m, {
    async request(obj, timeoutMs = 10000) {
      await m.send(obj);
      return (await m.waitReply(obj.id, timeoutMs)).msg;
    },
    async ping(timeoutMs = 5000) {
      const id = `ping-${auto++}`;
      const r = await m.request({ jsonrpc: '2.0', id, method: 'ping' }, timeoutMs);
      assert.deepEqual(r, { jsonrpc: '2.0', id, result: {} }, 'ping reply');
      return r;
    },
    async initialize() {
      const r = await m.request({
        jsonrpc: '2.0',
        id: `init-${auto++}`,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'e2e-long', version: '0' } },
      });
      assert.ok(r.result, `initialize: ${JSON.stringify(r)}`);
      await m.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      return r.result;
    },
    /** Send a tools/call (does not wait). token: undefined for none. */
    startCall(id, args, token) {
      const params = { name: 'codex', arguments: { cd: workdir, ...args } };
      if (token !== undefined) params._meta = { progressToken: token };
      return m.send({ jsonrpc: '2.0', id, method: 'tools/call', params });
    },
    async call(id, args, { token, timeoutMs = 60000 } = {}) {
      await m.startCall(id, args, token);
      return m.waitReply(id, timeoutMs);
    },
    cancel(id, reason = 'e2e test') {
      return m.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } });
    },
    /** Progress entries carrying exactly this token (type-sensitive). */
    progress(token) {
      const key = JSON.stringify(token);
      return log.filter((e) => e.msg.method === 'notifications/progress' && JSON.stringify(e.msg.params?.progressToken) === key);
    },
    allProgress: () => log.filter((e) => e.msg.method === 'notifications/progress'),
  });
  return m;
}

/** The tool result object ({success, SESSION_ID, …}) of a reply entry. */
function resultOf(entry) {
  const msg = entry.msg ?? entry;
  assert.ok(msg.result, `expected a result, got ${JSON.stringify(msg).slice(0, 500)}`);
  if (msg.result.structuredContent) return msg.result.structuredContent;
  const text = msg.result.content?.[0]?.text;
  return JSON.parse(text);
}


/** The engine a server with these options and environment runs the real codex with. */
function engineOf(args, extraEnv) {
  const i = args.indexOf('--engine');
  const e = i >= 0 ? args[i + 1] : extraEnv.CODEXMCP_ENGINE ?? ENGINE;
  return e === 'exec' ? 'exec' : 'appserver';
}

/** True if argv is one of our codex children (or the re-exec stage before it). */
function isCodexArgv(argv) {
  if (!argv || argv.length < 2) return false;
  if (argv[1] === '--internal-child-exec') return true;
  return path.basename(argv[0]) === 'codex' && argv[1] === 'exec';
}

/**
 * A fresh fake + CODEX_HOME + server. Every process of this test carries
 * CODEX_HOME=<home> in its environment: that is the /proc marker.
 *
 * Under the app-server engine one codex process serves every call and
 * outlives them: it (under its supervisor) is the engine, not a leftover.
 * What a call leaves behind is then what carries a CODEX_THREAD_ID (codex
 * gives it to every command it runs), or anything else in the server's tree.
 */
async function setup({ args = [], extraEnv = {}, init = true, codex = codexBin() } = {}) {
  const fake = await startFakeResponses();
  const home = makeCodexHome(fake.url);
  const marker = `CODEX_HOME=${home}`;
  const appserver = engineOf(args, extraEnv) !== 'exec';
  // env() gives codex an empty HOME, so the machine's dotfiles (sourced by
  // codex's login-shell probe) cannot slow it or outlive a killed codex.
  const srv = rawServer(['--codex', codex, '--log-level', 'info', ...args], env(home, extraEnv));
  const m = mux(srv);
  const ctx = {
    fake,
    home,
    marker,
    srv,
    m,
    appserver,
    /** The app-server engine's own processes (its supervisor, the
     * app-server and its untagged helpers), while the server runs. */
    engineProcs: () => (appserver && isAlive(srv.pid) ? engineProcs(srv.pid) : []),
    /** Live processes of this test other than the server and its engine. */
    procs: () => pidsWithEnv(marker, { exclude: [srv.pid, ...ctx.engineProcs()] }),
    /** Live codex children of this test: one per running call under exec,
     * the one app-server under the app-server engine. */
    // The server's own codex children (a codex may briefly run helper
    // processes of its own binary: those are not the server's to count).
    codexProcs: () =>
      pidsWithEnv(marker, { exclude: [srv.pid] }).filter(
        (p) => isCodexArgv(procCmdline(p)) && procStat(p)?.ppid === srv.pid,
      ),
    /** Wait until the fake received a POST /responses whose prompt contains needle. */
    async waitRequest(needle, timeoutMs = 20000) {
      const r = await pollUntil(() => fake.requestsFor(needle).length > 0, timeoutMs, 25);
      assert.ok(r.ok, `the fake never received a request containing ${JSON.stringify(needle)} within ${timeoutMs} ms; server stderr:\n${srv.stderr.slice(-3000)}`);
      return fake.requestsFor(needle)[0];
    },
    async dispose() {
      if (!contexts.has(ctx)) return;
      contexts.delete(ctx);
      await srv.dispose();
      // Whatever the server left behind (tests assert on it separately).
      await terminateWithEnv(marker);
      await waitNoneWithEnv(marker, 3000);
      await fake.close();
      removeCodexHome(home);
    },
  };
  contexts.add(ctx);
  if (init) await m.initialize();
  return ctx;
}

/** Run fn(ctx) with a fresh setup; stderr is appended to failures. */
async function withSetup(opts, fn) {
  const ctx = await setup(opts);
  try {
    return await fn(ctx);
  } catch (err) {
    err.message += `\n--- server stderr (tail) ---\n${ctx.srv.stderr.slice(-4000)}`;
    throw err;
  } finally {
    await ctx.dispose();
  }
}

/** Assert that no process of this test is alive within timeoutMs. */
async function assertNoneLeft(ctx, timeoutMs, what, { includeServer = false } = {}) {
  const engine = includeServer ? [] : ctx.engineProcs();
  const exclude = includeServer ? [] : [ctx.srv.pid, ...engine];
  const r = await waitNoneWithEnv(ctx.marker, timeoutMs, { exclude });
  assert.ok(r.ok, `${what}: processes still alive after ${timeoutMs} ms:\n  ${describePids(r.left)}`);
  // Second opinion, by ancestry: a running server has no live descendants left.
  // A killed child may still be tearing down (state D, environ already
  // gone) until the server reaps it: allow that the same time limit.
  if (!includeServer && isAlive(ctx.srv.pid)) {
    const others = () => descendants(ctx.srv.pid).filter((p) => !ctx.engineProcs().includes(p));
    let kids = others();
    const until = Date.now() + timeoutMs;
    while (kids.length && Date.now() < until) {
      await sleep(50);
      kids = others();
    }
    assert.deepEqual(kids, [], `${what}: the server still has children:\n  ${describePids(kids)}`);
  }
  return r.elapsed;
}

function assertProgressShape(entries, token) {
  let last = -Infinity;
  for (const e of entries) {
    const { msg } = e;
    assert.equal(msg.jsonrpc, '2.0');
    assert.equal(msg.id, undefined, 'a notification has no id');
    assert.deepEqual(msg.params.progressToken, token);
    assert.equal(typeof msg.params.progressToken, typeof token, 'token type preserved');
    assert.equal(typeof msg.params.progress, 'number');
    assert.ok(msg.params.progress > last, `progress must strictly increase: ${last} then ${msg.params.progress}`);
    last = msg.params.progress;
    assert.equal(typeof msg.params.message, 'string');
    assert.ok(msg.params.message.length > 0, 'non-empty message');
    assert.ok(!/[\r\n]/.test(msg.params.message), `one line: ${JSON.stringify(msg.params.message)}`);
    assert.ok(Buffer.byteLength(msg.params.message) <= 200, `short message (${Buffer.byteLength(msg.params.message)} bytes)`);
  }
}

const T = (ms) => ({ timeout: ms, skip: hasProc ? false : 'needs Linux /proc' });

/**
 * A --codex wrapper that sets SIGTERM to "ignore" and execs the real codex
 * (the disposition survives exec): only SIGKILL ends that codex. The tests
 * that use it are about how exec's processes are ended, so they run the
 * exec engine (the app-server engine interrupts a turn, it sends no signal).
 */
const EXEC = ['--engine', 'exec'];
function ignoreTermCodex() {
  const wrapper = path.join(workdir, 'codex-ignore-term.sh');
  if (!fs.existsSync(wrapper)) {
    fs.writeFileSync(wrapper, `#!/bin/sh\ntrap '' TERM\nexec ${JSON.stringify(codexBin())} "$@"\n`, { mode: 0o755 });
  }
  return wrapper;
}

/** Start a call running `sleep 30` through codex; resolves once the command runs. */
async function startSleepCommand(ctx, id, u) {
  const token = `tok-sleep-${id}`;
  await ctx.m.startCall(id, { PROMPT: `long command ${u} [[shell:sleep 30]]` }, token);
  await ctx.m.waitFor(
    (e) => e.msg.method === 'notifications/progress' && e.msg.params?.progressToken === token && /^running: sleep 30/.test(e.msg.params.message),
    20000,
    'progress "running: sleep 30"',
  );
  // The command itself must be visible before we test that it goes away.
  const r = await pollUntil(() => ctx.procs().some((p) => (procCmdline(p) ?? []).join(' ').includes('sleep 30')), 5000, 25);
  assert.ok(r.ok, `a "sleep 30" process is running: ${describePids(ctx.procs())}`);
}

// ---------------------------------------------------------------------------

describe('progress notifications', () => {
  test('string and integer tokens: ordered, increasing, the right events; nothing after the answer; none without a token', T(90000), () =>
    withSetup({}, async (ctx) => {
      const { m } = ctx;
      const u = uniq();

      for (const [id, token] of [
        ['p-str', `tok-${u}`],
        [7001, 4242],
      ]) {
        const reply = await m.call(id, { PROMPT: `progress ${id} ${u} [[shell:echo hi]]` }, { token, timeoutMs: 60000 });
        const res = resultOf(reply);
        assert.equal(res.success, true, JSON.stringify(res));
        assert.equal(res.agent_messages, 'shell done: hi');

        const before = m.progress(token);
        assert.ok(before.length >= 4, `progress for ${JSON.stringify(token)}: ${JSON.stringify(before.map((e) => e.msg.params))}`);
        assert.ok(before.every((e) => e.idx < reply.idx), 'progress precedes the answer');
        assertProgressShape(before, token);
        const msgs = before.map((e) => e.msg.params.message);
        const iRun = msgs.findIndex((s) => s === 'running: echo hi');
        const iFin = msgs.findIndex((s) => /^finished \(exit 0\)/.test(s));
        const iMsg = msgs.findIndex((s) => /^message: /.test(s));
        assert.ok(iRun >= 0, `a "running: echo hi" message in ${JSON.stringify(msgs)}`);
        assert.ok(iFin > iRun, `"finished (exit 0)" after "running" in ${JSON.stringify(msgs)}`);
        assert.match(msgs[iFin], /echo hi/);
        assert.ok(iMsg > iFin, `"message:" after the command in ${JSON.stringify(msgs)}`);
        assert.equal(msgs[iMsg], 'message: shell done: hi');
        // The announced milestones, if the server reports them, in their place.
        const iTurn = msgs.indexOf('turn started');
        if (iTurn >= 0) assert.ok(iTurn < iRun, 'turn started before the command');
        const iDone = msgs.indexOf('turn completed');
        if (iDone >= 0) assert.equal(iDone, msgs.length - 1, 'turn completed is last');

        // Nothing for this token once the call was answered.
        await sleep(700);
        await m.ping();
        const afterAnswer = m.progress(token).filter((e) => e.idx > reply.idx);
        assert.deepEqual(afterAnswer.map((e) => e.msg.params), [], 'no progress after the answer');
      }

      // Multi-line, long agent message → still one short line.
      {
        const token = `tok-long-${u}`;
        const long = `first line\nsecond line\t${'word '.repeat(100)}`;
        const reply = await m.call('p-long', { PROMPT: `long ${u} [[reply:${long}]]` }, { token });
        assert.equal(resultOf(reply).success, true);
        const ps = m.progress(token);
        assertProgressShape(ps, token);
        const mm = ps.map((e) => e.msg.params.message).find((s) => s.startsWith('message: '));
        assert.ok(mm, `a message: progress in ${JSON.stringify(ps.map((e) => e.msg.params.message))}`);
        assert.ok(mm.startsWith('message: first line second line'), mm);
      }

      // Without a token: no progress at all (nothing else is running).
      const nBefore = m.allProgress().length;
      const reply = await m.call('p-none', { PROMPT: `no token ${u} [[shell:echo hi]]` });
      assert.equal(resultOf(reply).success, true);
      await sleep(500);
      await m.ping();
      const extra = m.allProgress().slice(nBefore);
      assert.deepEqual(extra.map((e) => e.msg.params), [], 'a call without a progress token gets no progress');
      assert.deepEqual(m.badLines, [], 'stdout carries only JSON lines');
      assert.deepEqual(m.duplicates.map((e) => e.msg), [], 'one reply per request');
    }));
});

describe('cancellation', () => {
  test('cancelling a stalled call: no reply, process group gone, server keeps serving', T(60000), () =>
    withSetup({}, async (ctx) => {
      const { m } = ctx;
      const u = uniq();
      const token = `tok-cancel-${u}`;
      await m.startCall('stall-1', { PROMPT: `cancel me ${u} [[stall]]` }, token);
      await ctx.waitRequest(u);
      await sleep(300);
      const running = ctx.procs();
      assert.ok(ctx.codexProcs().length === 1, `one codex child while stalled: ${describePids(running)}`);

      const nLog = m.log.length;
      const tCancel = Date.now();
      await m.cancel('stall-1');
      const elapsed = await assertNoneLeft(ctx, 3000, 'after notifications/cancelled');
      // Let any (wrong) reply arrive: ~3 s after the cancel.
      await sleep(Math.max(0, 3000 - (Date.now() - tCancel)));
      assert.equal(m.hasReply('stall-1'), false, `no response for a cancelled request, got ${JSON.stringify(m.replies.get('"stall-1"')?.msg)}`);
      const late = m.progress(token).filter((e) => e.idx >= nLog);
      assert.deepEqual(late.map((e) => e.msg.params), [], 'no progress after the cancel');
      await m.ping();

      // A new call works.
      const reply = await m.call('after-cancel', { PROMPT: `after cancel ${u} [[reply:still alive]]` });
      const res = resultOf(reply);
      assert.equal(res.success, true, JSON.stringify(res));
      assert.equal(res.agent_messages, 'still alive');

      // Unknown and finished ids are ignored.
      await m.cancel('no-such-request');
      await m.cancel('after-cancel');
      await m.cancel('stall-1');
      await m.ping();
      assert.equal(m.hasReply('stall-1'), false);
      assert.equal(m.srv.child.exitCode, null, 'server still running');
      assert.ok(elapsed <= 3000);
    }));

  test('a queued call that is cancelled never starts (--max-parallel 1)', T(60000), () =>
    withSetup({ args: ['--max-parallel', '1'] }, async (ctx) => {
      const { m } = ctx;
      const u = uniq();
      const uq = uniq();
      await m.startCall('run-a', { PROMPT: `running ${u} [[stall]]` }, `tok-a-${u}`);
      await ctx.waitRequest(u);
      await m.startCall('queued-b', { PROMPT: `queued ${uq} [[reply:should never run]]` }, `tok-b-${uq}`);
      const q = await m.waitFor(
        (e) => e.msg.method === 'notifications/progress' && e.msg.params?.progressToken === `tok-b-${uq}`,
        10000,
        'a progress message for the queued call',
      );
      assert.match(q.msg.params.message, /^queued: 0 ahead/);
      await m.cancel('queued-b');
      await sleep(500);
      await m.cancel('run-a');
      const tCancel = Date.now();
      await assertNoneLeft(ctx, 3000, 'after cancelling the running call');
      // If the queued call were still queued it would start now: give it time.
      await sleep(Math.max(0, 3000 - (Date.now() - tCancel)));
      assert.equal(m.hasReply('run-a'), false, 'no reply for the cancelled running call');
      assert.equal(m.hasReply('queued-b'), false, 'no reply for the cancelled queued call');
      assert.equal(ctx.fake.requestsFor(uq).length, 0, 'the fake never received the queued prompt');
      assert.ok(!m.progress(`tok-b-${uq}`).some((e) => /^started/.test(e.msg.params.message)), 'queued call never started');

      // The queue is not stuck.
      const reply = await m.call('after-c', { PROMPT: `next ${u} [[reply:next ok]]` });
      assert.equal(resultOf(reply).success, true);
      assert.equal(ctx.fake.requestsFor(uq).length, 0, 'the fake never received the queued prompt');
      assert.equal(m.hasReply('queued-b'), false);
    }));

  test('an id may be reused right after its cancel: exactly one reply, for the new call', T(60000), () =>
    withSetup({}, async (ctx) => {
      const { m } = ctx;
      const u = uniq();
      await m.startCall('reuse', { PROMPT: `first use ${u} [[stall]]` });
      await ctx.waitRequest(u);
      await m.cancel('reuse');
      const reply = await m.call('reuse', { PROMPT: `second use ${u} [[reply:reused ok]]` });
      const res = resultOf(reply);
      assert.equal(res.success, true, JSON.stringify(res));
      assert.equal(res.agent_messages, 'reused ok');
      await assertNoneLeft(ctx, 3000, 'after the cancel');
      await sleep(1000);
      await m.ping();
      assert.deepEqual(m.duplicates.map((e) => e.msg), [], 'no second reply for the reused id');
    }));

  test('a call waiting for its session that is cancelled never starts', T(90000), () =>
    withSetup({}, async (ctx) => {
      const { m } = ctx;
      const u = uniq();
      const first = resultOf(await m.call('s-1', { PROMPT: `session base ${u}` }));
      assert.equal(first.success, true, JSON.stringify(first));
      const sid = first.SESSION_ID;
      await m.startCall('s-2', { PROMPT: `session stall ${u} [[stall]]`, SESSION_ID: sid });
      await ctx.waitRequest(`session stall ${u}`);
      const uq = uniq();
      await m.startCall('s-3', { PROMPT: `session waiter ${uq} [[reply:never]]`, SESSION_ID: sid }, `tok-s3-${uq}`);
      const q = await m.waitFor(
        (e) => e.msg.method === 'notifications/progress' && e.msg.params?.progressToken === `tok-s3-${uq}`,
        10000,
        'progress for the call waiting on its session',
      );
      assert.match(q.msg.params.message, /^queued: /);
      assert.match(q.msg.params.message, new RegExp(sid), 'names the busy session');
      await m.cancel('s-3');
      await sleep(300);
      await m.cancel('s-2');
      await assertNoneLeft(ctx, 3000, 'after cancelling the running turn');
      await sleep(2500);
      assert.equal(ctx.fake.requestsFor(uq).length, 0, 'the cancelled waiting turn never reached the fake');
      assert.equal(m.hasReply('s-2'), false);
      assert.equal(m.hasReply('s-3'), false);
      // The session is free again.
      const next = resultOf(await m.call('s-4', { PROMPT: `session after ${u} [[history]]`, SESSION_ID: sid }));
      assert.equal(next.success, true, JSON.stringify(next));
      assert.equal(ctx.fake.requestsFor(uq).length, 0);
    }));

  test('cancelling a call while codex runs a shell command leaves no process behind', T(60000), () =>
    withSetup({}, async (ctx) => {
      const u = uniq();
      await startSleepCommand(ctx, 'sleepy', u);
      const t0 = Date.now();
      await ctx.m.cancel('sleepy');
      await assertNoneLeft(ctx, 3000, 'after cancelling a call running "sleep 30"');
      await sleep(Math.max(0, 2500 - (Date.now() - t0)));
      assert.equal(ctx.m.hasReply('sleepy'), false);
      await ctx.m.ping();
    }));

  test('--kill-grace: a codex that ignores SIGTERM is SIGKILLed after the grace period', T(60000), () => {
    const wrapper = ignoreTermCodex();
    return withSetup({ args: ['--kill-grace', '1500', ...EXEC], codex: wrapper }, async (ctx) => {
      const { m, srv } = ctx;
      const u = uniq();
      await m.startCall('grace', { PROMPT: `grace ${u} [[stall]]` });
      await ctx.waitRequest(u);
      await sleep(300);
      const tCancel = Date.now();
      await m.cancel('grace');
      await sleep(700);
      const still = pidsWithEnv(ctx.marker, { exclude: [srv.pid] }).filter((p) => isCodexArgv(procCmdline(p)));
      const r = await waitNoneWithEnv(ctx.marker, 5000, { exclude: [srv.pid] });
      const gone = Date.now() - tCancel;
      assert.ok(r.ok, `processes left 5 s after cancel:\n  ${describePids(r.left)}`);
      // If codex honoured the ignore, it was still alive at 0.7 s and died after ~1.5 s.
      assert.ok(still.length > 0, 'test premise: codex (SIGTERM ignored) was still alive 0.7 s after the cancel');
      assert.ok(gone >= 1200, `SIGKILL came after the grace period (gone after ${gone} ms)`);
      await sleep(500);
      assert.equal(m.hasReply('grace'), false);
      await m.ping();
    });
  });
});

describe('time limits', () => {
  test('timeout_s: 2 against [[stall]] → timed-out error with SESSION_ID; the session resumes', T(60000), () =>
    withSetup({}, async (ctx) => {
      const { m } = ctx;
      const u = uniq();
      const t0 = Date.now();
      const reply = await m.call('to-1', { PROMPT: `time me out ${u} [[stall]]`, timeout_s: 2 }, { timeoutMs: 15000 });
      const took = Date.now() - t0;
      assert.ok(took < 5000, `answered within 5 s (took ${took} ms)`);
      assert.ok(took >= 1900, `not before the limit (took ${took} ms)`);
      const res = resultOf(reply);
      assert.equal(res.success, false, JSON.stringify(res));
      assert.equal(reply.msg.result.isError, true);
      assert.ok(res.error.startsWith('timed out after 2 s'), `error: ${res.error}`);
      assert.match(res.SESSION_ID ?? '', UUID_RE, `SESSION_ID in ${JSON.stringify(res)}`);
      await assertNoneLeft(ctx, 3000, 'after the time limit');

      const again = await m.call('to-resume', { PROMPT: `resumed after timeout ${u} [[history]]`, SESSION_ID: res.SESSION_ID });
      const r2 = resultOf(again);
      assert.equal(r2.success, true, JSON.stringify(r2));
      assert.equal(r2.SESSION_ID, res.SESSION_ID);
      assert.match(r2.agent_messages, new RegExp(`resumed after timeout ${u}`));
      const req = ctx.fake.requestsFor(`resumed after timeout ${u}`)[0];
      assert.ok(req, 'resume reached the fake');
    }));

  test('server default --timeout and CODEXMCP_TIMEOUT; a per-call timeout_s overrides them', T(60000), async () => {
    const cases = [
      { args: ['--timeout', '2'], extraEnv: {}, timeout_s: undefined, expect: 2 },
      { args: [], extraEnv: { CODEXMCP_TIMEOUT: '2' }, timeout_s: undefined, expect: 2 },
      { args: ['--timeout', '300'], extraEnv: {}, timeout_s: 1.5, expect: 1.5 },
    ];
    await Promise.all(
      cases.map((c) =>
        withSetup({ args: c.args, extraEnv: c.extraEnv }, async (ctx) => {
          const u = uniq();
          const args = { PROMPT: `default limit ${u} [[stall]]` };
          if (c.timeout_s !== undefined) args.timeout_s = c.timeout_s;
          const t0 = Date.now();
          const reply = await ctx.m.call('dl', args, { timeoutMs: 20000 });
          const took = Date.now() - t0;
          const res = resultOf(reply);
          const what = JSON.stringify(c);
          assert.equal(res.success, false, what);
          assert.ok(res.error.startsWith(`timed out after ${c.expect} s`), `${what}: ${res.error}`);
          assert.ok(took < c.expect * 1000 + 4000, `${what}: took ${took} ms`);
          assert.match(res.SESSION_ID ?? '', UUID_RE);
          await assertNoneLeft(ctx, 3000, what);
        }),
      ),
    );
  });

  test('timeout_s while codex runs a shell command: answered, nothing left', T(60000), () =>
    withSetup({}, async (ctx) => {
      const u = uniq();
      const t0 = Date.now();
      await ctx.m.startCall('to-sleep', { PROMPT: `long command ${u} [[shell:sleep 30]]`, timeout_s: 3 });
      const reply = await ctx.m.waitReply('to-sleep', 15000);
      const took = Date.now() - t0;
      const res = resultOf(reply);
      assert.equal(res.success, false, JSON.stringify(res));
      assert.ok(res.error.startsWith('timed out after 3 s'), res.error);
      assert.ok(took < 7000, `answered within 7 s (took ${took} ms)`);
      await assertNoneLeft(ctx, 3000, 'after timing out a call running "sleep 30"');
    }));

  test('--idle-timeout with a codex that ignores SIGTERM: SIGKILL after --kill-grace, the call ends', T(60000), () =>
    // idle 1 s < grace 2 s: the idle limit must not keep postponing the SIGKILL.
    withSetup({ args: ['--idle-timeout', '1', '--kill-grace', '2000', ...EXEC], codex: ignoreTermCodex() }, async (ctx) => {
      const u = uniq();
      const t0 = Date.now();
      await ctx.m.startCall('idle-term', { PROMPT: `idle ignoring TERM ${u} [[stall]]` });
      let reply;
      try {
        reply = await ctx.m.waitReply('idle-term', 12000);
      } catch (e) {
        const left = ctx.procs();
        assert.fail(
          `no answer ${Date.now() - t0} ms after the start (idle limit 1 s + grace 2 s); codex still alive: ${describePids(left)}\n${e.message}`,
        );
      }
      const res = resultOf(reply);
      assert.equal(res.success, false);
      assert.match(res.error, /^timed out/);
      await assertNoneLeft(ctx, 3000, 'after the idle limit');
    }));

  test('timeout_s with a codex that ignores SIGTERM: SIGKILL after --kill-grace, the call ends', T(60000), () =>
    withSetup({ args: ['--kill-grace', '1000', ...EXEC], codex: ignoreTermCodex() }, async (ctx) => {
      const u = uniq();
      const t0 = Date.now();
      const reply = await ctx.m.call('to-term', { PROMPT: `timeout ignoring TERM ${u} [[stall]]`, timeout_s: 1 }, { timeoutMs: 12000 });
      const took = Date.now() - t0;
      const res = resultOf(reply);
      assert.equal(res.success, false);
      assert.ok(res.error.startsWith('timed out after 1 s'), res.error);
      assert.ok(took >= 1800, `SIGKILL only after the grace (took ${took} ms)`);
      await assertNoneLeft(ctx, 3000, 'after the time limit');
    }));

  test('--idle-timeout 1 ends a silent [[stall]] call with a timed-out error', T(60000), () =>
    withSetup({ args: ['--idle-timeout', '1'] }, async (ctx) => {
      const { m } = ctx;
      const u = uniq();
      const t0 = Date.now();
      const reply = await m.call('idle', { PROMPT: `idle ${u} [[stall]]` }, { timeoutMs: 15000 });
      const took = Date.now() - t0;
      const res = resultOf(reply);
      assert.equal(res.success, false, JSON.stringify(res));
      assert.match(res.error, /^timed out/, res.error);
      assert.match(res.error, /idle|nothing for 1 s/, res.error);
      assert.match(res.SESSION_ID ?? '', UUID_RE);
      assert.ok(took < 8000, `ended within 8 s (took ${took} ms)`);
      assert.ok(ctx.fake.requestsFor(u).length >= 1, 'the request reached the fake first');
      await assertNoneLeft(ctx, 3000, 'after the idle limit');
      await m.ping();
    }));
});

describe('shutdown', () => {
  /** Two stalled calls in flight; returns once both reached the fake. */
  async function twoStalled(ctx) {
    const u1 = uniq();
    const u2 = uniq();
    await ctx.m.startCall('s1', { PROMPT: `stall one ${u1} [[stall]]` }, 'tok-s1');
    await ctx.m.startCall('s2', { PROMPT: `stall two ${u2} [[stall]]` }, 'tok-s2');
    await ctx.waitRequest(u1);
    await ctx.waitRequest(u2);
    await sleep(200);
    const n = ctx.codexProcs().length;
    const want = ctx.appserver ? 1 : 2; // one app-server serves both
    assert.equal(n, want, `${want} codex children running: ${describePids(ctx.procs())}`);
  }

  test('stdin EOF with 2 stalled calls: exit 0 within a few seconds, no codex process left', T(60000), () =>
    withSetup({}, async (ctx) => {
      await twoStalled(ctx);
      const t0 = Date.now();
      ctx.srv.closeStdin();
      const ex = await ctx.srv.waitExit(6000);
      const exitMs = Date.now() - t0;
      assert.deepEqual(ex, { code: 0, signal: null }, `exit status; stderr:\n${ctx.srv.stderr}`);
      await assertNoneLeft(ctx, 3000, 'after the server exited on stdin EOF', { includeServer: true });
      const goneMs = Date.now() - t0;
      assert.ok(goneMs <= 5000, `all gone ${goneMs} ms after EOF (exit after ${exitMs} ms)`);
      await ctx.srv.waitClosed(3000);
      assert.deepEqual(ctx.m.badLines, []);
    }));

  for (const sig of ['SIGTERM', 'SIGHUP', 'SIGINT']) {
    test(`${sig} with 2 stalled calls: exit 0, no codex process left`, T(60000), () =>
      withSetup({}, async (ctx) => {
        await twoStalled(ctx);
        const t0 = Date.now();
        ctx.srv.kill(sig);
        const ex = await ctx.srv.waitExit(6000);
        assert.deepEqual(ex, { code: 0, signal: null }, `exit status after ${sig}; stderr:\n${ctx.srv.stderr}`);
        await assertNoneLeft(ctx, 3000, `after ${sig}`, { includeServer: true });
        const goneMs = Date.now() - t0;
        assert.ok(goneMs <= 5000, `all gone ${goneMs} ms after ${sig}`);
        await ctx.srv.waitClosed(3000);
        assert.deepEqual(ctx.m.badLines, []);
      }));
  }

  test('SIGKILL of the server while codex runs a shell command leaves no process', T(60000), () =>
    withSetup({}, async (ctx) => {
      await startSleepCommand(ctx, 'sleepy-kill', uniq());
      ctx.srv.kill('SIGKILL');
      await ctx.srv.waitExit(5000);
      await assertNoneLeft(ctx, 3000, 'after SIGKILL of the server during "sleep 30"', { includeServer: true });
    }));

  test('stdin EOF while codex runs a shell command leaves no process', T(60000), () =>
    withSetup({}, async (ctx) => {
      await startSleepCommand(ctx, 'sleepy-eof', uniq());
      ctx.srv.closeStdin();
      const ex = await ctx.srv.waitExit(6000);
      assert.deepEqual(ex, { code: 0, signal: null });
      await assertNoneLeft(ctx, 3000, 'after stdin EOF during "sleep 30"', { includeServer: true });
    }));

  test('stdin EOF with a queued call: the queued call never starts, exit 0', T(60000), () =>
    withSetup({ args: ['--max-parallel', '1'] }, async (ctx) => {
      const u = uniq();
      const uq = uniq();
      await ctx.m.startCall('eof-run', { PROMPT: `eof running ${u} [[stall]]` });
      await ctx.waitRequest(u);
      await ctx.m.startCall('eof-queued', { PROMPT: `eof queued ${uq} [[reply:never]]` }, 'tok-eof-q');
      await ctx.m.waitFor((e) => e.msg.params?.progressToken === 'tok-eof-q', 10000, 'queued progress');
      ctx.srv.closeStdin();
      const ex = await ctx.srv.waitExit(6000);
      assert.deepEqual(ex, { code: 0, signal: null });
      await assertNoneLeft(ctx, 3000, 'after stdin EOF', { includeServer: true });
      assert.equal(ctx.fake.requestsFor(uq).length, 0, 'the queued call never started');
    }));

  test('stdin EOF with a codex that ignores SIGTERM: SIGKILL after --kill-grace, exit 0', T(60000), () =>
    withSetup({ args: ['--kill-grace', '1000', ...EXEC], codex: ignoreTermCodex() }, async (ctx) => {
      const u = uniq();
      await ctx.m.startCall('eof-term', { PROMPT: `eof ignoring TERM ${u} [[stall]]` });
      await ctx.waitRequest(u);
      const t0 = Date.now();
      ctx.srv.closeStdin();
      const ex = await ctx.srv.waitExit(8000);
      assert.deepEqual(ex, { code: 0, signal: null });
      assert.ok(Date.now() - t0 >= 900, 'waited for the grace period');
      await assertNoneLeft(ctx, 3000, 'after stdin EOF', { includeServer: true });
    }));

  test('stdin EOF with --idle-timeout 1 and a codex that ignores SIGTERM: the server still exits', T(60000), () =>
    withSetup({ args: ['--idle-timeout', '1', '--kill-grace', '2000', ...EXEC], codex: ignoreTermCodex() }, async (ctx) => {
      const u = uniq();
      await ctx.m.startCall('eof-idle', { PROMPT: `eof idle ignoring TERM ${u} [[stall]]` });
      await ctx.waitRequest(u);
      const t0 = Date.now();
      ctx.srv.closeStdin();
      let ex;
      try {
        ex = await ctx.srv.waitExit(10000);
      } catch (e) {
        assert.fail(`server still running ${Date.now() - t0} ms after stdin EOF (grace 2 s); codex alive: ${describePids(ctx.procs())}`);
      }
      assert.deepEqual(ex, { code: 0, signal: null });
      await assertNoneLeft(ctx, 3000, 'after stdin EOF', { includeServer: true });
    }));

  test('SIGKILL of the server with 2 stalled calls leaves no codex process (PR_SET_PDEATHSIG)', T(60000), () =>
    withSetup({}, async (ctx) => {
      await twoStalled(ctx);
      ctx.srv.kill('SIGKILL');
      const ex = await ctx.srv.waitExit(5000);
      assert.equal(ex.signal, 'SIGKILL');
      await assertNoneLeft(ctx, 3000, 'after SIGKILL of the server', { includeServer: true });
    }));
});

describe('concurrency', () => {
  test('--max-parallel 2 with 6 calls: all succeed, never more than 2 codex processes, FIFO, queued progress', T(120000), () =>
    withSetup({ args: ['--max-parallel', '2'] }, async (ctx) => {
      const { m } = ctx;
      const u = uniq();
      const N = 6;
      const s = sampler(() => ctx.codexProcs().length, 50);
      let samples;
      try {
        for (let i = 1; i <= N; i++) await m.startCall(`par-${i}`, { PROMPT: `parallel ${i} ${u} [[sleep:800]]` }, `tok-par-${i}`);
        const replies = await Promise.all(Array.from({ length: N }, (_, k) => m.waitReply(`par-${k + 1}`, 90000)));
        samples = s.stop();
        for (let i = 1; i <= N; i++) {
          const res = resultOf(replies[i - 1]);
          assert.equal(res.success, true, `call ${i}: ${JSON.stringify(res)}`);
          assert.equal(res.agent_messages, `parallel ${i} ${u} [[sleep:800]]`);
        }
      } finally {
        s.stop();
      }
      const counts = samples.map((x) => x.value ?? 0);
      const peak = Math.max(...counts);
      assert.ok(samples.length > 20, `enough samples (${samples.length})`);
      if (!ctx.appserver) {
        assert.ok(peak <= 2, `at most 2 codex processes at once, saw ${peak}`);
        assert.equal(peak, 2, 'two ran at once at some moment');
      } else {
        assert.equal(peak, 1, 'one app-server for every call');
        assert.equal(ctx.fake.maxInflight, 2, 'two turns ran at once at some moment');
      }
      assert.ok(ctx.fake.maxInflight <= 2, `the fake saw at most 2 concurrent requests, saw ${ctx.fake.maxInflight}`);

      // Queued ones were told so; the first two were not.
      for (let i = 1; i <= N; i++) {
        const ps = m.progress(`tok-par-${i}`);
        assertProgressShape(ps, `tok-par-${i}`);
        const queued = ps.filter((e) => /^queued: /.test(e.msg.params.message));
        if (i <= 2) {
          assert.equal(queued.length, 0, `call ${i} started at once`);
        } else {
          assert.ok(queued.length >= 1, `call ${i} got a "queued:" progress: ${JSON.stringify(ps.map((e) => e.msg.params.message))}`);
          assert.match(queued[0].msg.params.message, new RegExp(`^queued: ${i - 3} ahead`), `call ${i}`);
        }
      }
      // FIFO: calls started in submission order.
      const starts = m.allProgress().filter((e) => /^started/.test(e.msg.params.message)).map((e) => e.msg.params.progressToken);
      assert.deepEqual(starts, Array.from({ length: N }, (_, k) => `tok-par-${k + 1}`), 'start order');
    }));

  test('CODEXMCP_MAX_PARALLEL=1: the second call waits for the first', T(60000), () =>
    withSetup({ extraEnv: { CODEXMCP_MAX_PARALLEL: '1' } }, async (ctx) => {
      const { m } = ctx;
      const u = uniq();
      await m.startCall('e-1', { PROMPT: `env one ${u} [[sleep:800]]` }, 'tok-e-1');
      await m.startCall('e-2', { PROMPT: `env two ${u} [[sleep:800]]` }, 'tok-e-2');
      const [r1, r2] = await Promise.all([m.waitReply('e-1', 40000), m.waitReply('e-2', 40000)]);
      assert.equal(resultOf(r1).success, true);
      assert.equal(resultOf(r2).success, true);
      assert.equal(ctx.fake.maxInflight, 1, 'never two requests at once');
      const q = m.progress('tok-e-2').map((e) => e.msg.params.message);
      assert.match(q[0] ?? '', /^queued: 0 ahead/, JSON.stringify(q));
      const [a, b] = [ctx.fake.requestsFor(`env one ${u}`)[0], ctx.fake.requestsFor(`env two ${u}`)[0]];
      assert.ok(b.time >= a.endTime, 'the second started after the first ended');
    }));

  test('two calls on one SESSION_ID are serialized and see each other in order', T(120000), () =>
    withSetup({}, async (ctx) => {
      const { m } = ctx;
      const u = uniq();
      const p1 = `turn one ${u}`;
      const first = resultOf(await m.call('t1', { PROMPT: p1 }));
      assert.equal(first.success, true, JSON.stringify(first));
      const sid = first.SESSION_ID;
      assert.match(sid, UUID_RE);

      const p2 = `turn two ${u} [[sleep:500]] [[history]]`;
      const p3 = `turn three ${u} [[sleep:500]] [[history]]`;
      const s = sampler(() => ctx.codexProcs().length, 50);
      let r2, r3, samples;
      try {
        // Back to back, in one write: "at the same time".
        await m.srv.send(
          [
            { jsonrpc: '2.0', id: 't2', method: 'tools/call', params: { name: 'codex', arguments: { cd: workdir, PROMPT: p2, SESSION_ID: sid }, _meta: { progressToken: 'tok-t2' } } },
            { jsonrpc: '2.0', id: 't3', method: 'tools/call', params: { name: 'codex', arguments: { cd: workdir, PROMPT: p3, SESSION_ID: sid }, _meta: { progressToken: 'tok-t3' } } },
          ]
            .map((o) => JSON.stringify(o) + '\n')
            .join(''),
        );
        [r2, r3] = await Promise.all([m.waitReply('t2', 60000), m.waitReply('t3', 60000)]);
        samples = s.stop();
      } finally {
        s.stop();
      }
      const res2 = resultOf(r2);
      const res3 = resultOf(r3);
      assert.equal(res2.success, true, JSON.stringify(res2));
      assert.equal(res3.success, true, JSON.stringify(res3));
      assert.equal(res2.SESSION_ID, sid);
      assert.equal(res3.SESSION_ID, sid);

      // Never overlapping: at the fake, and as processes.
      const q2 = ctx.fake.requestsFor(`turn two ${u}`);
      const q3 = ctx.fake.requestsFor(`turn three ${u}`);
      assert.equal(q2.length, 1);
      assert.equal(q3.length, 1);
      const peak = Math.max(...samples.map((x) => x.value ?? 0));
      assert.ok(peak <= 1, `one codex process at a time for one session, saw ${peak}`);
      assert.ok(ctx.fake.maxInflight <= 1, `the fake saw ${ctx.fake.maxInflight} concurrent requests`);
      const [a, b] = q2[0].time <= q3[0].time ? [q2[0], q3[0]] : [q3[0], q2[0]];
      assert.ok(a.endTime !== undefined && b.time >= a.endTime, `second request started ${b.time - (a.endTime ?? NaN)} ms after the first ended`);

      // Turn 3 came second and saw turn 2.
      assert.equal(res2.agent_messages, `${p1} | ${p2}`);
      assert.equal(res3.agent_messages, `${p1} | ${p2} | ${p3}`);
      const queued = m.progress('tok-t3').filter((e) => /^queued: /.test(e.msg.params.message));
      assert.ok(queued.length >= 1, `turn 3 was told it waits: ${JSON.stringify(m.progress('tok-t3').map((e) => e.msg.params.message))}`);
      assert.ok(r2.idx < r3.idx, 'turn 2 answered first');
    }));
});

describe('unreachable endpoint', () => {
  test('--idle-timeout ends a call whose codex only retries ("Reconnecting... waiting for network")', T(60000), () =>
    withSetup({ args: ['--idle-timeout', '3'] }, async (ctx) => {
      const { m } = ctx;
      // Nothing listens on the endpoint any more: codex retries forever,
      // printing a retry notice every few seconds. Those are not progress.
      await ctx.fake.close();
      const t0 = Date.now();
      const token = `tok-dead-${uniq()}`;
      const reply = await m.call('dead', { PROMPT: 'nobody answers' }, { timeoutMs: 30000, token });
      const took = Date.now() - t0;
      const res = resultOf(reply);
      assert.equal(res.success, false, JSON.stringify(res));
      assert.match(res.error, /^timed out: codex reported nothing for 3 s/, res.error);
      assert.match(res.SESSION_ID ?? '', UUID_RE);
      assert.ok(took < 15000, `ended within 15 s (took ${took} ms)`);
      const retries = m.progress(token).filter((e) => /^Reconnecting\.\.\. waiting for network/.test(e.msg.params.message));
      assert.ok(retries.length >= 1, 'the retry notices reached the client as progress');
      await assertNoneLeft(ctx, 3000, 'after the idle limit');
    }));
});
