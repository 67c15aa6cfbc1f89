// `codexmcp ps` and `codexmcp log` end to end: servers run real calls through
// the REAL codex CLI (against the fake Responses API, lib/fake-responses.mjs)
// under the suite's engine (CODEXMCP_ENGINE: `make test` runs auto, then
// exec), in the background (wait_s: 0); then the command-line views read
// the state directory those servers share, as a user would, from another
// process, through a pipe (plain text) or with --color always.
//
// Turns are made to last by the fake ([[sleep:MS]] delays its answer) or by
// a command codex runs ([[shell:sleep N; …]]).
//
// Run: node --test ps-log.test.mjs            (app-server engine)
//      CODEXMCP_ENGINE=exec node --test ps-log.test.mjs
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { codexBin, sharedFakeCodex, env } from './lib/codex-env.mjs';
import { connectSdk, usingSdk, serverBin, serverExists, callToolChecked, ENGINE } from './lib/mcp.mjs';
import { tempTree } from './lib/tmp.mjs';
import { pollUntil, procStat } from './lib/procs.mjs';
import { runCli, streamCli, describeRun, hasEsc } from './lib/cli.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const uniq = () => `u${process.pid}x${Date.now().toString(36)}x${Math.random().toString(36).slice(2, 8)}`;
const T = (ms) => ({ timeout: ms });
/** What ps and log say ran the calls: with the real codex 0.169 anything but exec is the app-server. */
const ENGINE_NAME = ENGINE === 'exec' ? 'exec' : 'appserver';
const ELAPSED_RE = /^(\d+ms|\d+s|\d+m\d\ds|\d+h\d\dm|\d+d\d\dh)$/;

const codex = sharedFakeCodex();
const tree = tempTree('codexmcp-e2e-pslog-');

if (!serverExists()) {
  test('server binary exists', () => {
    assert.fail(`codexmcp binary not found at ${serverBin()} (build it or set CODEXMCP_BIN)`);
  });
}

/** A codexmcp server (SDK client) on stateDir under the suite's engine: { sdk, pid, call(tool, args, ms) }. */
async function startServer(stateDir) {
  const sdk = await connectSdk(['--codex', codexBin(), '--state-dir', stateDir], env(codex.home));
  return {
    sdk,
    pid: sdk.pid,
    call: (tool, args, ms = 60000) => callToolChecked(sdk.client, tool, args, ms),
  };
}

/** The environment of the command-line views: colour left to --color and the
 * terminal (NO_COLOR unset, a TERM that has colour), HOME as given. */
function cliEnv(extra = {}) {
  const e = env(codex.home, extra);
  delete e.NO_COLOR;
  delete e.CODEXMCP_STATE_DIR;
  e.TERM = 'xterm-256color';
  return { ...e, ...extra };
}

/** `codexmcp ps --json …` parsed; asserts exit 0 and a plain (uncoloured) array. */
async function psJson(stateDir, extra = [], envExtra = {}) {
  const r = await runCli(['ps', '--json', '--state-dir', stateDir, ...extra], { env: cliEnv(envExtra) });
  assert.equal(r.code, 0, describeRun(r));
  let rows;
  try {
    rows = JSON.parse(r.stdout);
  } catch {
    assert.fail(`ps --json printed no JSON: ${describeRun(r)}`);
  }
  assert.ok(Array.isArray(rows), `ps --json prints an array: ${r.stdout.slice(0, 500)}`);
  const keys = ['SESSION_ID', 'status', 'engine', 'tool', 'cwd', 'server_pid', 'started_ms', 'finished_ms', 'elapsed_ms', 'last_event', 'transcript'];
  for (const row of rows) for (const k of keys) assert.ok(k in row, `ps --json row has ${k}: ${JSON.stringify(row)}`);
  return rows;
}

/**
 * `codexmcp ps …` (text, through a pipe) parsed: { header, rows: [{ SESSION,
 * STATUS, ENGINE, ELAPSED, PID, CWD, LAST }], r }. Asserts exit 0 and no ESC.
 */
async function psText(stateDir, extra = [], envExtra = {}) {
  const r = await runCli(['ps', '--state-dir', stateDir, ...extra], { env: cliEnv(envExtra) });
  assert.equal(r.code, 0, describeRun(r));
  assert.ok(!hasEsc(r.stdout), `ps through a pipe prints no ESC byte: ${JSON.stringify(r.stdout.slice(0, 300))}`);
  const lines = r.stdout.trimEnd().split('\n');
  const header = lines[0].trim().split(/\s+/);
  assert.deepEqual(header, ['SESSION', 'STATUS', 'ENGINE', 'ELAPSED', 'PID', 'CWD', 'LAST'], `ps header: ${r.stdout}`);
  const rows = lines.slice(1).map((l) => {
    const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.*)$/.exec(l);
    assert.ok(m, `a ps row of 7 columns (the cwds here have no spaces): ${JSON.stringify(l)}\n${r.stdout}`);
    return { SESSION: m[1], STATUS: m[2], ENGINE: m[3], ELAPSED: m[4], PID: m[5], CWD: m[6], LAST: m[7], line: l };
  });
  return { header, rows, r };
}

/** Seconds of an ELAPSED cell ("850ms", "4s", "1m12s"). */
function elapsedSeconds(cell) {
  let m;
  if ((m = /^(\d+)ms$/.exec(cell))) return Number(m[1]) / 1000;
  if ((m = /^(\d+)s$/.exec(cell))) return Number(m[1]);
  if ((m = /^(\d+)m(\d\d)s$/.exec(cell))) return Number(m[1]) * 60 + Number(m[2]);
  return NaN;
}

/** Start `codex` in the background (wait_s: 0) and return its { task, SESSION_ID }. */
async function startBackground(srv, prompt, cd) {
  const { obj } = await srv.call('codex', { PROMPT: prompt, cd, wait_s: 0 });
  assert.equal(obj.success, true, JSON.stringify(obj));
  assert.equal(obj.status, 'running', `the turn runs (not queued): ${JSON.stringify(obj)}`);
  assert.match(obj.SESSION_ID ?? '', UUID_RE, JSON.stringify(obj));
  return { task: obj.task, SESSION_ID: obj.SESSION_ID };
}

/** Wait until the registry names sid's session, as another process reads it:
 * the wait_s: 0 answer comes beside that write, not after it. */
async function waitListed(stateDir, sid) {
  let rows;
  const r = await pollUntil(async () => (rows = await psJson(stateDir)).some((x) => x.SESSION_ID === sid), 15000, 100);
  assert.ok(r.ok, `session ${sid} is in the registry: ${JSON.stringify(rows, null, 1)}`);
}

/** codex_wait on every task until it is done; returns the results in order. */
async function waitAll(srv, tasks, ms = 60000) {
  const { obj } = await srv.call('codex_wait', { task: tasks, wait_s: Math.ceil(ms / 1000) }, ms + 5000);
  assert.equal(obj.success, true, JSON.stringify(obj));
  assert.equal(obj.done, tasks.length, `all done: ${JSON.stringify(obj).slice(0, 1500)}`);
  return obj.tasks;
}

// ---------------------------------------------------------------------------

describe('codexmcp ps', () => {
  test('an empty or missing state directory: "no calls recorded in DIR", exit 0; --json []', T(30000), async () => {
    for (const stateDir of [tree.dir('empty'), tree.path('missing')]) {
      const r = await runCli(['ps', '--state-dir', stateDir], { env: cliEnv() });
      assert.equal(r.code, 0, describeRun(r));
      assert.equal(r.stdout, `no calls recorded in ${stateDir}\n`, describeRun(r));
      assert.equal(r.stderr, '', describeRun(r));
      const j = await runCli(['ps', '--json', '--state-dir', stateDir], { env: cliEnv() });
      assert.equal(j.code, 0, describeRun(j));
      assert.deepEqual(JSON.parse(j.stdout), [], describeRun(j));
    }
    // Usage errors: status 2.
    for (const args of [['ps', '-n', 'x'], ['ps', '--bogus'], ['ps', '--color', 'sometimes'], ['ps', 'extra']]) {
      const r = await runCli([...args, '--state-dir', tree.dir('empty')], { env: cliEnv() });
      assert.equal(r.code, 2, `${args.join(' ')}: ${describeRun(r)}`);
      assert.notEqual(r.stderr, '', `${args.join(' ')} says why on stderr`);
    }
  });

  test('three background calls and a second server: running (cwd, engine, growing elapsed, pid, last event), then completed newest first with their last message; -n; colour', T(150000), async () => {
    const u = uniq();
    const stateDir = tree.dir('state');
    // ps runs with HOME = home: the calls' cwd is shown as ~/proj.
    const home = fs.realpathSync(tree.dir('home'));
    const cd = path.join(home, 'proj');
    fs.mkdirSync(cd);
    const a = await startServer(stateDir);
    let b;
    try {
      await usingSdk(a.sdk, async () => {
        // Finishing in a known order, seconds apart even when each call takes
        // a second or two to start: 1 (the command, ~5 s), then 2 (~9 s),
        // then 0 (~14 s), then B's (~16 s after B started, a few s later).
        const prompts = [
          `ps-0 ${u} [[sleep:14000]] [[reply:ps zero done ${u}]]`,
          `ps-1 ${u} [[shell:sleep 5; echo ps-one-${u}]]`,
          `ps-2 ${u} [[sleep:9000]] [[reply:ps two done ${u}]]`,
        ];
        const calls = [];
        for (const p of prompts) calls.push(await startBackground(a, p, cd));
        const ids = calls.map((c) => c.SESSION_ID);
        assert.equal(new Set(ids).size, 3);

        // All three running, as --json says. The registry names a call's
        // session a moment after codex does (its writes are queued): the rows
        // are there at once, their sessions soon.
        let first;
        for (let i = 0; i < 50; i++) {
          first = await psJson(stateDir);
          if (ids.every((id) => first.some((x) => x.SESSION_ID === id))) break;
          await sleep(100);
        }
        const firstAt = Date.now();
        assert.equal(first.length, 3, JSON.stringify(first, null, 1));
        for (const [i, id] of ids.entries()) {
          const row = first.find((x) => x.SESSION_ID === id);
          assert.ok(row, `call ${i} (${id}) is listed: ${JSON.stringify(first, null, 1)}`);
          const s = JSON.stringify(row);
          assert.equal(row.status, 'running', s);
          assert.equal(row.engine, ENGINE_NAME, s);
          assert.equal(row.tool, 'codex', s);
          assert.equal(row.cwd, cd, s);
          assert.equal(row.server_pid, a.pid, s);
          assert.equal(row.finished_ms, null, s);
          assert.ok(Number.isInteger(row.started_ms) && row.started_ms <= firstAt, s);
          assert.ok(Number.isInteger(row.elapsed_ms) && row.elapsed_ms >= 0, s);
          assert.equal(typeof row.last_event, 'string', s);
          assert.ok(row.last_event.length > 0 && !row.last_event.includes('\n'), s);
          assert.ok(fs.existsSync(row.transcript), s);
        }

        // The command's call: its last event is the command, while it runs.
        let shellRow;
        const sawCmd = await pollUntil(async () => {
          shellRow = (await psJson(stateDir)).find((x) => x.SESSION_ID === ids[1]);
          return shellRow?.status === 'running' && /sleep 5/.test(shellRow.last_event);
        }, 4000, 200);
        assert.ok(sawCmd.ok, `the running call's last event names its command "sleep 5": ${JSON.stringify(shellRow)}`);

        // Elapsed grows.
        await sleep(1200);
        const second = await psJson(stateDir);
        for (const id of [ids[0], ids[2]]) {
          const r1 = first.find((x) => x.SESSION_ID === id);
          const r2 = second.find((x) => x.SESSION_ID === id);
          assert.equal(r2?.status, 'running', JSON.stringify(r2));
          assert.ok(r2.elapsed_ms >= r1.elapsed_ms + 1000, `elapsed grows: ${r1.elapsed_ms} then ${r2.elapsed_ms} ms`);
          assert.equal(r2.started_ms, r1.started_ms);
        }

        // The table: the same calls, ~ for HOME, the server's pid.
        const t1 = await psText(stateDir, [], { HOME: home });
        assert.equal(t1.rows.length, 3, t1.r.stdout);
        for (const id of ids) {
          const row = t1.rows.find((x) => x.SESSION === id);
          assert.ok(row, `${id} in the table:\n${t1.r.stdout}`);
          if (id !== ids[1]) assert.equal(row.STATUS, 'running', row.line);
          assert.equal(row.ENGINE, ENGINE_NAME, row.line);
          assert.match(row.ELAPSED, ELAPSED_RE, row.line);
          assert.ok(elapsedSeconds(row.ELAPSED) >= 1, `elapsed of a call running for over a second: ${row.line}`);
          assert.equal(row.PID, String(a.pid), row.line);
          assert.equal(row.CWD, '~/proj', row.line);
          assert.ok(row.LAST.trim().length > 0, row.line);
        }

        // A second server on the same state directory: its call is listed too.
        b = await startServer(stateDir);
        const other = await startBackground(b, `ps-3 ${u} [[sleep:16000]] [[reply:ps three done ${u}]]`, cd);
        // The registry names a call's session a moment after codex does (its
        // writes are queued): ps shows the row at once, its session soon.
        let both, running, bRow;
        for (let i = 0; i < 50; i++) {
          both = await psJson(stateDir);
          running = both.filter((x) => x.status === 'running');
          bRow = running.find((x) => x.SESSION_ID === other.SESSION_ID);
          if (bRow) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(bRow, `the other server's running call is listed: ${JSON.stringify(both, null, 1)}`);
        assert.equal(bRow.server_pid, b.pid);
        assert.notEqual(b.pid, a.pid);
        for (const id of [ids[0], ids[2]]) assert.ok(running.some((x) => x.SESSION_ID === id && x.server_pid === a.pid), `${id} still running under ${a.pid}`);
        // Running ones first.
        const firstDone = both.findIndex((x) => x.status !== 'running');
        if (firstDone >= 0) assert.ok(both.slice(firstDone).every((x) => x.status !== 'running'), `running first: ${both.map((x) => x.status)}`);
        const tb = await psText(stateDir);
        assert.ok(tb.rows.some((x) => x.SESSION === other.SESSION_ID && x.PID === String(b.pid) && x.STATUS === 'running'), tb.r.stdout);

        // Colour on request; none through a pipe (checked in psText).
        const col = await runCli(['ps', '--color', 'always', '--state-dir', stateDir], { env: cliEnv() });
        assert.equal(col.code, 0, describeRun(col));
        assert.ok(hasEsc(col.stdout), `--color always colours: ${JSON.stringify(col.stdout.slice(0, 200))}`);
        const tty = await runCli(['ps', '--state-dir', stateDir], { env: cliEnv(), tty: true });
        assert.equal(tty.code, 0, describeRun(tty));
        assert.ok(hasEsc(tty.stdout), `ps on a terminal colours: ${JSON.stringify(tty.stdout.slice(0, 200))}`);
        const ttyNo = await runCli(['ps', '--state-dir', stateDir], { env: cliEnv({ NO_COLOR: '1' }), tty: true });
        assert.ok(!hasEsc(ttyNo.stdout), `NO_COLOR=1 on a terminal: no ESC: ${JSON.stringify(ttyNo.stdout.slice(0, 200))}`);

        // All done.
        const results = await waitAll(a, calls.map((c) => c.task));
        for (const r of results) assert.equal(r.status, 'completed', JSON.stringify(r));
        const last = await usingSdk(b.sdk, () => waitAll(b, [other.task]));
        b = null;
        assert.equal(last[0].status, 'completed', JSON.stringify(last));

        // Finished newest first, each with its last message.
        const expectOrder = [other.SESSION_ID, ids[0], ids[2], ids[1]];
        const expectLast = {
          [ids[0]]: `ps zero done ${u}`,
          [ids[1]]: `shell done: ps-one-${u}`,
          [ids[2]]: `ps two done ${u}`,
          [other.SESSION_ID]: `ps three done ${u}`,
        };
        // A's turns end beside their registry writes and A still runs: ps,
        // another process, may read a moment before A's last turn end lands
        // (B's were written before it exited).
        let done;
        await pollUntil(async () => {
          done = await psJson(stateDir);
          return done.length === expectOrder.length && done.every((x) => x.status === 'completed' && Number.isInteger(x.finished_ms) && x.last_event === expectLast[x.SESSION_ID]);
        }, 15000, 200);
        assert.deepEqual(done.map((x) => x.SESSION_ID), expectOrder, `newest first: ${JSON.stringify(done, null, 1)}`);
        for (const row of done) {
          const s = JSON.stringify(row);
          assert.equal(row.status, 'completed', s);
          assert.ok(Number.isInteger(row.finished_ms) && row.finished_ms >= row.started_ms, s);
          assert.equal(row.elapsed_ms, row.finished_ms - row.started_ms, s);
          assert.equal(row.last_event, expectLast[row.SESSION_ID], s);
          assert.equal(row.engine, ENGINE_NAME, s);
        }
        assert.ok(done[0].finished_ms > done[1].finished_ms && done[1].finished_ms > done[2].finished_ms, 'finish times descend');
        const t2 = await psText(stateDir);
        assert.deepEqual(t2.rows.map((x) => x.SESSION), expectOrder, t2.r.stdout);
        for (const row of t2.rows) {
          assert.equal(row.STATUS, 'completed', row.line);
          assert.equal(row.LAST.trim(), expectLast[row.SESSION], row.line);
          const want = done.find((x) => x.SESSION_ID === row.SESSION).elapsed_ms / 1000;
          assert.ok(Math.abs(elapsedSeconds(row.ELAPSED) - want) <= 1, `ELAPSED ${row.ELAPSED} for ${want} s: ${row.line}`);
        }
        // The first call (~14 s) took about that long.
        assert.ok(elapsedSeconds(t2.rows[1].ELAPSED) >= 13, t2.rows[1].line);

        // -n limits the finished ones.
        const n1 = await psText(stateDir, ['-n', '1']);
        assert.deepEqual(n1.rows.map((x) => x.SESSION), [other.SESSION_ID], n1.r.stdout);
        const n2 = await psJson(stateDir, ['-n', '2']);
        assert.deepEqual(n2.map((x) => x.SESSION_ID), expectOrder.slice(0, 2));
      });
    } finally {
      await a.sdk.close();
      if (b) await b.sdk.close();
    }
  });

  test('columns line up by what a terminal shows: a cwd with wide (CJK) characters and a combining accent', T(90000), async () => {
    const stateDir = tree.dir('wide');
    const cwds = [tree.dir('\u5de5\u4f5c\u533a'), tree.dir('cafe\u0301'), tree.dir('plain')];
    const srv = await startServer(stateDir);
    try {
      for (const cd of cwds) {
        const { obj } = await srv.call('codex', { PROMPT: `wide ${uniq()}`, cd });
        assert.equal(obj.success, true, JSON.stringify(obj));
      }
    } finally {
      await srv.sdk.close();
    }
    // Terminal columns of a string: 2 for CJK, 0 for a combining mark, else 1.
    const cols = (s) => [...s].reduce((w, ch) => {
      const c = ch.codePointAt(0);
      if (c >= 0x300 && c <= 0x36f) return w;
      return w + ((c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xff00 && c <= 0xff60) ? 2 : 1);
    }, 0);
    const { rows, r } = await psText(stateDir);
    assert.equal(rows.length, 3, r.stdout);
    const header = r.stdout.split('\n')[0];
    const at = cols(header.slice(0, header.indexOf('LAST')));
    for (const row of rows) {
      assert.ok(cwds.some((c) => c.endsWith(row.CWD.split('/').pop())), `a cwd of the calls: ${row.CWD}`);
      const before = row.line.slice(0, row.line.length - row.LAST.length);
      assert.equal(cols(before), at, `LAST starts in the header's column on every row:\n${r.stdout}`);
    }
  });

  test('a server SIGKILLed mid-call: its call shows "interrupted", and running ones still come first', T(90000), async () => {
    const u = uniq();
    const stateDir = tree.dir('state');
    const cd = tree.dir('cwd');
    const killed = await startServer(stateDir);
    const alive = await startServer(stateDir);
    try {
      const gone = await startBackground(killed, `kill-${u} [[sleep:30000]] [[reply:never ${u}]]`, cd);
      const stays = await startBackground(alive, `stays-${u} [[sleep:6000]] [[reply:stays ${u}]]`, cd);
      // (The registry names the session a moment after codex does.)
      const listed = await pollUntil(async () => (await psJson(stateDir)).find((x) => x.SESSION_ID === gone.SESSION_ID)?.status === 'running', 5000, 100);
      assert.ok(listed.ok, `the call runs: ${JSON.stringify(await psJson(stateDir))}`);
      await pollUntil(async () => (await psJson(stateDir)).some((x) => x.SESSION_ID === stays.SESSION_ID), 5000, 100);
      process.kill(killed.pid, 'SIGKILL');
      // Gone, and reaped (a zombie still answers kill(pid, 0)).
      assert.ok((await pollUntil(() => procStat(killed.pid) === null, 5000, 25)).ok, `server ${killed.pid} gone after SIGKILL`);
      const r = await pollUntil(async () => (await psJson(stateDir)).find((x) => x.SESSION_ID === gone.SESSION_ID)?.status === 'interrupted', 5000, 100);
      const after = await psJson(stateDir);
      assert.ok(r.ok, `the killed server's call reads interrupted: ${JSON.stringify(after, null, 1)}`);
      const row = after.find((x) => x.SESSION_ID === gone.SESSION_ID);
      assert.equal(row.server_pid, killed.pid);
      assert.equal(row.finished_ms, null, JSON.stringify(row));
      // The live server's call is running and listed first.
      assert.equal(after[0].SESSION_ID, stays.SESSION_ID, JSON.stringify(after, null, 1));
      assert.equal(after[0].status, 'running');
      const t = await psText(stateDir);
      assert.deepEqual(t.rows.map((x) => [x.SESSION, x.STATUS]), [[stays.SESSION_ID, 'running'], [gone.SESSION_ID, 'interrupted']], t.r.stdout);
      await waitAll(alive, [stays.task]);
    } finally {
      await killed.sdk.close();
      await alive.sdk.close();
    }
  });
});

// ---------------------------------------------------------------------------

/** The lines of `codexmcp log`, with the indexes of the first line matching each re (in order). */
function lineIndexes(lines, res, what) {
  const out = [];
  let from = 0;
  for (const re of res) {
    const i = lines.findIndex((l, k) => k >= from && re.test(l));
    assert.ok(i >= 0, `${what}: a line matching ${re} after line ${from}:\n${lines.join('\n')}`);
    out.push(i);
    from = i + 1;
  }
  return out;
}

/** log's lines; a message printed as "codex:" with its text on the next lines
 * (indented) reads as the spec's one-line form "codex: text". */
function logLines(text) {
  return text.replace(/^codex:\n {2}/gm, 'codex: ').split('\n');
}
// The end of a completed turn (a leading ✓ and the cached tokens allowed).
const TURN_DONE_RE = /^(✓ )?turn completed · the session so far: \d+ tokens in( \(\d+ cached\))?, \d+ out$/;
const HEADER_RE = /^── turn (\d+) · (\S+) · (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) · (\S+) · (.+)$/;

describe('codexmcp log', () => {
  test('two turns of a session: prompt, command with its output and exit code, reasoning, messages, the end; a unique prefix; unknown and ambiguous ids; colour', T(120000), async () => {
    const u = uniq();
    const stateDir = tree.dir('state');
    const cd = tree.dir('cwd');
    const srv = await startServer(stateDir);
    let sid;
    let sid2;
    await usingSdk(srv.sdk, async () => {
      const p1 = `log-1 ${u} [[shell:echo log-out-${u}; exit 3]] [[usage]]`;
      let { obj } = await srv.call('codex', { PROMPT: p1, cd });
      assert.equal(obj.success, true, JSON.stringify(obj));
      assert.equal(obj.agent_messages, `shell done: log-out-${u}`);
      sid = obj.SESSION_ID;
      ({ obj } = await srv.call('codex', { PROMPT: `log-2 ${u} [[reason:thinking about ${u}]] [[usage]]`, cd, SESSION_ID: sid }));
      assert.equal(obj.success, true, JSON.stringify(obj));
      assert.equal(obj.agent_messages, 'reasoned');
      ({ obj } = await srv.call('codex', { PROMPT: `log-3 ${u} [[reply:another session]]`, cd }));
      assert.equal(obj.success, true, JSON.stringify(obj));
      sid2 = obj.SESSION_ID;
    });

    const r = await runCli(['log', '--state-dir', stateDir, sid], { env: cliEnv() });
    assert.equal(r.code, 0, describeRun(r));
    assert.ok(!hasEsc(r.stdout), `log through a pipe prints no ESC: ${JSON.stringify(r.stdout.slice(0, 300))}`);
    const lines = logLines(r.stdout);
    const heads = lines.map((l) => HEADER_RE.exec(l)).filter(Boolean);
    assert.equal(heads.length, 2, `two turn headers:\n${r.stdout}`);
    assert.deepEqual(heads.map((h) => h[1]), ['1', '2']);
    for (const h of heads) {
      assert.equal(h[2], 'codex', h[0]);
      assert.equal(h[4], ENGINE_NAME, h[0]);
      assert.equal(h[5], cd, h[0]);
      const t = new Date(h[3].replace(' ', 'T')).getTime(); // local time, as printed
      assert.ok(Math.abs(t - Date.now()) < 10 * 60000, `the turn's time is now-ish: ${h[0]}`);
    }
    lineIndexes(lines, [
      /^── turn 1 · /,
      new RegExp(`^> log-1 ${u} \\[\\[shell:`),
      new RegExp(`^\\$ .*echo log-out-${u}; exit 3`),
      new RegExp(`^\\s+(│ )?log-out-${u}$`),
      /^\s+exit 3$/,
      new RegExp(`^codex: shell done: log-out-${u}$`),
      TURN_DONE_RE,
      /^── turn 2 · /,
      new RegExp(`^> log-2 ${u} \\[\\[reason:`),
      new RegExp(`^· thinking about ${u}$`),
      /^codex: reasoned$/,
      TURN_DONE_RE,
    ], 'log of two turns');
    assert.ok(!r.stdout.includes('another session'), 'only this session');

    // A unique prefix gives the same; so does the id in upper case.
    for (const id of [sid.slice(0, 13), sid.toUpperCase()]) {
      const p = await runCli(['log', '--state-dir', stateDir, id], { env: cliEnv() });
      assert.equal(p.code, 0, `${id}: ${describeRun(p)}`);
      assert.equal(p.stdout, r.stdout, `log ${id} is the log of ${sid}`);
    }
    // -f on a session with nothing running: the same, and it ends at once.
    const f = await runCli(['log', '-f', '--state-dir', stateDir, sid], { env: cliEnv(), timeoutMs: 15000 });
    assert.equal(f.code, 0, describeRun(f));
    assert.equal(f.stdout, r.stdout, 'log -f of a finished session');

    // Colour on request.
    const col = await runCli(['log', '--color', 'always', '--state-dir', stateDir, sid], { env: cliEnv() });
    assert.equal(col.code, 0, describeRun(col));
    assert.ok(hasEsc(col.stdout), 'log --color always colours');
    const never = await runCli(['log', '--color', 'never', '--state-dir', stateDir, sid], { env: cliEnv() });
    assert.equal(never.stdout, r.stdout);
    // On a terminal (script(1)): colour, unless NO_COLOR is set.
    const tty = await runCli(['log', '--state-dir', stateDir, sid], { env: cliEnv(), tty: true });
    assert.equal(tty.code, 0, describeRun(tty));
    assert.ok(hasEsc(tty.stdout), `log on a terminal colours: ${JSON.stringify(tty.stdout.slice(0, 200))}`);
    const ttyNo = await runCli(['log', '--state-dir', stateDir, sid], { env: cliEnv({ NO_COLOR: '1' }), tty: true });
    assert.equal(ttyNo.code, 0, describeRun(ttyNo));
    assert.ok(!hasEsc(ttyNo.stdout), `NO_COLOR=1 on a terminal: no ESC: ${JSON.stringify(ttyNo.stdout.slice(0, 200))}`);
    assert.equal(ttyNo.stdout, r.stdout, 'the same text as through a pipe');

    // Unknown: exit 1, said on stderr.
    const unknown = '00000000-0000-7000-8000-000000000000';
    const un = await runCli(['log', '--state-dir', stateDir, unknown], { env: cliEnv() });
    assert.equal(un.code, 1, describeRun(un));
    assert.equal(un.stdout, '', describeRun(un));
    assert.ok(un.stderr.includes(unknown), `the message names the id: ${un.stderr}`);
    // Ambiguous: the longest prefix the two sessions share names both.
    let k = 0;
    while (k < sid.length && sid[k] === sid2[k]) k++;
    assert.ok(k > 0, `two UUIDv7 ids made a moment apart share a prefix: ${sid} ${sid2}`);
    const amb = await runCli(['log', '--state-dir', stateDir, sid.slice(0, k)], { env: cliEnv() });
    assert.equal(amb.code, 1, describeRun(amb));
    assert.equal(amb.stdout, '', describeRun(amb));
    assert.ok(amb.stderr.includes(sid) && amb.stderr.includes(sid2), `the message names both candidates: ${amb.stderr}`);
    // An empty state directory: unknown as well.
    const none = await runCli(['log', '--state-dir', tree.dir('empty'), sid], { env: cliEnv() });
    assert.equal(none.code, 1, describeRun(none));
    // Usage: status 2.
    for (const args of [['log'], ['log', sid, sid2], ['log', '--bogus', sid], ['log', '--color', 'x', sid]]) {
      const bad = await runCli([...args.slice(0, 1), '--state-dir', stateDir, ...args.slice(1)], { env: cliEnv() });
      assert.equal(bad.code, 2, `${args.join(' ')}: ${describeRun(bad)}`);
      assert.notEqual(bad.stderr, '');
    }
  });

  test('log -f follows a running call: its first lines arrive while it runs, then the command and the answer, and it exits 0 when the call ends', T(120000), async (t) => {
    const u = uniq();
    const stateDir = tree.dir('state');
    const cd = tree.dir('cwd');
    const srv = await startServer(stateDir);
    await usingSdk(srv.sdk, async () => {
      const prompt = `follow ${u} [[shell:sleep 6; echo follow-out-${u}]]`;
      const call = await startBackground(srv, prompt, cd);
      await waitListed(stateDir, call.SESSION_ID);
      const follow = streamCli(['log', '-f', '--state-dir', stateDir, call.SESSION_ID], { env: cliEnv() });
      try {
        await follow.waitFor(new RegExp(`^> follow ${u}`, 'm'), 20000);
        const first = follow.chunks[0];
        assert.match(first.text, /^── turn 1 · codex · /, 'the header comes first');
        // The call still runs: codex has not asked the model again after the command.
        const followUp = () => codex.fake.requestsFor(`follow ${u}`);
        assert.ok(followUp().length < 2, 'the call is still running while the first lines arrive');
        // The command shows as it starts, not only once it is over.
        const cmdAt = await follow.waitFor(new RegExp(`^\\$ .*sleep 6; echo follow-out-${u}`, 'm'), 20000);
        assert.ok(followUp().length < 2, 'the command line arrives while the command runs');

        const [res] = await waitAll(srv, [call.task]);
        const endedAt = Date.now();
        assert.equal(res.agent_messages, `shell done: follow-out-${u}`, JSON.stringify(res));
        const second = followUp()[1];
        assert.ok(second && first.t < second.time && cmdAt <= second.time, 'the first lines and the command arrived before the command had finished');

        const closed = await Promise.race([follow.closed, sleep(20000).then(() => null)]);
        assert.ok(closed, `log -f exits by itself once the call ends (still running 20 s after):\n${follow.stdout()}\n${follow.stderr()}`);
        t.diagnostic(`log -f exited ${closed.at - endedAt} ms after codex_wait answered`);
        assert.equal(closed.code, 0, follow.stderr());
        const lines = logLines(follow.stdout());
        lineIndexes(lines, [
          /^── turn 1 · /,
          new RegExp(`^> follow ${u}`),
          new RegExp(`^\\$ .*sleep 6; echo follow-out-${u}`),
          /^\s+exit 0$/,
          new RegExp(`^codex: shell done: follow-out-${u}$`),
          TURN_DONE_RE,
        ], 'log -f');
        // What it streamed is the log of the session.
        const plain = await runCli(['log', '--state-dir', stateDir, call.SESSION_ID], { env: cliEnv() });
        assert.equal(follow.stdout(), plain.stdout, 'log -f printed what log prints');
        assert.ok(!hasEsc(follow.stdout()), 'no ESC through a pipe');
      } finally {
        follow.kill();
      }
    });
  });
});

describe('codexmcp log -f when the registry cannot say', () => {
  test('the registry is removed while a call runs: log -f still ends after the call does, and shows its end', T(120000), async (t) => {
    const u = uniq();
    const stateDir = tree.dir('state');
    const cd = tree.dir('cwd');
    const srv = await startServer(stateDir);
    await usingSdk(srv.sdk, async () => {
      const call = await startBackground(srv, `gone ${u} [[shell:sleep 3; echo gone-out-${u}]]`, cd);
      await waitListed(stateDir, call.SESSION_ID);
      const follow = streamCli(['log', '-f', '--state-dir', stateDir, call.SESSION_ID], { env: cliEnv() });
      try {
        await follow.waitFor(new RegExp(`^> gone ${u}`, 'm'), 20000);
        // The registry goes (a user cleaning up, another tool): the server
        // keeps writing to the file it has open; log -f finds none.
        for (const f of fs.readdirSync(stateDir)) if (f.startsWith('codexmcp.sqlite')) fs.rmSync(path.join(stateDir, f));
        const [res] = await waitAll(srv, [call.task]);
        assert.equal(res.success, true, JSON.stringify(res));
        const endedAt = Date.now();
        const closed = await Promise.race([follow.closed, sleep(30000).then(() => null)]);
        assert.ok(closed, `log -f exits once the call's transcript has ended (still running 30 s after):\n${follow.stdout()}`);
        t.diagnostic(`log -f exited ${closed.at - endedAt} ms after the call ended`);
        assert.equal(closed.code, 0, follow.stderr());
        assert.match(follow.stdout(), new RegExp(`shell done: gone-out-${u}`));
      } finally {
        follow.kill();
      }
    });
  });
});

describe('codexmcp ps and log: text from codex and the registry', () => {
  test('no escape sequence of theirs reaches the terminal (ESC, BEL, C1, OSC 52), only the colours ps and log choose', T(120000), async () => {
    const stateDir = tree.dir('hostile');
    const cd = tree.dir('hostile-cd');
    const srv = await startServer(stateDir);
    let sid;
    try {
      const { obj } = await srv.call('codex', { PROMPT: `hostile ${uniq()}`, cd });
      assert.equal(obj.success, true, JSON.stringify(obj));
      sid = obj.SESSION_ID;
    } finally {
      await srv.sdk.close();
    }
    // What a model (through codex) or anything writing the registry could put there.
    const E = '\u001b';
    const tr = path.join(stateDir, 'hostile.jsonl');
    const lines = [
      { type: 'item.completed', item: { id: 'i1', type: 'command_execution', command: `echo ${E}]0;TITLE\u0007`, aggregated_output: `${E}[2J\u009b31mout\n`, exit_code: 0, status: 'completed' } },
      { type: 'item.completed', item: { id: 'i2', type: 'file_change', changes: [{ kind: `add${E}[8m`, path: `/x/${E}c.txt` }] } },
      { type: 'item.completed', item: { id: 'i3', type: 'web_search', query: `${E}]52;c;SGVsbG8=\u0007` } },
      { type: 'item.completed', item: { id: 'i4', type: 'mcp_tool_call', server: `s${E}[5m`, tool: 't\u0085', status: 'completed' } },
      { type: 'error', message: `${E}[?1049h` },
      { type: 'item.completed', item: { id: 'i5', type: 'agent_message', text: `done ${E}[31m\u0085red\u007f` } },
    ];
    fs.writeFileSync(tr, lines.map((l) => JSON.stringify(l)).join('\n') + `\n${E}]0;raw line\u0007\n`);
    // The turn: running under this (live) process, so ps reads its transcript's last event.
    const q = (s) => `'${s.replace(/'/g, "''")}'`;
    const sql = `UPDATE turns SET cwd = '/tmp/a' || char(10) || char(27) || '[2J', engine = 'app' || char(27) || '[7m', ` +
      `tool = 'codex' || char(27) || ']0;T' || char(7), prompt = 'p' || char(27) || 'c' || char(155) || '31m', ` +
      `status = 'running', finished_ms = NULL, server_pid = ${process.pid}, transcript = ${q(tr)} WHERE session_id = ${q(sid)};`;
    const r0 = spawnSync('sqlite3', [path.join(stateDir, 'codexmcp.sqlite'), sql], { encoding: 'utf8' });
    assert.equal(r0.status, 0, r0.stderr);
    const bad = (out) => [...out.matchAll(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g)].map((m) => m[0].codePointAt(0).toString(16));
    const sgrOnly = (out) => bad(out.replace(/\u001b\[[0-9;]*m/g, ''));
    for (const args of [['ps'], ['ps', '--json'], ['log', sid]]) {
      const plain = await runCli([...args, '--state-dir', stateDir, '--color', 'never'], { env: cliEnv() });
      assert.equal(plain.code, 0, describeRun(plain));
      assert.deepEqual(bad(plain.stdout), [], `${args.join(' ')}: no control character but newline: ${JSON.stringify(plain.stdout)}`);
      if (args[1] === '--json') continue;
      const colour = await runCli([...args, '--state-dir', stateDir, '--color', 'always'], { env: cliEnv() });
      assert.equal(colour.code, 0, describeRun(colour));
      assert.ok(hasEsc(colour.stdout), 'coloured');
      assert.deepEqual(sgrOnly(colour.stdout), [], `${args.join(' ')}: only SGR colours: ${JSON.stringify(colour.stdout)}`);
    }
    // What the text said is still there, made harmless.
    const shown = await runCli(['log', sid, '--state-dir', stateDir, '--color', 'never'], { env: cliEnv() });
    assert.match(shown.stdout, /done .*red/);
    assert.match(shown.stdout, /\/x\/ c\.txt/);
    const ps = await runCli(['ps', '--state-dir', stateDir, '--color', 'never'], { env: cliEnv() });
    assert.match(ps.stdout, /message: done/);
    assert.equal(ps.stdout.trimEnd().split('\n').length, 2, `one row on one line, a newline in cwd or all: ${ps.stdout}`);
  });
});
