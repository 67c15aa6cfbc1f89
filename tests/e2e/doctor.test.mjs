// `codexmcp doctor` end to end: its report (one line per check, ✓ / ! / ✗,
// each ! and ✗ with a "  fix: …" line) and its exit status (0 without a ✗,
// 1 with one, 2 for a usage error), against
//   - the REAL codex of tests/e2e/node_modules, by its native path and by the
//     npm launcher, with a CODEX_HOME that uses the fake provider;
//   - no codex at all;
//   - an odd codex: a script written here that passes everything to the real
//     codex except what its environment tells it to change (its version, the
//     flags its `exec … --help` lists, the app-server's methods, or never to
//     answer at all);
//   - credentials, CODEX_HOME, the state directory and the registry, the caps;
//   - colour: a pipe, --color, a terminal (script(1)) and NO_COLOR.
// Every run gets a temp HOME, CODEX_HOME and state directory, and none of the
// CODEXMCP_* variables of the suite (the engine is given where it matters).
//
// Run: node --test doctor.test.mjs
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { codexBin, makeCodexHome, removeCodexHome, env as codexEnv, e2eDir } from './lib/codex-env.mjs';
import { connectSdk, serverBin, serverExists, callToolChecked, CONCURRENCY } from './lib/mcp.mjs';
import { tempTree } from './lib/tmp.mjs';
import { pidsWithEnv, killWithEnv, describePids } from './lib/procs.mjs';
import { runCli, parseDoctor, describeRun, hasEsc } from './lib/cli.mjs';

const T = (ms) => ({ timeout: ms });
const tree = tempTree('codexmcp-e2e-doctor-');
// No endpoint is ever asked: doctor starts no turn. The provider only needs a URL.
const FAKE_URL = 'http://127.0.0.1:9/v1';
const LAUNCHER = path.join(e2eDir, 'node_modules', '@openai', 'codex', 'bin', 'codex.js');
const BIN_DIR = path.join(e2eDir, 'node_modules', '.bin');
const TESTED = '0.169.0';
const SECRET = 'sk-test-SECRET123';
const FAST_CODEX = path.join(e2eDir, 'fixtures', 'fast-codex.sh');
// Each doctor run may start a codex app-server (~85 MB): a few at a time.
const PARALLEL = CONCURRENCY === true ? 4 : CONCURRENCY;

if (!serverExists()) {
  test('server binary exists', () => {
    assert.fail(`codexmcp binary not found at ${serverBin()} (build it or set CODEXMCP_BIN)`);
  });
}

const homes = [];
after(() => {
  for (const h of homes) removeCodexHome(h);
});
/** A CODEX_HOME whose config.toml uses the fake provider (no credentials needed). */
function fakeHome(extraToml = '') {
  const h = makeCodexHome(FAKE_URL, { extraToml });
  homes.push(h);
  return h;
}
/** A CODEX_HOME with the default provider (openai): credentials needed. */
function openaiHome() {
  const h = fakeHome();
  fs.writeFileSync(path.join(h, 'config.toml'), 'check_for_update_on_startup = false\n\n[features]\nplugins = false\n');
  return h;
}

/** The environment of a doctor run: codex offline (lib/codex-env.mjs: a HOME of
 * its own, no OPENAI_ or CODEX_ variables), no CODEXMCP_ variable, no
 * XDG_STATE_HOME, colour left to --color and the terminal. */
function doctorEnv(home, extra = {}) {
  const e = codexEnv(home);
  for (const k of Object.keys(e)) if (k.startsWith('CODEXMCP_') || k === 'XDG_STATE_HOME') delete e[k];
  delete e.NO_COLOR;
  e.TERM = 'xterm-256color';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete e[k];
    else e[k] = v;
  }
  return e;
}

/**
 * `codexmcp doctor ...args` with `--state-dir` (a fresh one unless given) and
 * `--codex` (the native codex unless opts.codex is null: none given).
 * Returns { ...run, checks, other, by(kind), marks } (lib/cli.mjs parseDoctor).
 */
async function doctor(args = [], { home = fakeHome(), codex = codexBin(), stateDir = tree.path('state'), env: extra = {}, tty = false, timeoutMs = 120000, wrap } = {}) {
  const argv = ['doctor', ...(codex === null ? [] : ['--codex', codex]), ...(stateDir === null ? [] : ['--state-dir', stateDir]), ...args];
  const r = await runCli(argv, { env: doctorEnv(home, extra), tty, timeoutMs, wrap });
  const { checks, other } = parseDoctor(r.stdout);
  return { ...r, checks, other, home, stateDir, by: (kind) => checks.filter((c) => kindOf(c) === kind), describe: () => describeRun(r) };
}

/** The check a line reports, by how it starts. */
function kindOf(check) {
  const t = check.text;
  if (/^codex:/.test(t)) return 'codex';
  if (/^codex (version|--version)/.test(t)) return 'version';
  if (/^codex exec/.test(t)) return 'exec';
  if (/^codex app-server/.test(t)) return 'appserver';
  if (/^CODEX_HOME/.test(t)) return 'home';
  if (/^credentials/.test(t)) return 'credentials';
  if (/^state directory/.test(t)) return 'state';
  if (/^registry/.test(t)) return 'registry';
  if (/^(caps?|read-only):/.test(t) || /\bno caps\b/.test(t)) return 'caps';
  return 'other';
}
const ORDER = ['codex', 'version', 'exec', 'appserver', 'home', 'credentials', 'state', 'registry', 'caps'];

/** Asserts the report's shape: every line a known check, in the spec's order;
 * each ! and ✗ has a fix, no ✓ has one; the exit status follows the ✗. */
function assertWellFormed(d) {
  const s = d.describe();
  assert.ok(!d.timedOut, `doctor finished: ${s}`);
  assert.ok(d.checks.length >= 6, `one line per check: ${s}`);
  let last = -1;
  for (const c of d.checks) {
    const k = ORDER.indexOf(kindOf(c));
    assert.ok(k >= 0, `a line of a known check: ${JSON.stringify(c.line)}\n${s}`);
    assert.ok(k >= last, `checks in order (codex, version, exec, app-server, CODEX_HOME, credentials, state, registry, caps): ${JSON.stringify(c.line)}\n${s}`);
    last = k;
    if (c.mark === '✓') assert.equal(c.fix, null, `a ✓ line has no fix: ${s}`);
    else assert.ok(c.fix && c.fix.trim().length > 0, `a ${c.mark} line is followed by "  fix: …": ${JSON.stringify(c.line)}\n${s}`);
  }
  const failed = d.checks.some((c) => c.mark === '✗');
  assert.equal(d.code, failed ? 1 : 0, `exit status ${failed ? 1 : 0} (${failed ? 'a' : 'no'} ✗ line): ${s}`);
}

/** The one line of `kind`, asserted to be there (once). */
function one(d, kind) {
  const l = d.by(kind);
  assert.equal(l.length, 1, `one ${kind} line: ${d.describe()}`);
  return l[0];
}

// ---- the odd codex -----------------------------------------------------------

/** A codex that is odd on demand; everything else goes to the real one (ODD_REAL). */
const ODD_CODEX = `#!${process.execPath}
// Environment:
//   ODD_REAL            the real codex, which runs whatever is not changed here
//   ODD_LOG             a line per run: its argv as JSON
//   ODD_SLOW_MS         every run waits that long first
//   ODD_HANG            comma list of what never answers (and ignores SIGTERM):
//                       version, exec (its --help), app-server, login
//   ODD_VERSION         the line --version prints instead
//   ODD_DROP_EXEC / ODD_DROP_RESUME / ODD_DROP_REVIEW
//                       comma lists of flags left out of \`codex exec [resume|review] --help\`
//   ODD_NO_APPSERVER    \`app-server\` is an unknown subcommand (as before codex had one)
//   ODD_UNKNOWN         comma list of app-server methods answered as the real one
//                       answers a method it does not know
//   ODD_DAEMON          --version first starts a daemon (its own session) that
//                       holds stdout and stderr open
// CommonJS: a file without an extension is CommonJS to every Node.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const readline = require('node:readline');
const E = process.env;
const args = process.argv.slice(2);
if (E.ODD_LOG) fs.appendFileSync(E.ODD_LOG, JSON.stringify(args) + '\\n');
const what = args[0] === '--version' ? 'version' : args[0] === 'app-server' ? 'app-server' : args[0] === 'exec' ? 'exec' : args[0] === 'login' ? 'login' : 'other';
const list = (v) => (v ?? '').split(',').filter(Boolean);
// ODD_SLOW_MS: every run first takes that long (a slow machine, a cold cache).
setTimeout(main, Number(E.ODD_SLOW_MS || 0));
function main() {
if (E.ODD_DAEMON && what === 'version') {
  spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { detached: true, stdio: ['ignore', 'inherit', 'inherit'] }).unref();
}
if (list(E.ODD_HANG).includes(what)) {
  process.on('SIGTERM', () => {});
  process.on('SIGINT', () => {});
  process.on('SIGHUP', () => {});
  setInterval(() => {}, 1 << 30);
} else if (what === 'app-server' && E.ODD_NO_APPSERVER) {
  process.stderr.write("error: unrecognized subcommand 'app-server'\\n\\nUsage: codex [OPTIONS] [PROMPT]\\n");
  process.exitCode = 2;
} else if (what === 'version' && E.ODD_VERSION !== undefined) {
  process.stdout.write(E.ODD_VERSION + '\\n');
} else if (what === 'exec' && args.includes('--help')) {
  const sub = args[1] === 'resume' || args[1] === 'review' ? args[1] : 'exec';
  const r = spawnSync(E.ODD_REAL, args, { encoding: 'utf8' });
  let out = r.stdout;
  for (const f of list(E['ODD_DROP_' + sub.toUpperCase()])) {
    const re = new RegExp('(^|[\\\\s,\\\\[])' + f + '(?![a-z-])');
    out = out.split('\\n').filter((l) => !re.test(l)).join('\\n');
  }
  process.stdout.write(out);
  process.stderr.write(r.stderr);
  process.exitCode = r.status ?? 1;
} else if (what === 'app-server' && list(E.ODD_UNKNOWN).length) {
  const unknown = list(E.ODD_UNKNOWN);
  const child = spawn(E.ODD_REAL, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  readline.createInterface({ input: child.stdout }).on('line', (l) => process.stdout.write(l + '\\n'));
  readline.createInterface({ input: process.stdin }).on('line', (l) => {
    let msg = null;
    try { msg = JSON.parse(l); } catch {}
    if (msg && msg.id !== undefined && unknown.includes(msg.method)) {
      process.stdout.write(JSON.stringify({ error: { code: -32600, message: 'Invalid request: unknown variant \`' + msg.method + '\`, expected one of \`initialize\`, \`thread/start\`' }, id: msg.id }) + '\\n');
    } else {
      child.stdin.write(l + '\\n');
    }
  }).on('close', () => child.stdin.end());
  child.on('exit', (code, sig) => process.exit(code ?? 1));
} else {
  const r = spawnSync(E.ODD_REAL, args, { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}
}
`;

let oddPath;
/** The odd codex's path (written once). */
function oddCodex() {
  if (!oddPath) {
    const dir = tree.dir('odd');
    oddPath = path.join(dir, 'codex');
    fs.writeFileSync(oddPath, ODD_CODEX, { mode: 0o755 });
  }
  return oddPath;
}
/** doctor against the odd codex; env: its ODD_* settings. A marker in its
 * environment finds what is left of it afterwards (and kills it). */
async function oddDoctor(args, oddEnv, opts = {}) {
  const log = tree.path('odd-log');
  const marker = `ODD_MARK=${path.basename(log)}`;
  const d = await doctor(args, { ...opts, codex: oddCodex(), env: { ODD_REAL: codexBin(), ODD_LOG: log, ODD_MARK: path.basename(log), ...oddEnv, ...(opts.env ?? {}) } });
  // What doctor started is gone when it is (it kills what outlives its limit).
  const left = pidsWithEnv(marker);
  killWithEnv(marker);
  let runs = [];
  try {
    runs = fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  } catch {}
  return { ...d, left, runs };
}

// ---------------------------------------------------------------------------

describe('codexmcp doctor', { concurrency: PARALLEL }, () => {
  test('the real codex (native), the fake provider: every line ✓, exit 0; tested version; the app-server answers; state directory made 0700', T(120000), async () => {
    const stateDir = path.join(tree.dir('st'), 'a', 'codexmcp');
    const d = await doctor(['--engine', 'auto'], { stateDir });
    assertWellFormed(d);
    assert.equal(d.code, 0, d.describe());
    assert.deepEqual(d.checks.filter((c) => c.mark !== '✓').map((c) => c.line), [], `every line ✓: ${d.describe()}`);
    const c = one(d, 'codex');
    assert.ok(c.text.includes(codexBin()), `the codex line names the path: ${c.line}`);
    assert.ok(!/launcher/.test(c.text), `a native binary is not called the launcher: ${c.line}`);
    const v = one(d, 'version');
    assert.ok(v.text.includes(TESTED) && /tested/.test(v.text), `the version line says ${TESTED}, tested: ${v.line}`);
    one(d, 'exec');
    assert.match(one(d, 'appserver').text, /initialize/);
    assert.ok(one(d, 'home').text.includes(d.home), d.describe());
    one(d, 'credentials');
    assert.ok(one(d, 'state').text.includes(stateDir), `the state line names the directory: ${d.describe()}`);
    one(d, 'registry');
    assert.ok(d.by('caps').length >= 1, d.describe());
    // Made, and private.
    assert.equal(fs.statSync(stateDir).mode & 0o777, 0o700, 'the state directory is created 0700');
    assert.equal(d.stderr.trim(), '', `nothing on stderr: ${d.describe()}`);
  });

  test('the real codex through the npm launcher (--codex, and on PATH): "launcher", and the native binary calls run; --no-native-codex', T(120000), async () => {
    const native = fs.realpathSync(codexBin());
    for (const [how, opts] of [
      ['--codex codex.js', { codex: LAUNCHER }],
      ['node_modules/.bin/codex on PATH', { codex: null, env: { PATH: `${BIN_DIR}:${path.dirname(process.execPath)}:/usr/bin:/bin` } }],
    ]) {
      const d = await doctor(['--engine', 'auto'], opts);
      assertWellFormed(d);
      assert.equal(d.code, 0, `${how}: ${d.describe()}`);
      assert.deepEqual(d.checks.filter((c) => c.mark !== '✓').map((c) => c.line), [], `${how}: every line ✓: ${d.describe()}`);
      const c = one(d, 'codex');
      assert.match(c.text, /launcher/, `${how}: ${c.line}`);
      const where = opts.codex ?? path.join(BIN_DIR, 'codex');
      assert.ok(c.text.includes(where), `${how}: the path it was found at: ${c.line}`);
      // The native binary it names is the one the launcher would run.
      const named = c.text.split(/\s+/).filter((w) => w.startsWith('/') && w !== where).map((w) => w.replace(/[,;.)]+$/, ''));
      assert.ok(named.some((w) => fs.existsSync(w) && fs.realpathSync(w) === native), `${how}: names the native binary ${native}: ${c.line}`);
      assert.ok(one(d, 'version').text.includes(TESTED), d.describe());
    }
    const d = await doctor(['--engine', 'auto', '--no-native-codex'], { codex: LAUNCHER });
    assertWellFormed(d);
    assert.equal(d.code, 0, d.describe());
    const c = one(d, 'codex');
    assert.match(c.text, /launcher/, c.line);
    assert.ok(!c.text.includes(native) && !c.text.includes(codexBin()), `--no-native-codex: calls run the launcher, no native binary named: ${c.line}`);
  });

  test('the real codex under --engine exec: the app-server is not probed; every line ✓', T(60000), async () => {
    const d = await oddDoctor(['--engine', 'exec'], {});
    assertWellFormed(d);
    assert.equal(d.code, 0, d.describe());
    assert.deepEqual(d.checks.filter((c) => c.mark !== '✓').map((c) => c.line), [], d.describe());
    assert.ok(!d.runs.some((a) => a[0] === 'app-server'), `no app-server started under --engine exec: ${JSON.stringify(d.runs)}`);
    // While under auto it is.
    const a = await oddDoctor(['--engine', 'auto'], {});
    assert.ok(a.runs.some((x) => x[0] === 'app-server'), `the app-server is probed under auto: ${JSON.stringify(a.runs)}`);
    assert.equal(a.code, 0, a.describe());
  });

  test('no codex: --codex /nonexistent, CODEXMCP_CODEX=/nonexistent, an empty PATH: ✗ codex with the fix (npm i -g @openai/codex, --codex, CODEXMCP_CODEX), exit 1', T(60000), async () => {
    for (const [how, opts] of [
      ['--codex /nonexistent', { codex: '/nonexistent/codex' }],
      ['CODEXMCP_CODEX', { codex: null, env: { CODEXMCP_CODEX: '/nonexistent/codex' } }],
      ['empty PATH', { codex: null, env: { PATH: '' } }],
    ]) {
      const d = await doctor([], opts);
      assertWellFormed(d);
      assert.equal(d.code, 1, `${how}: ${d.describe()}`);
      const c = one(d, 'codex');
      assert.equal(c.mark, '✗', `${how}: ${d.describe()}`);
      if (how !== 'empty PATH') assert.ok(c.text.includes('/nonexistent/codex'), `${how}: names the path: ${c.line}`);
      for (const w of ['npm i -g @openai/codex', '--codex', 'CODEXMCP_CODEX']) assert.ok(c.fix.includes(w), `${how}: the fix names ${w}: ${c.fix}`);
      // The other checks still run.
      assert.ok(d.by('state').length === 1 && d.by('caps').length >= 1, `${how}: ${d.describe()}`);
    }
  });

  test('an odd codex: another version is !, exit 0; an unreadable version is ✗, exit 1', T(120000), async () => {
    for (const ver of ['codex-cli 0.150.0', 'codex-cli 0.170.1']) {
      const d = await oddDoctor(['--engine', 'exec'], { ODD_VERSION: ver });
      assertWellFormed(d);
      const v = one(d, 'version');
      const n = ver.split(' ')[1];
      assert.equal(v.mark, '!', `${ver}: ${d.describe()}`);
      assert.ok(v.text.includes(n) && v.text.includes(TESTED), `${ver}: names both versions: ${v.line}`);
      assert.equal(d.code, 0, `${ver}: only a ! line: ${d.describe()}`);
    }
    for (const ver of ['codex-cli banana', '']) {
      const d = await oddDoctor(['--engine', 'exec'], { ODD_VERSION: ver });
      assertWellFormed(d);
      const v = one(d, 'version');
      assert.equal(v.mark, '✗', `${JSON.stringify(ver)}: ${d.describe()}`);
      assert.equal(d.code, 1, d.describe());
    }
  });

  test('an odd codex: `exec --help` without --json, `exec review --help` without --uncommitted: ✗ naming the flag, exit 1', T(120000), async () => {
    let d = await oddDoctor(['--engine', 'auto'], { ODD_DROP_EXEC: '--json' });
    assertWellFormed(d);
    let e = one(d, 'exec');
    assert.equal(e.mark, '✗', d.describe());
    assert.match(e.text, /--json\b/, e.line);
    assert.ok(!/--sandbox|--cd\b/.test(e.text), `only what is missing is named: ${e.line}`);
    assert.equal(d.code, 1);
    d = await oddDoctor(['--engine', 'exec'], { ODD_DROP_EXEC: '--skip-git-repo-check,--dangerously-bypass-approvals-and-sandbox' });
    assertWellFormed(d);
    e = one(d, 'exec');
    assert.equal(e.mark, '✗', d.describe());
    assert.ok(e.text.includes('--skip-git-repo-check') && e.text.includes('--dangerously-bypass-approvals-and-sandbox'), e.line);
    d = await oddDoctor(['--engine', 'exec'], { ODD_DROP_REVIEW: '--uncommitted' });
    assertWellFormed(d);
    e = one(d, 'exec');
    assert.equal(e.mark, '✗', d.describe());
    assert.match(e.text, /--uncommitted/, e.line);
    assert.equal(d.code, 1);
  });

  test('an odd codex: an app-server that does not know turn/interrupt is ✗ under --engine appserver, ! under auto', T(120000), async () => {
    const odd = { ODD_UNKNOWN: 'turn/interrupt' };
    const strict = await oddDoctor(['--engine', 'appserver'], odd);
    assertWellFormed(strict);
    let a = one(strict, 'appserver');
    assert.equal(a.mark, '✗', strict.describe());
    assert.match(a.text, /turn\/interrupt/, a.line);
    assert.ok(!/thread\/start|turn\/start/.test(a.text), `only what is missing is named: ${a.line}`);
    assert.equal(strict.code, 1);
    const auto = await oddDoctor(['--engine', 'auto'], odd);
    assertWellFormed(auto);
    a = one(auto, 'appserver');
    assert.equal(a.mark, '!', auto.describe());
    assert.match(a.text, /turn\/interrupt/, a.line);
    assert.match(a.fix, /exec/, `the fix says calls fall back to exec: ${a.fix}`);
    assert.equal(auto.code, 0, auto.describe());
    // A codex without an app-server at all.
    for (const [engine, mark, code] of [['appserver', '✗', 1], ['auto', '!', 0]]) {
      const no = await oddDoctor(['--engine', engine], { ODD_NO_APPSERVER: '1' });
      assertWellFormed(no);
      a = one(no, 'appserver');
      assert.equal(a.mark, mark, `no app-server, --engine ${engine}: ${no.describe()}`);
      assert.match(a.text, /initialize/, a.line);
      assert.match(a.text, /unrecognized subcommand/, `says what codex said: ${a.line}`);
      assert.equal(no.code, code, no.describe());
    }
    // Every method is checked: thread/backgroundTerminals/clean too.
    const clean = await oddDoctor(['--engine', 'appserver'], { ODD_UNKNOWN: 'thread/backgroundTerminals/clean,thread/unsubscribe' });
    a = one(clean, 'appserver');
    assert.equal(a.mark, '✗', clean.describe());
    assert.ok(a.text.includes('thread/backgroundTerminals/clean') && a.text.includes('thread/unsubscribe'), a.line);
  });

  test('an odd codex that never answers (the app-server, --version, every subcommand): doctor ends by its own limits and leaves nothing running', T(240000), async (t) => {
    // The app-server never answers initialize (and ignores SIGTERM).
    const strict = await oddDoctor(['--engine', 'appserver'], { ODD_HANG: 'app-server' });
    t.diagnostic(`app-server that never answers, --engine appserver: doctor took ${strict.ms} ms`);
    assertWellFormed(strict);
    assert.ok(strict.ms < 30000, `ends within 30 s: ${strict.describe()}`);
    let a = one(strict, 'appserver');
    assert.equal(a.mark, '✗', strict.describe());
    assert.match(a.text, /initialize/, a.line);
    assert.equal(strict.code, 1);
    assert.deepEqual(strict.left, [], `nothing of the odd codex left running: ${describePids(strict.left)}`);
    const auto = await oddDoctor(['--engine', 'auto'], { ODD_HANG: 'app-server' });
    t.diagnostic(`app-server that never answers, --engine auto: doctor took ${auto.ms} ms`);
    assertWellFormed(auto);
    assert.ok(auto.ms < 30000, auto.describe());
    a = one(auto, 'appserver');
    assert.equal(a.mark, '!', auto.describe());
    assert.equal(auto.code, 0, auto.describe());
    assert.deepEqual(auto.left, [], describePids(auto.left));

    // --version never answers.
    const ver = await oddDoctor(['--engine', 'auto'], { ODD_HANG: 'version' });
    t.diagnostic(`--version that never answers: doctor took ${ver.ms} ms`);
    assertWellFormed(ver);
    assert.ok(ver.ms < 30000, ver.describe());
    const v = one(ver, 'version');
    assert.equal(v.mark, '✗', ver.describe());
    assert.match(v.text, /did not (finish|answer)|time limit|timed out/i, `the line says --version did not answer in time: ${v.line}`);
    assert.equal(ver.code, 1);
    assert.deepEqual(ver.left, [], describePids(ver.left));

    // Everything but --version never answers: each step has its limit.
    const all = await oddDoctor(['--engine', 'auto'], { ODD_HANG: 'exec,app-server,login' }, { home: openaiHome() });
    t.diagnostic(`every subcommand hangs: doctor took ${all.ms} ms (${all.runs.length} codex runs: ${all.runs.map((x) => x.join(' ')).join(' | ')})`);
    assert.ok(!all.timedOut, `doctor ends by itself: ${all.describe()}`);
    assert.ok(all.ms < 90000, `ends within 90 s: ${all.describe()}`);
    assertWellFormed(all);
    assert.equal(one(all, 'exec').mark, '✗', all.describe());
    assert.equal(all.code, 1);
    assert.deepEqual(all.left, [], describePids(all.left));
  });

  test('a slow codex (3 s for every run, within doctor\'s limits) is not a broken one: every line ✓, exit 0', T(120000), async (t) => {
    const d = await oddDoctor(['--engine', 'exec'], { ODD_SLOW_MS: '3000' });
    t.diagnostic(`a codex taking 3 s per run: doctor took ${d.ms} ms (${d.runs.length} runs)`);
    assertWellFormed(d);
    assert.deepEqual(d.checks.filter((c) => c.mark !== '✓').map((c) => c.line), [], `every line ✓: ${d.describe()}`);
    assert.ok(one(d, 'version').text.includes(TESTED), d.describe());
    assert.equal(d.code, 0);
  });

  test('what codex prints reaches the report safe: no escape sequence, no credential', T(120000), async () => {
    // An unreadable version made of a terminal title sequence, a C1 CSI and the key itself.
    const d = await oddDoctor(['--engine', 'exec'], { ODD_VERSION: `\u001b]0;TITLE\u0007 \u009b31m ${SECRET} ${SECRET.slice(0, 3)}${'x'.repeat(20)}` }, { env: { OPENAI_API_KEY: SECRET } });
    assertWellFormed(d);
    const v = one(d, 'version');
    assert.equal(v.mark, '✗', d.describe());
    assert.ok(!hasEsc(d.stdout) && !d.stdout.includes('\u0007') && !d.stdout.includes('\u009b'), `no control character of codex's reaches the terminal: ${JSON.stringify(v.line)}`);
    assert.ok(!d.stdout.includes(SECRET) && !d.stdout.includes('SECRET123'), `the key is not echoed: ${v.line}`);
    assert.ok(!d.stdout.includes('x'.repeat(20)), `an sk- shaped key is not echoed: ${v.line}`);
    assert.deepEqual(d.left, [], `left: ${describePids(d.left)}`);
  });

  test('a codex that leaves a daemon holding its pipes: doctor ends it and does not wait for it', T(120000), async (t) => {
    const d = await oddDoctor(['--engine', 'exec'], { ODD_DAEMON: '1' });
    t.diagnostic(`doctor took ${d.ms} ms`);
    assertWellFormed(d);
    assert.deepEqual(d.left, [], `the daemon is gone with doctor: ${describePids(d.left)}`);
    assert.equal(one(d, 'version').mark, '✓', d.describe());
    // Each check would otherwise wait its whole limit (10 s) on the held pipes.
    assert.ok(d.ms < 30000, `doctor took ${d.ms} ms`);
  });

  test('SIGINT while a codex hangs: doctor ends it and exits by the signal', T(120000), async () => {
    const log = tree.path('odd-log');
    const marker = `ODD_MARK=${path.basename(log)}`;
    const child = spawn(serverBin(), ['doctor', '--codex', oddCodex(), '--state-dir', tree.path('state'), '--engine', 'exec'], {
      env: doctorEnv(fakeHome(), { ODD_REAL: codexBin(), ODD_LOG: log, ODD_MARK: path.basename(log), ODD_HANG: 'version' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    // The hung --version is running once the odd codex logged its argv.
    for (let i = 0; i < 200 && !(fs.existsSync(log) && pidsWithEnv(marker).length > 0); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(pidsWithEnv(marker).length > 0, 'the hung codex runs');
    child.kill('SIGINT');
    const [code, signal] = await new Promise((r) => child.on('exit', (c, sg) => r([c, sg])));
    const left = pidsWithEnv(marker);
    killWithEnv(marker);
    assert.equal(signal, 'SIGINT', `doctor exits by SIGINT (code ${code}): ${out}`);
    assert.deepEqual(left, [], `what it started is gone: ${describePids(left)}`);
  });

  test('credentials are never printed: OPENAI_API_KEY, auth.json, a provider\'s env_key', T(120000), async () => {
    const leaks = (d) => [SECRET, 'SECRET', 'ET123'].filter((s) => d.stdout.includes(s) || d.stderr.includes(s));
    // In the environment and in auth.json at once.
    const both = openaiHome();
    fs.writeFileSync(path.join(both, 'auth.json'), JSON.stringify({ auth_mode: 'apikey', OPENAI_API_KEY: SECRET }));
    // (--engine exec here and below: an app-server with the openai provider might try the network.)
    let d = await doctor(['--engine', 'exec'], { home: both, env: { OPENAI_API_KEY: SECRET } });
    assertWellFormed(d);
    assert.deepEqual(leaks(d), [], `the secret appears nowhere: ${d.describe()}`);
    assert.equal(one(d, 'credentials').mark, '✓', d.describe());
    assert.equal(d.code, 0, d.describe());
    // auth.json alone: codex login status says it (with part of the key), doctor does not.
    const file = openaiHome();
    fs.writeFileSync(path.join(file, 'auth.json'), JSON.stringify({ auth_mode: 'apikey', OPENAI_API_KEY: SECRET }));
    const said = spawnSync(codexBin(), ['login', 'status'], { env: doctorEnv(file), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(said.stdout + said.stderr, /ET123/, 'codex itself shows the end of the key');
    d = await doctor(['--engine', 'exec'], { home: file });
    assertWellFormed(d);
    assert.deepEqual(leaks(d), [], d.describe());
    assert.equal(one(d, 'credentials').mark, '✓', d.describe());
    // The environment alone: CODEX_API_KEY is what codex 0.169 sends;
    // OPENAI_API_KEY alone it does not read (REFERENCE 4.1): ✗, naming
    // CODEX_API_KEY in the fix.
    d = await doctor(['--engine', 'exec'], { home: openaiHome(), env: { CODEX_API_KEY: SECRET } });
    assertWellFormed(d);
    assert.deepEqual(leaks(d), [], `CODEX_API_KEY: ${d.describe()}`);
    assert.equal(one(d, 'credentials').mark, '✓', `CODEX_API_KEY: ${d.describe()}`);
    d = await doctor(['--engine', 'exec'], { home: openaiHome(), env: { OPENAI_API_KEY: SECRET } });
    assertWellFormed(d);
    assert.deepEqual(leaks(d), [], `OPENAI_API_KEY: ${d.describe()}`);
    const only = one(d, 'credentials');
    assert.equal(only.mark, '✗', `OPENAI_API_KEY alone: ${d.describe()}`);
    assert.match(only.fix, /CODEX_API_KEY/, only.line);
    assert.equal(d.code, 1, d.describe());
    // A custom provider that reads an env_key: set → ✓ (not shown); unset → ✗ naming the variable.
    const custom = fakeHome();
    fs.writeFileSync(path.join(custom, 'config.toml'), fs.readFileSync(path.join(custom, 'config.toml'), 'utf8').replace('[model_providers.fake]\n', '[model_providers.fake]\nenv_key = "FAKE_PROVIDER_KEY"\n'));
    d = await doctor(['--engine', 'exec'], { home: custom, env: { FAKE_PROVIDER_KEY: SECRET } });
    assertWellFormed(d);
    assert.deepEqual(leaks(d), [], d.describe());
    assert.equal(one(d, 'credentials').mark, '✓', d.describe());
    d = await doctor(['--engine', 'exec'], { home: custom });
    assertWellFormed(d);
    const c = one(d, 'credentials');
    assert.equal(c.mark, '✗', d.describe());
    assert.ok(c.text.includes('FAKE_PROVIDER_KEY') || c.fix.includes('FAKE_PROVIDER_KEY'), c.line);
    assert.equal(d.code, 1);
  });

  test('no credentials with the default provider: ✗ with the fix `codex login`, exit 1; a missing CODEX_HOME: ✗', T(120000), async () => {
    let d = await doctor(['--engine', 'exec'], { home: openaiHome() });
    assertWellFormed(d);
    const c = one(d, 'credentials');
    assert.equal(c.mark, '✗', d.describe());
    assert.match(c.fix, /codex login/, c.fix);
    assert.equal(d.code, 1);
    // CODEX_HOME names a directory that is not there.
    const gone = path.join(tree.dir('gone'), 'codex-home');
    d = await doctor(['--engine', 'exec'], { env: { CODEX_HOME: gone } });
    assertWellFormed(d);
    const h = one(d, 'home');
    assert.equal(h.mark, '✗', d.describe());
    assert.ok(h.text.includes(gone), h.line);
    assert.equal(d.code, 1);
    // No CODEX_HOME: ~/.codex, and it is not there either.
    const home = fakeHome();
    d = await doctor(['--engine', 'exec'], { home, env: { CODEX_HOME: undefined } });
    assertWellFormed(d);
    const h2 = one(d, 'home');
    assert.equal(h2.mark, '✗', d.describe());
    assert.ok(h2.text.includes(path.join(home, 'user-home', '.codex')), h2.line);
  });

  test('the state directory: unwritable (its parent read-only, itself read-only) or a file → ✗ naming it, exit 1; a garbage registry → ✗; a registry with calls is counted', T(120000), async () => {
    const root = process.getuid() === 0;
    // Root ignores file modes: there the directory is a read-only bind mount
    // in a mount namespace of doctor's own (as faults-client.test.mjs does).
    const roWrap = (dir) => ['unshare', '-m', 'sh', '-c', 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" && exec "$@"', dir];
    const parent = tree.dir('ro-parent');
    const under = path.join(parent, 'codexmcp');
    let d = root ? await doctor(['--engine', 'exec'], { stateDir: under, wrap: roWrap(parent) }) : (fs.chmodSync(parent, 0o500), await doctor(['--engine', 'exec'], { stateDir: under }));
    assertWellFormed(d);
    let s = one(d, 'state');
    assert.equal(s.mark, '✗', d.describe());
    assert.ok(s.text.includes(under), `names the directory: ${s.line}`);
    assert.equal(d.code, 1);
    const ro = tree.dir('ro-self');
    d = root ? await doctor(['--engine', 'exec'], { stateDir: ro, wrap: roWrap(ro) }) : (fs.chmodSync(ro, 0o500), await doctor(['--engine', 'exec'], { stateDir: ro }));
    assertWellFormed(d);
    s = one(d, 'state');
    assert.equal(s.mark, '✗', d.describe());
    assert.ok(s.text.includes(ro), s.line);
    assert.equal(d.code, 1);
    if (!root) {
      fs.chmodSync(parent, 0o700);
      fs.chmodSync(ro, 0o700);
    }
    // A file where the directory should be.
    const file = tree.path('a-file');
    fs.writeFileSync(file, 'not a directory\n');
    d = await doctor(['--engine', 'exec'], { stateDir: file });
    assertWellFormed(d);
    s = one(d, 'state');
    assert.equal(s.mark, '✗', d.describe());
    assert.ok(s.text.includes(file), s.line);
    assert.equal(d.code, 1);

    // A registry that is garbage.
    const garbage = tree.dir('garbage');
    fs.writeFileSync(path.join(garbage, 'codexmcp.sqlite'), 'this is not a database\n'.repeat(200), { mode: 0o600 });
    d = await doctor(['--engine', 'exec'], { stateDir: garbage });
    assertWellFormed(d);
    assert.equal(one(d, 'state').mark, '✓', d.describe());
    const reg = one(d, 'registry');
    assert.equal(reg.mark, '✗', d.describe());
    assert.equal(d.code, 1);

    // A registry with one finished call (a fast fake codex made it).
    const used = tree.dir('used');
    const srv = await connectSdk(['--codex', FAST_CODEX, '--engine', 'exec', '--state-dir', used], { ...process.env, CODEXMCP_ENGINE: 'exec' });
    try {
      const { obj } = await callToolChecked(srv.client, 'codex', { PROMPT: 'one call', cd: tree.dir('cwd') }, 30000);
      assert.equal(obj.success, true, JSON.stringify(obj));
    } finally {
      await srv.close();
    }
    d = await doctor(['--engine', 'exec'], { stateDir: used });
    assertWellFormed(d);
    const r2 = one(d, 'registry');
    assert.equal(r2.mark, '✓', d.describe());
    assert.match(r2.text, /\b1 session\b/, r2.line);
    assert.match(r2.text, /\b0 running\b/, r2.line);
    assert.equal(d.code, 0, d.describe());
  });

  test('caps: each option and each variable appears; none → no caps', T(120000), async () => {
    const dirA = tree.dir('rootA');
    const dirB = tree.dir('rootB');
    const capText = (d) => d.by('caps').map((c) => c.text).join('\n');
    const cases = [
      { args: ['--read-only'], want: ['read-only', '--read-only'] },
      { args: ['--max-sandbox', 'workspace-write'], want: ['workspace-write', '--max-sandbox'] },
      { args: ['--no-yolo'], want: ['yolo', '--no-yolo'] },
      { args: ['--allow-root', dirA, '--allow-root', dirB], want: [dirA, dirB, '--allow-root'] },
      { env: { CODEXMCP_READ_ONLY: '1' }, want: ['read-only', 'CODEXMCP_READ_ONLY'] },
      { env: { CODEXMCP_MAX_SANDBOX: 'workspace-write' }, want: ['workspace-write', 'CODEXMCP_MAX_SANDBOX'] },
      { env: { CODEXMCP_NO_YOLO: '1' }, want: ['yolo', 'CODEXMCP_NO_YOLO'] },
      { env: { CODEXMCP_ALLOW_ROOTS: `${dirA}:${dirB}` }, want: [dirA, dirB, 'CODEXMCP_ALLOW_ROOTS'] },
    ];
    for (const k of cases) {
      const d = await doctor(['--engine', 'exec', ...(k.args ?? [])], { env: k.env ?? {} });
      assertWellFormed(d);
      assert.equal(d.code, 0, d.describe());
      const text = capText(d);
      for (const w of k.want) assert.ok(text.includes(w), `${JSON.stringify(k.args ?? k.env)}: the caps say ${w}:\n${text}\n${d.describe()}`);
      assert.ok(!/\bno caps\b|caps: none/.test(text), `${JSON.stringify(k.args ?? k.env)}: not "no caps": ${text}`);
    }
    const none = await doctor(['--engine', 'exec']);
    assertWellFormed(none);
    assert.match(capText(none), /\bno caps\b|caps: none/, none.describe());
    // A bad cap is a usage error, as for the server.
    const bad = await doctor(['--engine', 'exec', '--max-sandbox', 'everything']);
    assert.equal(bad.code, 2, bad.describe());
  });

  test('colour: none through a pipe; --color always; a terminal has it unless NO_COLOR or --color never; usage errors exit 2', T(120000), async () => {
    const piped = await doctor(['--engine', 'exec']);
    assert.equal(piped.code, 0, piped.describe());
    assert.ok(!hasEsc(piped.stdout) && !hasEsc(piped.stderr), `no ESC through a pipe: ${JSON.stringify(piped.stdout.slice(0, 300))}`);
    const always = await doctor(['--engine', 'exec', '--color', 'always']);
    assert.equal(always.code, 0, always.describe());
    assert.ok(hasEsc(always.stdout), '--color always colours');
    const shape = (d) => d.checks.map((c) => `${c.mark} ${kindOf(c)}`);
    assert.deepEqual(shape(always), shape(piped), 'the same report, coloured');
    const tty = await doctor(['--engine', 'exec'], { tty: true });
    assert.equal(tty.code, 0, tty.describe());
    assert.ok(hasEsc(tty.stdout), `a terminal gets colour: ${JSON.stringify(tty.stdout.slice(0, 300))}`);
    assert.ok(tty.checks.length >= 6, tty.describe());
    const noColor = await doctor(['--engine', 'exec'], { tty: true, env: { NO_COLOR: '1' } });
    assert.equal(noColor.code, 0, noColor.describe());
    assert.ok(!hasEsc(noColor.stdout), `NO_COLOR=1 on a terminal: no ESC: ${JSON.stringify(noColor.stdout.slice(0, 300))}`);
    const never = await doctor(['--engine', 'exec', '--color', 'never'], { tty: true });
    assert.ok(!hasEsc(never.stdout), '--color never on a terminal');
    for (const args of [['--color', 'sometimes'], ['--bogus'], ['extra'], ['--engine', 'warp']]) {
      const d = await doctor(args);
      assert.equal(d.code, 2, `${args.join(' ')}: ${d.describe()}`);
      assert.notEqual(d.stderr, '', `${args.join(' ')} says why`);
    }
  });
});
