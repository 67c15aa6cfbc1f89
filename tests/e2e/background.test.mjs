// Background calls through the REAL codex CLI (against the fake Responses
// API, lib/fake-responses.mjs): `codex` / `codex_review` with `wait_s`, the
// `codex_wait` and `codex_cancel` tools, results kept in the registry and
// read by a second server, and a task cut short by its server's shutdown.
//
// Turns are made to take N seconds by the fake ([[sleep:MS]] delays its
// answer) or by a command codex runs ([[shell:sleep 30]]). What a cancel
// leaves behind is read from /proc, never from the server's word: every
// command codex runs carries CODEX_THREAD_ID=<SESSION_ID>, and under the exec
// engine every process of the call carries the call's marker
// CODEXMCP_CALL_<server pid>=<n> (src/child.c). Under the app-server engine
// that marker belongs to the one app-server, which serves every call and
// outlives them: there a call's processes are its commands.
//
// One fake and one CODEX_HOME for the whole file; each test has its own
// server(s) and state directory, and the tests run concurrently.
//
// Run: node --test background.test.mjs            (app-server engine)
//      CODEXMCP_ENGINE=exec node --test background.test.mjs
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { waitRequest } from './lib/fake-responses.mjs';
import { codexBin, sharedFakeCodex, env } from './lib/codex-env.mjs';
import { connectSdk, usingSdk, rawServer, serverBin, serverExists, callToolChecked, CONCURRENCY } from './lib/mcp.mjs';
import { tempTree, git } from './lib/tmp.mjs';
import { hasProc, pollUntil, waitSleepCommand, assertTurnGone } from './lib/procs.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TASK_RE = /^[0-9a-f]{32}$/;
const uniq = () => `u${process.pid}x${Date.now().toString(36)}x${Math.random().toString(36).slice(2, 8)}`;
const CALL_MS = 60000;
const T = (ms) => ({ timeout: ms });
const TP = (ms) => ({ timeout: ms, skip: hasProc ? false : 'needs Linux /proc' });

// The keys a "still running" answer may have (As built: SESSION_ID and
// progress only when known; message only in the answer of the call itself).
const RUNNING_KEYS = new Set(['success', 'status', 'SESSION_ID', 'task', 'progress', 'message']);

const codex = sharedFakeCodex();
const tree = tempTree('codexmcp-e2e-bg-');

if (!serverExists()) {
  test('server binary exists', () => {
    assert.fail(`codexmcp binary not found at ${serverBin()} (build it or set CODEXMCP_BIN)`);
  });
}

function serverArgs(stateDir, extra = []) {
  return ['--codex', codexBin(), '--state-dir', stateDir, ...extra];
}

/**
 * Run fn(ctx) against a fresh codexmcp (SDK client) with its own state dir
 * (or opts.stateDir). ctx: { client, sdk, pid, cd, stateDir, call(tool, args, ms) }.
 * tools/list is read first, so the SDK checks every structuredContent
 * against the tool's outputSchema.
 */
async function withServer(opts, fn) {
  if (typeof opts === 'function') [opts, fn] = [{}, opts];
  const stateDir = opts.stateDir ?? tree.dir('state');
  const sdk = await connectSdk(serverArgs(stateDir, opts.args), env(codex.home, opts.envExtra ?? {}));
  const ctx = {
    sdk,
    client: sdk.client,
    pid: sdk.pid,
    stateDir,
    cd: tree.dir('cwd'),
    call: (tool, args, ms = CALL_MS) => callToolChecked(sdk.client, tool, args, ms),
  };
  return usingSdk(sdk, async () => {
    const { tools } = await sdk.client.listTools();
    for (const name of ['codex', 'codex_wait', 'codex_cancel']) {
      assert.ok(tools.some((t) => t.name === name), `tools/list has ${name}: ${tools.map((t) => t.name)}`);
    }
    return fn(ctx);
  });
}

/** codex with timing: { res, obj, ms }. */
async function timed(promise) {
  const t0 = Date.now();
  const r = await promise;
  return { ...r, ms: Date.now() - t0, at: Date.now() };
}

/** Assert obj is a "still running" answer; returns it. */
function assertRunning(obj, what, { message = false, session = true } = {}) {
  const s = JSON.stringify(obj);
  assert.equal(obj.success, true, `${what}: ${s}`);
  assert.ok(obj.status === 'running' || obj.status === 'queued', `${what}: status running|queued: ${s}`);
  assert.match(obj.task ?? '', TASK_RE, `${what}: task is 32 lowercase hex: ${s}`);
  if (session) assert.match(obj.SESSION_ID ?? '', UUID_RE, `${what}: SESSION_ID: ${s}`);
  else if ('SESSION_ID' in obj) assert.match(obj.SESSION_ID, UUID_RE, `${what}: SESSION_ID omitted or a uuid: ${s}`);
  if ('progress' in obj) {
    assert.equal(typeof obj.progress, 'string', `${what}: progress is a string: ${s}`);
    assert.ok(obj.progress.length > 0 && !/[\r\n]/.test(obj.progress), `${what}: progress is one non-empty line: ${s}`);
  }
  if (message) {
    assert.equal(typeof obj.message, 'string', `${what}: message: ${s}`);
    assert.match(obj.message, /codex_wait/, `${what}: the message says to call codex_wait: ${s}`);
    assert.ok(obj.message.includes(obj.task), `${what}: the message names the task: ${s}`);
  }
  for (const k of Object.keys(obj)) assert.ok(RUNNING_KEYS.has(k), `${what}: unexpected key ${k} in ${s}`);
  return obj;
}

/** A normal successful codex result (what a blocking call returns). */
function assertNormalOk(obj, what) {
  const s = JSON.stringify(obj).slice(0, 1500);
  assert.equal(obj.success, true, `${what}: ${s}`);
  assert.match(obj.SESSION_ID ?? '', UUID_RE, `${what}: SESSION_ID: ${s}`);
  assert.equal(typeof obj.agent_messages, 'string', `${what}: agent_messages: ${s}`);
  for (const k of ['status', 'task', 'message', 'done', 'pending', 'tasks']) {
    assert.ok(!(k in obj), `${what}: a finished call's result is the normal result, without "${k}": ${s}`);
  }
}

/** The parts of a CallToolResult that must be identical when it is given again. */
const toolResult = (res) => ({ content: res.content, structuredContent: res.structuredContent, isError: res.isError ?? false });

/** The tool result object of a raw tools/call reply. */
function rawResultOf(msg) {
  assert.ok(msg.result, `expected a result, got ${JSON.stringify(msg).slice(0, 500)}`);
  return msg.result.structuredContent ?? JSON.parse(msg.result.content[0].text);
}

// ---------------------------------------------------------------------------

describe('background calls (wait_s, codex_wait, codex_cancel)', { concurrency: CONCURRENCY }, () => {
  test('wait_s: 2 on a ~10 s turn answers "running" at ~2 s; codex_wait gives the normal result, again on a second codex_wait', T(90000), () =>
    withServer(async ({ call, cd }) => {
      const u = uniq();
      const prompt = `bg one ${u} [[sleep:10000]] [[reply:bg one done ${u}]]`;
      const first = await timed(call('codex', { PROMPT: prompt, cd, wait_s: 2 }));
      assert.ok(first.ms >= 1900, `answered after wait_s (2 s), not before: ${first.ms} ms`);
      assert.ok(first.ms < 6000, `answered within a few seconds of wait_s: 2 (took ${first.ms} ms)`);
      assert.ok(!first.res.isError, 'not an error');
      const running = assertRunning(first.obj, 'wait_s: 2 answer', { message: true });
      assert.equal(running.status, 'running');
      // The turn was not done: the fake had not answered yet.
      const req = await waitRequest(codex.fake, `bg one ${u}`);
      assert.equal(req.endTime, undefined, 'the fake was still sleeping when the call answered');
      assert.equal(req.headers['session-id'], running.SESSION_ID, 'SESSION_ID is the session codex runs');

      const done = await timed(call('codex_wait', { task: running.task, wait_s: 30 }));
      assert.ok(req.endTime !== undefined && done.at >= req.endTime, 'codex_wait answered after the turn ended');
      assertNormalOk(done.obj, 'codex_wait result');
      assert.equal(done.obj.SESSION_ID, running.SESSION_ID);
      assert.equal(done.obj.agent_messages, `bg one done ${u}`);
      assert.ok(!done.res.isError);

      // Kept (for the TTL): the same CallToolResult again, at once.
      const again = await timed(call('codex_wait', { task: running.task, wait_s: 30 }));
      assert.ok(again.ms < 3000, `a finished task answers at once (${again.ms} ms)`);
      assert.deepEqual(toolResult(again.res), toolResult(done.res), 'the second codex_wait gives the identical result');
      // wait_s 0 on a finished task: the result too.
      const zero = await call('codex_wait', { task: running.task, wait_s: 0 });
      assert.deepEqual(toolResult(zero.res), toolResult(done.res), 'codex_wait wait_s 0 on a finished task');
      // The array form: the result's fields plus task and status.
      const arr = await call('codex_wait', { task: [running.task] });
      assert.equal(arr.obj.success, true, JSON.stringify(arr.obj));
      assert.equal(arr.obj.done, 1);
      assert.equal(arr.obj.pending, 0);
      assert.deepEqual(arr.obj.tasks, [{ ...done.obj, task: running.task, status: 'completed' }]);
      // The model was asked once: codex_wait does not run anything.
      assert.equal(codex.fake.requestsFor(`bg one ${u}`).length, 1);
    }));

  test('wait_s longer than the turn: exactly the normal result, nothing added', T(60000), () =>
    withServer(async ({ call, cd }) => {
      const u = uniq();
      const r = await timed(call('codex', { PROMPT: `quick ${u} [[reply:quick ${u}]]`, cd, wait_s: 30 }));
      assertNormalOk(r.obj, 'wait_s: 30 on a quick turn');
      assert.equal(r.obj.agent_messages, `quick ${u}`);
      assert.ok(r.ms < 20000, `answered when the turn ended (${r.ms} ms)`);
      // And the same as a call without wait_s gives (same keys).
      const plain = await call('codex', { PROMPT: `plain ${u} [[reply:plain ${u}]]`, cd });
      assertNormalOk(plain.obj, 'blocking call');
      assert.deepEqual(Object.keys(r.obj).sort(), Object.keys(plain.obj).sort(), 'same fields as a blocking call');
    }));

  test('three calls with wait_s: 0 run in parallel; codex_wait mode "any" returns at the first, then all three', T(90000), () =>
    withServer(async ({ call, cd }) => {
      const u = uniq();
      // Staggered so that "any" has one done and two not.
      const sleeps = [2500, 4000, 5500];
      const starts = [];
      for (let i = 0; i < 3; i++) {
        const r = await timed(call('codex', { PROMPT: `par-${i} ${u} [[sleep:${sleeps[i]}]] [[reply:par ${i} done ${u}]]`, cd, wait_s: 0 }));
        assert.ok(r.ms < 8000, `wait_s: 0 answers once the turn has a SESSION_ID (${r.ms} ms)`);
        starts.push(assertRunning(r.obj, `call ${i}`, { message: true }));
      }
      const ids = starts.map((s) => s.task);
      assert.equal(new Set(ids).size, 3, 'three different task ids');
      assert.equal(new Set(starts.map((s) => s.SESSION_ID)).size, 3, 'three sessions');

      const any = await timed(call('codex_wait', { task: ids, mode: 'any', wait_s: 30 }));
      const reqs = () => [0, 1, 2].map((i) => codex.fake.requestsFor(`par-${i} ${u}`)[0]);
      assert.equal(any.obj.success, true, JSON.stringify(any.obj));
      assert.ok(any.obj.done >= 1, `mode any: done >= 1: ${JSON.stringify(any.obj)}`);
      assert.equal(any.obj.pending, 3 - any.obj.done);
      assert.ok(any.obj.pending >= 1, `mode any returned before all were done: ${JSON.stringify(any.obj)}`);
      assert.equal(any.obj.tasks.length, 3);
      assert.deepEqual(any.obj.tasks.map((e) => e.task), ids, 'one element per task, in the order asked');
      assert.equal(any.obj.tasks[0].status, 'completed', `the shortest finished first: ${JSON.stringify(any.obj.tasks)}`);
      assert.equal(any.obj.tasks[0].agent_messages, `par 0 done ${u}`);
      for (const e of any.obj.tasks.filter((e) => e.status !== 'completed')) assertRunning(e, 'mode any: pending element');
      const firstEnd = Math.min(...reqs().map((r) => r?.endTime ?? Infinity));
      assert.ok(any.at >= firstEnd, 'mode any waited for the first to finish');

      const all = await timed(call('codex_wait', { task: ids, wait_s: 30 }));
      assert.deepEqual({ success: all.obj.success, done: all.obj.done, pending: all.obj.pending }, { success: true, done: 3, pending: 0 }, JSON.stringify(all.obj));
      all.obj.tasks.forEach((e, i) => {
        assert.equal(e.task, ids[i]);
        assert.equal(e.status, 'completed', JSON.stringify(e));
        assert.equal(e.success, true);
        assert.equal(e.SESSION_ID, starts[i].SESSION_ID);
        assert.equal(e.agent_messages, `par ${i} done ${u}`);
      });

      // In parallel: every request started before any of them ended.
      const rs = reqs();
      for (const r of rs) assert.ok(r && r.endTime, 'each turn reached the fake and was answered');
      const lastStart = Math.max(...rs.map((r) => r.time));
      const firstEnd2 = Math.min(...rs.map((r) => r.endTime));
      assert.ok(lastStart < firstEnd2, `the three requests overlapped: starts ${rs.map((r) => r.time - rs[0].time)} ms, ends ${rs.map((r) => r.endTime - rs[0].time)} ms`);
      // And each single codex_wait gives the element's result.
      const one = await call('codex_wait', { task: ids[2] });
      assert.deepEqual({ ...one.obj, task: ids[2], status: 'completed' }, all.obj.tasks[2]);
    }));

  test('codex_wait on a running task with a short wait_s; unknown task; bad arguments', T(60000), () =>
    withServer(async ({ call, cd }) => {
      const u = uniq();
      const start = await call('codex', { PROMPT: `wait short ${u} [[stall]]`, cd, wait_s: 0 });
      const { task, SESSION_ID } = assertRunning(start.obj, 'wait_s: 0 answer', { message: true });

      const w = await timed(call('codex_wait', { task, wait_s: 1 }));
      assert.ok(w.ms >= 900 && w.ms < 5000, `answered after about wait_s: 1 (${w.ms} ms)`);
      assert.ok(!w.res.isError);
      assertRunning(w.obj, 'codex_wait wait_s 1');
      assert.equal(w.obj.status, 'running');
      assert.equal(w.obj.task, task);
      assert.equal(w.obj.SESSION_ID, SESSION_ID);
      assert.equal(typeof w.obj.progress, 'string', `a progress line: ${JSON.stringify(w.obj)}`);

      const arr = await timed(call('codex_wait', { task: [task], wait_s: 0.5 }));
      assert.ok(arr.ms >= 400 && arr.ms < 5000, `array form waits wait_s (${arr.ms} ms)`);
      assert.equal(arr.obj.success, true);
      assert.equal(arr.obj.done, 0);
      assert.equal(arr.obj.pending, 1);
      assertRunning(arr.obj.tasks[0], 'array element of a running task');
      assert.equal(arr.obj.tasks[0].task, task);

      // Unknown task ids.
      const unknown = 'f'.repeat(32);
      const un = await timed(call('codex_wait', { task: unknown, wait_s: 5 }));
      assert.equal(un.obj.success, false, JSON.stringify(un.obj));
      assert.equal(un.res.isError, true);
      assert.match(un.obj.error, /no task/);
      assert.ok(un.obj.error.includes(unknown), `names the id: ${un.obj.error}`);
      assert.ok(un.ms < 4000, `an unknown task answers at once (${un.ms} ms)`);
      const unArr = await call('codex_wait', { task: [task, unknown], wait_s: 0 });
      assert.equal(unArr.obj.success, true, JSON.stringify(unArr.obj));
      assert.equal(unArr.obj.tasks.length, 2);
      assert.equal(unArr.obj.tasks[0].task, task);
      assert.equal(unArr.obj.tasks[1].success, false);
      assert.equal(unArr.obj.tasks[1].task, unknown);
      assert.equal(unArr.obj.tasks[1].status, 'unknown');
      assert.match(unArr.obj.tasks[1].error, /no task/);

      // Bad arguments: clear tool errors, before any waiting.
      const bad = [
        [{}, /task/],
        [{ task: '' }, /task/],
        [{ task: 42 }, /task/],
        [{ task: [] }, /task/],
        [{ task: [task, 7] }, /task/],
        [{ task: Array.from({ length: 33 }, () => task) }, /task.*32|32.*task/],
        [{ task, wait_s: -1 }, /wait_s/],
        [{ task, wait_s: 3601 }, /wait_s/],
        [{ task, wait_s: '5' }, /wait_s/],
        [{ task, mode: 'x' }, /mode/],
        [{ task, mode: 1 }, /mode/],
        [{ task, bogus: 1 }, /bogus/],
      ];
      for (const [args, re] of bad) {
        const r = await timed(call('codex_wait', args));
        assert.equal(r.obj.success, false, `codex_wait ${JSON.stringify(args).slice(0, 80)}: ${JSON.stringify(r.obj)}`);
        assert.equal(r.res.isError, true);
        assert.match(r.obj.error, re, `codex_wait ${JSON.stringify(args).slice(0, 80)}: ${r.obj.error}`);
        assert.ok(r.ms < 3000, `refused at once (${r.ms} ms)`);
      }
      for (const [args, re] of [
        [{}, /task.*SESSION_ID|SESSION_ID.*task/],
        [{ task, SESSION_ID }, /task.*SESSION_ID|SESSION_ID.*task/],
        [{ task: 5 }, /task/],
        [{ SESSION_ID: 5 }, /SESSION_ID/],
      ]) {
        const r = await call('codex_cancel', args);
        assert.equal(r.obj.success, false, `codex_cancel ${JSON.stringify(args)}: ${JSON.stringify(r.obj)}`);
        assert.match(r.obj.error, re, `codex_cancel ${JSON.stringify(args)}: ${r.obj.error}`);
      }
      const unC = await call('codex_cancel', { task: unknown });
      assert.equal(unC.obj.success, false, JSON.stringify(unC.obj));
      assert.match(unC.obj.error, /no such task|no task/);
      for (const [args, re] of [
        [{ wait_s: -1 }, /wait_s/],
        [{ wait_s: 86401 }, /wait_s/],
        [{ wait_s: 'soon' }, /wait_s/],
      ]) {
        const r = await call('codex', { PROMPT: `never run ${u}`, cd, ...args });
        assert.equal(r.obj.success, false, `codex ${JSON.stringify(args)}: ${JSON.stringify(r.obj)}`);
        assert.match(r.obj.error, re);
      }
      assert.equal(codex.fake.requestsFor(`never run ${u}`).length, 0, 'refused calls never reached codex');

      // Still running after all that; stop it.
      const c = await call('codex_cancel', { task });
      assert.equal(c.obj.success, true, JSON.stringify(c.obj));
      assert.equal(c.obj.status, 'cancelled');
    }));

  test('codex_cancel {task} of a running background turn: processes gone when it answers; codex_wait gives the cancelled result; a second cancel: already ended', TP(90000), () =>
    withServer(async ({ call, cd, pid }) => {
      const u = uniq();
      const start = await call('codex', { PROMPT: `cancel task ${u} [[shell:sleep 30]]`, cd, wait_s: 0 });
      const { task, SESSION_ID: sid } = assertRunning(start.obj, 'wait_s: 0 answer', { message: true });
      const { marker } = await waitSleepCommand(sid, pid);

      const c = await timed(call('codex_cancel', { task }));
      assert.deepEqual(c.obj, { success: true, status: 'cancelled', SESSION_ID: sid, task }, JSON.stringify(c.obj));
      assert.ok(!c.res.isError);
      assert.ok(c.ms < 10000, `cancel answered in ${c.ms} ms`);
      await assertTurnGone(sid, marker, pid, 'codex_cancel {task}');

      const w = await timed(call('codex_wait', { task, wait_s: 10 }));
      assert.ok(w.ms < 3000, `a cancelled task answers at once (${w.ms} ms)`);
      assert.equal(w.obj.success, false, JSON.stringify(w.obj));
      assert.equal(w.res.isError, true);
      assert.match(w.obj.error, /cancel/);
      assert.equal(w.obj.SESSION_ID, sid);
      const wa = await call('codex_wait', { task: [task], wait_s: 0 });
      assert.equal(wa.obj.done, 1);
      assert.equal(wa.obj.tasks[0].status, 'cancelled', JSON.stringify(wa.obj));
      assert.equal(wa.obj.tasks[0].success, false);

      const again = await call('codex_cancel', { task });
      assert.equal(again.obj.success, false, JSON.stringify(again.obj));
      assert.match(again.obj.error, /already ended/);
      assert.match(again.obj.error, /cancelled/);

      // The session can be resumed afterwards.
      const next = await call('codex', { PROMPT: `after cancel ${u} [[history]]`, cd, SESSION_ID: sid });
      assertNormalOk(next.obj, 'resumed after the cancel');
      assert.equal(next.obj.SESSION_ID, sid);
      assert.match(next.obj.agent_messages, new RegExp(`cancel task ${u}.*after cancel ${u}`));
    }));

  test('codex_cancel {SESSION_ID} of a background turn (wait_s: 0): cancelled, processes gone, the task reads cancelled', TP(90000), () =>
    withServer(async ({ call, cd, pid }) => {
      const u = uniq();
      const start = await call('codex', { PROMPT: `cancel sid ${u} [[shell:sleep 30]]`, cd, wait_s: 0 });
      const { task, SESSION_ID: sid } = assertRunning(start.obj, 'wait_s: 0 answer');
      const { marker } = await waitSleepCommand(sid, pid);
      const c = await call('codex_cancel', { SESSION_ID: sid });
      assert.deepEqual(c.obj, { success: true, status: 'cancelled', SESSION_ID: sid, cancelled: 1, tasks: [task] }, JSON.stringify(c.obj));
      await assertTurnGone(sid, marker, pid, 'codex_cancel {SESSION_ID} of a background turn');
      const w = await call('codex_wait', { task: [task], wait_s: 5 });
      assert.equal(w.obj.tasks[0].status, 'cancelled', JSON.stringify(w.obj));
      // Nothing of that session runs any more.
      const none = await call('codex_cancel', { SESSION_ID: sid });
      assert.equal(none.obj.success, false, JSON.stringify(none.obj));
      assert.match(none.obj.error, /no turn of session/);
    }));

  // One client per server: the blocking call and the cancel go through the same SDK client.
  test('codex_cancel {SESSION_ID} of a blocking call (no wait_s): processes gone, the call answers cancelled', TP(90000), () =>
    withServer(async ({ call, cd, pid }) => {
      const ub = uniq();
      const blocking = timed(call('codex', { PROMPT: `blocking ${ub} [[shell:sleep 30]]`, cd }));
      blocking.catch(() => {});
      const req = await waitRequest(codex.fake, `blocking ${ub}`);
      const bsid = req.headers['session-id'];
      assert.match(bsid ?? '', UUID_RE, 'the fake saw the session id');
      const b = await waitSleepCommand(bsid, pid);
      const tCancel = Date.now();
      const bc = await call('codex_cancel', { SESSION_ID: bsid });
      assert.equal(bc.obj.success, true, JSON.stringify(bc.obj));
      assert.equal(bc.obj.status, 'cancelled');
      assert.equal(bc.obj.SESSION_ID, bsid);
      assert.equal(bc.obj.cancelled, 1);
      assert.ok(Array.isArray(bc.obj.tasks), JSON.stringify(bc.obj));
      await assertTurnGone(bsid, b.marker, pid, 'codex_cancel {SESSION_ID} of a blocking call');
      const br = await blocking;
      assert.ok(br.at - tCancel < 10000, `the blocking call answered soon after the cancel (${br.at - tCancel} ms)`);
      assert.equal(br.obj.success, false, JSON.stringify(br.obj));
      assert.equal(br.res.isError, true);
      assert.match(br.obj.error, /cancel/);
      assert.equal(br.obj.SESSION_ID, bsid);
    }));

  test('--task-ttl: a finished result is kept for the TTL counted from its end, then forgotten', T(60000), () =>
    withServer({ args: ['--task-ttl', '2'] }, async ({ call, cd }) => {
      const u = uniq();
      // The turn (~3.5 s) outlives the TTL (2 s): the TTL must count from the end.
      const start = await call('codex', { PROMPT: `ttl ${u} [[sleep:3500]] [[reply:ttl done ${u}]]`, cd, wait_s: 0 });
      const { task } = assertRunning(start.obj, 'wait_s: 0 answer');
      const done = await call('codex_wait', { task, wait_s: 30 });
      assertNormalOk(done.obj, 'codex_wait');
      const tEnd = Date.now();
      await sleep(1000);
      const kept = await call('codex_wait', { task, wait_s: 0 });
      assert.deepEqual(toolResult(kept.res), toolResult(done.res), '1 s after its end the result is still there');
      await sleep(Math.max(0, tEnd + 3500 - Date.now()));
      const gone = await call('codex_wait', { task, wait_s: 0 });
      assert.equal(gone.obj.success, false, `forgotten 3.5 s after its end (TTL 2 s): ${JSON.stringify(gone.obj)}`);
      assert.match(gone.obj.error, /no task/);
    }));

  test('codex_review with wait_s: 0 is a background task too', T(60000), () =>
    withServer(async ({ call }) => {
      const u = uniq();
      const repo = fs.realpathSync(tree.dir('repo'));
      git(repo, 'init', '-q', '-b', 'main');
      fs.writeFileSync(path.join(repo, 'a.txt'), 'one\n');
      git(repo, 'add', 'a.txt');
      git(repo, 'commit', '-q', '-m', 'initial');
      const start = await timed(call('codex_review', { cd: repo, PROMPT: `review bg ${u} [[sleep:3000]] [[reply:review done ${u}]]`, wait_s: 0 }));
      assertRunning(start.obj, 'codex_review wait_s: 0', { message: true });
      const done = await call('codex_wait', { task: start.obj.task, wait_s: 30 });
      assertNormalOk(done.obj, 'the review result');
      assert.equal(done.obj.SESSION_ID, start.obj.SESSION_ID);
      assert.equal(done.obj.agent_messages, `review done ${u}`);
    }));

  test('a second server with the same --state-dir: a finished task\'s identical result; a task whose server shut down reads "interrupted"', T(120000), async () => {
    const stateDir = tree.dir('shared-state');
    const u = uniq();
    let resA;
    let taskA;
    // Server A: a background call, waited for on A.
    await withServer({ stateDir }, async ({ call, cd }) => {
      const start = await call('codex', { PROMPT: `cross ${u} [[sleep:1500]] [[reply:cross done ${u}]]`, cd, wait_s: 0 });
      taskA = assertRunning(start.obj, 'A: wait_s: 0').task;
      const done = await call('codex_wait', { task: taskA, wait_s: 30 });
      assertNormalOk(done.obj, 'A: codex_wait');
      assert.equal(done.obj.agent_messages, `cross done ${u}`);
      resA = done.res;

      // Server B while A still runs: the identical result.
      await withServer({ stateDir }, async (b) => {
        const r = await b.call('codex_wait', { task: taskA, wait_s: 5 });
        assert.deepEqual(toolResult(r.res), toolResult(resA), 'B gives the identical CallToolResult');
        const c = await b.call('codex_cancel', { task: taskA });
        assert.equal(c.obj.success, false, JSON.stringify(c.obj));
        assert.match(c.obj.error, /already ended/);
      });
    });
    assert.ok(resA);

    // Server A2 (raw pipes, so that only its stdin is closed): a turn still
    // running when A2 shuts down.
    const a2 = rawServer(serverArgs(stateDir), env(codex.home));
    let b;
    try {
      await a2.initialize('2025-11-25', 10000);
      const cd = tree.dir('cwd');
      const reply = await a2.request(
        { jsonrpc: '2.0', id: 'bg', method: 'tools/call', params: { name: 'codex', arguments: { PROMPT: `interrupt me ${u} [[stall]]`, cd, wait_s: 0 } } },
        30000,
      );
      const running = assertRunning(rawResultOf(reply), 'A2: wait_s: 0');
      await waitRequest(codex.fake, `interrupt me ${u}`);

      // B meanwhile: the task of another live server is "running" there, and only that server may stop it.
      b = await connectSdk(serverArgs(stateDir), env(codex.home));
      const bcall = (tool, args) => callToolChecked(b.client, tool, args, CALL_MS);
      // A2 answered "running" beside its registry write of the task (with
      // its SESSION_ID): B, another process, may read it a moment before.
      let live;
      await pollUntil(async () => {
        live = await bcall('codex_wait', { task: running.task, wait_s: 0 });
        return (live.obj.status === 'running' || live.obj.status === 'queued') && live.obj.SESSION_ID === running.SESSION_ID;
      }, 15000, 100);
      assertRunning(live.obj, 'B: codex_wait on A2\'s running task');
      assert.equal(live.obj.task, running.task);
      assert.equal(live.obj.SESSION_ID, running.SESSION_ID);
      const lc = await bcall('codex_cancel', { task: running.task });
      assert.equal(lc.obj.success, false, JSON.stringify(lc.obj));
      assert.ok(lc.obj.error.includes(String(a2.pid)), `names the pid of the server running it (${a2.pid}): ${lc.obj.error}`);

      // A2's stdin closes: it shuts down.
      a2.closeStdin();
      const ex = await a2.waitExit(15000);
      assert.equal(ex.code, 0, `A2 exited cleanly: ${JSON.stringify(ex)}; stderr:\n${a2.stderr.slice(-2000)}`);

      const gone = await bcall('codex_wait', { task: running.task, wait_s: 5 });
      assert.equal(gone.obj.success, false, JSON.stringify(gone.obj));
      assert.equal(gone.res.isError, true);
      assert.match(gone.obj.error, /interrupted/);
      assert.match(gone.obj.error, /SESSION_ID/);
      assert.match(gone.obj.error, /resum/);
      assert.ok(gone.obj.error.includes(running.SESSION_ID), `the error names the session to resume: ${gone.obj.error}`);
      assert.equal(gone.obj.SESSION_ID, running.SESSION_ID);
      const ga = await bcall('codex_wait', { task: [running.task], wait_s: 5 });
      assert.equal(ga.obj.done, 1, JSON.stringify(ga.obj));
      assert.equal(ga.obj.tasks[0].status, 'interrupted', JSON.stringify(ga.obj));
      assert.equal(ga.obj.tasks[0].success, false);

      // And the finished task of A is still there after A exited.
      const old = await bcall('codex_wait', { task: taskA, wait_s: 5 });
      assert.deepEqual(toolResult(old.res), toolResult(resA), 'the result outlives the server that ran it');
    } catch (err) {
      err.message += `\n--- A2 stderr (tail) ---\n${a2.stderr.slice(-2000)}\n--- B stderr (tail) ---\n${b?.stderr().slice(-2000) ?? ''}`;
      throw err;
    } finally {
      await b?.close();
      await a2.dispose();
    }
  });
});

// Many finished results at once must still fit what the client can take:
// Codex as a client (budget 10,000 characters) waiting on 12 tasks of 5,000
// characters each. A fake codex ([[quotes:N]]: an agent message of N quotes,
// 2 characters each in JSON) makes them cheaply.
test('codex_wait on many big results fits the client budget: shares, then the rest say to fetch them alone', T(60000), async () => {
  const FAKE = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'fake-codex.mjs');
  const dir = fs.realpathSync(tree.dir('budget'));
  const sdk = await connectSdk(['--codex', FAKE, '--engine', 'exec', '--state-dir', tree.dir('state-budget')],
    { ...process.env, FAKE_CODEX_THREAD_ID: 'random' }, { name: 'codex-mcp-client' });
  try {
    // Started in the background, so each answer is a task id.
    const bg = [];
    for (let i = 0; i < 12; i++) {
      const r = await callToolChecked(sdk.client, 'codex', { PROMPT: `[[quotes:2500]] [[sleep:300]] bg${i}`, cd: dir, wait_s: 0 }, CALL_MS);
      assert.equal(r.obj.status, 'running', JSON.stringify(r.obj));
      bg.push(r.obj.task);
    }
    const all = await callToolChecked(sdk.client, 'codex_wait', { task: bg, wait_s: 60 }, CALL_MS);
    const text = all.res.content[0].text;
    assert.ok(text.length <= 10000, `answer of ${text.length} characters, over the 10,000 of this client`);
    const obj = JSON.parse(text);
    assert.equal(obj.done, 12);
    assert.equal(obj.tasks.length, 12);
    assert.deepEqual(obj.tasks.map((t) => t.task), bg);
    const omitted = obj.tasks.filter((t) => t.omitted);
    assert.ok(omitted.length > 0 && omitted.length < 12, `${omitted.length} omitted`);
    for (const t of omitted) assert.match(t.omitted, /codex_wait with this task alone/);
    // and each one alone is its full result
    const one = await callToolChecked(sdk.client, 'codex_wait', { task: omitted[0].task }, CALL_MS);
    assert.equal(one.obj.success, true);
    assert.equal(one.obj.agent_messages.length, 2500);
  } finally {
    await sdk.close();
  }
});
