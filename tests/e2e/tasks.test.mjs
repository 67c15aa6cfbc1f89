// MCP tasks (protocol 2025-11-25) through the REAL codex CLI (against the
// fake Responses API, lib/fake-responses.mjs), with both the SDK client's
// experimental tasks API (client.experimental.tasks) and raw JSON-RPC lines:
// the tasks capability and tools' execution.taskSupport, task-augmented
// tools/call (CreateTaskResult at once, the turn outliving the client's
// request timeout), tasks/get, tasks/result, tasks/list paging, tasks/cancel
// (read from /proc: no process of the turn is left when it answers),
// notifications/tasks/status and progress of a task, failed tasks, and task
// ids given to codex_wait / background calls' ids given to tasks/*.
//
// Turns are made to last N seconds by the fake ([[sleep:MS]] delays its
// answer) or by a command codex runs ([[shell:sleep 30]]). Every command
// codex runs carries CODEX_THREAD_ID=<SESSION_ID>; under the exec engine
// every process of a call carries CODEXMCP_CALL_<server pid>=<n> (under the
// app-server engine that marker is the one app-server's, which outlives
// calls: there a call's processes are its commands).
//
// One fake and one CODEX_HOME for the whole file; each test has its own
// server and state directory, and the tests of a describe run concurrently.
//
// Run: node --test tasks.test.mjs                 (app-server engine)
//      CODEXMCP_ENGINE=exec node --test tasks.test.mjs
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CallToolResultSchema, CreateTaskResultSchema, TaskStatusNotificationSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { waitRequest } from './lib/fake-responses.mjs';
import { codexBin, sharedFakeCodex, env } from './lib/codex-env.mjs';
import { connectSdk, usingSdk, rawServer, jsonLineMux, serverBin, serverExists, withTimeout, CONCURRENCY } from './lib/mcp.mjs';
import { tempTree } from './lib/tmp.mjs';
import { hasProc, pollUntil, waitSleepCommand, assertTurnGone } from './lib/procs.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TASK_RE = /^[0-9a-f]{32}$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const RELATED = 'io.modelcontextprotocol/related-task';
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const uniq = () => `u${process.pid}x${Date.now().toString(36)}x${Math.random().toString(36).slice(2, 8)}`;
const T = (ms) => ({ timeout: ms });
const TP = (ms) => ({ timeout: ms, skip: hasProc ? false : 'needs Linux /proc' });
const TASK_CAP = { list: {}, cancel: {}, requests: { tools: { call: {} } } };

const codex = sharedFakeCodex();
const tree = tempTree('codexmcp-e2e-tasks-');

if (!serverExists()) {
  test('server binary exists', () => {
    assert.fail(`codexmcp binary not found at ${serverBin()} (build it or set CODEXMCP_BIN)`);
  });
}

const serverArgs = (stateDir, extra = []) => ['--codex', codexBin(), '--state-dir', stateDir, ...extra];

// ---------------------------------------------------------------------------
// Raw JSON-RPC: a multiplexing reader over the server's stdout (several
// requests in flight; every message logged in arrival order).

function mux(srv) {
  const m = jsonLineMux(srv);
  const { log } = m;
  let auto = 1;
  Object.assign(m, {
    /** Send a request; resolves with its reply entry { msg, t, idx }. */
    async requestEntry(method, params, timeoutMs = 10000) {
      const id = `${method}-${auto++}`;
      const obj = { jsonrpc: '2.0', id, method };
      if (params !== undefined) obj.params = params;
      await m.send(obj);
      return m.waitReply(id, timeoutMs);
    },
    async request(method, params, timeoutMs = 10000) {
      return (await m.requestEntry(method, params, timeoutMs)).msg;
    },
    async ping() {
      const r = await m.request('ping', undefined, 5000);
      assert.deepEqual(r.result, {}, `ping: ${JSON.stringify(r)}`);
    },
    async initialize(protocolVersion = '2025-11-25') {
      const r = await m.request('initialize', { protocolVersion, capabilities: {}, clientInfo: { name: 'e2e-tasks', version: '0' } });
      assert.ok(r.result, `initialize: ${JSON.stringify(r)}`);
      await m.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      return r.result;
    },
    /** Entries of notifications/tasks/status for one task, in order. */
    statuses: (taskId) => log.filter((e) => e.msg.method === 'notifications/tasks/status' && e.msg.params?.taskId === taskId),
    progress: (token) => log.filter((e) => e.msg.method === 'notifications/progress' && JSON.stringify(e.msg.params?.progressToken) === JSON.stringify(token)),
  });
  return m;
}

/** Run fn(ctx) against a fresh raw server (initialized with protocolVersion). */
async function withRaw(opts, fn) {
  if (typeof opts === 'function') [opts, fn] = [{}, opts];
  const stateDir = tree.dir('state');
  const srv = rawServer(serverArgs(stateDir, opts.args), env(codex.home, opts.envExtra ?? {}));
  const m = mux(srv);
  const cd = tree.dir('cwd');
  const ctx = {
    srv,
    m,
    pid: srv.pid,
    cd,
    init: null,
    /** tools/call codex with params.task; resolves with the reply entry. */
    startTask(args, { ttl = 60000, token, name = 'codex', timeoutMs = 10000 } = {}) {
      const params = { name, arguments: { cd, ...args }, task: ttl === undefined ? {} : { ttl } };
      if (token !== undefined) params._meta = { progressToken: token };
      return m.requestEntry('tools/call', params, timeoutMs);
    },
  };
  try {
    ctx.init = await m.initialize(opts.protocolVersion ?? '2025-11-25');
    const r = await fn(ctx);
    assert.deepEqual(m.badLines, [], 'stdout carries only JSON lines');
    assert.deepEqual(m.duplicates.map((e) => e.msg), [], 'one reply per request');
    return r;
  } catch (err) {
    err.message += `\n--- server stderr (tail) ---\n${srv.stderr.slice(-3000)}`;
    throw err;
  } finally {
    srv.closeStdin();
    try {
      await srv.waitExit(8000);
    } catch {
      await srv.dispose();
    }
  }
}

/** Run fn(ctx) against a fresh server through the SDK client; every
 * notifications/tasks/status is logged in ctx.statusLog (in arrival order,
 * on one sequence shared with ctx.progressLog entries made by onprogress()). */
async function withSdk(opts, fn) {
  if (typeof opts === 'function') [opts, fn] = [{}, opts];
  const stateDir = tree.dir('state');
  const sdk = await connectSdk(serverArgs(stateDir, opts.args), env(codex.home, opts.envExtra ?? {}));
  let seq = 0;
  const ctx = {
    sdk,
    client: sdk.client,
    tasks: sdk.client.experimental.tasks,
    pid: sdk.pid,
    cd: tree.dir('cwd'),
    statusLog: [], // { seq, t, params }
    progressLog: [], // { seq, t, params }
    onprogress: (p) => ctx.progressLog.push({ seq: ++seq, t: Date.now(), params: p }),
  };
  sdk.client.setNotificationHandler(TaskStatusNotificationSchema, (n) => {
    ctx.statusLog.push({ seq: ++seq, t: Date.now(), params: n.params });
  });
  return usingSdk(sdk, async () => {
    // tools/list first: the SDK then knows codex supports tasks and checks
    // structuredContent against the outputSchema.
    await sdk.client.listTools();
    return fn(ctx);
  });
}

/** Assert t is a Task object (2025-11-25); returns it. */
function assertTask(t, what, { id, status } = {}) {
  const s = JSON.stringify(t);
  assert.ok(t && typeof t === 'object', `${what}: a Task object: ${s}`);
  assert.match(t.taskId ?? '', TASK_RE, `${what}: taskId is 32 lowercase hex: ${s}`);
  if (id !== undefined) assert.equal(t.taskId, id, `${what}: taskId: ${s}`);
  assert.ok(['working', 'input_required', 'completed', 'failed', 'cancelled'].includes(t.status), `${what}: a valid status: ${s}`);
  if (status !== undefined) assert.equal(t.status, status, `${what}: status: ${s}`);
  assert.match(t.createdAt ?? '', ISO_RE, `${what}: createdAt is ISO 8601: ${s}`);
  assert.match(t.lastUpdatedAt ?? '', ISO_RE, `${what}: lastUpdatedAt is ISO 8601: ${s}`);
  assert.ok(Date.parse(t.lastUpdatedAt) >= Date.parse(t.createdAt), `${what}: lastUpdatedAt >= createdAt: ${s}`);
  assert.ok(t.ttl === null || (Number.isInteger(t.ttl) && t.ttl > 0), `${what}: ttl: ${s}`);
  assert.ok(Number.isInteger(t.pollInterval) && t.pollInterval > 0, `${what}: pollInterval: ${s}`);
  if ('statusMessage' in t) assert.equal(typeof t.statusMessage, 'string', `${what}: statusMessage: ${s}`);
  return t;
}

/** The JSON object of a CallToolResult (checks text === structuredContent, isError iff !success). */
function toolObj(res, what) {
  const s = JSON.stringify(res).slice(0, 1500);
  assert.ok(Array.isArray(res?.content) && res.content.length === 1 && res.content[0].type === 'text', `${what}: one text part: ${s}`);
  const obj = JSON.parse(res.content[0].text);
  if (res.structuredContent !== undefined) assert.deepEqual(res.structuredContent, obj, `${what}: structuredContent equals the text JSON`);
  assert.equal(typeof obj.success, 'boolean', `${what}: ${s}`);
  assert.equal(res.isError === true, obj.success === false, `${what}: isError iff success is false: ${s}`);
  return obj;
}

/** The parts of a CallToolResult that must be identical when given again (without _meta). */
const toolResult = (res) => ({ content: res.content, structuredContent: res.structuredContent, isError: res.isError ?? false });

function assertRelated(res, taskId, what) {
  assert.deepEqual(res?._meta?.[RELATED], { taskId }, `${what}: _meta["${RELATED}"] names the task: ${JSON.stringify(res?._meta)}`);
}

/** A normal successful codex result. */
function assertNormalOk(obj, what, agent) {
  const s = JSON.stringify(obj).slice(0, 1500);
  assert.equal(obj.success, true, `${what}: ${s}`);
  assert.match(obj.SESSION_ID ?? '', UUID_RE, `${what}: SESSION_ID: ${s}`);
  if (agent !== undefined) assert.equal(obj.agent_messages, agent, `${what}: agent_messages: ${s}`);
  for (const k of ['status', 'task', 'message', 'done', 'pending', 'tasks']) {
    assert.ok(!(k in obj), `${what}: the normal result, without "${k}": ${s}`);
  }
}

function assertRpcError(msg, code, what, re) {
  const s = JSON.stringify(msg);
  assert.ok(msg.error && !('result' in msg), `${what}: a JSON-RPC error: ${s}`);
  assert.equal(msg.error.code, code, `${what}: code ${code}: ${s}`);
  assert.equal(typeof msg.error.message, 'string', `${what}: ${s}`);
  if (re) assert.match(msg.error.message, re, `${what}: ${s}`);
}

async function assertSdkError(promise, code, what) {
  let err;
  try {
    const r = await promise;
    assert.fail(`${what}: expected an MCP error ${code}, got ${JSON.stringify(r)}`);
  } catch (e) {
    err = e;
  }
  if (err?.code === 'ERR_ASSERTION') throw err;
  assert.ok(err instanceof McpError, `${what}: an McpError: ${err}`);
  assert.equal(err.code, code, `${what}: code ${code}: ${err.message}`);
  return err;
}

/**
 * Status notifications of one task: the first is "working", then exactly one
 * terminal status (`terminal`), and it is the last.
 */
function assertStatusSequence(statuses, terminal, what) {
  const s = JSON.stringify(statuses.map((p) => p.status));
  assert.ok(statuses.length >= 2, `${what}: a "working" and a terminal status notification: ${s}`);
  assert.equal(statuses[0].status, 'working', `${what}: the first status is working: ${s}`);
  const terms = statuses.filter((p) => TERMINAL.has(p.status));
  assert.equal(terms.length, 1, `${what}: exactly one terminal status: ${s}`);
  assert.equal(statuses[statuses.length - 1].status, terminal, `${what}: the last status is ${terminal}: ${s}`);
  for (const p of statuses.slice(0, -1)) assert.equal(p.status, 'working', `${what}: before the end only "working": ${s}`);
}

// ---------------------------------------------------------------------------

describe('MCP tasks: negotiation', { concurrency: CONCURRENCY }, () => {
  test('2025-11-25 (raw and SDK): tasks capability; codex/codex_review taskSupport optional, the others none; a task for them is -32601', T(30000), async () => {
    await withRaw(async ({ m, init }) => {
      assert.equal(init.protocolVersion, '2025-11-25');
      assert.deepEqual(init.capabilities.tasks, TASK_CAP, `capabilities: ${JSON.stringify(init.capabilities)}`);
      const tl = await m.request('tools/list', {});
      const byName = new Map(tl.result.tools.map((t) => [t.name, t]));
      for (const name of ['codex', 'codex_review']) {
        assert.ok(byName.has(name), `tools/list has ${name}`);
        assert.deepEqual(byName.get(name).execution, { taskSupport: 'optional' }, `${name}.execution`);
      }
      for (const name of ['codex_wait', 'codex_cancel', 'codex_sessions']) {
        assert.ok(byName.has(name), `tools/list has ${name}`);
        const ex = byName.get(name).execution;
        assert.ok(ex === undefined || ex.taskSupport === 'forbidden', `${name} has no task support: ${JSON.stringify(ex)}`);
      }
      // A task for a tool without task support: -32601 (SHOULD, spec), nothing runs.
      const argsOf = { codex_wait: { task: '0'.repeat(32) }, codex_cancel: { task: '0'.repeat(32) }, codex_sessions: {} };
      for (const [name, args] of Object.entries(argsOf)) {
        const r = await m.request('tools/call', { name, arguments: args, task: { ttl: 60000 } });
        assertRpcError(r, -32601, `task-augmented ${name}`);
      }
      const list = await m.request('tasks/list', {});
      assert.deepEqual(list.result?.tasks, [], `no task was created: ${JSON.stringify(list)}`);
    });
    await withSdk(async ({ client, tasks }) => {
      assert.deepEqual(client.getServerCapabilities().tasks, TASK_CAP);
      const { tools } = await client.listTools();
      const byName = new Map(tools.map((t) => [t.name, t]));
      assert.equal(byName.get('codex').execution?.taskSupport, 'optional');
      assert.equal(byName.get('codex_review').execution?.taskSupport, 'optional');
      assert.equal(client.isToolTask('codex'), true, 'the SDK sees codex as a task tool');
      assert.equal(client.isToolTask('codex_wait'), false, 'the SDK sees codex_wait as a plain tool');
      const l = await tasks.listTasks();
      assert.deepEqual(l.tasks, []);
      assert.equal(l.nextCursor, undefined);
    });
  });

  test('2025-06-18: no tasks capability, no execution field, params.task ignored (a normal result), tasks/* unknown', T(60000), () =>
    withRaw({ protocolVersion: '2025-06-18' }, async ({ m, init, cd }) => {
      assert.equal(init.protocolVersion, '2025-06-18');
      assert.equal(init.capabilities.tasks, undefined, `no tasks capability: ${JSON.stringify(init.capabilities)}`);
      const tl = await m.request('tools/list', {});
      for (const t of tl.result.tools) assert.equal(t.execution, undefined, `${t.name} has no execution field: ${JSON.stringify(t.execution)}`);
      const u = uniq();
      const t0 = Date.now();
      const r = await m.request('tools/call', { name: 'codex', arguments: { PROMPT: `old protocol ${u} [[sleep:1500]] [[reply:old ${u}]]`, cd }, task: { ttl: 60000 } }, 60000);
      const took = Date.now() - t0;
      assert.ok(r.result, `a result: ${JSON.stringify(r)}`);
      assert.equal(r.result.task, undefined, `not a CreateTaskResult: ${JSON.stringify(r.result)}`);
      assertNormalOk(toolObj(r.result, 'the call'), 'params.task ignored under 2025-06-18', `old ${u}`);
      assert.ok(took >= 1400, `the call blocked until the turn ended (${took} ms)`);
      assert.equal(r.result._meta?.[RELATED], undefined, 'no related-task _meta');
      assert.equal(m.log.filter((e) => e.msg.method === 'notifications/tasks/status').length, 0, 'no task status notifications');
      for (const method of ['tasks/list', 'tasks/get', 'tasks/result', 'tasks/cancel']) {
        const e = await m.request(method, method === 'tasks/list' ? {} : { taskId: '0'.repeat(32) });
        assertRpcError(e, -32601, `${method} under 2025-06-18`);
      }
    }));
});

describe('MCP tasks: running, results, listing', { concurrency: CONCURRENCY }, () => {
  test('SDK: a task-augmented codex call (~8 s turn) outlives the 3 s request timeout; tasks/result gives the CallToolResult', T(90000), () =>
    withSdk(async ({ tasks, cd }) => {
      const u = uniq();
      const prompt = `sdk long ${u} [[sleep:8000]] [[reply:sdk long done ${u}]]`;
      // 1) callToolStream with every request limited to 3 s: taskCreated at
      // once, then tasks/get polls, then the result.
      const t0 = Date.now();
      const msgs = [];
      for await (const msg of tasks.callToolStream({ name: 'codex', arguments: { PROMPT: prompt, cd } }, CallToolResultSchema, { task: { ttl: 120000 }, timeout: 3000 })) {
        msgs.push({ ...msg, at: Date.now() - t0 });
      }
      const took = Date.now() - t0;
      const types = msgs.map((x) => x.type);
      const err = msgs.find((x) => x.type === 'error');
      assert.equal(err, undefined, `no error: ${err?.error}`);
      assert.equal(types[0], 'taskCreated', JSON.stringify(types));
      assert.equal(types[types.length - 1], 'result', JSON.stringify(types));
      assert.ok(msgs[0].at < 2000, `CreateTaskResult came back at once (${msgs[0].at} ms)`);
      const created = assertTask(msgs[0].task, 'taskCreated', { status: 'working' });
      assert.equal(created.ttl, 120000, 'the requested ttl');
      const taskId = created.taskId;
      const st = msgs.filter((x) => x.type === 'taskStatus').map((x) => x.task.status);
      assert.ok(st.includes('working') && st[st.length - 1] === 'completed', `polled statuses: ${JSON.stringify(st)}`);
      assert.ok(took >= 7500, `the turn lasted past the 3 s timeout (${took} ms)`);
      const res = msgs[msgs.length - 1].result;
      const obj = toolObj(res, 'callToolStream result');
      assertNormalOk(obj, 'callToolStream result', `sdk long done ${u}`);
      assertRelated(res, taskId, 'callToolStream result');
      const req = await waitRequest(codex.fake, `sdk long ${u}`);
      assert.equal(req.headers['session-id'], obj.SESSION_ID, 'SESSION_ID is the session codex ran');

      // Again: tasks/result of the completed task is the identical result.
      const again = await tasks.getTaskResult(taskId, CallToolResultSchema, { timeout: 5000 });
      assert.deepEqual(toolResult(again), toolResult(res));
      assertRelated(again, taskId, 'second tasks/result');
      assertTask(await tasks.getTask(taskId), 'tasks/get after', { id: taskId, status: 'completed' });
      assert.equal(codex.fake.requestsFor(`sdk long ${u}`).length, 1, 'codex asked the model once');
    }));

  test('SDK: tasks/result blocks until the end; a tasks/result that times out (client cancel) does not stop the task', T(90000), () =>
    withSdk(async ({ client, tasks, cd }) => {
      const u = uniq();
      const prompt = `sdk wait ${u} [[sleep:6000]] [[reply:sdk wait done ${u}]]`;
      const t0 = Date.now();
      let created;
      for await (const msg of tasks.callToolStream({ name: 'codex', arguments: { PROMPT: prompt, cd } }, CallToolResultSchema, { task: { ttl: 60000 }, timeout: 3000 })) {
        created = msg;
        break; // only the CreateTaskResult
      }
      assert.equal(created?.type, 'taskCreated', JSON.stringify(created));
      const taskId = created.task.taskId;
      assert.ok(Date.now() - t0 < 2000, 'created at once');
      // Gives up after 1.5 s (the SDK sends notifications/cancelled): only the waiting stops.
      await assertSdkError(tasks.getTaskResult(taskId, CallToolResultSchema, { timeout: 1500 }), -32001, 'tasks/result with a 1.5 s timeout');
      assertTask(await tasks.getTask(taskId), 'tasks/get while running', { id: taskId, status: 'working' });
      await client.ping();
      const res = await tasks.getTaskResult(taskId, CallToolResultSchema, { timeout: 60000 });
      const took = Date.now() - t0;
      const req = await waitRequest(codex.fake, `sdk wait ${u}`);
      assert.ok(req.endTime !== undefined, 'the fake had answered');
      assert.ok(took >= 5500, `tasks/result answered when the turn ended (${took} ms)`);
      assertNormalOk(toolObj(res, 'tasks/result'), 'tasks/result', `sdk wait done ${u}`);
      assertRelated(res, taskId, 'tasks/result');
      assertTask(await tasks.getTask(taskId), 'tasks/get after', { id: taskId, status: 'completed' });
      assert.equal(codex.fake.requestsFor(`sdk wait ${u}`).length, 1, 'the turn ran once, not restarted');
    }));

  test('raw: tools/call with params.task answers a CreateTaskResult at once; tasks/get working; tasks/result blocks, then exactly the CallToolResult', T(90000), () =>
    withRaw(async ({ m, cd }) => {
      const u = uniq();
      const prompt = `raw long ${u} [[sleep:8000]] [[reply:raw long done ${u}]]`;
      const t0 = Date.now();
      const created = await m.request('tools/call', { name: 'codex', arguments: { PROMPT: prompt, cd }, task: { ttl: 90000 } });
      const createMs = Date.now() - t0;
      assert.ok(created.result, JSON.stringify(created));
      assert.ok(createMs < 2000, `CreateTaskResult within 2 s, well under the 8 s turn (${createMs} ms)`);
      assert.deepEqual(Object.keys(created.result).filter((k) => k !== '_meta'), ['task'], `a CreateTaskResult: ${JSON.stringify(created.result)}`);
      const task = assertTask(created.result.task, 'CreateTaskResult.task', { status: 'working' });
      assert.equal(task.ttl, 90000);
      const taskId = task.taskId;

      const g = await m.request('tasks/get', { taskId });
      assertTask(g.result, 'tasks/get while running', { id: taskId, status: 'working' });
      assert.equal(g.result.createdAt, task.createdAt, 'createdAt does not change');

      const tr = await m.requestEntry('tasks/result', { taskId }, 60000);
      const req = await waitRequest(codex.fake, `raw long ${u}`);
      assert.ok(req.endTime !== undefined && tr.t >= req.endTime, 'tasks/result answered after the fake answered');
      assert.ok(tr.t - t0 >= 7500, `tasks/result blocked until the end (${tr.t - t0} ms)`);
      const res = tr.msg.result;
      assert.ok(res, JSON.stringify(tr.msg));
      const obj = toolObj(res, 'tasks/result');
      assertNormalOk(obj, 'tasks/result', `raw long done ${u}`);
      assert.equal(obj.SESSION_ID, req.headers['session-id']);
      assertRelated(res, taskId, 'tasks/result');
      assert.deepEqual(Object.keys(res).sort(), ['_meta', 'content', 'structuredContent'].sort(), `nothing but the CallToolResult: ${JSON.stringify(res).slice(0, 400)}`);

      const after = await m.request('tasks/get', { taskId });
      assertTask(after.result, 'tasks/get after', { id: taskId, status: 'completed' });
      assert.ok(Date.parse(after.result.lastUpdatedAt) >= Date.parse(task.lastUpdatedAt));
      const again = await m.request('tasks/result', { taskId });
      assert.deepEqual(again.result, res, 'a second tasks/result: the same');
    }));

  test('raw: notifications/tasks/status working … completed, nothing after; progress carries the related-task _meta and stops at the end', T(90000), () =>
    withRaw(async ({ m, startTask }) => {
      const u = uniq();
      const token = `tok-${u}`;
      const created = await startTask({ PROMPT: `status ${u} [[shell:echo hi]]` }, { token });
      const taskId = created.msg.result.task.taskId;
      const done = await m.requestEntry('tasks/result', { taskId }, 60000);
      const obj = toolObj(done.msg.result, 'tasks/result');
      assertNormalOk(obj, 'tasks/result', 'shell done: hi');
      // Anything late would come by now.
      await sleep(800);
      await m.ping();

      const sts = m.statuses(taskId);
      sts.forEach((e) => assertTask(e.msg.params, 'status notification', { id: taskId }));
      assertStatusSequence(sts.map((e) => e.msg.params), 'completed', 'raw');
      for (const e of sts) assert.equal(e.msg.id, undefined, 'a notification');
      const terminal = sts[sts.length - 1];
      assert.ok(terminal.idx > created.idx, 'the statuses follow the CreateTaskResult');
      assert.ok(sts[0].idx > created.idx, 'the CreateTaskResult comes first');

      const ps = m.progress(token);
      assert.ok(ps.length >= 3, `progress for the task's token: ${JSON.stringify(ps.map((e) => e.msg.params))}`);
      let last = -Infinity;
      for (const e of ps) {
        const p = e.msg.params;
        assert.equal(p.progressToken, token, 'the original progressToken');
        assert.deepEqual(p._meta?.[RELATED], { taskId }, `progress carries the related-task _meta: ${JSON.stringify(p)}`);
        assert.ok(p.progress > last, 'progress increases');
        last = p.progress;
        assert.ok(e.idx > created.idx, 'progress follows the CreateTaskResult');
        assert.ok(e.idx < terminal.idx, `no progress after the terminal status: ${JSON.stringify(p)}`);
      }
      const msgs = ps.map((e) => e.msg.params.message);
      assert.ok(msgs.includes('running: echo hi'), `the turn's progress reached the token: ${JSON.stringify(msgs)}`);
      assert.ok(ps.some((e) => e.idx > sts[0].idx), 'progress while "working"');
      // No other task's notifications, no other token.
      assert.equal(m.log.filter((e) => e.msg.method === 'notifications/tasks/status' && e.msg.params?.taskId !== taskId).length, 0);
    }));

  test('SDK: status notifications working … completed, nothing after; onprogress gets the related-task _meta until the end', T(90000), () =>
    withSdk(async (ctx) => {
      const { tasks, client, cd } = ctx;
      const u = uniq();
      let taskId;
      let result;
      for await (const msg of tasks.callToolStream({ name: 'codex', arguments: { PROMPT: `sdk status ${u} [[shell:echo hi]]`, cd } }, CallToolResultSchema, { task: { ttl: 60000 }, onprogress: ctx.onprogress, timeout: 30000 })) {
        if (msg.type === 'taskCreated') taskId = msg.task.taskId;
        if (msg.type === 'result') result = msg.result;
        if (msg.type === 'error') assert.fail(`stream error: ${msg.error}`);
      }
      assertNormalOk(toolObj(result, 'result'), 'result', 'shell done: hi');
      await sleep(800);
      await client.ping();
      const sts = ctx.statusLog.filter((e) => e.params.taskId === taskId);
      assertStatusSequence(sts.map((e) => e.params), 'completed', 'SDK');
      const terminal = sts[sts.length - 1];
      // The SDK hands onprogress the params without progressToken; those of the task carry _meta.
      const ps = ctx.progressLog.filter((e) => e.params._meta?.[RELATED]?.taskId === taskId);
      assert.ok(ps.length >= 3, `onprogress saw the task's progress: ${JSON.stringify(ctx.progressLog.map((e) => e.params))}`);
      assert.equal(ps.length, ctx.progressLog.length, `every progress of this call names the task: ${JSON.stringify(ctx.progressLog.map((e) => e.params))}`);
      for (const e of ps) assert.ok(e.seq < terminal.seq, `no progress after the terminal status: ${JSON.stringify(e.params)}`);
      assert.ok(ps.some((e) => e.params.message === 'running: echo hi'), JSON.stringify(ps.map((e) => e.params.message)));
    }));

  test('a failed task (the endpoint refuses: 400): status failed, tasks/result the isError CallToolResult; SDK callToolStream yields an error', T(90000), async () => {
    const u = uniq();
    await withRaw(async ({ m, startTask }) => {
      const created = await startTask({ PROMPT: `raw fail ${u} [[fail400]]` }, { token: `tok-f-${u}` });
      const taskId = assertTask(created.msg.result?.task, 'CreateTaskResult.task', { status: 'working' }).taskId;
      const tr = await m.request('tasks/result', { taskId }, 60000);
      const res = tr.result;
      assert.ok(res, JSON.stringify(tr));
      assert.equal(res.isError, true, `isError: ${JSON.stringify(res).slice(0, 600)}`);
      const obj = toolObj(res, 'failed tasks/result');
      assert.equal(obj.success, false);
      assert.equal(typeof obj.error, 'string');
      assert.ok(obj.error.length > 0);
      assertRelated(res, taskId, 'failed tasks/result');
      assertTask((await m.request('tasks/get', { taskId })).result, 'tasks/get', { id: taskId, status: 'failed' });
      await sleep(500);
      await m.ping();
      const sts = m.statuses(taskId).map((e) => e.msg.params);
      assert.equal(sts[sts.length - 1]?.status, 'failed', JSON.stringify(sts));
      assert.equal(sts.filter((p) => TERMINAL.has(p.status)).length, 1, JSON.stringify(sts));
      // A terminal task cannot be cancelled.
      assertRpcError(await m.request('tasks/cancel', { taskId }), -32602, 'tasks/cancel of a failed task', /terminal status 'failed'/);
      assert.ok(codex.fake.requestsFor(`raw fail ${u}`).length >= 1, 'codex asked the fake');
    });
    await withSdk(async ({ tasks, cd }) => {
      const msgs = [];
      for await (const msg of tasks.callToolStream({ name: 'codex', arguments: { PROMPT: `sdk fail ${u} [[fail400]]`, cd } }, CallToolResultSchema, { task: { ttl: 60000 }, timeout: 30000 })) msgs.push(msg);
      const types = msgs.map((x) => x.type);
      assert.equal(types[0], 'taskCreated', JSON.stringify(types));
      assert.equal(types[types.length - 1], 'error', JSON.stringify(types));
      assert.ok(!types.includes('result'));
      const taskId = msgs[0].task.taskId;
      assert.match(String(msgs[msgs.length - 1].error?.message), /failed/, String(msgs[msgs.length - 1].error));
      assertTask(await tasks.getTask(taskId), 'tasks/get', { id: taskId, status: 'failed' });
      const res = await tasks.getTaskResult(taskId, CallToolResultSchema, { timeout: 10000 });
      assert.equal(res.isError, true);
      assert.equal(toolObj(res, 'SDK tasks/result of a failed task').success, false);
      assertRelated(res, taskId, 'SDK tasks/result of a failed task');
    });
  });

  test('policy-refused arguments in task mode: a task that fails at once (--no-yolo, yolo: true)', T(30000), () =>
    withRaw({ args: ['--no-yolo'] }, async ({ m, startTask }) => {
      const created = await startTask({ PROMPT: 'refused', yolo: true });
      const task = assertTask(created.msg.result?.task, `CreateTaskResult: ${JSON.stringify(created.msg)}`);
      const tr = await m.request('tasks/result', { taskId: task.taskId }, 10000);
      assert.equal(tr.result?.isError, true, JSON.stringify(tr));
      const obj = toolObj(tr.result, 'refused');
      assert.equal(obj.success, false);
      assert.match(obj.error, /--no-yolo/);
      assertRelated(tr.result, task.taskId, 'refused');
      assertTask((await m.request('tasks/get', { taskId: task.taskId })).result, 'tasks/get', { id: task.taskId, status: 'failed' });
    }));

  test('invalid arguments in task mode (PROMPT "", no cd): a task that fails at once, not a plain result', T(30000), () =>
    withRaw(async ({ m, cd }) => {
      for (const [what, args] of [
        ['PROMPT ""', { PROMPT: '', cd }],
        ['no cd', { PROMPT: 'no cd here' }],
      ]) {
        const r = await m.request('tools/call', { name: 'codex', arguments: args, task: { ttl: 60000 } });
        // A task-augmented request is answered with a CreateTaskResult
        // (As built: "invalid args in task mode create a task that fails at once").
        assert.ok(r.result?.task, `${what}: a CreateTaskResult, got ${JSON.stringify(r)}`);
        const taskId = assertTask(r.result.task, what).taskId;
        const tr = await m.request('tasks/result', { taskId }, 10000);
        assert.equal(tr.result?.isError, true, `${what}: ${JSON.stringify(tr)}`);
        assert.equal(toolObj(tr.result, what).success, false);
        assertRelated(tr.result, taskId, what);
        assertTask((await m.request('tasks/get', { taskId })).result, `${what}: tasks/get`, { id: taskId, status: 'failed' });
      }
    }));

  test('SDK: callToolStream with PROMPT "" gives a task that fails at once (taskCreated, then the failed error); getTaskResult the isError result', T(30000), () =>
    withSdk(async ({ tasks, cd }) => {
      const msgs = [];
      for await (const msg of tasks.callToolStream({ name: 'codex', arguments: { PROMPT: '', cd } }, CallToolResultSchema, { task: { ttl: 60000 }, timeout: 10000 })) msgs.push(msg);
      const shown = JSON.stringify(msgs.map((x) => (x.type === 'error' ? `error: ${x.error}` : x.type)));
      assert.equal(msgs[0]?.type, 'taskCreated', `the first message is taskCreated: ${shown}`);
      const taskId = msgs[0].task.taskId;
      assert.equal(msgs[msgs.length - 1].type, 'error', shown);
      assert.match(String(msgs[msgs.length - 1].error?.message), /failed/, shown);
      const res = await tasks.getTaskResult(taskId, CallToolResultSchema, { timeout: 10000 });
      assert.equal(res.isError, true);
      assert.match(toolObj(res, 'PROMPT ""').error, /PROMPT/);
    }));

  test('raw tasks/list: 56 tasks (55 refused at once, 1 real) over pages of 50; every id exactly once; bogus cursors -32602; ttl default, clamp and expiry', T(90000), () =>
    withRaw({ args: ['--no-yolo'] }, async ({ m, cd }) => {
      const u = uniq();
      const N = 55;
      // All sent in one write; replies matched by id.
      const reqs = [];
      for (let i = 0; i < N; i++) {
        const task = i === 0 ? {} : { ttl: 60000 };
        reqs.push({ jsonrpc: '2.0', id: `mk-${i}`, method: 'tools/call', params: { name: 'codex', arguments: { PROMPT: `page ${i} ${u}`, cd, yolo: true }, task } });
      }
      reqs.push({ jsonrpc: '2.0', id: 'mk-real', method: 'tools/call', params: { name: 'codex', arguments: { PROMPT: `page real ${u} [[reply:real ${u}]]`, cd }, task: { ttl: 60000 } } });
      await m.srv.send(reqs.map((o) => JSON.stringify(o) + '\n').join(''));
      const replies = await Promise.all(reqs.map((o) => m.waitReply(o.id, 15000)));
      const created = new Map(); // id -> expected final status
      for (const [k, e] of replies.entries()) {
        const t = assertTask(e.msg.result?.task, `CreateTaskResult ${reqs[k].id}: ${JSON.stringify(e.msg).slice(0, 300)}`);
        assert.ok(!created.has(t.taskId), `unique task ids: ${t.taskId}`);
        created.set(t.taskId, reqs[k].id === 'mk-real' ? 'completed' : 'failed');
      }
      // ttl: absent → the server's --task-ttl (3600 s); else the one asked.
      assert.equal(replies[0].msg.result.task.ttl, 3600000, 'no ttl asked: the default 3600 s');
      assert.equal(replies[1].msg.result.task.ttl, 60000);

      const realId = replies[replies.length - 1].msg.result.task.taskId;
      const real = await m.request('tasks/result', { taskId: realId }, 60000);
      assertNormalOk(toolObj(real.result, 'the real task'), 'the real task', `real ${u}`);
      // The refused ones failed at once.
      const refusedId = replies[5].msg.result.task.taskId;
      const refused = await m.request('tasks/result', { taskId: refusedId }, 10000);
      assert.equal(refused.result?.isError, true, JSON.stringify(refused));
      assert.match(toolObj(refused.result, 'refused').error, /--no-yolo/);

      const seen = new Map();
      const listed = [];
      const pages = [];
      let cursor;
      for (let page = 0; page < 10; page++) {
        const r = await m.request('tasks/list', cursor === undefined ? {} : { cursor });
        assert.ok(r.result && Array.isArray(r.result.tasks), `tasks/list page ${page}: ${JSON.stringify(r).slice(0, 300)}`);
        pages.push(r.result.tasks.length);
        for (const t of r.result.tasks) {
          assertTask(t, `listed task`);
          seen.set(t.taskId, (seen.get(t.taskId) ?? 0) + 1);
          listed.push(t.taskId);
          if (created.has(t.taskId)) assert.equal(t.status, created.get(t.taskId), `status of ${t.taskId} in tasks/list`);
        }
        cursor = r.result.nextCursor;
        if (cursor === undefined) break;
        assert.equal(typeof cursor, 'string', 'nextCursor is a string');
      }
      assert.equal(cursor, undefined, `the listing ends: pages ${JSON.stringify(pages)}`);
      const order = [...created.keys()];
      for (const [k, id] of order.entries()) {
        if (seen.get(id) === 1) continue;
        const g = await m.request('tasks/get', { taskId: id });
        assert.fail(`task ${id} (created ${k + 1} of ${order.length}, ${reqs[k].id}) listed ${seen.get(id) ?? 0} times, not once; pages ${JSON.stringify(pages)}; `
          + `listed order ${JSON.stringify(listed.map((x) => order.indexOf(x)))}; tasks/get: ${JSON.stringify(g)}`);
      }
      assert.equal(seen.size, created.size, 'no other tasks listed');
      assert.deepEqual(pages, [50, N + 1 - 50], 'pages of 50');

      for (const bogus of ['bogus', 'x'.repeat(40), '']) {
        assertRpcError(await m.request('tasks/list', { cursor: bogus }), -32602, `tasks/list cursor ${JSON.stringify(bogus)}`);
      }
      assertRpcError(await m.request('tasks/list', { cursor: 7 }), -32602, 'a number as cursor');

      // ttl 10 ms is raised to 1 s, counted from the end: the (at once failed) task is then forgotten.
      const short = await m.requestEntry('tools/call', { name: 'codex', arguments: { PROMPT: `short ttl ${u}`, cd, yolo: true }, task: { ttl: 10 } });
      const shortTask = assertTask(short.msg.result?.task, 'short ttl');
      assert.equal(shortTask.ttl, 1000, 'ttl 10 ms is raised to 1 s');
      const g0 = await m.requestEntry('tasks/get', { taskId: shortTask.taskId });
      if (g0.t - short.t < 800) assertTask(g0.msg.result, 'short ttl task right away', { id: shortTask.taskId, status: 'failed' });
      const gone = await pollUntil(async () => (await m.request('tasks/get', { taskId: shortTask.taskId })).error?.code === -32602, 4000, 100);
      assert.ok(gone.ok, 'the task with a 1 s ttl is forgotten within a few seconds');
      assertRpcError(await m.request('tasks/result', { taskId: shortTask.taskId }), -32602, 'tasks/result of an expired task');
      const l2 = await m.request('tasks/list', {});
      assert.ok(!l2.result.tasks.some((t) => t.taskId === shortTask.taskId), 'an expired task is not listed');
    }));

  test('SDK listTasks: 52 tasks over pages; every id once; a bogus cursor is -32602', T(60000), () =>
    withSdk({ args: ['--no-yolo'] }, async ({ client, tasks, cd }) => {
      const u = uniq();
      const N = 52;
      const made = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          client.request({ method: 'tools/call', params: { name: 'codex', arguments: { PROMPT: `sdk page ${i} ${u}`, cd, yolo: true } } }, CreateTaskResultSchema, { task: { ttl: 60000 }, timeout: 15000 }),
        ),
      );
      const ids = made.map((r) => r.task.taskId);
      assert.equal(new Set(ids).size, N, 'unique ids');
      const seen = new Map();
      let cursor;
      let n = 0;
      do {
        const page = await tasks.listTasks(cursor);
        for (const t of page.tasks) seen.set(t.taskId, (seen.get(t.taskId) ?? 0) + 1);
        cursor = page.nextCursor;
        assert.ok(++n <= 5, 'the listing ends');
      } while (cursor !== undefined);
      assert.equal(n, 2, 'two pages');
      for (const id of ids) assert.equal(seen.get(id), 1, `task ${id} listed once`);
      assert.equal(seen.size, N);
      await assertSdkError(tasks.listTasks('not-a-cursor'), -32602, 'listTasks with a bogus cursor');
    }));
});

describe('MCP tasks: cancel, codex_wait', { concurrency: CONCURRENCY }, () => {
  test('raw tasks/cancel of a running task: answers cancelled when no process of the turn is left; tasks/get cancelled; again -32602; unknown ids -32602', TP(90000), () =>
    withRaw(async ({ m, startTask, pid }) => {
      const u = uniq();
      const created = await startTask({ PROMPT: `cancel ${u} [[shell:sleep 30]]` }, { token: `tok-c-${u}` });
      const taskId = created.msg.result.task.taskId;
      const req = await waitRequest(codex.fake, `cancel ${u}`);
      const sid = req.headers['session-id'];
      assert.match(sid ?? '', UUID_RE, 'the fake saw the session id');
      const { marker } = await waitSleepCommand(sid, pid);
      // A tasks/result waiting meanwhile gets the end too.
      const pendingResult = m.requestEntry('tasks/result', { taskId }, 30000);

      const t0 = Date.now();
      const c = await m.request('tasks/cancel', { taskId }, 20000);
      const tookMs = Date.now() - t0;
      assertTask(c.result, `tasks/cancel answer: ${JSON.stringify(c)}`, { id: taskId, status: 'cancelled' });
      await assertTurnGone(sid, marker, pid, 'tasks/cancel');
      assert.ok(tookMs < 15000, `answered in ${tookMs} ms`);

      assertTask((await m.request('tasks/get', { taskId })).result, 'tasks/get after cancel', { id: taskId, status: 'cancelled' });
      assertRpcError(await m.request('tasks/cancel', { taskId }), -32602, 'a second tasks/cancel', /terminal status 'cancelled'/);

      // tasks/result of a cancelled task answers (no hang), naming the task.
      const pr = (await pendingResult).msg;
      const pr2 = await m.request('tasks/result', { taskId }, 5000);
      for (const [what, r] of [['the waiting tasks/result', pr], ['tasks/result after the cancel', pr2]]) {
        assert.ok(r.result, `${what}: a result: ${JSON.stringify(r)}`);
        assert.equal(r.result.isError, true, `${what}: ${JSON.stringify(r)}`);
        assert.equal(toolObj(r.result, what).success, false);
        assertRelated(r.result, taskId, what);
      }
      assert.deepEqual(pr2, { ...pr, id: pr2.id }, 'the same answer twice');

      await sleep(500);
      await m.ping();
      const sts = m.statuses(taskId).map((e) => e.msg.params);
      assertStatusSequence(sts, 'cancelled', 'cancelled task');

      for (const bad of ['0'.repeat(32), 'nope']) {
        for (const method of ['tasks/get', 'tasks/result', 'tasks/cancel']) {
          assertRpcError(await m.request(method, { taskId: bad }), -32602, `${method} of unknown id ${bad}`);
        }
      }
      assertRpcError(await m.request('tasks/get', {}), -32602, 'tasks/get without taskId');
    }));

  test('SDK cancelTask of a running task: cancelled, processes gone; callToolStream ends with an error; cancel again -32602', TP(90000), () =>
    withSdk(async ({ tasks, cd, pid }) => {
      const u = uniq();
      const stream = tasks.callToolStream({ name: 'codex', arguments: { PROMPT: `sdk cancel ${u} [[shell:sleep 30]]`, cd } }, CallToolResultSchema, { task: { ttl: 60000 }, timeout: 10000 });
      const msgs = [];
      let taskId;
      let resolveCreated;
      const createdP = new Promise((r) => (resolveCreated = r));
      const drained = (async () => {
        for await (const msg of stream) {
          msgs.push(msg);
          if (msg.type === 'taskCreated') resolveCreated(msg.task.taskId);
        }
      })();
      taskId = await withTimeout(createdP, 10000, 'taskCreated');
      const req = await waitRequest(codex.fake, `sdk cancel ${u}`);
      const sid = req.headers['session-id'];
      const { marker } = await waitSleepCommand(sid, pid);
      const c = await tasks.cancelTask(taskId, { timeout: 20000 });
      assertTask(c, 'cancelTask answer', { id: taskId, status: 'cancelled' });
      await assertTurnGone(sid, marker, pid, 'SDK cancelTask');
      await withTimeout(drained, 10000, 'the stream to end');
      const last = msgs[msgs.length - 1];
      assert.equal(last.type, 'error', JSON.stringify(msgs.map((x) => x.type)));
      assert.match(String(last.error?.message), /cancelled/);
      assertTask(await tasks.getTask(taskId), 'getTask', { id: taskId, status: 'cancelled' });
      await assertSdkError(tasks.cancelTask(taskId), -32602, 'a second cancelTask');
      await assertSdkError(tasks.getTask('f'.repeat(32)), -32602, 'getTask of an unknown id');
      await assertSdkError(tasks.getTaskResult('f'.repeat(32), CallToolResultSchema), -32602, 'getTaskResult of an unknown id');
    }));

  test('codex_wait with an MCP task id (running, then done) gives the tasks/result CallToolResult; a background call\'s id works with tasks/get and tasks/result', T(90000), () =>
    withRaw(async ({ m, startTask, cd }) => {
      const u = uniq();
      const created = await startTask({ PROMPT: `wait ${u} [[sleep:3000]] [[reply:wait done ${u}]]` });
      const taskId = created.msg.result.task.taskId;
      // codex_wait on the running task: blocks until it is done.
      const t0 = Date.now();
      const w = await m.request('tools/call', { name: 'codex_wait', arguments: { task: taskId, wait_s: 60 } }, 60000);
      assert.ok(Date.now() - t0 >= 2000, 'codex_wait waited for the turn');
      const wObj = toolObj(w.result, 'codex_wait');
      assertNormalOk(wObj, 'codex_wait', `wait done ${u}`);
      const tr = await m.request('tasks/result', { taskId }, 10000);
      assertRelated(tr.result, taskId, 'tasks/result');
      assert.deepEqual(toolResult(w.result), toolResult(tr.result), 'codex_wait gives what tasks/result gives');
      // Again, finished: the same; the array form: the result object plus task and status.
      const w2 = await m.request('tools/call', { name: 'codex_wait', arguments: { task: taskId, wait_s: 0 } });
      assert.deepEqual(toolResult(w2.result), toolResult(tr.result));
      const arr = await m.request('tools/call', { name: 'codex_wait', arguments: { task: [taskId] } });
      const aObj = toolObj(arr.result, 'codex_wait array');
      assert.equal(aObj.done, 1);
      assert.equal(aObj.pending, 0);
      assert.deepEqual(aObj.tasks, [{ ...wObj, task: taskId, status: 'completed' }]);

      // The other way: a background call (wait_s: 0) is a task.
      const v = uniq();
      const bg = await m.request('tools/call', { name: 'codex', arguments: { PROMPT: `bg ${v} [[sleep:2500]] [[reply:bg done ${v}]]`, cd, wait_s: 0 } }, 30000);
      const bgObj = toolObj(bg.result, 'background call');
      assert.equal(bgObj.status === 'running' || bgObj.status === 'queued', true, JSON.stringify(bgObj));
      assert.match(bgObj.task, TASK_RE);
      const g = await m.request('tasks/get', { taskId: bgObj.task });
      assertTask(g.result, 'tasks/get of a background call', { id: bgObj.task, status: 'working' });
      const btr = await m.request('tasks/result', { taskId: bgObj.task }, 30000);
      assertNormalOk(toolObj(btr.result, 'tasks/result of a background call'), 'tasks/result of a background call', `bg done ${v}`);
      assertRelated(btr.result, bgObj.task, 'tasks/result of a background call');
      assertTask((await m.request('tasks/get', { taskId: bgObj.task })).result, 'tasks/get after', { id: bgObj.task, status: 'completed' });
      const bw = await m.request('tools/call', { name: 'codex_wait', arguments: { task: bgObj.task, wait_s: 0 } });
      assert.deepEqual(toolResult(bw.result), toolResult(btr.result), 'codex_wait and tasks/result agree on the background call');
    }));

  test('codex_cancel with an MCP task id stops it; tasks/get then says cancelled', TP(90000), () =>
    withRaw(async ({ m, startTask, pid }) => {
      const u = uniq();
      const created = await startTask({ PROMPT: `cc ${u} [[shell:sleep 30]]` });
      const taskId = created.msg.result.task.taskId;
      const req = await waitRequest(codex.fake, `cc ${u}`);
      const sid = req.headers['session-id'];
      const { marker } = await waitSleepCommand(sid, pid);
      const c = await m.request('tools/call', { name: 'codex_cancel', arguments: { task: taskId } }, 20000);
      const obj = toolObj(c.result, 'codex_cancel');
      assert.equal(obj.success, true, JSON.stringify(obj));
      assert.equal(obj.status, 'cancelled');
      assert.equal(obj.task, taskId);
      await assertTurnGone(sid, marker, pid, 'codex_cancel of an MCP task');
      assertTask((await m.request('tasks/get', { taskId })).result, 'tasks/get', { id: taskId, status: 'cancelled' });
      await sleep(300);
      await m.ping();
      assertStatusSequence(m.statuses(taskId).map((e) => e.msg.params), 'cancelled', 'codex_cancel');
    }));
});
