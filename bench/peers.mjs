// codexmcp next to its peers, all driven the same way over stdio against the
// fake Responses endpoint of the e2e tests (no network; the real Codex CLI):
//   codexmcp            build/codexmcp, one row per engine (--engine exec and
//                       --engine appserver when the binary has the option)
//   official            `codex mcp-server` of @openai/codex 0.153.4 (the last
//                       release that has it), its native binary run directly
//   codex-mcp-server    the Node bridge codex-mcp-server 1.4.10, run with
//                       node and given Codex 0.169 as `codex` on its PATH
// Figures, each over --rounds rounds (a fresh server process per round):
// spawn to the initialize answer, idle RSS of the server's process tree,
// first call after start, one call on a new session, one call resuming it,
// wall time of --parallel concurrent calls on one connection and the peak
// RSS of the tree meanwhile (sampled every 20 ms), and the overhead of one
// call over the same turn run by the engine directly (run in the same round,
// just before that call). Every call is checked (the answer echoes its
// prompt, a resumed call continues the first call's codex session) and every
// server must reach the fake endpoint once per call.
// Goals (codexmcp with the app-server engine ÷ the official server, same
// run) are printed as PASS/MISS at the end.
// Needs bench/install-peers.sh (the peers) and npm ci in tests/e2e (Codex
// 0.169, the MCP SDK). Prints a table and writes build/bench/peers.json;
// bench/plot-peers.mjs draws it.
// Usage: node bench/peers.mjs [--rounds N] [--parallel N] [--max-parallel N]
//          [--timeout S] [--servers k1,k2] [--cache DIR] [--out FILE]
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startFakeResponses } from '../tests/e2e/lib/fake-responses.mjs';
import { codexBin, env as codexEnv, makeCodexHome, removeCodexHome } from '../tests/e2e/lib/codex-env.mjs';
import { serverBin, withTimeout } from '../tests/e2e/lib/mcp.mjs';
import { allPids, descendants, killWithEnv, procStat } from '../tests/e2e/lib/procs.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');

// ---------------------------------------------------------------- options
const USAGE = 'usage: node bench/peers.mjs [--rounds N] [--parallel N] [--max-parallel N] [--timeout S] [--servers k1,k2] [--cache DIR] [--out FILE]';
const opt = {
  rounds: 7,
  parallel: 8,
  maxParallel: null, // codexmcp --max-parallel; default: --parallel, so all calls are in flight at once
  timeout: 60,
  servers: null,
  cache: process.env.CODEXMCP_BENCH_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'codexmcp-bench'),
  out: path.join(repo, 'build', 'bench', 'peers.json'),
};
{
  const a = process.argv.slice(2);
  const num = (flag, v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} wants a positive integer, got ${v}\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < a.length; i++) {
    const [flag, inline] = a[i].split(/=(.*)/s);
    const val = () => (inline !== undefined ? inline : a[++i]);
    if (flag === '--rounds') opt.rounds = num(flag, val());
    else if (flag === '--parallel') opt.parallel = num(flag, val());
    else if (flag === '--max-parallel') opt.maxParallel = num(flag, val());
    else if (flag === '--timeout') opt.timeout = num(flag, val());
    else if (flag === '--servers') opt.servers = val().split(',').filter(Boolean);
    else if (flag === '--cache') opt.cache = path.resolve(val());
    else if (flag === '--out') opt.out = path.resolve(val());
    else if (flag === '-h' || flag === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${a[i]}\n${USAGE}`);
  }
  opt.maxParallel ??= opt.parallel;
}
const CALL_MS = opt.timeout * 1000; // any one request
const SETTLE_MS = 500; // after initialize, before the idle RSS is read
const SAMPLE_MS = 20; // RSS sampling period while calls are in flight
const PROTOCOL = '2025-06-18'; // known to all three servers
const OFFICIAL_VERSION = '0.153.4';
const CMS_VERSION = '1.4.10';

// ---------------------------------------------------------------- helpers
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const stats = (xs) => (xs.length ? { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length, samples: xs } : null);
const tail = (s, n = 1500) => (s.length > n ? '…' + s.slice(-n) : s);
const readText = (f) => {
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return null;
  }
};
const firstLine = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10000 });
  return ((r.stdout || '') + (r.stderr || '')).trim().split('\n')[0] || null;
};

// ---------------------------------------------------------------- processes
// Every process the bench starts carries RUN_MARK in its environment; all of
// them (and their descendants, found through /proc) are killed on the way
// out, also on an error or a signal.
const RUN_MARK = `CODEXMCP_PEERS_RUN=${crypto.randomUUID()}`;
const [MARK_KEY, MARK_VAL] = RUN_MARK.split('=');
const live = new Set();

function launch(cmd, args, env, cwd) {
  const child = spawn(cmd, args, { env: { ...env, [MARK_KEY]: MARK_VAL }, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  child.on('exit', () => live.delete(child));
  child.on('error', () => live.delete(child));
  child.stdin.on('error', () => {}); // EPIPE once it is gone
  return child;
}

function treePids(pid) {
  return pid ? [pid, ...descendants(pid)] : [];
}

function killPids(pids) {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {}
  }
}

function killEverything() {
  for (const c of [...live]) killPids(treePids(c.pid));
  killWithEnv(RUN_MARK);
}
const scratch = []; // folders removed on the way out
function removeScratch() {
  for (const d of scratch.splice(0)) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch {}
  }
}
process.on('exit', () => {
  killEverything();
  removeScratch();
});
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.on(sig, () => {
    console.error(`\npeers: ${sig}: stopping every process started`);
    killEverything();
    removeScratch();
    process.exit(code);
  });
}

/** End a server: close its stdin, give it `graceMs`, then SIGKILL its whole tree (listed beforehand). */
async function stopProcess(child, graceMs = 1500) {
  if (!child.pid) return;
  const pids = treePids(child.pid);
  const exited = new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r)));
  child.stdin.end();
  await Promise.race([exited, sleep(graceMs)]);
  killPids(pids.filter((p) => p !== child.pid || (child.exitCode === null && child.signalCode === null)));
  await Promise.race([exited, sleep(2000)]);
}

// ---------------------------------------------------------------- memory
const PAGE = Number(firstLine('getconf', ['PAGESIZE'])) || 4096;

/** Resident and proportional set size (bytes) of one process, or null when gone. */
function procMem(pid) {
  const statm = readText(`/proc/${pid}/statm`);
  if (!statm) return null;
  const rss = Number(statm.split(' ')[1]) * PAGE;
  const rollup = readText(`/proc/${pid}/smaps_rollup`);
  // Short-lived helpers (codex runs lsb_release and a login shell at start)
  // can end between the two reads: then the process counts as gone (a
  // zombie has no resident pages left).
  if (rollup === null) {
    const again = readText(`/proc/${pid}/statm`);
    if (again === null) return null;
    if (Number(again.split(' ')[1]) === 0) return { rss: 0, pss: 0 };
  }
  const m = /^Pss:\s+(\d+) kB/m.exec(rollup || '');
  return { rss, pss: m ? Number(m[1]) * 1024 : null };
}

/** The process and its live descendants, parents before children: [{ pid, ppid }]. */
function treeProcs(root) {
  const kids = new Map();
  for (const p of allPids()) {
    const st = procStat(p);
    if (!st || st.state === 'Z' || st.state === 'X') continue;
    if (!kids.has(st.ppid)) kids.set(st.ppid, []);
    kids.get(st.ppid).push(st.pid);
  }
  const out = [{ pid: root, ppid: null }];
  for (let i = 0; i < out.length; i++) for (const k of kids.get(out[i].pid) ?? []) out.push({ pid: k, ppid: out[i].pid });
  return out;
}

/**
 * Memory of the process and all its descendants. rss and pss are sums over
 * the tree (the figures). A fork not yet exec'd (same argv as its parent, or
 * none) shares its parent's pages (a vfork child its very mm) yet adds its
 * whole RSS to the sum: rssNoFork leaves such copies out, for an [extra]
 * figure; pss always does.
 */
function treeMem(root) {
  let rss = 0, pss = 0, rssNoFork = 0, procs = 0, pssMissing = 0;
  const each = [];
  const argvOf = new Map();
  for (const { pid, ppid } of treeProcs(root)) {
    const m = procMem(pid);
    if (!m) continue;
    const argv = readText(`/proc/${pid}/cmdline`) ?? '';
    argvOf.set(pid, argv);
    const forkCopy = ppid !== null && (argv === '' || argv === argvOf.get(ppid));
    procs++;
    rss += m.rss;
    if (!forkCopy) rssNoFork += m.rss;
    each.push({ pid, argv, forkCopy, rss: m.rss, pss: m.pss });
    if (m.pss === null) pssMissing++;
    else if (!forkCopy) pss += m.pss; // a vfork child shares its parent's mm: its PSS is the parent's again
  }
  return { rss, pss, rssNoFork, procs, pssMissing, each };
}

/** What a tree sample is made of: RSS and PSS (MB) summed by program ("codex app-server", "bash -lc", …). */
function composition(each) {
  const groups = new Map();
  for (const { argv: raw, forkCopy, rss, pss } of each) {
    const argv = raw.split('\0').filter((x, i, a) => x !== '' || i < a.length - 1);
    const a0 = path.basename(argv[0] ?? '?');
    const a1 = argv[1] === undefined ? '' : argv[1].startsWith('/') ? path.basename(argv[1]) : argv[1].slice(0, 24);
    const name = forkCopy ? `(fork of ${argv.length ? `${a0} ${a1}`.trim() : 'its parent'}, not exec'd yet)` : `${a0} ${a1}`.trim();
    const g = groups.get(name) ?? { program: name, count: 0, rssMB: 0, pssMB: 0 };
    g.count++;
    g.rssMB += rss / 2 ** 20;
    g.pssMB += (pss ?? 0) / 2 ** 20;
    groups.set(name, g);
  }
  return [...groups.values()].sort((a, b) => b.rssMB - a.rssMB).map((g) => ({ ...g, rssMB: +g.rssMB.toFixed(1), pssMB: +g.pssMB.toFixed(1) }));
}

// ---------------------------------------------------------------- JSON-RPC over stdio
/** Line-delimited JSON-RPC client on a child's stdio (MCP and the app-server alike). */
class Rpc {
  constructor(child, label) {
    this.child = child;
    this.label = label;
    this.pending = new Map();
    this.nextId = 1;
    this.notifications = 0;
    this.serverRequests = [];
    this.onNotification = null;
    this.stderr = '';
    this.gone = null;
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) this.#line(line);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      this.stderr = (this.stderr + d).slice(-20000);
    });
    const fail = (why) => {
      this.gone = why;
      for (const p of this.pending.values()) p.reject(new Error(`${label}: ${why} with a request pending; stderr: ${tail(this.stderr)}`));
      this.pending.clear();
    };
    child.on('exit', (code, sig) => fail(`exited (${code ?? sig})`));
    child.on('error', (err) => fail(`could not run: ${err.message}`));
  }

  #line(line) {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      return; // not ours to judge here
    }
    if (msg && msg.id !== undefined && msg.id !== null && msg.method === undefined) {
      const p = this.pending.get(msg.id);
      if (p) {
        this.pending.delete(msg.id);
        p.resolve(msg);
      }
    } else if (msg && typeof msg.method === 'string' && msg.id !== undefined) {
      // A request from the server (roots, elicitation, approval …): none is
      // expected with these settings; answer so nothing waits on us.
      this.serverRequests.push(msg.method);
      const result = msg.method === 'roots/list' ? { roots: [] } : msg.method === 'ping' ? {} : null;
      this.send(result ? { jsonrpc: '2.0', id: msg.id, result } : { jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'the bench client does not answer this' } });
    } else if (msg && typeof msg.method === 'string') {
      this.notifications++;
      this.onNotification?.(msg);
    }
  }

  send(obj) {
    if (!this.gone) this.child.stdin.write(JSON.stringify(obj) + '\n');
  }

  notify(method, params) {
    this.send(params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params });
  }

  /** Resolves with the reply message (result or error), rejects on exit or after timeoutMs. */
  request(method, params, timeoutMs = CALL_MS) {
    if (this.gone) return Promise.reject(new Error(`${this.label}: ${this.gone}; stderr: ${tail(this.stderr)}`));
    const id = this.nextId++;
    const p = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.send({ jsonrpc: '2.0', id, method, params });
    return withTimeout(p, timeoutMs, `${this.label}: ${method}`).finally(() => this.pending.delete(id));
  }
}

// ---------------------------------------------------------------- what is compared
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-peers-'));
scratch.push(work);
const project = path.join(work, 'project'); // the calls' cwd, and every server's cwd
fs.mkdirSync(project);
fs.writeFileSync(path.join(project, 'README.md'), 'bench project\n');

const CODEX = codexBin(); // Codex 0.169, the engine of codexmcp and codex-mcp-server
const MODEL = 'gpt-5.5'; // makeCodexHome's model, also given to codex-mcp-server

/** This process's environment without codexmcp's own settings (the rows set what they mean). */
function baseEnv(home, extra = {}) {
  const e = codexEnv(home, extra);
  for (const k of Object.keys(e)) if (k.startsWith('CODEXMCP_') && !(k in extra)) delete e[k];
  return e;
}

const engineFlag = (() => {
  const r = spawnSync(serverBin(), ['--help'], { encoding: 'utf8', timeout: 10000 });
  if (r.error) throw new Error(`cannot run ${serverBin()} (make first): ${r.error.message}`);
  return /--engine\b/.test((r.stdout || '') + (r.stderr || ''));
})();

const officialRoot = path.join(opt.cache, `codex-${OFFICIAL_VERSION}`, 'node_modules', '@openai', 'codex');
const officialBin = (() => {
  // What bin/codex.js runs: the platform package's vendor/<triple>/bin/codex.
  const scope = path.join(opt.cache, `codex-${OFFICIAL_VERSION}`, 'node_modules', '@openai');
  const triple = { x64: 'x86_64-unknown-linux-musl', arm64: 'aarch64-unknown-linux-musl' }[process.arch];
  const pkg = { x64: 'codex-linux-x64', arm64: 'codex-linux-arm64' }[process.arch];
  const p = path.join(scope, pkg ?? '-', 'vendor', triple ?? '-', 'bin', 'codex');
  return fs.existsSync(p) ? p : null;
})();
const cmsRoot = path.join(opt.cache, `codex-mcp-server-${CMS_VERSION}`, 'node_modules', 'codex-mcp-server');
const cmsEntry = path.join(cmsRoot, 'dist', 'index.js');

// codex-mcp-server runs `codex` from PATH: a folder with a `codex` that is Codex 0.169.
const shim = path.join(work, 'shim');
fs.mkdirSync(shim);
fs.symlinkSync(CODEX, path.join(shim, 'codex'));

const textOf = (msg) => (msg?.result?.content ?? []).map((c) => (c && typeof c.text === 'string' ? c.text : '')).join('\n');

function codexmcpRow(engine) {
  const key = engine ? `codexmcp-${engine}` : 'codexmcp';
  const args = ['--codex', CODEX, '--max-parallel', String(opt.maxParallel), ...(engine ? ['--engine', engine] : [])];
  return {
    key,
    label: engine ? `codexmcp (${engine === 'appserver' ? 'app-server' : 'exec'} engine)` : 'codexmcp (exec; no --engine yet)',
    short: engine ? `codexmcp ${engine === 'appserver' ? 'app-server' : 'exec'}` : 'codexmcp',
    family: 'codexmcp',
    version: firstLine(serverBin(), ['--version']),
    direct: engine === 'appserver' ? 'appserver' : 'exec',
    notes: [`${path.relative(repo, serverBin())} ${args.join(' ').replace(CODEX, '<codex 0.169>')}`],
    command(home) {
      const state = path.join(work, `state-${key}`);
      return { cmd: serverBin(), args: [...args, '--state-dir', state], env: baseEnv(home), display: [serverBin(), ...args] };
    },
    newCall: (prompt) => ({ name: 'codex', arguments: { PROMPT: prompt, cd: project, sandbox: 'read-only', skip_git_repo_check: true } }),
    resumeCall: (prompt, sid) => ({ name: 'codex', arguments: { PROMPT: prompt, cd: project, sandbox: 'read-only', skip_git_repo_check: true, SESSION_ID: sid } }),
    check(msg, token) {
      if (msg.error) return { ok: false, why: JSON.stringify(msg.error) };
      let obj;
      try {
        obj = JSON.parse(msg.result.content[0].text);
      } catch {
        return { ok: false, why: `not JSON: ${textOf(msg).slice(0, 300)}` };
      }
      if (obj.success !== true || msg.result.isError) return { ok: false, why: textOf(msg).slice(0, 500) };
      if (!JSON.stringify(obj.agent_messages ?? '').includes(token)) return { ok: false, why: `answer lacks ${token}: ${textOf(msg).slice(0, 300)}` };
      return { ok: true, sessionId: obj.SESSION_ID };
    },
  };
}

const officialRow = {
  key: 'official',
  label: `official codex mcp-server ${OFFICIAL_VERSION}`,
  short: `official ${OFFICIAL_VERSION}`,
  family: 'official',
  version: officialBin ? firstLine(officialBin, ['--version']) : null,
  direct: 'appserver-official',
  notes: [
    'native binary run directly, as bin/codex.js does (same CODEX_MANAGED_* variables), without the node launcher',
    'direct engine: an app-server turn of the same binary (0.153.4): the server runs its turns in process',
  ],
  command(home) {
    const e = baseEnv(home, { CODEX_MANAGED_PACKAGE_ROOT: fs.realpathSync(officialRoot), CODEX_MANAGED_BY_NPM: '1' });
    return { cmd: officialBin, args: ['mcp-server'], env: e, display: [officialBin, 'mcp-server'] };
  },
  newCall: (prompt) => ({ name: 'codex', arguments: { prompt, cwd: project, sandbox: 'read-only', 'approval-policy': 'never' } }),
  resumeCall: (prompt, sid) => ({ name: 'codex-reply', arguments: { threadId: sid, prompt } }),
  check(msg, token) {
    if (msg.error) return { ok: false, why: JSON.stringify(msg.error) };
    if (msg.result.isError) return { ok: false, why: textOf(msg).slice(0, 500) };
    if (!textOf(msg).includes(token)) return { ok: false, why: `answer lacks ${token}: ${textOf(msg).slice(0, 300)}` };
    const sid = msg.result.structuredContent?.threadId ?? msg.result.structuredContent?.conversationId;
    return { ok: true, sessionId: sid };
  },
};

const cmsRow = {
  key: 'codex-mcp-server',
  label: `codex-mcp-server ${CMS_VERSION} (node)`,
  short: `codex-mcp-server ${CMS_VERSION}`,
  family: 'codex-mcp-server',
  version: (() => {
    try {
      return `codex-mcp-server ${JSON.parse(fs.readFileSync(path.join(cmsRoot, 'package.json'), 'utf8')).version}`;
    } catch {
      return null;
    }
  })(),
  direct: 'exec',
  notes: [
    `node ${process.version} dist/index.js run directly (not through npx); Codex 0.169 as \`codex\` first on PATH; CODEX_DEFAULT_MODEL=${MODEL} (its default model is gpt-5.3-codex)`,
    'runs `codex exec [--model M --sandbox S -C DIR --skip-git-repo-check] PROMPT` per call (text output, no --json)',
    'sessions: the client names one (sessionId); the server keeps the codex session id it reads off codex\'s stderr and resumes with `codex exec resume ID PROMPT` (run in the server\'s cwd, without sandbox or cwd flags)',
    'direct engine: `codex exec --json` (0.169)',
  ],
  command(home) {
    const e = baseEnv(home, { CODEX_DEFAULT_MODEL: MODEL });
    e.PATH = `${shim}${path.delimiter}${e.PATH ?? ''}`;
    return { cmd: process.execPath, args: [cmsEntry], env: e, display: ['node', cmsEntry] };
  },
  newCall: (prompt, sessionTag) => ({ name: 'codex', arguments: { prompt, workingDirectory: project, sandbox: 'read-only', ...(sessionTag ? { sessionId: sessionTag } : {}) } }),
  resumeCall: (prompt, sid) => ({ name: 'codex', arguments: { prompt, sessionId: sid } }),
  check(msg, token, sessionTag) {
    if (msg.error) return { ok: false, why: JSON.stringify(msg.error) };
    if (msg.result.isError) return { ok: false, why: textOf(msg).slice(0, 500) };
    if (!textOf(msg).includes(token)) return { ok: false, why: `answer lacks ${token}: ${textOf(msg).slice(0, 300)}` };
    return { ok: true, sessionId: sessionTag };
  },
};

let rows = [...(engineFlag ? [codexmcpRow('appserver'), codexmcpRow('exec')] : [codexmcpRow(null)]), officialRow, cmsRow];
if (opt.servers) {
  const unknown = opt.servers.filter((k) => !rows.some((r) => r.key === k));
  if (unknown.length) throw new Error(`unknown --servers ${unknown.join(',')}; known here: ${rows.map((r) => r.key).join(',')}`);
  rows = rows.filter((r) => opt.servers.includes(r.key));
}
const missing = [];
if (rows.includes(officialRow) && !officialBin) missing.push(`@openai/codex@${OFFICIAL_VERSION} (its native binary)`);
if (rows.includes(cmsRow) && !fs.existsSync(cmsEntry)) missing.push(`codex-mcp-server@${CMS_VERSION}`);
if (missing.length) {
  console.error(`peers: not installed under ${opt.cache}: ${missing.join(', ')}\npeers: run bench/install-peers.sh first (CODEXMCP_BENCH_CACHE or --cache choose the folder)`);
  process.exit(2);
}
const ref = rows.find((r) => r.key === 'codexmcp-appserver') ?? rows.find((r) => r.family === 'codexmcp') ?? null;

// ---------------------------------------------------------------- the fake endpoint
const fake = await startFakeResponses();
const homes = new Map(); // row key / direct engine -> CODEX_HOME (same config, one folder each: 0.153 and 0.169 keep state side by side)
const homeFor = (key) => {
  if (!homes.has(key)) {
    homes.set(key, makeCodexHome(fake.url));
    scratch.push(homes.get(key));
  }
  return homes.get(key);
};
/** Fake POST /responses requests whose prompt holds `token`. */
const requestsFor = (token) => fake.requests.filter((r) => !r.ignored && r.prompt.includes(token));

// ---------------------------------------------------------------- direct engines
/**
 * One `codex exec --json` turn, as call-latency.mjs runs it: ms from spawn
 * to exit; `completedMs`: to the turn.completed line (a bridge cannot answer
 * sooner; one that waits for the exit, later).
 */
function execTurn(home, prompt) {
  return new Promise((resolve, reject) => {
    const t = now();
    const p = launch(CODEX, ['exec', '--json', '--sandbox', 'read-only', '--cd', project, '--skip-git-repo-check', '--', '-'], baseEnv(home), project);
    let out = '';
    let err = '';
    let completedMs = null;
    p.stdout.on('data', (d) => {
      out += d;
      if (completedMs === null && out.includes('"turn.completed"')) completedMs = now() - t;
    });
    p.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
    const timer = setTimeout(() => killPids(treePids(p.pid)), CALL_MS);
    p.stdin.end(prompt);
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(timer);
      const ms = now() - t;
      if (code !== 0 || !out.includes('turn.completed') || !out.includes(prompt)) reject(new Error(`codex exec: exit ${code}: ${tail(err)}`));
      else resolve({ ms, completedMs });
    });
  });
}

/** A warm `codex app-server` driven directly: thread/start + turn/start until turn/completed, ms. */
async function startAppServer(bin, home, label) {
  const child = launch(bin, ['app-server'], baseEnv(home), project);
  const rpc = new Rpc(child, label);
  const done = new Map(); // threadId -> resolve(turn/completed params)
  rpc.onNotification = (m) => {
    if (m.method === 'turn/completed') done.get(m.params?.threadId)?.(m.params);
  };
  const init = await rpc.request('initialize', { clientInfo: { name: 'codexmcp-peers-bench', title: 'codexmcp peers bench', version: '1' }, capabilities: {} });
  if (init.error) throw new Error(`${label}: initialize: ${JSON.stringify(init.error)}`);
  rpc.notify('initialized');
  return {
    child,
    rpc,
    async turn(prompt) {
      const t = now();
      const th = await rpc.request('thread/start', { cwd: project, sandbox: 'read-only', approvalPolicy: 'never' });
      const threadId = th.result?.thread?.id;
      if (!threadId) throw new Error(`${label}: thread/start: ${JSON.stringify(th).slice(0, 300)}`);
      const completed = new Promise((r) => done.set(threadId, r));
      const ts = await rpc.request('turn/start', { threadId, input: [{ type: 'text', text: prompt }] });
      if (ts.error) throw new Error(`${label}: turn/start: ${JSON.stringify(ts.error)}`);
      const fin = await withTimeout(completed, CALL_MS, `${label}: turn/completed`).finally(() => done.delete(threadId));
      const ms = now() - t;
      if (fin.turn?.status !== 'completed') throw new Error(`${label}: turn ${fin.turn?.status}: ${JSON.stringify(fin.turn?.error ?? fin).slice(0, 300)}`);
      return { ms, completedMs: ms };
    },
  };
}

const apps = {}; // warm app-servers driven directly, by kind
const direct = { exec: [], appserver: [], 'appserver-official': [] }; // all direct turns, by kind: { ms, completedMs }
const directCalls = { exec: 0, appserver: 0, 'appserver-official': 0 };
const directErrors = [];
function directTurn(kind, prompt) {
  directCalls[kind]++;
  return kind === 'exec' ? execTurn(homeFor('direct-exec'), prompt) : apps[kind].turn(prompt);
}

/**
 * The harness's own share of "spawn to initialize answer": spawn `cat`, write
 * the same initialize line, read it back (ms).
 */
async function harnessFloor() {
  const t = now();
  const child = launch('cat', [], { PATH: process.env.PATH ?? '/usr/bin:/bin' }, project);
  try {
    const back = new Promise((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d) => {
        buf += d;
        if (buf.includes('\n')) resolve();
      });
      child.on('error', reject);
    });
    child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'codexmcp-peers-bench', version: '1' } } }) + '\n');
    await withTimeout(back, 10000, 'cat echo');
    return now() - t;
  } finally {
    await stopProcess(child, 500);
  }
}
const floor = [];

// ---------------------------------------------------------------- one round of one server
const results = Object.fromEntries(rows.map((r) => [r.key, { start: [], idleRss: [], idlePss: [], cold: [], one: [], resume: [], parallel: [], peakRss: [], peakRssNoFork: [], peakPss: [], peakProcs: [], direct: [], calls: 0, resumeChecked: 0, resumeSame: 0, errors: [], serverRequests: new Set() }]));

async function serverRound(row, round, record = true) {
  const R = results[row.key];
  const tag = `peers ${row.key} ${record ? `r${round}` : 'warm'}`;
  const spec = row.command(homeFor(row.key));
  const t0 = now();
  const child = launch(spec.cmd, spec.args, spec.env, project);
  const rpc = new Rpc(child, row.label);
  const call = async (params, token, sessionTag) => {
    const t = now();
    const msg = await rpc.request('tools/call', params);
    const ms = now() - t;
    R.calls++;
    const c = row.check(msg, token, sessionTag);
    if (!c.ok) throw new Error(`${row.label}: tools/call ${params.name} (${token}): ${c.why}`);
    return { ms, sessionId: c.sessionId };
  };
  try {
    const init = await rpc.request('initialize', { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'codexmcp-peers-bench', version: '1' } });
    const startMs = now() - t0;
    if (init.error) throw new Error(`${row.label}: initialize: ${JSON.stringify(init.error)}`);
    rpc.notify('notifications/initialized');
    if (!record) {
      const list = await rpc.request('tools/list', {});
      const names = (list.result?.tools ?? []).map((t) => t.name);
      row.tools = names;
      row.serverInfo = init.result?.serverInfo ?? null;
      const need = [row.newCall('x').name, row.resumeCall('x', 'y').name];
      for (const n of need) if (!names.includes(n)) throw new Error(`${row.label}: tools/list lacks ${n}: ${names.join(', ')}`);
    }
    await sleep(SETTLE_MS);
    const idle = treeMem(child.pid);

    const cold = await call(row.newCall(`${tag} cold`), `${tag} cold`);

    // The same turn run by the engine directly, now, so that it and the call
    // below meet the same conditions (this server idle, nothing else running).
    let dir = null;
    try {
      dir = await directTurn(row.direct, `peers direct ${row.direct} ${row.key} r${record ? round : 'warm'}`);
    } catch (e) {
      directErrors.push(`${row.direct} (${row.key} round ${round}): ${e.message}`);
    }

    const oneTok = `${tag} one`;
    const sessionTag = `bench-${row.key}-${record ? round : 'warm'}`;
    const one = await call(row.newCall(oneTok, sessionTag), oneTok, sessionTag);
    if (!one.sessionId) throw new Error(`${row.label}: no session id in the answer to a new session`);
    const resTok = `${tag} resume`;
    const resume = await call(row.resumeCall(resTok, one.sessionId), resTok, sessionTag);

    // N concurrent calls on this connection, each a new session; the tree's memory is sampled meanwhile.
    const peak = { rss: 0, rssNoFork: 0, pss: 0, procs: 0, programs: [] };
    const sample = () => {
      const m = treeMem(child.pid);
      if (m.rss > peak.rss) {
        peak.rss = m.rss;
        peak.programs = composition(m.each); // now: short-lived helpers are gone by the end
      }
      if (m.rssNoFork > peak.rssNoFork) peak.rssNoFork = m.rssNoFork;
      if (m.pss > peak.pss) peak.pss = m.pss;
      if (m.procs > peak.procs) peak.procs = m.procs;
      if (m.pssMissing) R.pssPartial = true;
    };
    const timer = setInterval(sample, SAMPLE_MS);
    let wall;
    try {
      const t = now();
      await Promise.all(Array.from({ length: opt.parallel }, (_, i) => call(row.newCall(`${tag} par${i}`), `${tag} par${i}`)));
      wall = now() - t;
    } finally {
      clearInterval(timer);
    }
    sample();

    // The resumed call must have continued the first call's codex session: the fake sees its id.
    const s1 = requestsFor(oneTok).map((r) => r.headers['session-id']);
    const s2 = requestsFor(resTok).map((r) => r.headers['session-id']);
    R.resumeChecked++;
    if (s1.length && s2.length && s1[0] && s1[0] === s2[0]) R.resumeSame++;
    for (const m of rpc.serverRequests) R.serverRequests.add(m);

    if (record) {
      R.start.push(startMs);
      R.idleRss.push(idle.rss / 2 ** 20);
      if (idle.pssMissing) R.pssPartial = true;
      R.idlePss.push(idle.pss / 2 ** 20);
      R.cold.push(cold.ms);
      if (dir) {
        R.direct.push(dir.ms);
        direct[row.direct].push(dir);
      }
      R.directPaired ??= [];
      R.directPaired.push(dir ? one.ms - dir.ms : null);
      R.one.push(one.ms);
      R.resume.push(resume.ms);
      R.parallel.push(wall);
      R.peakRss.push(peak.rss / 2 ** 20);
      R.peakRssNoFork.push(peak.rssNoFork / 2 ** 20);
      R.peakPss.push(peak.pss / 2 ** 20);
      R.peakProcs.push(peak.procs);
      if (peak.rss / 2 ** 20 >= Math.max(...R.peakRss)) R.peakComposition = { round, rssMB: +(peak.rss / 2 ** 20).toFixed(1), programs: peak.programs };
    }
  } finally {
    await stopProcess(child);
  }
}

// ---------------------------------------------------------------- run
const t0run = now();
const loadStart = os.loadavg();
let exitCode = 0;
try {
  console.log(`peers: ${rows.map((r) => r.label).join(', ')}; ${opt.rounds} rounds, ${opt.parallel} parallel calls, codexmcp --max-parallel ${opt.maxParallel}${engineFlag ? '' : '; codexmcp has no --engine yet: one codexmcp row, the exec engine'}`);
  const needDirect = new Set(rows.map((r) => r.direct));
  if (needDirect.has('appserver')) apps.appserver = await startAppServer(CODEX, homeFor('direct-appserver'), 'codex app-server 0.169');
  if (needDirect.has('appserver-official')) apps['appserver-official'] = await startAppServer(officialBin, homeFor('direct-appserver-official'), `codex app-server ${OFFICIAL_VERSION}`);

  // Warm-up (not recorded): page cache, each server and each direct engine once; checks tools/list.
  for (const row of rows) {
    try {
      await serverRound(row, 0, false);
    } catch (e) {
      results[row.key].errors.push(`warm-up: ${e.message}`);
      console.error(`peers: ${row.label}: warm-up failed: ${e.message}`);
    }
  }

  for (let round = 1; round <= opt.rounds; round++) {
    // Rotate the order each round so drift falls on every server alike.
    const order = rows.map((_, i) => rows[(i + round - 1) % rows.length]);
    for (const row of order) {
      if (results[row.key].errors.length >= 3) continue; // give up on a server that keeps failing
      try {
        await serverRound(row, round);
      } catch (e) {
        results[row.key].errors.push(`round ${round}: ${e.message}`);
        console.error(`peers: ${row.label}: round ${round} failed: ${e.message}`);
      }
      await sleep(200); // let the last tree's teardown (freeing its memory) finish
    }
    try {
      floor.push(await harnessFloor());
    } catch (e) {
      directErrors.push(`harness floor, round ${round}: ${e.message}`);
    }
    process.stdout.write(`peers: round ${round}/${opt.rounds} done (${((now() - t0run) / 1000).toFixed(0)} s)\n`);
  }
} catch (e) {
  console.error(`peers: ${e.stack ?? e}`);
  exitCode = 1;
} finally {
  for (const a of Object.values(apps)) await stopProcess(a.child);
  for (const c of [...live]) await stopProcess(c, 200);
  killWithEnv(RUN_MARK);
  await fake.close();
}

// ---------------------------------------------------------------- figures
const FIGURES = [
  { key: 'start', title: 'spawn to initialize answer', unit: 'ms', goal: { max: 1 / 20, text: '≤ 1/20 of official' } },
  { key: 'idleRss', title: 'idle RSS after initialize (process tree)', unit: 'MB', goal: { max: 1 / 16, text: '≤ 1/16 of official' } },
  { key: 'peakRss', title: `peak RSS of the process tree, ${opt.parallel} calls in flight`, unit: 'MB', goal: { max: 1.0, text: '≤ 1.0× official' } },
  { key: 'one', title: 'one call, new session', unit: 'ms', goal: { max: 0.8, text: '≤ 0.8× official' } },
  { key: 'resume', title: 'one call, resuming that session', unit: 'ms' },
  { key: 'parallel', title: `${opt.parallel} parallel calls, wall`, unit: 'ms', goal: { max: 0.8, text: '≤ 0.8× official' } },
  { key: 'overhead', title: 'overhead per call over the engine run directly', unit: 'ms' },
  { key: 'cold', title: 'first call after start (engine cold)', unit: 'ms', extra: true },
  { key: 'idlePss', title: 'idle PSS after initialize (process tree)', unit: 'MB', extra: true },
  { key: 'peakRssNoFork', title: `peak RSS, ${opt.parallel} calls in flight, forks not yet exec'd left out`, unit: 'MB', extra: true },
  { key: 'peakPss', title: `peak PSS of the process tree, ${opt.parallel} calls in flight`, unit: 'MB', extra: true },
];
const DIRECT_LABEL = {
  exec: 'codex exec --json 0.169 (spawn to exit)',
  appserver: 'codex app-server 0.169, warm (thread/start + turn)',
  'appserver-official': `codex app-server ${OFFICIAL_VERSION}, warm (thread/start + turn)`,
};

const directStats = Object.fromEntries(
  Object.entries(direct)
    .filter(([, xs]) => xs.length)
    .map(([k, xs]) => [k, { label: DIRECT_LABEL[k], ...stats(xs.map((x) => x.ms)), ...(k === 'exec' ? { toTurnCompleted: stats(xs.map((x) => x.completedMs).filter((x) => x != null)) } : {}) }]),
);
const figures = FIGURES.map((f) => {
  const values = {};
  for (const row of rows) {
    const R = results[row.key];
    let s;
    if (f.key === 'overhead') {
      const d = R.direct;
      if (R.one.length && d.length) {
        // median: difference of the medians; min/max: of the per-round differences (the call − the direct turn run just before it).
        const pairs = (R.directPaired ?? []).filter((x) => x !== null);
        s = { median: median(R.one) - median(d), min: Math.min(...pairs), max: Math.max(...pairs), n: pairs.length, samples: pairs, against: row.direct, directMedian: median(d) };
      }
    } else s = stats(R[f.key]);
    if (f.key === 'resume' && s) s.sessionContinued = `${R.resumeSame}/${R.resumeChecked}`;
    if (/Pss$/.test(f.key) && s && R.pssPartial) s.partial = 'some processes\' smaps_rollup could not be read: their PSS is left out';
    values[row.key] = s ?? null;
  }
  const base = ref && values[ref.key]?.median;
  for (const v of Object.values(values)) if (v && base) v.ratio = v.median / base;
  return { ...f, values };
});

const goals = [];
if (rows.includes(officialRow)) {
  for (const row of rows.filter((r) => r.family === 'codexmcp')) {
    for (const f of figures.filter((x) => x.goal)) {
      const a = f.values[row.key]?.median;
      const b = f.values.official?.median;
      const ratio = a != null && b ? a / b : null;
      goals.push({ server: row.key, reference: row === ref, figure: f.key, title: f.title, goal: f.goal.text, limit: f.goal.max, ratio, pass: ratio != null && ratio <= f.goal.max });
    }
  }
}

// Did every server reach the fake? Requests seen for its prompts, next to its calls.
const reach = {};
for (const row of rows) {
  const n = fake.requests.filter((r) => !r.ignored && r.prompt.includes(`peers ${row.key} `)).length;
  reach[row.key] = { calls: results[row.key].calls, requests: n };
}
for (const k of Object.keys(direct)) {
  const n = fake.requests.filter((r) => !r.ignored && r.prompt.includes(`peers direct ${k} `)).length;
  if (n || directCalls[k]) reach[`direct-${k}`] = { calls: directCalls[k], requests: n };
}

// ---------------------------------------------------------------- report
const fmt = (x, unit) => (x == null ? 'n/a' : unit === 'MB' ? x.toFixed(1) : x < 10 && x > -10 ? x.toFixed(2) : x.toFixed(0));
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
const nameW = Math.max(...rows.map((r) => r.label.length), 10) + 2;
const out = [];
out.push('');
out.push(`codexmcp and its peers — ${opt.rounds} rounds, fake Responses endpoint, ${os.cpus().length} cores; ratio: to ${ref ? ref.label : 'n/a'}`);
for (const f of figures) {
  out.push('');
  out.push(`${f.title} (${f.unit})${f.extra ? '   [extra]' : ''}`);
  out.push(`  ${pad('', nameW)}${lpad('median', 9)}${lpad('min', 9)}${lpad('max', 9)}${lpad('ratio', 8)}`);
  for (const row of rows) {
    const v = f.values[row.key];
    const extra = [];
    if (f.key === 'overhead' && v) extra.push(`vs ${DIRECT_LABEL[v.against]}: median ${fmt(v.directMedian)} ms in its rounds`);
    if (f.key === 'resume' && v) extra.push(`same codex session: ${v.sessionContinued}`);
    if (v?.partial) extra.push('partial: some smaps_rollup unreadable');
    if (f.key === 'peakRss' && results[row.key].peakProcs.length) extra.push(`${Math.max(...results[row.key].peakProcs)} processes at most`);
    const ratio = f.key === 'overhead' ? '—' : v?.ratio != null ? v.ratio.toFixed(2) + '×' : 'n/a';
    out.push(`  ${pad(row.label, nameW)}${lpad(fmt(v?.median, f.unit), 9)}${lpad(fmt(v?.min, f.unit), 9)}${lpad(fmt(v?.max, f.unit), 9)}${lpad(ratio, 8)}${extra.length ? '   ' + extra.join('; ') : ''}`);
  }
  if (f.key === 'start' && floor.length) out.push(`  ${pad('(harness floor: spawn `cat`, read back)', nameW)}${lpad(fmt(median(floor)), 9)}${lpad(fmt(Math.min(...floor)), 9)}${lpad(fmt(Math.max(...floor)), 9)}   the bench's own share of every row`);
}
out.push('');
out.push('peak RSS by program, in the round with the highest peak (MB RSS / PSS, processes)');
for (const row of rows) {
  const c = results[row.key].peakComposition;
  if (!c) continue;
  out.push(`  ${pad(row.label, nameW)}${c.programs.slice(0, 5).map((g) => `${g.program} ×${g.count}: ${g.rssMB.toFixed(0)}/${g.pssMB.toFixed(0)}`).join('; ')}`);
}
out.push('');
out.push('engines run directly (ms)');
out.push(`  ${pad('', 52)}${lpad('median', 9)}${lpad('min', 9)}${lpad('max', 9)}`);
for (const [k, v] of Object.entries(directStats)) {
  out.push(`  ${pad(v.label, 52)}${lpad(fmt(v.median), 9)}${lpad(fmt(v.min), 9)}${lpad(fmt(v.max), 9)}   n=${v.n}`);
  if (v.toTurnCompleted) out.push(`  ${pad('  the same, spawn to its turn.completed line', 52)}${lpad(fmt(v.toTurnCompleted.median), 9)}${lpad(fmt(v.toTurnCompleted.min), 9)}${lpad(fmt(v.toTurnCompleted.max), 9)}`);
}
out.push('');
out.push('requests the fake endpoint saw (POST /responses), next to the calls made');
for (const [k, v] of Object.entries(reach)) out.push(`  ${pad(k, 30)} calls ${lpad(v.calls, 4)}   requests ${lpad(v.requests, 4)}${v.requests < v.calls ? '   <- fewer than calls!' : ''}`);
const notes = rows.flatMap((r) => r.notes.map((n) => `${r.short}: ${n}`));
notes.push('RSS: sum of VmRSS (statm) over the server and its descendants from /proc; shared pages count once per process (PSS, [extra], splits them; it leaves out forks not yet exec\'d); a fork caught before its exec adds its parent\'s whole RSS again, so the peak of a big forking process is noisy ([extra] figure without them)');
notes.push(`peak: sampled every ${SAMPLE_MS} ms while the calls run; idle: ${SETTLE_MS} ms after the initialize answer, before any call`);
notes.push('overhead: a difference of medians (its min/max: per-round differences), so no ratio is printed for it');
notes.push('each round starts each server afresh: initialize, idle, first call (cold), one new-session call, its resume, then the parallel calls; one unrecorded warm-up round first');
out.push('');
out.push('notes');
for (const n of notes) out.push(`  - ${n}`);
if (goals.length) {
  out.push('');
  out.push('goals (medians of this run, codexmcp ÷ official)');
  for (const g of goals) {
    const row = rows.find((r) => r.key === g.server);
    out.push(`  ${g.pass ? 'PASS' : 'MISS'}  ${pad(row.short + (g.reference ? '' : ' [info]'), 24)} ${pad(g.title, 52)} ${lpad(g.ratio != null ? g.ratio.toFixed(3) + '×' : 'n/a', 9)}  goal ${g.goal}`);
  }
}
const errors = [...rows.flatMap((r) => results[r.key].errors.map((e) => `${r.key}: ${e}`)), ...directErrors.map((e) => `direct ${e}`)];
if (errors.length) {
  out.push('');
  out.push('errors');
  for (const e of errors) out.push(`  - ${e.slice(0, 600)}`);
}
out.push('');
out.push(`total ${((now() - t0run) / 1000).toFixed(0)} s; load average ${loadStart[0].toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end (other work on the machine skews the figures)`);
console.log(out.join('\n'));

const machine = {
  arch: firstLine('uname', ['-m']),
  kernel: firstLine('uname', ['-sr']),
  nproc: Number(firstLine('nproc', [])) || os.cpus().length,
  cpu: (/^model name\s*:\s*(.*)$/m.exec(readText('/proc/cpuinfo') || '') ?? [])[1] ?? os.cpus()[0]?.model ?? null,
  memTotalMB: Math.round(os.totalmem() / 2 ** 20),
  loadavgStart: loadStart.map((x) => +x.toFixed(2)),
  loadavgEnd: os.loadavg().map((x) => +x.toFixed(2)),
};
const json = {
  schema: 1,
  date: new Date().toISOString(),
  command: ['node', path.relative(repo, fileURLToPath(import.meta.url)), ...process.argv.slice(2)].join(' '),
  machine,
  versions: {
    node: process.version,
    codex: firstLine(CODEX, ['--version']),
    ...Object.fromEntries(rows.map((r) => [r.key, r.version])),
  },
  config: { rounds: opt.rounds, parallel: opt.parallel, codexmcpMaxParallel: opt.maxParallel, callTimeoutS: opt.timeout, settleMs: SETTLE_MS, sampleMs: SAMPLE_MS, protocolVersion: PROTOCOL, engineOption: engineFlag, cache: opt.cache },
  reference: ref?.key ?? null,
  servers: rows.map((r) => ({ key: r.key, label: r.label, short: r.short, family: r.family, version: r.version, serverInfo: r.serverInfo ?? null, tools: r.tools ?? null, command: r.command(homeFor(r.key)).display, direct: r.direct, notes: r.notes, serverRequests: [...results[r.key].serverRequests], peakComposition: results[r.key].peakComposition ?? null, errors: results[r.key].errors })),
  figures: figures.map(({ goal, ...f }) => ({ ...f, goal: goal?.text ?? null })),
  direct: directStats,
  harnessFloor: { what: 'spawn `cat`, write the initialize line, read it back: the share of "spawn to initialize answer" that is the harness\'s own', ...stats(floor) },
  fakeRequests: reach,
  goals,
  notes,
  errors,
  totalSeconds: (now() - t0run) / 1000,
};
fs.mkdirSync(path.dirname(opt.out), { recursive: true });
fs.writeFileSync(opt.out, JSON.stringify(json, null, 2) + '\n');
console.log(`wrote ${path.relative(process.cwd(), opt.out) || opt.out}`);

for (const h of homes.values()) removeCodexHome(h);
removeScratch();
if (errors.length && !exitCode) exitCode = 1;
process.exitCode = exitCode;
