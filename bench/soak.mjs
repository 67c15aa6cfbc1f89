// Soak: many `codex` calls at once through one codexmcp, then checks that
// nothing of them stayed behind (issue 11). The client is the MCP SDK
// (connectSdk); codex is either the real Codex CLI against the fake Responses
// endpoint (tests/e2e/lib/fake-responses.mjs), or tests/e2e/fixtures/
// fast-codex.sh, which answers at once (exec engine only: it has no
// app-server).
//
// The calls vary (real codex): a plain answer, a shell command codex runs
// ([[shell:…]]), two messages, a reasoning summary with return_all_messages,
// usage, a slow answer; a third of them ask for progress notifications;
// every --resume-every-th call resumes an idle earlier session (SESSION_ID,
// up to 4 turns a session) and asks for the session's history, so the answer
// proves it was resumed. Every answer is checked against its prompt.
//
// Sampled from /proc at the start, every --sample-every calls (default
// calls/20) and at the end: the server's open file descriptors, its live
// descendants, zombies among them, its VmRSS, and how many answered calls
// the registry has not recorded the end of yet. The start sample is taken
// after the first call (a warm-up, counted among the calls) and a settle, so
// the warm app-server and its supervisor are in the start count (and named
// in the output); the end sample once the counts are back and the registry
// has caught up, or after --settle-s. The RSS growth is the end minus the
// sample at 10 % of the calls.
//
// Criteria (each named when it fails; the exit status is 1 then):
//   failures      every call succeeded with the answer its prompt asked for,
//                 its session (new, or the one resumed), a transcript, and
//                 progress notifications when it asked for them
//   fds           open descriptors at the end = at the start
//   children      live descendants at the end = at the start
//   zombies       no zombie among the descendants at the end
//   rss           VmRSS at the end - at 10 % of the calls < --rss-tolerance-kib
//                 (default 1024)
//   engine        the warm app-server is there at the start and is the same
//                 process at the end (app-server engine); none under exec
//   shutdown      on stdin EOF the server exits 0 and no process of the run
//                 (by an environment marker) is left
//   registry      (the sqlite3 CLI) integrity ok; one session row per new
//                 call, one turn row per call, each completed, with this
//                 server's pid and its call's prompt, session and transcript;
//                 each session's turns = its calls; no task rows
//   transcripts   one file per call, the one its result and its turn name:
//                 its call's prompt, one call line, one thread.started of its
//                 session, one turn.started, one turn.completed, one exit line
//                 of status 0; sizes within --transcript-min/max
//
// Figures go to stdout as JSON and to build/bench/soak-<codex>-<engine>-<calls>.json
// (or --out); a readable summary to stderr.
// Usage: node bench/soak.mjs [--calls N] [--parallel P] [--engine auto|appserver|exec]
//          [--codex real|fast] [--resume-every K] [--sample-every N] [--settle-s S]
//          [--rss-tolerance-kib K] [--transcript-min B] [--transcript-max B]
//          [--timeout-s S] [--out FILE] [--keep]
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeResponses } from '../tests/e2e/lib/fake-responses.mjs';
import { codexBin, env as codexEnv, makeCodexHome, removeCodexHome } from '../tests/e2e/lib/codex-env.mjs';
import { callToolChecked, connectSdk, serverBin, withTimeout } from '../tests/e2e/lib/mcp.mjs';
import { allPids, describePids, procCmdline, procStat, terminateWithEnv, waitNoneWithEnv } from '../tests/e2e/lib/procs.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const FAST = path.join(root, 'tests', 'e2e', 'fixtures', 'fast-codex.sh');
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const USAGE = 'usage: node bench/soak.mjs [--calls N] [--parallel P] [--engine auto|appserver|exec] [--codex real|fast] ' +
  '[--resume-every K] [--sample-every N] [--settle-s S] [--rss-tolerance-kib K] [--transcript-min B] [--transcript-max B] ' +
  '[--timeout-s S] [--out FILE] [--keep]';

// ---- options ----------------------------------------------------------------

const opt = {
  calls: 1000,
  parallel: 16,
  engine: 'auto',
  codex: 'real',
  resumeEvery: 5, // every 5th call resumes an idle session (0: none)
  maxTurns: 4, // turns per session at most, so a [[history]] answer stays short
  sampleEvery: 0, // 0: calls / 20
  settleS: 15,
  rssToleranceKiB: 1024,
  transcriptMin: 0, // 0: the default of the codex kind (below)
  transcriptMax: 0,
  timeoutS: 300,
  out: '',
  keep: false,
};
{
  const a = process.argv.slice(2);
  const num = (flag, v) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < 0) fail(`${flag} needs a number >= 0, got ${JSON.stringify(v)}`);
    return n;
  };
  for (let i = 0; i < a.length; i++) {
    const flag = a[i];
    const val = () => a[++i];
    if (flag === '--calls') opt.calls = num(flag, val());
    else if (flag === '--parallel') opt.parallel = num(flag, val());
    else if (flag === '--engine') opt.engine = val();
    else if (flag === '--codex') opt.codex = val();
    else if (flag === '--resume-every') opt.resumeEvery = num(flag, val());
    else if (flag === '--sample-every') opt.sampleEvery = num(flag, val());
    else if (flag === '--settle-s') opt.settleS = num(flag, val());
    else if (flag === '--rss-tolerance-kib') opt.rssToleranceKiB = num(flag, val());
    else if (flag === '--transcript-min') opt.transcriptMin = num(flag, val());
    else if (flag === '--transcript-max') opt.transcriptMax = num(flag, val());
    else if (flag === '--timeout-s') opt.timeoutS = num(flag, val());
    else if (flag === '--out') opt.out = val();
    else if (flag === '--keep') opt.keep = true;
    else if (flag === '-h' || flag === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown option ${flag}\n${USAGE}`);
  }
  if (!['auto', 'appserver', 'exec'].includes(opt.engine)) fail(`--engine: auto, appserver or exec, not ${opt.engine}`);
  if (!['real', 'fast'].includes(opt.codex)) fail(`--codex: real or fast, not ${opt.codex}`);
  if (opt.codex === 'fast' && opt.engine !== 'exec') fail('--codex fast has no app-server: use --engine exec');
  if (opt.calls < 2 || opt.parallel < 1) fail('--calls must be at least 2 (the first is the warm-up) and --parallel at least 1');
  opt.calls = Math.floor(opt.calls);
  opt.parallel = Math.floor(opt.parallel);
  if (!opt.sampleEvery) opt.sampleEvery = Math.max(1, Math.round(opt.calls / 20));
  // A transcript is the call line (prompt, argv, cd: about 400 bytes), what
  // codex printed, and the exit line (with codex's stderr: 200 bytes of a
  // warning from the real one). The fast codex prints 4 short lines: 0.7 to
  // 0.9 KiB in all. A real turn of these prompts (exec's lines, or the
  // app-server's mapped to them; a [[history]] answer repeats at most
  // maxTurns prompts, a shell command comes twice, started and completed):
  // 0.7 to 1.5 KiB. Outside the range: a turn cut short, or grown.
  if (!opt.transcriptMin) opt.transcriptMin = 512;
  if (!opt.transcriptMax) opt.transcriptMax = opt.codex === 'fast' ? 1536 : 4096;
  if (!opt.out) opt.out = path.join(root, 'build', 'bench', `soak-${opt.codex}-${opt.engine}-${opt.calls}.json`);
}

function fail(msg) {
  console.error(`soak: ${msg}`);
  process.exit(2);
}

const t00 = Date.now();
const say = (msg) => process.stderr.write(`[soak ${((Date.now() - t00) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const kib = (k) => `${(k / 1024).toFixed(2)} MiB`;

// ---- /proc ------------------------------------------------------------------

/** Descendants of root by ppid chains: { live: [pid], zombies: [pid] }. */
function tree(rootPid) {
  const kids = new Map();
  for (const s of allPids().map(procStat)) {
    if (!s) continue;
    if (!kids.has(s.ppid)) kids.set(s.ppid, []);
    kids.get(s.ppid).push(s);
  }
  const live = [];
  const zombies = [];
  const stack = [rootPid];
  while (stack.length) {
    for (const s of kids.get(stack.pop()) ?? []) {
      (s.state === 'Z' || s.state === 'X' ? zombies : live).push(s.pid);
      stack.push(s.pid);
    }
  }
  return { live, zombies };
}

function fdTargets(pid) {
  const dir = `/proc/${pid}/fd`;
  return fs.readdirSync(dir).map((fd) => {
    try {
      return `${fd} -> ${fs.readlinkSync(`${dir}/${fd}`)}`;
    } catch {
      return `${fd} -> ?`;
    }
  });
}

function memory(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const k = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN);
  return { rssKiB: k('VmRSS'), anonKiB: k('RssAnon'), fileKiB: k('RssFile'), hwmKiB: k('VmHWM') };
}

const isAppServer = (pid) => {
  const argv = procCmdline(pid) ?? [];
  return argv.includes('app-server') && !argv.includes('--internal-child-exec');
};

/** Turns the registry has recorded as ended (read while the server writes: WAL), or null. */
function turnsEnded() {
  try {
    return Number(sql('SELECT count(*) FROM turns WHERE finished_ms IS NOT NULL;'));
  } catch {
    return null;
  }
}

/**
 * One sample of the server: fds, descendants, zombies, memory, and how many
 * answered calls the registry has not recorded the end of yet.
 */
function sample(pid, calls, t0) {
  const { live, zombies } = tree(pid);
  const ended = turnsEnded();
  const appservers = live.filter(isAppServer);
  let appserverRssKiB = null;
  try {
    if (appservers.length) appserverRssKiB = appservers.reduce((n, p) => n + memory(p).rssKiB, 0);
  } catch {}
  return {
    calls,
    t_s: Number(((Date.now() - t0) / 1000).toFixed(3)),
    fds: fs.readdirSync(`/proc/${pid}/fd`).length,
    children: live.length,
    zombies: zombies.length,
    appservers,
    appserverRssKiB,
    ...memory(pid),
    registryBehind: ended === null ? null : calls - ended,
    pids: live,
  };
}

/**
 * Samples every 200 ms until done(s) holds for 1 s in a row (the counts are
 * steady), or limitS passes; returns the last sample.
 */
async function settle(pid, calls, t0, done, limitS) {
  const deadline = Date.now() + limitS * 1000;
  let since = null;
  let s = sample(pid, calls, t0);
  for (;;) {
    if (done(s)) {
      since ??= Date.now();
      if (Date.now() - since >= 1000) return s;
    } else since = null;
    if (Date.now() >= deadline) return s;
    await sleep(200);
    s = sample(pid, calls, t0);
  }
}

/** A query of the registry through the sqlite3 CLI; its output, trimmed. */
function sql(query) {
  const db = path.join(stateDir, 'codexmcp.sqlite');
  return execFileSync('sqlite3', ['-readonly', '-separator', '\t', db, query],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 }).trim();
}

// ---- the calls ---------------------------------------------------------------

// Real codex: what call i asks for, and what its answer must hold. A token
// with dashes on both sides, so "soak-1-" is never found in "soak-10-".
const KINDS = ['reply', 'shell', 'multi', 'reason', 'usage', 'slow'];
function newCall(i, cd) {
  const tok = `soak-${i}-`;
  const kind = KINDS[i % KINDS.length];
  const a = { PROMPT: '', cd };
  let check;
  const has = (obj, text) => typeof obj.agent_messages === 'string' && obj.agent_messages.includes(text);
  if (opt.codex === 'fast') {
    a.PROMPT = `fast ${tok}`;
    return { kind: 'fast', args: a, check: (obj) => (obj.agent_messages === 'fast ok' ? null : 'agent_messages is not "fast ok"') };
  }
  switch (kind) {
    case 'reply':
      a.PROMPT = `${tok} [[reply:answer ${tok}]]`;
      check = (obj) => (has(obj, `answer ${tok}`) ? null : `no "answer ${tok}"`);
      break;
    case 'shell':
      a.PROMPT = `${tok} [[shell:echo out-${i}-]]`;
      check = (obj) => (has(obj, `shell done: out-${i}-`) ? null : `no "shell done: out-${i}-"`);
      break;
    case 'multi':
      a.PROMPT = `${tok} [[multi]]`;
      check = (obj) => (has(obj, 'part one') && has(obj, 'part two') ? null : 'not both "part one" and "part two"');
      break;
    case 'reason':
      a.PROMPT = `${tok} [[reason:thinking ${tok}]]`;
      a.return_all_messages = true;
      check = (obj) => {
        if (!has(obj, 'reasoned')) return 'no "reasoned"';
        const all = JSON.stringify(obj.all_messages ?? null);
        return all.includes(`thinking ${tok}`) ? null : `all_messages lacks the reasoning "thinking ${tok}"`;
      };
      break;
    case 'usage':
      a.PROMPT = `${tok} [[usage]] [[reply:counted ${tok}]]`;
      check = (obj) => (!has(obj, `counted ${tok}`) ? `no "counted ${tok}"` : obj.usage ? null : 'no usage');
      break;
    case 'slow':
      a.PROMPT = `${tok} [[sleep:300]] [[reply:late ${tok}]]`;
      check = (obj) => (has(obj, `late ${tok}`) ? null : `no "late ${tok}"`);
      break;
  }
  return { kind, args: a, check };
}

/** A resume of session s: [[history]] answers every prompt of the session. */
function resumeCall(i, s) {
  const tok = `soak-${i}-`;
  if (opt.codex === 'fast') {
    return {
      kind: 'resume',
      args: { PROMPT: `fast resume ${tok}`, cd: s.cd, SESSION_ID: s.id },
      check: (obj) => (obj.agent_messages === 'fast ok' ? null : 'agent_messages is not "fast ok"'),
    };
  }
  return {
    kind: 'resume',
    args: { PROMPT: `${tok} [[history]]`, cd: s.cd, SESSION_ID: s.id },
    check: (obj) =>
      obj.agent_messages?.includes(s.firstTok) && obj.agent_messages.includes(tok)
        ? null
        : `the history answer lacks the session's first prompt ${s.firstTok} or this one ${tok}`,
  };
}

// ---- the run -----------------------------------------------------------------

const runId = crypto.randomUUID();
const MARKER = `CODEXMCP_SOAK_RUN=${runId}`;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-soak-'));
const stateDir = path.join(work, 'state');
const cds = [0, 1, 2, 3].map((n) => {
  const d = path.join(work, `project-${n}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
});
fs.mkdirSync(stateDir);

let fake = null;
let home = null;
let serverEnv;
const codexPath = opt.codex === 'fast' ? FAST : codexBin();
if (opt.codex === 'real') {
  fake = await startFakeResponses();
  home = makeCodexHome(fake.url);
  serverEnv = codexEnv(home);
} else {
  serverEnv = { ...process.env, FAST_CODEX_THREAD_ID: 'random' };
}
for (const k of Object.keys(serverEnv)) if (k.startsWith('CODEXMCP_')) delete serverEnv[k];
serverEnv[MARKER.split('=')[0]] = runId;
const serverArgs = ['--codex', codexPath, '--engine', opt.engine, '--max-parallel', String(opt.parallel), '--state-dir', stateDir];

const criteria = [];
const criterion = (name, ok, detail) => criteria.push({ name, ok: Boolean(ok), detail });
const failures = [];
const records = []; // one per call answered: { i, kind, ms, session, transcript, progress }
const sessions = new Map(); // SESSION_ID -> { id, cd, firstTok, calls }
const idle = []; // sessions to resume, oldest first
const samples = [];
let sdk = null;
let serverProc = null;
let completed = 0;
let progressNotes = 0;
const wireProgress = new Map(); // PROMPT -> progress notifications for its call

/** Counts the progress notifications of each call as they arrive, by the token its request carried. */
function countProgress(transport) {
  const promptOf = new Map();
  const send = transport.send.bind(transport);
  transport.send = (m, o) => {
    const token = m?.params?._meta?.progressToken;
    if (m?.method === 'tools/call' && token !== undefined) promptOf.set(token, m.params.arguments?.PROMPT);
    return send(m, o);
  };
  const onmessage = transport.onmessage;
  transport.onmessage = (m, extra) => {
    const prompt = m?.method === 'notifications/progress' ? promptOf.get(m.params?.progressToken) : undefined;
    if (prompt !== undefined) wireProgress.set(prompt, (wireProgress.get(prompt) ?? 0) + 1);
    return onmessage(m, extra);
  };
}
let t0 = Date.now();

async function runCall(i) {
  let spec;
  let resumed = null;
  if (opt.resumeEvery && i % opt.resumeEvery === opt.resumeEvery - 1 && idle.length) {
    resumed = idle.shift();
    spec = resumeCall(i, resumed);
  } else {
    spec = newCall(i, cds[i % cds.length]);
  }
  // A third of the calls ask for progress: each must get some. They are
  // counted on the wire (wireProgress): the SDK hands a notification to
  // onprogress a microtask late, after the result when both came in one
  // read, and drops it then.
  const withProgress = i % 3 === 1;
  const opts = withProgress ? { onprogress: () => {} } : {};
  const start = Date.now();
  let obj;
  let why = null;
  try {
    ({ obj } = await callToolChecked(sdk.client, 'codex', spec.args, opt.timeoutS * 1000, opts));
    if (obj.success !== true) why = `success is false: ${String(obj.error).slice(0, 300)}`;
    else if (!UUID_RE.test(obj.SESSION_ID ?? '')) why = `SESSION_ID ${JSON.stringify(obj.SESSION_ID)} is not a thread id`;
    else if (resumed && obj.SESSION_ID.toLowerCase() !== resumed.id.toLowerCase()) why = `resumed ${resumed.id}, answered ${obj.SESSION_ID}`;
    else if (!resumed && sessions.has(obj.SESSION_ID)) why = `a new call answered the session ${obj.SESSION_ID} of an earlier call`;
    else if (typeof obj.transcript !== 'string') why = 'no transcript in the result';
    else if (withProgress && !wireProgress.get(spec.args.PROMPT)) why = 'it asked for progress and got no notification';
    else why = spec.check(obj);
  } catch (err) {
    why = `the call threw: ${String(err?.message ?? err).slice(0, 300)}`;
  }
  const ms = Date.now() - start;
  progressNotes += wireProgress.get(spec.args.PROMPT) ?? 0;
  wireProgress.delete(spec.args.PROMPT);
  if (why) {
    // A failed call's session is not resumed again: its turn count is in doubt.
    failures.push({ i, kind: spec.kind, error: why, answer: JSON.stringify(obj ?? null).slice(0, 600) });
  } else {
    let s = resumed;
    if (!s) {
      s = { id: obj.SESSION_ID, cd: spec.args.cd, firstTok: `soak-${i}-`, calls: 0 };
      sessions.set(s.id, s);
    }
    s.calls++;
    if (s.calls < opt.maxTurns) idle.push(s);
    records.push({ i, kind: spec.kind, ms, session: obj.SESSION_ID, transcript: obj.transcript, prompt: spec.args.PROMPT,
      resumed: Boolean(resumed), progress: withProgress });
  }
  completed++;
  if (completed > 1 && (completed % opt.sampleEvery === 0 || completed === tenth)) {
    const s = sample(sdk.pid, completed, t0);
    samples.push(s);
    say(`${completed}/${opt.calls} calls, ${s.t_s.toFixed(1)} s, ${failures.length} failed; fds ${s.fds}, children ${s.children}, ` +
      `zombies ${s.zombies}, VmRSS ${kib(s.rssKiB)}; registry ${s.registryBehind} turn ends behind`);
  }
}

const tenth = Math.max(2, Math.ceil(opt.calls / 10));
let warm;
let start;
let end;
let runS = 0;
let shutdown = { code: null, signal: null, left: [] };
const loadStart = os.loadavg();

try {
  say(`${serverBin()} ${serverArgs.join(' ')}`);
  say(`${opt.calls} calls, ${opt.parallel} at a time, ${opt.codex} codex, engine ${opt.engine}; state ${stateDir}`);
  sdk = await connectSdk(serverArgs, serverEnv, { name: 'soak', timeoutMs: 20000 });
  serverProc = sdk.transport._process;
  countProgress(sdk.transport);
  t0 = Date.now();
  const initial = sample(sdk.pid, 0, t0);

  // The warm-up: call 0 alone; the start is measured after it has settled.
  await runCall(0);
  warm = { ms: records[0]?.ms ?? null };
  start = await settle(sdk.pid, completed, t0, (s) => s.zombies === 0 && (opt.engine === 'exec' ? s.children === 0 : s.appservers.length === 1), opt.settleS);
  start.fdList = fdTargets(sdk.pid);
  start.described = describePids(start.pids);
  samples.push(start);
  say(`start (after the warm-up call): fds ${start.fds}, children ${start.children} (${start.appservers.length} app-server), VmRSS ${kib(start.rssKiB)}`);

  // The run: P workers take the next call until all are sent.
  const tRun = Date.now();
  let next = 1;
  const worker = async () => {
    while (next < opt.calls) await runCall(next++);
  };
  await Promise.all(Array.from({ length: Math.min(opt.parallel, opt.calls - 1) }, worker));
  runS = (Date.now() - tRun) / 1000;

  // The end: after the counts have come back and the registry has recorded
  // every turn's end (or --settle-s has passed).
  end = await settle(sdk.pid, completed, t0, (s) => s.zombies === 0 && s.children === start.children && s.fds === start.fds &&
    s.registryBehind === 0, opt.settleS);
  end.fdList = fdTargets(sdk.pid);
  end.described = describePids(end.pids);
  samples.push(end);
  say(`end (settled): fds ${end.fds}, children ${end.children}, zombies ${end.zombies}, VmRSS ${kib(end.rssKiB)}; ` +
    `registry ${end.registryBehind} turn ends behind`);

  // Shutdown: stdin EOF; the server must exit 0 and leave nothing of the run.
  // 'exit', not 'close': a process of the run that kept the server's
  // stdout would hold 'close' back; it is found below.
  const closed = new Promise((r) => serverProc.once('exit', (code, signal) => r({ code, signal })));
  serverProc.stdin.end();
  shutdown = await withTimeout(closed, 15000, 'the server to exit after stdin EOF').catch((e) => ({ code: null, signal: null, error: e.message }));
  const gone = await waitNoneWithEnv(MARKER, 5000);
  shutdown.left = gone.left.map((p) => describePids([p]));
  samples.unshift(initial);
} catch (err) {
  failures.push({ i: -1, kind: 'harness', error: String(err?.stack ?? err).slice(0, 1000) });
} finally {
  await sdk?.close();
  await terminateWithEnv(MARKER);
  await fake?.close();
  if (home) removeCodexHome(home);
}

// ---- the registry and the transcripts ----------------------------------------

say(`checking the registry and the transcripts`);


const newCalls = records.filter((r) => !r.resumed).length;
const turnsBySession = new Map();
for (const r of records) turnsBySession.set(r.session, (turnsBySession.get(r.session) ?? 0) + 1);
const registry = {};
try {
  const dbFiles = fs.readdirSync(stateDir).filter((f) => f.startsWith('codexmcp.sqlite'));
  registry.bytes = Object.fromEntries(dbFiles.map((f) => [f, fs.statSync(path.join(stateDir, f)).size]));
  registry.integrity = sql('PRAGMA integrity_check;');
  registry.sessions = Number(sql('SELECT count(*) FROM sessions;'));
  registry.turns = Number(sql('SELECT count(*) FROM turns;'));
  registry.tasks = Number(sql('SELECT count(*) FROM tasks;'));
  registry.turnStatus = Object.fromEntries(sql('SELECT status, count(*) FROM turns GROUP BY status;').split('\n').filter(Boolean).map((l) => {
    const [k, v] = l.split('\t');
    return [k, Number(v)];
  }));
  registry.turnsIncomplete = Number(sql('SELECT count(*) FROM turns WHERE session_id IS NULL OR transcript IS NULL OR finished_ms IS NULL;'));
  registry.serverPids = sql('SELECT DISTINCT server_pid FROM turns;').split('\n').filter(Boolean).map(Number);
  const rows = sql('SELECT lower(session_id), count(*) FROM turns GROUP BY lower(session_id);').split('\n').filter(Boolean);
  const mismatched = [];
  for (const l of rows) {
    const [sid, n] = l.split('\t');
    const want = turnsBySession.get(sid) ?? [...turnsBySession].find(([k]) => k.toLowerCase() === sid)?.[1] ?? 0;
    if (want !== Number(n)) mismatched.push(`${sid}: ${n} turns, ${want} calls`);
  }
  registry.sessionsWithOtherTurnCounts = mismatched.length;
  registry.mismatchExamples = mismatched.slice(0, 5);
  registry.transcripts = new Set(sql('SELECT transcript FROM turns;').split('\n').filter(Boolean));
  // Each turn row is its call's: the prompt and the session of the call whose result names its transcript.
  const byPath = new Map(records.map((r) => [r.transcript, r]));
  const wrong = [];
  for (const l of sql('SELECT transcript, lower(session_id), prompt FROM turns;').split('\n').filter(Boolean)) {
    const [file, sid, prompt] = l.split('\t');
    const r = byPath.get(file);
    if (!r) wrong.push(`${file}: no answered call names it`);
    else if (sid !== r.session.toLowerCase() || prompt !== r.prompt) wrong.push(`${file}: session ${sid}, prompt ${JSON.stringify(prompt)}; its call: ${r.session}, ${JSON.stringify(r.prompt)}`);
  }
  registry.turnsNotTheirCalls = wrong.length;
  registry.turnExamples = wrong.slice(0, 5);
} catch (err) {
  registry.error = String(err?.message ?? err).slice(0, 500);
}

const transcripts = { count: 0, bytes: 0, min: null, max: null, median: null, bad: [] };
{
  const files = [];
  const walk = (d) => {
    for (const e of fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }) : []) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(path.join(stateDir, 'transcripts'));
  const byPath = new Map(records.map((r) => [r.transcript, r]));
  const sizes = [];
  for (const f of files) {
    const size = fs.statSync(f).size;
    sizes.push(size);
    transcripts.bytes += size;
    const bad = (why) => transcripts.bad.push(`${path.relative(stateDir, f)}: ${why}`);
    if (!f.endsWith('.jsonl')) bad('not a .jsonl file');
    if (size < opt.transcriptMin || size > opt.transcriptMax) bad(`${size} bytes, outside ${opt.transcriptMin}..${opt.transcriptMax}`);
    const r = byPath.get(f);
    if (!r) bad('no answered call names it');
    if (registry.transcripts && !registry.transcripts.has(f)) bad('no turn in the registry names it');
    const lines = fs.readFileSync(f, 'utf8').split('\n').filter(Boolean);
    let first, last;
    try {
      first = JSON.parse(lines[0]);
      last = JSON.parse(lines.at(-1));
    } catch {
      bad('its first or last line is not JSON');
      continue;
    }
    if (first.type !== 'codexmcp.call') bad(`first line is ${first.type}, not codexmcp.call`);
    if (last.type !== 'codexmcp.exit' || last.exit_status !== 0 || last.signal !== 0) bad(`last line is not a codexmcp.exit of status 0: ${lines.at(-1).slice(0, 200)}`);
    if (r && first.prompt !== r.prompt) bad(`its call line has the prompt ${JSON.stringify(first.prompt)}, its call sent ${JSON.stringify(r.prompt)}`);
    const count = (type) => lines.filter((l) => l.includes(`"type":"${type}"`)).length;
    for (const type of ['codexmcp.call', 'thread.started', 'turn.started', 'turn.completed', 'codexmcp.exit'])
      if (count(type) !== 1) bad(`${count(type)} ${type} lines, not one`);
    if (r && !lines.some((l) => l.includes('"thread.started"') && l.toLowerCase().includes(r.session.toLowerCase()))) bad(`no thread.started of its session ${r.session}`);
  }
  transcripts.count = files.length;
  sizes.sort((a, b) => a - b);
  if (sizes.length) [transcripts.min, transcripts.median, transcripts.max] = [sizes[0], sizes[sizes.length >> 1], sizes.at(-1)];
  const onDisk = new Set(files);
  transcripts.answeredWithoutFile = records.filter((r) => !onDisk.has(r.transcript)).length;
  transcripts.badCount = transcripts.bad.length;
  transcripts.bad = transcripts.bad.slice(0, 10);
}

// ---- criteria ----------------------------------------------------------------

const at10 = samples.find((s) => s.calls >= tenth && s !== start) ?? null;
const appEngine = opt.engine !== 'exec';
if (start && end) {
  criterion('failures', failures.length === 0, `${failures.length} of ${opt.calls} calls failed`);
  const fdDiff = end.fds === start.fds ? '' : `; opened since the start: ${end.fdList.filter((x) => !start.fdList.includes(x)).join(', ') || '-'}; ` +
    `closed: ${start.fdList.filter((x) => !end.fdList.includes(x)).join(', ') || '-'}`;
  criterion('fds', end.fds === start.fds, `start ${start.fds}, end ${end.fds}${fdDiff}`);
  criterion('children', end.children === start.children, `start ${start.children}, end ${end.children}` +
    (end.children === start.children ? '' : `\n  start: ${start.described}\n  end: ${end.described}`));
  criterion('zombies', end.zombies === 0, `${end.zombies} at the end (at most ${Math.max(...samples.map((s) => s.zombies))} in any sample)`);
  const growth = at10 ? end.rssKiB - at10.rssKiB : NaN;
  criterion('rss', at10 && growth < opt.rssToleranceKiB,
    at10 ? `VmRSS ${at10.rssKiB} KiB after ${at10.calls} calls, ${end.rssKiB} KiB at the end: ${growth >= 0 ? '+' : ''}${growth} KiB (limit < ${opt.rssToleranceKiB} KiB)` : 'no sample at 10 % of the calls');
  criterion('engine', appEngine
    ? start.appservers.length === 1 && end.appservers.length === 1 && start.appservers[0] === end.appservers[0]
    : start.appservers.length === 0 && end.appservers.length === 0,
  `app-server processes: ${JSON.stringify(start.appservers)} at the start, ${JSON.stringify(end.appservers)} at the end` +
    (appEngine ? ' (one, the same)' : ' (none under exec)'));
} else {
  criterion('failures', false, `the run did not finish: ${failures.at(-1)?.error ?? '?'}`);
}
criterion('shutdown', shutdown.code === 0 && shutdown.signal === null && shutdown.left.length === 0,
  `exit ${shutdown.code}${shutdown.signal ? ` (signal ${shutdown.signal})` : ''}${shutdown.error ? ` (${shutdown.error})` : ''}; ` +
  `${shutdown.left.length} process(es) of the run left${shutdown.left.length ? `: ${shutdown.left.join('; ')}` : ''}`);
{
  const r = registry;
  const problems = [];
  if (r.error) problems.push(r.error);
  else {
    if (r.integrity !== 'ok') problems.push(`integrity_check: ${r.integrity.slice(0, 200)}`);
    if (r.sessions !== newCalls) problems.push(`${r.sessions} sessions for ${newCalls} new calls`);
    if (r.turns !== opt.calls) problems.push(`${r.turns} turns for ${opt.calls} calls`);
    if ((r.turnStatus.completed ?? 0) !== r.turns) problems.push(`turn statuses ${JSON.stringify(r.turnStatus)}`);
    if (r.turnsIncomplete) problems.push(`${r.turnsIncomplete} turns without a session, transcript or end`);
    if (r.serverPids.length !== 1 || r.serverPids[0] !== sdk?.pid) problems.push(`server pids ${JSON.stringify(r.serverPids)} (server ${sdk?.pid})`);
    if (r.turnsNotTheirCalls) problems.push(`${r.turnsNotTheirCalls} turns that are not their call's: ${r.turnExamples.join('; ')}`);
    if (r.sessionsWithOtherTurnCounts) problems.push(`${r.sessionsWithOtherTurnCounts} sessions whose turns differ from their calls: ${r.mismatchExamples.join('; ')}`);
    if (r.tasks !== 0) problems.push(`${r.tasks} task rows (none expected: no call ran in the background)`);
  }
  criterion('registry', problems.length === 0, problems.length ? problems.join('; ')
    : `${r.sessions} sessions (= new calls), ${r.turns} turns (= calls), all completed; integrity ok`);
}
{
  const t = transcripts;
  const problems = [];
  if (t.count !== opt.calls) problems.push(`${t.count} files for ${opt.calls} calls`);
  if (registry.transcripts && registry.transcripts.size !== opt.calls) problems.push(`the turns name ${registry.transcripts.size} distinct transcripts`);
  if (t.answeredWithoutFile) problems.push(`${t.answeredWithoutFile} results name a transcript that is not there`);
  if (t.badCount) problems.push(`${t.badCount} bad: ${t.bad.join('; ')}`);
  criterion('transcripts', problems.length === 0, problems.length ? problems.join('; ')
    : `${t.count} files (= calls), ${t.bytes} bytes; each ${t.min}..${t.max} bytes (median ${t.median}), within ${opt.transcriptMin}..${opt.transcriptMax}`);
}

// ---- output ------------------------------------------------------------------

const lat = records.map((r) => r.ms).sort((a, b) => a - b);
const pct = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] : null);
const byKind = {};
for (const r of records) byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
const strip = (s) => (s ? { calls: s.calls, t_s: s.t_s, fds: s.fds, children: s.children, zombies: s.zombies, rssKiB: s.rssKiB, anonKiB: s.anonKiB, hwmKiB: s.hwmKiB,
  registryBehind: s.registryBehind, appserverRssKiB: s.appserverRssKiB } : null);
const figures = {
  bench: 'soak',
  when: new Date().toISOString(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg_start: loadStart, loadavg_end: os.loadavg() },
  server: { bin: serverBin(), args: serverArgs, pid: sdk?.pid ?? null },
  options: { ...opt },
  start_measured: 'after the first call (a warm-up, one of the calls) and a settle; under the app-server engine the warm app-server and its supervisor are in the start count',
  calls: {
    total: opt.calls,
    answered_ok: records.length,
    new_sessions: newCalls,
    resumed: records.filter((r) => r.resumed).length,
    with_progress: records.filter((r) => r.progress).length,
    by_kind: byKind,
  },
  progress_notifications: progressNotes,
  failures: failures.length,
  failure_examples: failures.slice(0, 10),
  warmup_call_ms: warm?.ms ?? null,
  run_s: Number(runS.toFixed(2)),
  calls_per_s: runS ? Number(((opt.calls - 1) / runS).toFixed(2)) : null,
  latency_ms: { p50: pct(50), p95: pct(95), max: lat.at(-1) ?? null },
  start: start ? { ...strip(start), appservers: start.appservers, processes: start.described, fd_list: start.fdList } : null,
  at_10_percent: strip(at10),
  end: end ? { ...strip(end), appservers: end.appservers, processes: end.described, fd_list: end.fdList } : null,
  rss_growth_kib: start && end && at10 ? end.rssKiB - at10.rssKiB : null,
  peak_children: samples.length ? Math.max(...samples.map((s) => s.children)) : null,
  samples: samples.map(strip),
  shutdown,
  registry: { ...registry, transcripts: undefined },
  transcripts,
  criteria,
  ok: criteria.every((c) => c.ok),
};

fs.mkdirSync(path.dirname(opt.out), { recursive: true });
fs.writeFileSync(opt.out, JSON.stringify(figures, null, 2) + '\n');
console.log(JSON.stringify(figures, null, 2));

say('');
say(`${opt.calls} calls (${newCalls} new sessions, ${figures.calls.resumed} resumed), ${opt.parallel} at a time, ${opt.codex} codex, engine ${opt.engine}`);
say(`run ${runS.toFixed(1)} s after the warm-up call (${warm?.ms ?? '?'} ms): ${figures.calls_per_s} calls/s; latency p50 ${figures.latency_ms.p50} ms, p95 ${figures.latency_ms.p95} ms, max ${figures.latency_ms.max} ms`);
if (start && end) {
  say(`fds ${start.fds} -> ${end.fds}; children ${start.children} -> ${end.children} (peak ${figures.peak_children}); zombies at the end ${end.zombies}`);
  say(`VmRSS ${at10 ? kib(at10.rssKiB) : '?'} at ${at10?.calls ?? '?'} calls -> ${kib(end.rssKiB)} at the end (${figures.rss_growth_kib} KiB); peak VmHWM ${kib(end.hwmKiB)}`);
  if (start.appserverRssKiB !== null)
    say(`the app-server's VmRSS (not a criterion): ${kib(start.appserverRssKiB)} at the start, ${at10?.appserverRssKiB ? kib(at10.appserverRssKiB) : '?'} at ${at10?.calls ?? '?'} calls, ${end.appserverRssKiB ? kib(end.appserverRssKiB) : '?'} at the end`);
}
say(`registry: ${registry.sessions} sessions, ${registry.turns} turns, ${JSON.stringify(registry.bytes ?? {})} bytes`);
say(`transcripts: ${transcripts.count} files, ${transcripts.bytes} bytes (${transcripts.min}..${transcripts.max}, median ${transcripts.median})`);
for (const c of criteria) say(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
for (const f of failures.slice(0, 5)) say(`  failed call ${f.i} (${f.kind}): ${f.error}`);
say(`figures: ${path.relative(process.cwd(), opt.out)}`);

if (opt.keep) say(`kept ${work}`);
else fs.rmSync(work, { recursive: true, force: true });
const bad = criteria.filter((c) => !c.ok).map((c) => c.name);
if (bad.length) {
  say(`FAILED: ${bad.join(', ')}`);
  process.exit(1);
}
say('passed');
