// Faults on the client's side, in the state directory and in the job queue
// (issue 11): a client that closes stdout with results pending, one that
// stops reading for a minute under a flood, a read-only or full state
// directory, a registry locked by another process, and 500 queued calls
// when the client goes away. Each test ends with a clear error or a normal
// result, the server answering ping (unless it was told to exit), and no
// process of the server left (found in /proc by an environment marker every
// process it starts inherits, never by the server's word).
//
// Most tests drive the fake codex (fixtures/fake-codex.mjs) where the real
// CLI cannot produce the load or the timing; each fault that can also runs
// through the real codex against the fake Responses endpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { codexBin, env as codexEnv, sharedFakeCodex } from './lib/codex-env.mjs';
import { waitRequest } from './lib/fake-responses.mjs';
import { rawServer, jsonLineMux, serverBin, withTimeout, ENGINE, measuredEnv } from './lib/mcp.mjs';
import { describePids, pidsWithEnv, procCmdline, pollUntil, sampler, waitNoneWithEnv, killWithEnv } from './lib/procs.mjs';
import { tempTree } from './lib/tmp.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const FAKE_CODEX = path.join(here, 'fixtures', 'fake-codex.mjs');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const tree = tempTree('codexmcp-e2e-faults-client-');
const shared = sharedFakeCodex();

/** The environment without codexmcp's and the fake codex's settings, but
 * with the engine the suite runs (make test runs the file under both). */
function baseEnv(extra = {}, from = process.env) {
  const e = { ...from };
  for (const k of Object.keys(e)) if (/^(CODEXMCP_|FAKE_CODEX_)/.test(k)) delete e[k];
  return { ...e, CODEXMCP_ENGINE: ENGINE, ...extra };
}

let runs = 0;
/** A marker for one server: every process it starts inherits it. */
const newRun = () => `FAULTS_CLIENT_RUN=${process.pid}-${++runs}`;

/**
 * A server on raw pipes (Node gives a child sockets for them, as Claude
 * Code's and the SDK's clients do). opts: { codex: 'fake' | 'real', args,
 * env, stateDir }. Returns the rawServer with .run (the marker) and .m (a
 * multiplexing client).
 */
function start({ codex = 'fake', args = [], env = {}, stateDir = tree.dir('state'), wrap, measured = false } = {}) {
  const run = newRun();
  const [key, value] = run.split('=');
  let e = codex === 'real' ? baseEnv(env, codexEnv(shared.home)) : baseEnv(env);
  if (measured) e = measuredEnv(e);
  e[key] = value;
  const bin = codex === 'real' ? codexBin() : FAKE_CODEX;
  const srv = rawServer(['--codex', bin, '--state-dir', stateDir, ...args], e, { wrap });
  srv.run = run;
  srv.m = client(srv);
  return srv;
}

/** Requests over a jsonLineMux, several in flight. */
function client(srv) {
  const m = jsonLineMux(srv);
  let auto = 1;
  Object.assign(m, {
    async request(obj, timeoutMs = 10000) {
      await m.send(obj);
      return (await m.waitReply(obj.id, timeoutMs)).msg;
    },
    async ping(timeoutMs = 10000) {
      const id = `ping-${auto++}`;
      const r = await m.request({ jsonrpc: '2.0', id, method: 'ping' }, timeoutMs);
      assert.deepEqual(r, { jsonrpc: '2.0', id, result: {} }, 'ping reply');
    },
    async initialize() {
      const r = await m.request({
        jsonrpc: '2.0',
        id: `init-${auto++}`,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'e2e-faults-client', version: '0' } },
      });
      assert.ok(r.result, `initialize: ${JSON.stringify(r)}`);
      await m.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    },
    /** The tools/call request of a codex call (not sent). */
    callMsg(id, args, token) {
      const params = { name: 'codex', arguments: { cd: tree.root, ...args } };
      if (token !== undefined) params._meta = { progressToken: token };
      return { jsonrpc: '2.0', id, method: 'tools/call', params };
    },
    startCall(id, args, token) {
      return m.send(m.callMsg(id, args, token));
    },
    async call(id, args, { token, timeoutMs = 60000 } = {}) {
      await m.startCall(id, args, token);
      return resultOf(await m.waitReply(id, timeoutMs));
    },
    async tool(id, name, args, timeoutMs = 20000) {
      const r = await m.request({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }, timeoutMs);
      return resultOf(r);
    },
    progress(token) {
      return m.log.filter((e) => e.msg.method === 'notifications/progress' && e.msg.params?.progressToken === token);
    },
  });
  return m;
}

/** The tool result object of a reply (its structuredContent, or its text). */
function resultOf(entry) {
  const msg = entry.msg ?? entry;
  assert.ok(msg.result, `expected a result, got ${JSON.stringify(msg).slice(0, 500)}`);
  const obj = JSON.parse(msg.result.content[0].text);
  if (msg.result.structuredContent) assert.deepEqual(msg.result.structuredContent, obj);
  assert.equal(msg.result.isError === true, obj.success === false, JSON.stringify(obj).slice(0, 300));
  return obj;
}

/** Live processes of the server's run (the server itself left out). */
const runProcs = (srv) => pidsWithEnv(srv.run, { exclude: [srv.pid] });

/** Waits until the server has `n` codex processes running (the fake's, or
 * the real one's exec or app-server). */
async function waitCodexRunning(srv, n, what) {
  const codexOf = (p) => {
    const argv = procCmdline(p) ?? [];
    return argv[1] !== '--internal-child-exec' && argv.some((a) => a === 'exec' || a === 'app-server');
  };
  const r = await pollUntil(() => runProcs(srv).filter(codexOf).length >= n, 20000, 25);
  assert.ok(r.ok, `${what}: ${n} codex processes running: ${describePids(runProcs(srv))}`);
}

/** Nothing of the server's run is left (a short poll lets the kernel reap). */
async function assertNoneLeft(srv, what, timeoutMs = 3000) {
  const r = await waitNoneWithEnv(srv.run, timeoutMs, { exclude: [srv.pid] });
  assert.ok(r.ok, `${what}: processes of the server still alive:\n  ${describePids(r.left)}`);
}

/** The end of every test that leaves the server running: it answers, and
 * once its stdin closes it exits 0 with nothing left. */
async function endServer(srv, what) {
  await srv.m.ping(20000);
  srv.closeStdin();
  const ex = await withTimeout(srv.exited, 15000, `${what}: exit after stdin closed`);
  assert.deepEqual(ex, { code: 0, signal: null }, `${what}: exit status; stderr:\n${srv.stderr.slice(-2000)}`);
  await assertNoneLeft(srv, what);
}

/** Runs fn(srv) and always cleans up: on failure the stderr tail goes into
 * the message, and whatever the server left is killed. */
async function withServer(srv, fn) {
  try {
    return await fn(srv);
  } catch (err) {
    err.message += `\n--- server stderr (tail) ---\n${srv.stderr.slice(-3000)}`;
    throw err;
  } finally {
    await srv.dispose();
    killWithEnv(srv.run);
  }
}

// ---- 1. the client closes its end of stdout ---------------------------------

/**
 * The server's stdout a FIFO (a real pipe, as a shell gives): the test
 * reads its end and can close it. Returns an object shaped like rawServer's
 * for what jsonLineMux and the checks use.
 */
function fifoServer(args, env) {
  const fifo = tree.path('stdout.fifo');
  execFileSync('mkfifo', [fifo]);
  // Opened for reading first (not blocking: no writer yet), then for
  // writing, which a reader lets succeed at once.
  const rfd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const wfd = fs.openSync(fifo, 'w');
  const child = spawn(serverBin(), args, { env, stdio: ['pipe', wfd, 'pipe'] });
  fs.closeSync(wfd);
  child.stdout = new net.Socket({ fd: rfd, readable: true, writable: false });
  child.stdin.on('error', () => {});
  const srv = {
    child,
    pid: child.pid,
    stderr: '',
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
    sendJson: (obj) => new Promise((resolve, reject) => child.stdin.write(JSON.stringify(obj) + '\n', (err) => (err ? reject(err) : resolve()))),
    closeStdin: () => child.stdin.end(),
    async dispose() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await withTimeout(srv.exited, 5000, 'exit after SIGKILL').catch(() => {});
      child.stdout.destroy();
    },
  };
  child.stderr.on('data', (d) => (srv.stderr += d));
  return srv;
}

/**
 * Three calls whose turns take a minute are running (each has said
 * "started"); the client closes its end of stdout. The server must not die
 * of SIGPIPE, nor wait for the turns: nobody can read their results, so it
 * ends them, as if stdin had closed, and exits 0.
 */
async function stdoutClosedWhileRunning(srv, { calls = 3, prompt = '[[sleep:60000]] long turn', ready = async () => {} } = {}) {
  await srv.m.initialize();
  for (let i = 0; i < calls; i++) await srv.m.startCall(`c${i}`, { PROMPT: `${prompt} ${i}` }, `t${i}`);
  for (let i = 0; i < calls; i++) {
    await srv.m.waitFor((e) => e.msg.params?.progressToken === `t${i}` && /^started codex/.test(e.msg.params.message), 30000, `call ${i} started`);
  }
  await waitCodexRunning(srv, srv.codexProcs ?? calls, 'before stdout closes');
  await ready();
  const t0 = Date.now();
  srv.child.stdout.destroy();
  // The turns would run for a minute: an exit well before that means the
  // server noticed the client was gone, without a result to write.
  const ex = await withTimeout(srv.exited, 20000, 'exit after the client closed stdout');
  const took = Date.now() - t0;
  assert.deepEqual(ex, { code: 0, signal: null }, `exit status (not SIGPIPE); stderr:\n${srv.stderr.slice(-2000)}`);
  // Said at once, or by a write that found it closed first.
  assert.match(srv.stderr, /the client closed its end of stdout|writing stdout: broken pipe/, 'the log says why it stopped');
  await assertNoneLeft(srv, 'after the client closed stdout');
  return took;
}

test('the client closes stdout (a socket) while turns run: no SIGPIPE, the turns are ended, exit 0 at once', { timeout: 60000 }, (t) =>
  withServer(start({ env: { FAKE_CODEX_MODE: 'ok' } }), async (srv) => {
    const took = await stdoutClosedWhileRunning(srv);
    t.diagnostic(`exited ${took} ms after stdout closed`);
  }));

test('the client closes stdout (a pipe) while turns run: no SIGPIPE, the turns are ended, exit 0 at once', { timeout: 60000 }, async (t) => {
  const run = newRun();
  const [key, value] = run.split('=');
  const srv = fifoServer(['--codex', FAKE_CODEX, '--state-dir', tree.dir('state')], baseEnv({ FAKE_CODEX_MODE: 'ok', [key]: value }));
  srv.run = run;
  srv.m = client(srv);
  await withServer(srv, async () => {
    const took = await stdoutClosedWhileRunning(srv);
    t.diagnostic(`exited ${took} ms after stdout closed`);
  });
});

test('the client closes stdout while turns of the real codex run: exit 0 at once, no codex process left', { timeout: 90000 }, (t) =>
  withServer(start({ codex: 'real' }), async (srv) => {
    // Under the app-server engine one app-server serves both turns.
    srv.codexProcs = ENGINE === 'exec' ? 2 : 1;
    const tag = `closed-${srv.run.split('=')[1]}`;
    // Closed once both turns wait on the endpoint (which never answers).
    const ready = () => pollUntil(() => shared.fake.requestsFor(tag).length === 2, 30000, 25).then((r) => assert.ok(r.ok, 'both turns reached the endpoint'));
    const took = await stdoutClosedWhileRunning(srv, { calls: 2, prompt: `[[stall]] ${tag}`, ready });
    t.diagnostic(`exited ${took} ms after stdout closed`);
  }));

test('the client stops reading, then closes stdout with replies queued: exit 0, codex ended', { timeout: 90000 }, (t) =>
  withServer(start({ env: { FAKE_CODEX_MODE: 'flood', FAKE_CODEX_EVENTS: '1000000' } }), async (srv) => {
    await srv.m.initialize();
    srv.child.stdout.pause();
    for (let i = 0; i < 2; i++) await srv.m.startCall(`f${i}`, { PROMPT: `flood ${i}`, return_all_messages: true }, `ft${i}`);
    // The server says when it holds codex back for a client that reads nothing.
    const held = await pollUntil(() => /holding codex output/.test(srv.stderr), 60000, 50);
    assert.ok(held.ok, `the client was never behind; stderr:\n${srv.stderr.slice(-2000)}`);
    await waitCodexRunning(srv, 2, 'floods held back');
    const t0 = Date.now();
    srv.child.stdout.destroy();
    const ex = await withTimeout(srv.exited, 20000, 'exit after the client closed stdout');
    t.diagnostic(`exited ${Date.now() - t0} ms after stdout closed`);
    assert.deepEqual(ex, { code: 0, signal: null }, `exit status; stderr:\n${srv.stderr.slice(-2000)}`);
    await assertNoneLeft(srv, 'after the client closed stdout');
  }));

// ---- 2. a client that stops reading for a minute under a flood --------------

const kB = (pid, field) => {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
};
/** Bytes a process has written (all its writes: its stdout is most of it). */
const wchar = (pid) => {
  try {
    return Number(/wchar:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))[1]);
  } catch {
    return null;
  }
};
/** Bytes a process has read (pipes and files). */
const rchar = (pid) => Number(/rchar:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))[1]);
/** The fake codex processes of a server (not their supervisors). */
const floods = (srv) => runProcs(srv).filter((p) => {
  const argv = procCmdline(p) ?? [];
  return argv[1] !== '--internal-child-exec' && argv.includes('exec');
});

test('a client that stops reading for 60 s while 8 calls flood it: codex held back, memory bounded, then every result, nothing lost', { timeout: 300000 }, (t) => {
  const CALLS = 8; // twice --max-parallel: four run, four wait in the queue
  const EVENTS = 150000; // per call: about 20 MB of codex output each
  const STALL_MS = 60000;
  // About 24 MiB here; 38 MiB with codex not held back (every buffer on
  // the way is bounded, progress is coalesced). A queue without a bound
  // would hold a progress line per event: 1.2 million, over 200 MB.
  const RSS_MAX_KB = 128 * 1024;
  return withServer(start({ args: ['--max-parallel', '4'], env: { FAKE_CODEX_MODE: 'flood', FAKE_CODEX_EVENTS: String(EVENTS) }, measured: true }), async (srv) => {
    const { m } = srv;
    await m.initialize();
    srv.child.stdout.pause(); // from now on the client reads nothing
    const t0 = Date.now();
    for (let i = 0; i < CALLS; i++) await m.startCall(`flood-${i}`, { PROMPT: `flood ${i}`, return_all_messages: i % 2 === 0 }, `tok-${i}`);
    // Requests are still read while the client is behind: a ping sent now
    // is answered once it reads again.
    await m.send({ jsonrpc: '2.0', id: 'ping-stalled', method: 'ping' });
    const rss = sampler(() => kB(srv.pid, 'VmRSS'), 200);
    const seen = new Set(); // every flood that ran while stalled
    const written = sampler(() => {
      let sum = 0;
      for (const p of floods(srv)) {
        seen.add(p);
        sum += wchar(p) ?? 0;
      }
      return sum;
    }, 500);
    await sleep(STALL_MS / 2);
    const half = written.samples.at(-1).value;
    const readHalf = rchar(srv.pid);
    await sleep(STALL_MS / 2);
    const end = written.samples.at(-1).value;
    const readEnd = rchar(srv.pid);
    written.stop();
    const rssSamples = rss.stop().map((s) => s.value);
    const peak = Math.max(...rssSamples);
    t.diagnostic(`stalled ${Date.now() - t0} ms: ${seen.size} codex ran, ${half} then ${end} bytes written by them, ${readEnd - readHalf} bytes read by the server in the second half; server RSS peak ${peak} kB (VmHWM ${kB(srv.pid, 'VmHWM')} kB), ${rssSamples.length} samples`);
    assert.equal(m.log.filter((e) => e.t > t0 + 1000).length, 0, 'the client read nothing while stalled');
    assert.ok(seen.size <= 4, `no codex beyond --max-parallel started while the client was behind: ${seen.size}`);
    assert.ok(seen.size >= 1 && end > 0, 'the floods ran');
    // Held back: nothing more came out of codex in the second half. wchar
    // counts every write, Node's own wake-ups of its threads too (0 to 24 kB
    // here while the server read nothing); a codex left to run writes its
    // 20 MB in seconds.
    assert.ok(end - half < 256 * 1024, `codex kept writing while the client was stalled: ${half} then ${end} bytes`);
    // And the server took nothing from codex's pipes (one read is up to 64 KiB).
    assert.ok(readEnd - readHalf < 65536, `the server read ${readEnd - readHalf} bytes in the second half of the stall`);
    assert.ok(peak < RSS_MAX_KB, `server RSS peaked at ${peak} kB while the client was stalled (bound ${RSS_MAX_KB} kB)`);

    // The client reads again: every call is answered once, in full.
    const t1 = Date.now();
    srv.child.stdout.resume();
    const replies = [];
    for (let i = 0; i < CALLS; i++) replies.push(await m.waitReply(`flood-${i}`, 180000));
    await m.waitReply('ping-stalled', 10000);
    t.diagnostic(`all ${CALLS} results ${Date.now() - t1} ms after the client resumed; ${m.log.length} messages; server VmHWM ${kB(srv.pid, 'VmHWM')} kB`);
    assert.deepEqual(m.duplicates, [], 'one reply per id');
    assert.deepEqual(m.badLines, [], 'every line JSON');
    const full = [];
    for (let i = 0; i < CALLS; i++) {
      const obj = resultOf(replies[i]);
      assert.equal(obj.success, true, JSON.stringify(obj).slice(0, 500));
      assert.ok(obj.agent_messages.endsWith('flood done'), `call ${i} ends with the turn's last message: …${obj.agent_messages.slice(-80)}`);
      assert.deepEqual(obj.usage?.input_tokens, 10, `call ${i} has its usage`);
      // Nothing lost: the transcript holds every event codex printed, in order.
      const lines = fs.readFileSync(obj.transcript, 'utf8').trimEnd().split('\n');
      full.push(fs.statSync(obj.transcript).size);
      assert.equal(lines.length, EVENTS + 6, `call ${i}: call, thread.started, turn.started, ${EVENTS} events, the last message, turn.completed, exit`);
      for (const k of [0, 1, EVENTS / 2, EVENTS - 1]) assert.equal(JSON.parse(lines[3 + k]).item.id, `item_${k}`, `call ${i}: event ${k} in its place`);
      assert.equal(JSON.parse(lines.at(-1)).exit_status, 0);
      // Progress: one series per call, increasing, all before its result.
      const ps = m.progress(`tok-${i}`);
      assert.ok(ps.length >= 2, `call ${i}: ${ps.length} progress notifications`);
      for (let k = 1; k < ps.length; k++) assert.ok(ps[k].msg.params.progress > ps[k - 1].msg.params.progress, `call ${i}: progress increases`);
      assert.ok(ps.at(-1).idx < replies[i].idx, `call ${i}: no progress after its result`);
    }
    // Held back to a small part of what each codex had to say.
    assert.ok(end < Math.min(...full) * 4 / 10, `while stalled the floods wrote ${end} bytes in all; one whole flood is ${Math.min(...full)}`);
    // The queue is FIFO: the calls started in the order they were sent.
    const started = m.log.filter((e) => e.msg.method === 'notifications/progress' && /^started codex/.test(e.msg.params.message)).map((e) => e.msg.params.progressToken);
    assert.deepEqual(started, Array.from({ length: CALLS }, (_, i) => `tok-${i}`));
    await endServer(srv, 'after the stall');
  });
});

// ---- 3. the state directory read-only, full, or over the file size limit ----
// Root ignores file modes, so a read-only or full state directory is a
// mount: the server runs in a mount namespace of its own (`unshare -m` as
// root; elsewhere `unshare -rm`, a user namespace where the user is root),
// where the directory is a read-only bind mount or a small tmpfs. Nothing
// of it is seen outside but through /proc/<pid>/root, and it goes with the
// server. A file size limit (RLIMIT_FSIZE) needs no privilege at all.

const unshareArgs = process.getuid() === 0 ? ['-m'] : ['-r', '-m'];
/** The server in a mount namespace where `setup` (sh, the state directory
 * in $D) ran first. */
function inMountNs(setup) {
  // Fails here, with what to do, rather than as a server that never answers.
  try {
    execFileSync('unshare', [...unshareArgs, 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs "$0"', tree.dir('probe')], { stdio: 'pipe' });
  } catch (err) {
    assert.fail(`these faults need a mount namespace (unshare ${unshareArgs.join(' ')}: as root, or with unprivileged user namespaces): ${err.stderr ?? err.message}`);
  }
  return ['unshare', ...unshareArgs, 'sh', '-c', `set -e; ${setup}; exec "$@"`, 'sh'];
}
/** A path inside the server's mount namespace, as the test reaches it. */
const inside = (srv, p) => `/proc/${srv.pid}/root${p}`;

/** A codex_sessions read that answers either way (listed, or why not). */
async function sessions(srv, id, args = {}) {
  return srv.m.tool(id, 'codex_sessions', args);
}

test('a read-only state directory that holds a registry: calls succeed with a warning, codex_sessions answers, exit 0', { timeout: 90000 }, async (t) => {
  const stateDir = tree.dir('state');
  // An earlier server made the registry and a transcript.
  await withServer(start({ stateDir, env: { FAKE_CODEX_MODE: 'ok' } }), async (srv) => {
    await srv.m.initialize();
    assert.equal((await srv.m.call('before', { PROMPT: 'before read-only' })).success, true);
    await endServer(srv, 'the first server');
  });
  const srv = start({ codex: 'real', stateDir, env: { D: stateDir }, wrap: inMountNs('mount --bind "$D" "$D"; mount -o remount,ro,bind "$D"') });
  await withServer(srv, async () => {
    await srv.m.initialize();
    for (let i = 0; i < 2; i++) {
      const obj = await srv.m.call(`ro-${i}`, { PROMPT: `[[reply:read-only ok ${i}]]` });
      assert.equal(obj.success, true, JSON.stringify(obj));
      assert.equal(obj.agent_messages, `read-only ok ${i}`);
      assert.equal(obj.transcript, undefined, 'no transcript');
      assert.ok(obj.warnings?.some((w) => /^no transcript for this call: cannot create .*: Read-only file system$/.test(w)), JSON.stringify(obj.warnings));
    }
    // The registry cannot take writes: reads answer, with the sessions or a clear reason.
    const s = await sessions(srv, 'sessions-ro');
    t.diagnostic(`codex_sessions on a read-only registry: ${JSON.stringify(s).slice(0, 300)}`);
    if (s.success) assert.ok(s.sessions.some((x) => x.title === 'before read-only'), JSON.stringify(s));
    else assert.match(s.error, /^the session registry is not available: .*(read-only|readonly|unable to open)/i);
    assert.match(srv.stderr, /Read-only file system/);
    await endServer(srv, 'read-only state directory');
  });
});

test('a full state directory (ENOSPC): calls succeed with a warning, codex_sessions says why; once there is room again, everything is recorded', { timeout: 90000 }, async (t) => {
  const stateDir = tree.dir('state');
  // A 512 KiB tmpfs, filled to the last block before the server starts.
  const setup = 'mount -t tmpfs -o size=512k,mode=0700 tmpfs "$D"; dd if=/dev/zero of="$D/filler" bs=4k 2>/dev/null || true';
  const srv = start({ codex: 'real', stateDir, env: { D: stateDir }, wrap: inMountNs(setup) });
  await withServer(srv, async () => {
    await srv.m.initialize();
    const st = fs.statfsSync(inside(srv, stateDir));
    assert.equal(st.bavail, 0, 'the state directory is full');
    t.diagnostic(`state directory: ${st.blocks} blocks of ${st.bsize} bytes, ${st.bavail} free`);
    const obj = await srv.m.call('full-0', { PROMPT: '[[reply:disk full ok]]' });
    assert.equal(obj.success, true, JSON.stringify(obj));
    assert.equal(obj.agent_messages, 'disk full ok');
    assert.ok(obj.warnings?.some((w) => /(cannot create|writing) the transcript .*No space left on device/.test(w)), JSON.stringify(obj.warnings));
    const s = await sessions(srv, 'sessions-full');
    assert.equal(s.success, false, JSON.stringify(s));
    assert.match(s.error, /^the session registry is not available: .*(disk is full|No space left)/);
    await srv.m.ping();
    // Room again: the registry is tried again (at most every 5 s) and the
    // next call has its whole transcript and its rows.
    fs.rmSync(inside(srv, path.join(stateDir, 'filler')));
    await sleep(5500);
    const ok = await srv.m.call('full-1', { PROMPT: '[[reply:room again]]' });
    assert.equal(ok.success, true, JSON.stringify(ok));
    assert.equal(ok.warnings, undefined, JSON.stringify(ok.warnings));
    const lines = fs.readFileSync(inside(srv, ok.transcript), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines[0].type, 'codexmcp.call');
    assert.equal(lines.at(-1).type, 'codexmcp.exit');
    const polled = await pollUntil(async () => {
      const l = await sessions(srv, `sessions-room-${Date.now()}`, { query: 'room again' });
      return l.success && l.sessions.length === 1 && l.sessions[0].last_status === 'completed';
    }, 10000, 200);
    assert.ok(polled.ok, 'the call made once there was room is recorded');
    await endServer(srv, 'full state directory');
  });
});

test('a state directory that fills up during a call: the result does not point to a transcript that lacks what it cut', { timeout: 90000 }, async (t) => {
  const stateDir = tree.dir('state');
  // Room (1 MiB) for the registry and the start of a transcript, not the
  // whole: each flood prints about 2.8 MB. Without the filler, room for it.
  const setup = 'mount -t tmpfs -o size=6m,mode=0700 tmpfs "$D"; dd if=/dev/zero of="$D/filler" bs=1k count=5120 2>/dev/null';
  const srv = start({ stateDir, env: { D: stateDir, FAKE_CODEX_MODE: 'flood', FAKE_CODEX_EVENTS: '20000', FAKE_CODEX_THREAD_ID: 'random' }, wrap: inMountNs(setup) });
  await withServer(srv, async () => {
    await srv.m.initialize();
    const obj = await srv.m.call('fill-0', { PROMPT: 'fills the disk' });
    t.diagnostic(`warnings ${JSON.stringify(obj.warnings)}; trimmed ${obj.trimmed}`);
    assert.equal(obj.success, true, JSON.stringify(obj).slice(0, 500));
    assert.ok(obj.agent_messages.endsWith('flood done'), obj.agent_messages.slice(-100));
    assert.match(obj.trimmed ?? '', /^cut from/, 'the answer was cut to the budget');
    // The transcript is incomplete: the result must not send the client there.
    const text = JSON.stringify(obj);
    assert.ok(!/the transcript has|the full text is in/.test(text), `the result points to an incomplete transcript: ${text.slice(0, 300)} … ${text.slice(-600)}`);
    assert.ok(obj.warnings.some((w) => /writing the transcript .*No space left on device.*incomplete|no transcript keeps them/.test(w)), JSON.stringify(obj.warnings));
    assert.match(srv.stderr, /writing the transcript .*No space left on device/);
    await srv.m.ping();
    // With room again the next call is whole, and points to its transcript.
    fs.rmSync(inside(srv, path.join(stateDir, 'filler')));
    const ok = await srv.m.call('fill-1', { PROMPT: 'room again' });
    assert.equal(ok.success, true);
    assert.match(ok.trimmed, /the transcript has everything/);
    assert.equal(fs.readFileSync(inside(srv, ok.transcript), 'utf8').trimEnd().split('\n').length, 20000 + 6, 'the whole transcript');
    await endServer(srv, 'state directory filled during a call');
  });
});

test('a file size limit (RLIMIT_FSIZE) under the transcript: EFBIG is a warning, not SIGXFSZ killing the server', { timeout: 60000 }, (t) =>
  withServer(start({ env: { FAKE_CODEX_MODE: 'flood', FAKE_CODEX_EVENTS: '20000', FAKE_CODEX_THREAD_ID: 'random' }, wrap: ['prlimit', `--fsize=${1 << 20}`] }), async (srv) => {
    await srv.m.initialize();
    for (let i = 0; i < 2; i++) {
      const obj = await srv.m.call(`fsize-${i}`, { PROMPT: `over the limit ${i}` });
      assert.equal(obj.success, true, JSON.stringify(obj).slice(0, 500));
      assert.ok(obj.agent_messages.endsWith('flood done'));
      assert.ok(!/the transcript has|the full text is in/.test(JSON.stringify(obj)), 'no pointer to the cut transcript');
    }
    assert.match(srv.stderr, /writing the transcript .*File too large/);
    // The registry's small writes are under the limit: both calls are there.
    let s;
    const listed = await pollUntil(async () => {
      s = await sessions(srv, `sessions-fsize-${Date.now()}`, { query: 'over the limit' });
      return s.success && s.sessions.length === 2 && s.sessions.every((x) => x.last_status === 'completed');
    }, 10000, 200);
    assert.ok(listed.ok, JSON.stringify(s));
    await endServer(srv, 'file size limit');
  }));

// ---- 4. the registry locked by another process for 10 s ---------------------

/** The sqlite3 CLI holding `BEGIN EXCLUSIVE` on db (with a row written, so
 * the lock is surely taken) until release(). Resolves once it holds it. */
async function lockRegistry(db) {
  const cli = spawn('sqlite3', [db], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  cli.stdout.on('data', (d) => (out += d));
  cli.stderr.on('data', (d) => (err += d));
  const exited = new Promise((resolve) => cli.on('exit', resolve));
  cli.stdin.write("BEGIN EXCLUSIVE;\nINSERT INTO turns (tool, cwd, prompt, status, server_pid, started_ms) VALUES ('x', '/', 'lock', 'failed', 1, 0);\n.print locked\n");
  const r = await pollUntil(() => out.includes('locked') || cli.exitCode !== null, 10000, 20);
  assert.ok(r.ok && out.includes('locked') && err === '', `sqlite3 holds the lock: ${out} ${err}`);
  return {
    cli,
    async release() {
      if (cli.exitCode === null) cli.stdin.end('ROLLBACK;\n');
      await withTimeout(exited, 5000, 'sqlite3 exit');
    },
  };
}

test('the registry locked by another process for 10 s: calls and reads go on, nothing is lost, exit is not held up', { timeout: 120000 }, async (t) => {
  const LOCK_MS = 10000;
  const stateDir = tree.dir('state');
  const db = path.join(stateDir, 'codexmcp.sqlite');
  await withServer(start({ stateDir, env: { FAKE_CODEX_MODE: 'ok', FAKE_CODEX_THREAD_ID: 'random' } }), async (srv) => {
    await srv.m.initialize();
    assert.equal((await srv.m.call('make', { PROMPT: 'before the lock' })).success, true);
    await endServer(srv, 'the server that made the registry');
  });
  let lock = await lockRegistry(db);
  const srv = start({ stateDir, env: { FAKE_CODEX_MODE: 'ok', FAKE_CODEX_THREAD_ID: 'random' } });
  try {
    await withServer(srv, async () => {
      const { m } = srv;
      const t0 = Date.now();
      await m.initialize();
      // A call about every second while it is locked, a read and a ping beside each.
      const times = [];
      const reads = [];
      let n = 0;
      while (Date.now() - t0 < LOCK_MS - 2000) {
        const c0 = Date.now();
        const obj = await m.call(`locked-${n}`, { PROMPT: `while locked ${n}` }, { timeoutMs: LOCK_MS });
        assert.equal(obj.success, true, JSON.stringify(obj));
        assert.ok(fs.existsSync(obj.transcript), 'transcripts do not wait on the registry');
        const r0 = Date.now();
        const s = await sessions(srv, `read-${n}`, { limit: 200 });
        reads.push(Date.now() - r0);
        assert.equal(s.success, true, `a read while locked: ${JSON.stringify(s)}`);
        assert.ok(s.sessions.some((x) => x.title === 'before the lock'), 'what was committed before the lock reads');
        await m.ping();
        times.push(Date.now() - c0);
        n++;
        await sleep(Math.max(0, 1000 - (Date.now() - c0)));
      }
      assert.equal(lock.cli.exitCode, null, 'still locked');
      t.diagnostic(`${n} calls, each with a read and a ping, answered while locked, in ${times.join(', ')} ms (the reads ${reads.join(', ')} ms)`);
      assert.ok(n >= 2, `${n} calls in ${LOCK_MS - 2000} ms`);
      await sleep(Math.max(0, LOCK_MS - (Date.now() - t0)));
      await lock.release();
      t.diagnostic(`released after ${Date.now() - t0} ms`);
      // The writes held back are made once the lock is gone: every call is there.
      let l;
      const polled = await pollUntil(async () => {
        l = await sessions(srv, `after-${Date.now()}`, { query: 'while locked', limit: 200 });
        return l.success && l.sessions.length === n && l.sessions.every((x) => x.last_status === 'completed' && x.turns === 1);
      }, 20000, 250);
      assert.ok(polled.ok, `every call made while locked is recorded once the lock is gone: ${JSON.stringify(l).slice(0, 800)}`);
      assert.deepEqual(l.sessions.map((x) => x.title).sort(), Array.from({ length: n }, (_, i) => `while locked ${i}`).sort());
      assert.doesNotMatch(srv.stderr, /this record is lost/);

      // Locked again, with writes queued: exit tries them once and does not wait.
      lock = await lockRegistry(db);
      for (let i = 0; i < 3; i++) assert.equal((await m.call(`last-${i}`, { PROMPT: `just before exit ${i}` })).success, true);
      await m.ping();
      const e0 = Date.now();
      srv.closeStdin();
      const ex = await withTimeout(srv.exited, LOCK_MS, 'exit while the registry is locked');
      t.diagnostic(`exited ${Date.now() - e0} ms after stdin closed, the registry locked`);
      assert.deepEqual(ex, { code: 0, signal: null }, srv.stderr.slice(-2000));
      assert.match(srv.stderr, /this record is lost/);
      await assertNoneLeft(srv, 'after exit');
    });
  } finally {
    await lock.release();
  }
});

// ---- 5. 500 calls queued behind --max-parallel 1, then the client goes away --

for (const codex of ['fake', 'real']) {
  for (const how of ['stdin closed', 'SIGTERM']) {
    test(`500 calls queued behind --max-parallel 1 (${codex} codex running one), then ${how}: exit 0 at once, the queued calls never start`, { timeout: 90000 }, (t) => {
      const startLog = tree.path('starts');
      const stateDir = tree.dir('state');
      const srv = start({ codex, stateDir, args: ['--max-parallel', '1'], env: { FAKE_CODEX_MODE: 'ok', FAKE_CODEX_START_LOG: startLog } });
      const tag = srv.run.split('=')[1];
      const starts = () => (fs.existsSync(startLog) ? fs.readFileSync(startLog, 'utf8').trim().split('\n').length : 0);
      return withServer(srv, async () => {
        const { m } = srv;
        await m.initialize();
        // The one that runs: it waits a minute (the fake codex) or on an
        // endpoint that never answers (the real one).
        await m.startCall('running', { PROMPT: codex === 'fake' ? `[[sleep:60000]] running ${tag}` : `[[stall]] running ${tag}` }, 'tok-running');
        await m.waitFor((e) => e.msg.params?.progressToken === 'tok-running' && /^started codex/.test(e.msg.params.message), 30000, 'the first call started');
        if (codex === 'real') await waitRequest(shared.fake, `running ${tag}`);
        else await pollUntil(() => starts() === 1, 10000, 20);
        // 499 more in one write; the ping's answer says the server read them all.
        let batch = '';
        for (let i = 1; i < 500; i++) batch += JSON.stringify(m.callMsg(`queued-${i}`, { PROMPT: `queued ${i} ${tag}` }, `tok-${i}`)) + '\n';
        await srv.send(batch);
        await m.ping();
        const queuedNote = m.log.filter((e) => e.msg.method === 'notifications/progress' && /^queued: /.test(e.msg.params.message));
        assert.ok(queuedNote.length >= 499, `each queued call was told it waits: ${queuedNote.length}`);
        const before = m.log.length;
        const t0 = Date.now();
        if (how === 'SIGTERM') srv.kill('SIGTERM');
        else srv.closeStdin();
        const ex = await withTimeout(srv.exited, 15000, `exit after ${how}`);
        const took = Date.now() - t0;
        await srv.waitClosed(5000);
        const after = m.log.slice(before).map((e) => e.msg);
        t.diagnostic(`exited ${took} ms after ${how}; then ${after.filter((x) => x.id !== undefined).length} replies, ${after.filter((x) => x.method).length} notifications`);
        assert.deepEqual(ex, { code: 0, signal: null }, `exit status; stderr:\n${srv.stderr.slice(-2000)}`);
        // What was written after is never a queued call's result.
        for (const msg of after.filter((x) => x.id !== undefined)) {
          assert.ok(msg.error || resultOf(msg).success === false, `a reply after ${how} is not a success: ${JSON.stringify(msg).slice(0, 300)}`);
        }
        assert.ok(!after.some((x) => x.method === 'notifications/progress' && /^started codex/.test(x.params.message)), 'no queued call started');
        // Seen from outside: one codex run (the fake's log, the endpoint), one turn in the registry.
        if (codex === 'real') {
          assert.equal(shared.fake.requestsFor(`running ${tag}`).length, 1, 'the running call reached the endpoint once');
          assert.equal(shared.fake.requestsFor(`queued`).filter((r) => r.prompt.includes(tag)).length, 0, 'no queued call reached the endpoint');
        } else {
          assert.equal(starts(), 1, 'the fake codex ran once');
        }
        const turns = execFileSync('sqlite3', [path.join(stateDir, 'codexmcp.sqlite'), 'SELECT status, prompt FROM turns'], { encoding: 'utf8' }).trim().split('\n');
        assert.equal(turns.length, 1, `one turn in the registry: ${turns.join(' / ')}`);
        assert.match(turns[0], /running /);
        await assertNoneLeft(srv, `after ${how}`);
      });
    });
  }
}
