// Faults on the codex side of a call (issue 11): codex or its app-server
// SIGKILLed mid-turn, codex printing 200 MB of events, one 100 MB line or
// 50 MB of stderr, the model endpoint cutting its answer, a descendant that
// daemonizes and holds codex's stdout, codex stopped (SIGSTOP) and continued
// or never continued, a cd removed while its call waits in the queue. Each
// test ends with a clear error or a normal result, the server answering
// ping, nothing of the turn left in /proc and, once the server is closed,
// none of its processes.
//
// The real Codex CLI runs against the fake Responses endpoint
// (lib/fake-responses.mjs); the faults the real CLI cannot show on demand use
// the fake codex (fixtures/fake-codex.mjs), which makes --engine auto fall
// back to exec. The suite runs this file under CODEXMCP_ENGINE=auto (the
// app-server) and exec: with the real codex, "codex" below is the `codex
// exec` process of the call under exec and the one app-server under auto.
//
// Covered elsewhere and not repeated here: a SIGSEGV of the fake codex
// (codex-faults), an app-server killed mid-turn with the session resumed
// (appserver.test, app-server engine only, no process checks), an
// app-server that crashes or hangs (appserver-faults, fake app-server),
// 20 MiB lines and 1 MiB of stderr (codex-faults), a client that stops
// reading a flood (stdio.test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { codexBin, env as codexEnv, sharedFakeCodex } from './lib/codex-env.mjs';
import { waitRequest } from './lib/fake-responses.mjs';
import { ASAN, ENGINE, callToolChecked, connectSdk, measuredEnv, rawServer, withTimeout } from './lib/mcp.mjs';
import {
  assertTurnGone,
  describePids,
  descendants,
  isAlive,
  pidsWithEnv,
  pollUntil,
  procCmdline,
  procEnviron,
  procStat,
  sampler,
  terminateWithEnv,
  waitNoneWithEnv,
  waitSleepCommand,
  engineProcs,
} from './lib/procs.mjs';
import { tempTree } from './lib/tmp.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const FAKE_CODEX = path.join(here, 'fixtures', 'fake-codex.mjs');
const FAKE_THREAD = '01a20a0c-0000-7000-8000-000000000001'; // fake-codex.mjs's
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const T = { timeout: 120000 };
const CALL_MS = 60000;
const MiB = 1024 * 1024;
// The default result budget (src/limits.h BUDGET_DEFAULT_CHARS): what a
// client without a budget of its own gets at most.
const BUDGET_CHARS = 48000;
// A generous bound on the server's memory while codex floods it: it keeps
// about 1 MiB of messages and 1 MiB of events per turn and lines of at most
// 8 MiB; it ran at 10 to 45 MiB here.
const RSS_MAX_KIB = 150 * 1024;
const EXEC = ENGINE === 'exec';
// Under ASan the servers whose memory is measured get a small quarantine
// (measuredEnv), and a flood runs 3 to 5 times slower.
const T_BIG = { timeout: ASAN ? 600000 : 180000 };

const shared = sharedFakeCodex();
const tree = tempTree('codexmcp-e2e-faults-codex-');
const uniq = () => `u${process.pid}x${Date.now().toString(36)}x${Math.random().toString(36).slice(2, 8)}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** VmRSS of pid in KiB (NaN once it is gone). */
function vmRssKib(pid) {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** codex itself below a server, child of its supervisor: `codex exec`
 * under exec, `codex app-server` under the app-server engine. */
function codexProc(serverPid) {
  const sub = EXEC ? 'exec' : 'app-server';
  return descendants(serverPid).find((p) => {
    const argv = procCmdline(p) ?? [];
    const parent = procCmdline(procStat(p)?.ppid) ?? [];
    return argv[1] === sub && path.basename(argv[0]) === 'codex' && parent[1] === '--internal-child-exec';
  });
}

async function waitCodexProc(serverPid) {
  const r = await pollUntil(() => codexProc(serverPid), 20000, 25);
  assert.ok(r.ok, `a codex ${EXEC ? 'exec' : 'app-server'} process runs below the server ${serverPid}: ${describePids(descendants(serverPid))}`);
  return r.value;
}

/** The command line and environment of a server (see withServer), its
 * marker and its state directory. */
function serverSetup({ args = [], env: extra = {}, fakeMode, measured = false }) {
  const marker = `FAULTS_CODEX_MARK=${uniq()}`;
  const [mk, mv] = marker.split('=');
  const stateDir = tree.dir('state');
  let command;
  let env;
  if (fakeMode) {
    command = FAKE_CODEX;
    env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('FAKE_CODEX_')) delete env[k];
    Object.assign(env, { FAKE_CODEX_MODE: fakeMode, CODEXMCP_STATE_DIR: stateDir, [mk]: mv, ...extra });
  } else {
    command = codexBin();
    env = codexEnv(shared.home, { CODEXMCP_STATE_DIR: stateDir, [mk]: mv, ...extra });
  }
  if (measured) env = measuredEnv(env);
  return { argv: ['--codex', command, ...args], env, marker, stateDir };
}

/**
 * A codexmcp for one test, fn(s) with s = { pid, client, call(args, ms),
 * ping(), marker, stateDir, stderr() }. Real codex unless opts.fakeMode
 * (the fake codex in that mode, with opts.env). Every process of the
 * server carries its own marker in its environment; once fn is done the
 * server is closed and none of them may be left.
 */
async function withServer(opts, fn) {
  const { argv, env, marker, stateDir } = serverSetup(opts);
  const sdk = await connectSdk(argv, env);
  const s = {
    pid: sdk.pid,
    client: sdk.client,
    marker,
    stateDir,
    stderr: sdk.stderr,
    call: (a, ms = CALL_MS, o = {}) => callToolChecked(sdk.client, 'codex', a, ms, o),
    ping: () => withTimeout(sdk.client.ping(), 5000, 'ping'),
  };
  try {
    await fn(s);
    await sdk.close();
    const r = await waitNoneWithEnv(marker, 5000);
    assert.ok(r.ok, `processes of the server left after it was closed:\n  ${describePids(r.left)}`);
  } catch (err) {
    err.message += `\n--- server stderr (tail) ---\n${sdk.stderr().slice(-4000)}`;
    throw err;
  } finally {
    await sdk.close();
    await terminateWithEnv(marker, { graceMs: 500 });
    fs.rmSync(stateDir, { recursive: true, force: true }); // transcripts of hundreds of MiB
  }
}

/**
 * Nothing of the turns of sessions `sids` is left: no command of theirs,
 * and below the server (or anywhere, by its marker) nothing but the
 * app-server engine itself.
 */
async function assertNothingLeft(s, sids, what) {
  for (const sid of sids) {
    const r = await waitNoneWithEnv(`CODEX_THREAD_ID=${sid}`, 3000);
    assert.ok(r.ok, `${what}: commands of session ${sid} still alive:\n  ${describePids(r.left)}`);
  }
  let left = [];
  const r = await pollUntil(() => {
    const engine = engineProcs(s.pid);
    left = [...new Set([...descendants(s.pid), ...pidsWithEnv(s.marker, { exclude: [s.pid] })])].filter((p) => !engine.includes(p));
    return left.length === 0;
  }, 3000);
  assert.ok(r.ok, `${what}: processes of the call still alive:\n  ${describePids(left)}`);
}

/** The session id codex sent the endpoint with the request whose prompt holds needle. */
async function sessionOf(needle) {
  const req = await waitRequest(shared.fake, needle);
  const sid = req.headers['session-id'];
  assert.match(sid ?? '', UUID_RE, `session-id header of the request for ${needle}`);
  return sid;
}

/** A promise and whether it has settled yet. */
function tracked(promise) {
  const t = { settled: false, promise };
  promise.then(() => (t.settled = true), () => (t.settled = true));
  return t;
}

// ---- 1. codex SIGKILLed mid-turn ----------------------------------------------------

test(`SIGKILL of ${EXEC ? 'codex exec' : 'the app-server'} while its turn runs a command: an error naming the signal, SESSION_ID kept, the session resumes, nothing of the turn left`, T, () =>
  withServer({}, async (s) => {
    const cd = tree.dir('killed');
    const u = uniq();
    const pending = s.call({ PROMPT: `doomed ${u} [[shell:sleep 30]]`, cd });
    const sid = await sessionOf(`doomed ${u}`);
    const { marker } = await waitSleepCommand(sid, s.pid);
    const victim = await waitCodexProc(s.pid);
    process.kill(victim, 'SIGKILL');
    const { obj } = await pending;
    assert.equal(obj.success, false, JSON.stringify(obj));
    if (EXEC) assert.match(obj.error, /^codex was killed by signal 9 \(SIGKILL\) before the turn finished/);
    else assert.match(obj.error, /^the codex app-server was killed by signal 9 \(SIGKILL\) during the turn; the session was saved as interrupted: resume it with its SESSION_ID/);
    assert.equal(obj.SESSION_ID, sid);
    await assertTurnGone(sid, marker, s.pid, 'after the SIGKILL');
    assert.ok(!isAlive(victim), `the killed codex ${victim} is gone`);
    await assertNothingLeft(s, [sid], 'after the SIGKILL');
    await s.ping();

    const next = await s.call({ PROMPT: `resumed ${u} [[history]]`, cd, SESSION_ID: sid });
    assert.equal(next.obj.success, true, JSON.stringify(next.obj));
    assert.equal(next.obj.SESSION_ID, sid);
    assert.equal(next.obj.agent_messages, `doomed ${u} [[shell:sleep 30]] | resumed ${u} [[history]]`, 'the resumed turn saw the killed one');
    if (!EXEC) assert.notEqual(await waitCodexProc(s.pid), victim, 'a new app-server');
    await s.ping();
    await assertNothingLeft(s, [sid], 'after the resumed turn');
  }));

// ---- 2. codex printing too much -------------------------------------------------------

/**
 * One call (args) to the server's fake codex; VmRSS of the server is
 * sampled every 50 ms during the call and read after it, and must stay
 * under RSS_MAX_KIB; the result must fit the budget; the figures go to the
 * test's diagnostics. Returns { obj, text, peakKib, afterKib,
 * transcriptBytes, exitRecord (the transcript's last line) }.
 */
async function bigCall(t, s, args) {
  const t0 = Date.now();
  const rss = sampler(() => vmRssKib(s.pid), 50);
  let res;
  let obj;
  try {
    ({ res, obj } = await s.call({ cd: tree.dir('big'), ...args }, T_BIG.timeout - 20000));
  } finally {
    rss.stop();
  }
  const samples = rss.samples.map((x) => x.value).filter(Number.isFinite);
  await s.ping();
  const afterKib = vmRssKib(s.pid);
  assert.ok(samples.length >= 1, 'VmRSS was sampled during the call');
  const peakKib = Math.max(...samples);
  assert.ok(peakKib < RSS_MAX_KIB, `server VmRSS during the call peaked at ${(peakKib / 1024).toFixed(1)} MiB`);
  assert.ok(afterKib < RSS_MAX_KIB, `server VmRSS after the call: ${(afterKib / 1024).toFixed(1)} MiB`);
  const text = res.content[0].text;
  assert.ok(text.length <= BUDGET_CHARS, `the result (${text.length} characters) fits the client's budget of ${BUDGET_CHARS}`);
  assert.ok(typeof obj.transcript === 'string' && fs.existsSync(obj.transcript), `a transcript: ${text.slice(0, 500)}`);
  const bytes = fs.statSync(obj.transcript).size;
  // Its last line is the exit record, with codex's stderr tail.
  const fd = fs.openSync(obj.transcript, 'r');
  const tail = Buffer.alloc(Math.min(bytes, 512 * 1024));
  fs.readSync(fd, tail, 0, tail.length, bytes - tail.length);
  fs.closeSync(fd);
  const lines = tail.toString('utf8').split('\n').filter(Boolean);
  const last = JSON.parse(lines[lines.length - 1]);
  t.diagnostic(`${Date.now() - t0} ms; server VmRSS peak ${(peakKib / 1024).toFixed(1)} MiB (${samples.length} samples), ` +
    `${(afterKib / 1024).toFixed(1)} MiB after; result ${text.length} characters; transcript ${(bytes / MiB).toFixed(1)} MiB`);
  return { obj, text, peakKib, afterKib, transcriptBytes: bytes, exitRecord: last };
}

test('codex printing 200 MiB of small events: the answer, a result within the budget, bounded memory', T_BIG, (t) =>
  withServer({ measured: true, fakeMode: 'flood', env: { FAKE_CODEX_FLOOD_BYTES: String(200 * MiB) } }, async (s) => {
    const r = await bigCall(t, s, { PROMPT: 'flood', return_all_messages: true });
    assert.equal(r.obj.success, true, r.text.slice(0, 1000));
    assert.equal(r.obj.SESSION_ID, FAKE_THREAD);
    assert.match(r.obj.agent_messages, /flood done$/, 'the last message is kept');
    assert.match(r.obj.agent_messages, /\[codexmcp: .* not kept here/, 'what was left out is marked');
    // The budget leaves out events before it cuts the answer: a mark says so.
    assert.ok(Array.isArray(r.obj.all_messages) && r.obj.all_messages.some((e) => e.type === 'codexmcp.cut' && e.transcript === r.obj.transcript),
      `all_messages marks what it left out: ${JSON.stringify(r.obj.all_messages).slice(0, 500)}`);
    assert.ok(r.transcriptBytes >= 200 * MiB, `every byte reached the transcript (${r.transcriptBytes} bytes)`);
    await assertNothingLeft(s, [], 'after the flood');
  }));

test('codex printing 200 MiB of 7 MiB agent messages: the answer, a result within the budget, bounded memory', T_BIG, (t) =>
  withServer({ measured: true, fakeMode: 'bigmessages', env: { FAKE_CODEX_EVENTS: '29' } }, async (s) => {
    const r = await bigCall(t, s, { PROMPT: 'big messages', return_all_messages: true });
    assert.equal(r.obj.success, true, r.text.slice(0, 1000));
    assert.match(r.obj.agent_messages, /^\[codexmcp: 28 agent messages \(\d+ bytes\) not kept here/);
    assert.match(r.obj.agent_messages, / end$/, 'the end of the last message is kept');
    assert.ok(r.transcriptBytes >= 200 * MiB, `every byte reached the transcript (${r.transcriptBytes} bytes)`);
    await assertNothingLeft(s, [], 'after the big messages');
  }));

test('codex printing one 100 MiB line: skipped with a warning naming its size, the answer, bounded memory', T_BIG, (t) =>
  withServer({ measured: true, fakeMode: 'hugeline', env: { FAKE_CODEX_LINE_BYTES: String(100 * MiB) } }, async (s) => {
    const r = await bigCall(t, s, { PROMPT: 'one huge line' });
    assert.equal(r.obj.success, true, r.text.slice(0, 1000));
    assert.equal(r.obj.agent_messages, 'fake ok');
    assert.ok((r.obj.warnings ?? []).some((w) => w === `skipped a codex output line of ${100 * MiB} bytes (over the 8388608 byte limit)`), `warnings: ${JSON.stringify(r.obj.warnings)}`);
    assert.ok(r.text.length < 5000, `the line is not in the result (${r.text.length} characters)`);
    assert.ok(r.transcriptBytes >= 100 * MiB, `the line reached the transcript (${r.transcriptBytes} bytes)`);
    await assertNothingLeft(s, [], 'after the huge line');
  }));

test('codex printing 50 MiB on stderr: the answer, only a 64 KiB tail kept, bounded memory', T_BIG, (t) =>
  withServer({ measured: true, fakeMode: 'stderrflood', env: { FAKE_CODEX_STDERR_BYTES: String(50 * MiB) } }, async (s) => {
    const r = await bigCall(t, s, { PROMPT: 'stderr flood' });
    assert.equal(r.obj.success, true, r.text.slice(0, 1000));
    assert.equal(r.obj.agent_messages, 'fake ok');
    assert.ok(!r.text.includes('stderr flood'), 'the flood is not in the result');
    // The transcript's exit record keeps the newest 64 KiB of stderr: the
    // flood's last lines (the fake's "Reading prompt" line came first).
    assert.equal(r.exitRecord.type, 'codexmcp.exit');
    assert.equal(r.exitRecord.exit_status, 0, JSON.stringify(r.exitRecord).slice(0, 300));
    assert.equal(typeof r.exitRecord.stderr, 'string');
    assert.equal(Buffer.byteLength(r.exitRecord.stderr), 64 * 1024);
    assert.match(r.exitRecord.stderr, /^(WARNING: stderr flood \.+\n)+$/);
    await assertNothingLeft(s, [], 'after the stderr flood');
  }));

// ---- 3. the endpoint cuts its answer -------------------------------------------------

test('the endpoint closing the stream mid-answer once: codex retries, the whole answer of the retry', T, () =>
  withServer({}, async (s) => {
    const u = uniq();
    const prompt = `cut once ${u} [[cut:1]]`;
    const { obj } = await s.call({ PROMPT: prompt, cd: tree.dir('cut') });
    assert.equal(obj.success, true, JSON.stringify(obj));
    assert.equal(obj.agent_messages, prompt);
    assert.match(obj.SESSION_ID, UUID_RE);
    assert.deepEqual(shared.fake.requestsFor(`cut once ${u}`).map((r) => r.cut === true), [true, false], 'one answer cut, then one whole');
    await s.ping();
    await assertNothingLeft(s, [obj.SESSION_ID], 'after the retried turn');
  }));

test('the endpoint closing the stream mid-answer every time: a clear error after the retries, SESSION_ID kept, the session resumes', T, () =>
  withServer({}, async (s) => {
    const u = uniq();
    const cd = tree.dir('cut');
    const { obj } = await s.call({ PROMPT: `cut always ${u} [[cut]]`, cd });
    assert.equal(obj.success, false, JSON.stringify(obj));
    assert.match(obj.error, /^stream disconnected before completion: /);
    assert.match(obj.SESSION_ID, UUID_RE);
    // makeCodexHome: stream_max_retries = 2, so three answers, each cut.
    assert.deepEqual(shared.fake.requestsFor(`cut always ${u}`).map((r) => r.cut === true), [true, true, true]);
    await s.ping();
    await assertNothingLeft(s, [obj.SESSION_ID], 'after the failed turn');
    const next = await s.call({ PROMPT: `after the cuts ${u} [[history]]`, cd, SESSION_ID: obj.SESSION_ID });
    assert.equal(next.obj.success, true, JSON.stringify(next.obj));
    assert.equal(next.obj.agent_messages, `cut always ${u} [[cut]] | after the cuts ${u} [[history]]`);
  }));

// ---- 4. a descendant that holds codex's stdout ----------------------------------------

test('a daemon that holds codex\'s stdout and stderr past codex\'s exit: the call still ends, with the answer, and the daemon is gone', T, async () => {
  const report = tree.path('daemon-report');
  const pidFile2 = tree.path('daemon-pid2');
  await withServer({ fakeMode: 'daemon', env: { FAKE_CODEX_REPORT_FILE: report, FAKE_CODEX_PID_FILE2: pidFile2 } }, async (s) => {
    // A `sleep 300` in a session of its own keeping codex's stdout and
    // stderr: the pipes reach EOF only once it is gone.
    const { obj } = await s.call({ PROMPT: 'start a dev server', cd: tree.dir('daemon') }, 30000);
    assert.equal(obj.success, true, JSON.stringify(obj));
    assert.equal(obj.agent_messages, 'fake ok');
    const rep = JSON.parse(fs.readFileSync(report, 'utf8'));
    assert.equal(rep.sleepAlive, true, `the sleep ran when codex exited: ${JSON.stringify(rep)}`);
    for (const fd of rep.codexFds) assert.match(fd ?? '', /^(pipe|socket):\[\d+\]$/, JSON.stringify(rep)); // libuv's pipes are socket pairs
    assert.deepEqual(rep.sleepFds, rep.codexFds, `the sleep held codex's stdout and stderr when codex exited: ${JSON.stringify(rep)}`);
    const pids = [rep.sleepPid, Number(fs.readFileSync(pidFile2, 'utf8'))];
    const r = await pollUntil(() => pids.every((p) => !isAlive(p)), 3000);
    assert.ok(r.ok, `outlived their call: ${describePids(pids.filter(isAlive))}`);
    await s.ping();
    await assertNothingLeft(s, [], 'after the call');
  });
});

// ---- 5. codex stopped ------------------------------------------------------------------

test(`SIGSTOP of ${EXEC ? 'codex exec' : 'the app-server'} mid-turn, SIGCONT later: the call waits, then completes normally`, T, (t) =>
  withServer({}, async (s) => {
    const u = uniq();
    // The endpoint answers 1.5 s after the request: codex is stopped by then.
    const prompt = `stopped ${u} [[sleep:1500]]`;
    const call = tracked(s.call({ PROMPT: prompt, cd: tree.dir('stop') }));
    const sid = await sessionOf(`stopped ${u}`);
    const victim = await waitCodexProc(s.pid);
    process.kill(victim, 'SIGSTOP');
    try {
      const stopped = await pollUntil(() => procStat(victim)?.state === 'T', 3000, 10);
      assert.ok(stopped.ok, `codex ${victim} is stopped: ${describePids([victim])}`);
      // The whole answer is sent while codex is stopped.
      const answered = await pollUntil(() => shared.fake.requestsFor(`stopped ${u}`)[0]?.endTime !== undefined, 10000);
      assert.ok(answered.ok, 'the endpoint sent its answer');
      await sleep(500);
      assert.equal(procStat(victim)?.state, 'T', 'codex is still stopped');
      assert.equal(call.settled, false, 'no answer while codex is stopped');
      await s.ping();
    } finally {
      process.kill(victim, 'SIGCONT');
    }
    const t0 = Date.now();
    const { obj } = await call.promise;
    t.diagnostic(`answered ${Date.now() - t0} ms after SIGCONT`);
    assert.equal(obj.success, true, JSON.stringify(obj));
    assert.equal(obj.agent_messages, prompt);
    assert.equal(obj.SESSION_ID, sid);
    await s.ping();
    await assertNothingLeft(s, [sid], 'after the continued turn');
    if (!EXEC) assert.equal(codexProc(s.pid), victim, 'the same app-server serves on');
  }));

test(`stdin EOF while ${EXEC ? 'codex exec' : 'the app-server'} is stopped mid-turn: the server still exits 0 and leaves nothing`, T, async (t) => {
  const { argv, env, marker, stateDir } = serverSetup({ args: ['--kill-grace', '500'] });
  const srv = rawServer(argv, env);
  try {
    await srv.initialize();
    const u = uniq();
    await srv.sendJson({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'codex', arguments: { PROMPT: `frozen at exit ${u} [[stall]]`, cd: tree.dir('frozen-exit') } } });
    await sessionOf(`frozen at exit ${u}`);
    const victim = await waitCodexProc(srv.pid);
    process.kill(victim, 'SIGSTOP');
    const stopped = await pollUntil(() => procStat(victim)?.state === 'T', 3000, 10);
    assert.ok(stopped.ok, `codex ${victim} is stopped: ${describePids([victim])}`);
    const t0 = Date.now();
    srv.closeStdin();
    // SIGTERM does not act on a stopped process, closing its stdin neither
    // (the app-server): the SIGKILL that follows the grace period does.
    const ex = await srv.waitExit(30000);
    t.diagnostic(`the server exited ${Date.now() - t0} ms after stdin EOF`);
    assert.deepEqual(ex, { code: 0, signal: null });
    const r = await waitNoneWithEnv(marker, 3000);
    assert.ok(r.ok, `processes of the server left after it exited:\n  ${describePids(r.left)}`);
  } catch (err) {
    err.message += `\n--- server stderr (tail) ---\n${srv.stderr.slice(-4000)}`;
    throw err;
  } finally {
    await srv.dispose();
    await terminateWithEnv(marker, { graceMs: 500 });
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
});

test(`SIGSTOP of ${EXEC ? 'codex exec' : 'the app-server'} mid-turn, never continued: timeout_s ends the call, the stopped process is killed`, T, (t) =>
  withServer({ args: ['--kill-grace', '500'] }, async (s) => {
    const u = uniq();
    const cd = tree.dir('frozen');
    // Room for codex to start and reach the endpoint on a loaded machine.
    const call = s.call({ PROMPT: `frozen ${u} [[stall]]`, cd, timeout_s: 4 });
    const sid = await sessionOf(`frozen ${u}`);
    const victim = await waitCodexProc(s.pid);
    process.kill(victim, 'SIGSTOP');
    const t0 = Date.now();
    let obj;
    try {
      ({ obj } = await call);
    } finally {
      if (isAlive(victim)) process.kill(victim, 'SIGCONT'); // for the cleanup, if it failed
    }
    assert.equal(obj.success, false, JSON.stringify(obj));
    assert.match(obj.error, /^timed out after 4 s/);
    assert.equal(obj.SESSION_ID, sid);
    // SIGTERM waits on a stopped process; the SIGKILL after the grace does not.
    const answered = Date.now() - t0;
    const gone = await pollUntil(() => !isAlive(victim), 5000);
    assert.ok(gone.ok, `the stopped codex was ended: ${describePids([victim])}`);
    t.diagnostic(`answered ${answered} ms after the SIGSTOP, the stopped codex gone ${gone.elapsed} ms after the answer`);
    await s.ping();
    await assertNothingLeft(s, [sid], 'after the time limit');
    // The server goes on: a new app-server under auto.
    const next = await s.call({ PROMPT: `thawed ${u}`, cd });
    assert.equal(next.obj.success, true, JSON.stringify(next.obj));
    assert.equal(next.obj.agent_messages, `thawed ${u}`);
    await assertNothingLeft(s, [next.obj.SESSION_ID], 'after the next call');
  }));

// ---- 6. the cd of a queued call removed -------------------------------------------------

test('a cd removed, or replaced by a file, while its call waits in the queue (--max-parallel 1): an error naming the cd; the queue goes on', T, () =>
  withServer({ args: ['--max-parallel', '1'] }, async (s) => {
    const u = uniq();
    const removed = tree.dir('doomed');
    const replaced = tree.dir('doomed');
    const queued = [];
    // The call ahead holds the one slot until it is cancelled.
    const ahead = new AbortController();
    const holder = s.call({ PROMPT: `hold ${u} [[stall]]`, cd: tree.dir('holder') }, CALL_MS, { signal: ahead.signal }).then(
      () => assert.fail('the cancelled call was answered'),
      (err) => err,
    );
    await waitRequest(shared.fake, `hold ${u}`);
    const calls = [removed, replaced].map((cd, i) =>
      s.call({ PROMPT: `queued ${i} ${u}`, cd }, CALL_MS, { onprogress: (p) => queued.push(`${i}:${p.message}`) }),
    );
    const told = await pollUntil(() => queued.some((m) => m.startsWith('0:queued:')) && queued.some((m) => m.startsWith('1:queued:')), 10000);
    assert.ok(told.ok, `both calls were queued: ${JSON.stringify(queued)}`);
    fs.rmSync(removed, { recursive: true });
    fs.rmSync(replaced, { recursive: true });
    fs.writeFileSync(replaced, 'a file now');
    ahead.abort('make room');
    assert.match(String(await holder), /AbortError|abort|make room/i);
    for (const [i, cd] of [removed, replaced].entries()) {
      const { obj } = await calls[i];
      assert.equal(obj.success, false, JSON.stringify(obj));
      assert.equal(obj.error, `cd "${cd}" is not an existing directory any more: it was removed or replaced while the call waited in the queue`);
      assert.equal(shared.fake.requestsFor(`queued ${i} ${u}`).length, 0, 'codex never ran the call');
    }
    await s.ping();
    const next = await s.call({ PROMPT: `after ${u}`, cd: tree.dir('after') });
    assert.equal(next.obj.success, true, JSON.stringify(next.obj));
    await assertNothingLeft(s, [next.obj.SESSION_ID], 'after the queue');
  }));
