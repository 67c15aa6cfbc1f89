// The state directory: transcripts, the result budget, the session registry
// (codex_sessions) and the prompts. Turns run through the REAL codex CLI
// against the fake Responses API, except where many quick turns or a kill
// mid-call need the fake codex (fixtures/fake-codex.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeResponses } from './lib/fake-responses.mjs';
import { codexBin, makeCodexHome, removeCodexHome, env } from './lib/codex-env.mjs';
import { connectSdk, rawServer, withTimeout } from './lib/mcp.mjs';
import { tempTree } from './lib/tmp.mjs';
import { pollUntil } from './lib/procs.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const FAKE_CODEX = path.join(here, 'fixtures', 'fake-codex.mjs');
const T = { timeout: 120000 };
const CALL_MS = 60000;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let fake;
before(async () => {
  fake = await startFakeResponses();
});
after(async () => {
  await fake?.close();
});
const tree = tempTree('codexmcp-e2e-state-');

/** JS string length: what Claude Code counts. */
const chars = (s) => s.length;

async function server({ stateDir, home, args = [], envExtra = {}, name = 'e2e' }) {
  const sdk = await connectSdk(['--codex', codexBin(), '--state-dir', stateDir, ...args], env(home, envExtra), { name });
  return sdk;
}

async function call(client, name, args, ms = CALL_MS) {
  const res = await withTimeout(client.callTool({ name, arguments: args }, undefined, { timeout: ms }), ms + 2000, `tools/call ${name}`);
  const text = res.content[0].text;
  const obj = JSON.parse(text);
  if (res.structuredContent !== undefined) assert.deepEqual(res.structuredContent, obj);
  return { res, obj, text };
}

async function withServer(opts, fn) {
  const home = opts.home ?? makeCodexHome(fake.url);
  const sdk = await server({ ...opts, home });
  try {
    return await fn(sdk.client, sdk, home);
  } catch (err) {
    err.message += `\n--- server stderr (tail) ---\n${sdk.stderr().slice(-3000)}`;
    throw err;
  } finally {
    await sdk.close();
    if (!opts.home) removeCodexHome(home);
  }
}

// ---- the result budget and transcripts ----

// About 1.3 MB of command output (seq 1 200000) and a 500 kB answer.
const BIG = '[[shell:seq 1 200000]] [[bigreply:500000]]';

async function bigTurn(name, expectMax) {
  // Not there yet: codexmcp creates it (0700).
  const stateDir = path.join(tree.dir('state'), 'codexmcp');
  const cd = tree.dir('proj');
  await withServer({ stateDir, name }, async (client) => {
    const { obj, text, res } = await call(client, 'codex', { PROMPT: BIG, cd, return_all_messages: true });
    assert.equal(obj.success, true, text.slice(0, 500));
    // Within the budget: the text block and structuredContent alike.
    assert.ok(chars(text) <= expectMax, `text is ${chars(text)} characters, over ${expectMax}`);
    assert.ok(chars(JSON.stringify(res.structuredContent)) <= expectMax);
    // Cut, and it says so: the note, the marks, the transcript.
    assert.match(obj.trimmed, new RegExp(`budget of ${expectMax}`));
    assert.ok(path.isAbsolute(obj.transcript) && obj.transcript.startsWith(stateDir), obj.transcript);
    assert.match(obj.agent_messages, /\[codexmcp: \d+ characters cut here; the full text is in \/[^\]]+\.jsonl\]/);
    assert.ok(obj.agent_messages.startsWith('BIGREPLY-START'), 'the head of the answer is kept');
    assert.ok(obj.agent_messages.endsWith('BIGREPLY-END'), 'the tail of the answer is kept');
    const cuts = obj.all_messages.filter((e) => e.type === 'codexmcp.cut');
    assert.ok(cuts.length >= 1, JSON.stringify(obj.all_messages).slice(0, 500));
    for (const c of cuts) assert.equal(c.transcript, obj.transcript);
    // The transcript has everything, and only its owner can read it.
    const st = fs.statSync(obj.transcript);
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(obj.transcript)).mode & 0o777, 0o700);
    assert.equal(fs.statSync(stateDir).mode & 0o777, 0o700);
    assert.ok(st.size > 1800000, `transcript is ${st.size} bytes`);
    const lines = fs.readFileSync(obj.transcript, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines[0].type, 'codexmcp.call');
    assert.equal(lines[0].prompt, BIG);
    assert.equal(lines.at(-1).type, 'codexmcp.exit');
    assert.equal(lines.at(-1).exit_status, 0);
    const cmd = lines.find((l) => l.type === 'item.completed' && l.item.type === 'command_execution');
    assert.ok(cmd.item.aggregated_output.includes('\n199999\n200000'), 'the whole command output');
    const answer = lines.filter((l) => l.type === 'item.completed' && l.item.type === 'agent_message').at(-1);
    assert.equal(answer.item.text.length, 500000, 'the whole answer');
    assert.ok(answer.item.text.startsWith('BIGREPLY-START') && answer.item.text.endsWith('BIGREPLY-END'));
  });
}

test('budget: a turn with 1.3 MB of command output and a 500 kB answer fits 48,000 characters, cuts marked, transcript complete', T, () => bigTurn('claude-code', 48000));

test('budget: Codex as the client (clientInfo codex-mcp-client) gets 10,000 characters', T, () => bigTurn('codex-mcp-client', 10000));

test('budget: under it nothing is cut; max_result_chars and all_messages_filter per call', T, async () => {
  const stateDir = tree.dir('state');
  const cd = tree.dir('proj');
  await withServer({ stateDir }, async (client) => {
    let { obj } = await call(client, 'codex', { PROMPT: '[[reply:small answer]]', cd, return_all_messages: true });
    assert.equal(obj.agent_messages, 'small answer');
    assert.equal(obj.trimmed, undefined);
    assert.ok(!JSON.stringify(obj).includes('[codexmcp:'));
    assert.ok(fs.existsSync(obj.transcript));
    assert.ok(obj.all_messages.some((e) => e.type === 'turn.completed'));

    ({ obj } = await call(client, 'codex', { PROMPT: '[[shell:seq 1 30000]]', cd, return_all_messages: true, max_result_chars: 5000 }));
    const text = JSON.stringify(obj);
    assert.ok(text.length <= 5000, `${text.length}`);
    assert.match(obj.trimmed, /budget of 5000/);

    // The filter keeps only the items asked for, and implies all_messages.
    ({ obj } = await call(client, 'codex', { PROMPT: '[[shell:echo filtered]]', cd, all_messages_filter: ['command_execution'] }));
    assert.ok(obj.all_messages.length >= 1);
    for (const e of obj.all_messages) assert.equal(e.item?.type, 'command_execution', JSON.stringify(e));

    const bad = await call(client, 'codex', { PROMPT: 'x', cd, all_messages_filter: ['commands'] });
    assert.equal(bad.obj.success, false);
    assert.match(bad.obj.error, /all_messages_filter\[0\] must be one of/);
    const small = await call(client, 'codex', { PROMPT: 'x', cd, max_result_chars: 10 });
    assert.match(small.obj.error, /max_result_chars must be a whole number from 1000/);
  });
});

// ---- the session registry ----

test('registry: sessions are listed after a restart, filtered, with their turns; resuming works after the restart', T, async () => {
  const stateDir = tree.dir('state');
  const cd = tree.dir('alpha');
  const other = tree.dir('beta');
  const home = makeCodexHome(fake.url);
  try {
    let id;
    await withServer({ stateDir, home }, async (client) => {
      let { obj } = await call(client, 'codex', { PROMPT: 'first alpha prompt [[reply:alpha answer one]]', cd });
      assert.equal(obj.success, true);
      id = obj.SESSION_ID;
      assert.match(id, UUID_RE);
      ({ obj } = await call(client, 'codex', { PROMPT: 'second prompt [[reply:alpha answer two]]', cd, SESSION_ID: id }));
      assert.equal(obj.SESSION_ID, id);
      ({ obj } = await call(client, 'codex', { PROMPT: 'beta work [[reply:beta answer]]', cd: other }));
      assert.equal(obj.success, true);
    });
    // The registry and its WAL files are the owner's alone.
    for (const f of fs.readdirSync(stateDir).filter((n) => n.startsWith('codexmcp.sqlite'))) {
      assert.equal(fs.statSync(path.join(stateDir, f)).mode & 0o777, 0o600, f);
    }
    // A new server process, the same state directory.
    await withServer({ stateDir, home }, async (client) => {
      let { obj, res } = await call(client, 'codex_sessions', {});
      assert.equal(obj.success, true);
      assert.equal(obj.sessions.length, 2);
      assert.match(obj.sessions[0].title, /^beta work/, 'newest first');
      const alpha = obj.sessions[1];
      assert.equal(alpha.SESSION_ID, id);
      assert.equal(alpha.cwd, fs.realpathSync(cd));
      assert.match(alpha.title, /^first alpha prompt/);
      assert.equal(alpha.turns, 2);
      assert.equal(alpha.last_status, 'completed');
      assert.equal(alpha.last_message, 'alpha answer two');
      assert.equal(alpha.tool, 'codex');
      assert.ok(Date.parse(alpha.created_at) <= Date.parse(alpha.updated_at));
      assert.equal(res.isError, undefined);

      ({ obj } = await call(client, 'codex_sessions', { cd }));
      assert.deepEqual(obj.sessions.map((s) => s.SESSION_ID), [id]);
      ({ obj } = await call(client, 'codex_sessions', { query: 'BETA ANSWER' }));
      assert.equal(obj.sessions.length, 1);
      assert.match(obj.sessions[0].title, /^beta/);
      ({ obj } = await call(client, 'codex_sessions', { limit: 1 }));
      assert.equal(obj.sessions.length, 1);

      ({ obj } = await call(client, 'codex_sessions', { SESSION_ID: id.toUpperCase() }));
      assert.equal(obj.session.SESSION_ID, id);
      assert.deepEqual(obj.turns.map((t) => [t.turn, t.status, t.last_message]), [[1, 'completed', 'alpha answer one'], [2, 'completed', 'alpha answer two']]);
      assert.match(obj.turns[1].prompt, /^second prompt/);
      for (const t of obj.turns) assert.ok(fs.existsSync(t.transcript), t.transcript);

      const missing = await call(client, 'codex_sessions', { SESSION_ID: '00000000-0000-0000-0000-000000000000' });
      assert.equal(missing.obj.success, false);
      assert.match(missing.obj.error, /no session 00000000/);
      const bad = await call(client, 'codex_sessions', { limit: 0 });
      assert.match(bad.obj.error, /limit must be a whole number from 1 to 200/);

      // Resuming after the restart: codex still has the thread.
      ({ obj } = await call(client, 'codex', { PROMPT: 'third [[history]]', cd, SESSION_ID: id }));
      assert.equal(obj.success, true);
      assert.match(obj.agent_messages, /first alpha prompt.*second prompt.*third/s);
      ({ obj } = await call(client, 'codex_sessions', { SESSION_ID: id }));
      assert.equal(obj.turns.length, 3);
    });
  } finally {
    removeCodexHome(home);
  }
});

test('registry: codex_sessions is read-only and listed with the other tools', T, async () => {
  await withServer({ stateDir: tree.dir('state') }, async (client) => {
    const { tools } = await client.listTools();
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    assert.deepEqual(Object.keys(byName).sort(), ['codex', 'codex_cancel', 'codex_review', 'codex_sessions', 'codex_wait']);
    assert.equal(byName.codex_sessions.annotations.readOnlyHint, true);
    assert.equal(byName.codex_wait.annotations.readOnlyHint, true);
    assert.equal(byName.codex_review.annotations.readOnlyHint, true);
    assert.equal(byName.codex.annotations.readOnlyHint, false);
  });
});

function fakeServer(stateDir, mode = 'ok', extraEnv = {}) {
  return connectSdk(['--codex', FAKE_CODEX, '--state-dir', stateDir, '--max-parallel', '4'],
    { ...process.env, FAKE_CODEX_MODE: mode, FAKE_CODEX_THREAD_ID: 'random', ...extraEnv });
}

test('registry: two server processes writing at once lose nothing', T, async () => {
  const stateDir = tree.dir('state');
  const cd = tree.dir('proj');
  const a = await fakeServer(stateDir);
  const b = await fakeServer(stateDir);
  try {
    const N = 16;
    const calls = [];
    for (let i = 0; i < N; i++) {
      for (const [who, s] of [['a', a], ['b', b]]) calls.push(call(s.client, 'codex', { PROMPT: `parallel ${who}${i}`, cd }));
    }
    const results = await Promise.all(calls);
    for (const r of results) assert.equal(r.obj.success, true, r.text);
    // Each reply comes beside its registry write: the other process's last
    // rows (a session, then its turn's end, which counts it) may land a
    // moment later.
    let obj;
    await pollUntil(async () => {
      ({ obj } = await call(a.client, 'codex_sessions', { limit: 200 }));
      return obj.sessions?.length === 2 * N && obj.sessions.every((s) => s.turns === 1);
    }, 15000, 50);
    assert.ok(Array.isArray(obj.sessions), JSON.stringify(obj));
    assert.equal(obj.sessions.length, 2 * N);
    const titles = new Set(obj.sessions.map((s) => s.title));
    for (let i = 0; i < N; i++) for (const who of ['a', 'b']) assert.ok(titles.has(`parallel ${who}${i}`), `parallel ${who}${i}`);
    for (const s of obj.sessions) assert.equal(s.turns, 1);
  } finally {
    await a.close();
    await b.close();
  }
});

test('registry: a server killed with SIGKILL mid-call leaves a readable database; the turn reads as interrupted', T, async () => {
  const stateDir = tree.dir('state');
  const cd = tree.dir('proj');
  // "retrying": thread.started, then retry notices until it is killed.
  const a = await fakeServer(stateDir, 'retrying');
  const pending = a.client.callTool({ name: 'codex', arguments: { PROMPT: 'killed mid-call', cd } }).catch(() => {});
  const b = await fakeServer(stateDir);
  try {
    // Until the first server has created the registry, the second may find
    // none yet, or find it being created: it says so, and the poll goes on.
    let last;
    const polled = await pollUntil(async () => {
      const { obj } = await call(b.client, 'codex_sessions', {});
      last = obj;
      return obj.sessions?.length === 1 ? obj.sessions[0] : null;
    }, 10000, 100);
    assert.ok(polled.ok, `the running session is listed: ${JSON.stringify(last)}`);
    const listed = polled.value;
    assert.equal(listed.last_status, 'running');
    process.kill(a.pid, 'SIGKILL');
    await pending;
    const { obj } = await call(b.client, 'codex_sessions', {});
    assert.equal(obj.sessions.length, 1);
    assert.equal(obj.sessions[0].title, 'killed mid-call');
    assert.equal(obj.sessions[0].last_status, 'interrupted');
    const turns = await call(b.client, 'codex_sessions', { SESSION_ID: obj.sessions[0].SESSION_ID });
    assert.equal(turns.obj.turns[0].status, 'interrupted');
    // And it still takes writes.
    const r = await call(b.client, 'codex', { PROMPT: 'after the kill', cd });
    assert.equal(r.obj.success, true);
  } finally {
    await a.close();
    await b.close();
  }
});

/** Another process holding the registry's write lock until release(). */
function lockRegistry(db) {
  const cli = spawn('sqlite3', [db], { stdio: ['pipe', 'ignore', 'pipe'] });
  cli.stdin.write('BEGIN IMMEDIATE;\nINSERT INTO turns (tool, cwd, prompt, status, server_pid, started_ms) VALUES (\'x\', \'/\', \'lock\', \'failed\', 1, 0);\n');
  return {
    release: () => new Promise((resolve) => {
      cli.on('exit', resolve);
      cli.stdin.end('ROLLBACK;\n');
    }),
  };
}

test('registry: held locked by another process, it neither holds up calls, reads nor exit, and loses nothing', T, async () => {
  const stateDir = tree.dir('state');
  const cd = tree.dir('proj');
  // A first server makes the registry.
  const first = await fakeServer(stateDir);
  await call(first.client, 'codex', { PROMPT: 'make the registry', cd });
  await first.close();
  const db = path.join(stateDir, 'codexmcp.sqlite');
  let lock = lockRegistry(db);
  await new Promise((r) => setTimeout(r, 200));
  const s = await fakeServer(stateDir);
  try {
    // Calls are answered while the registry is locked: their records wait
    // on the registry's worker, not the call (nor the event loop).
    const done = await Promise.all([1, 2, 3].map((i) => call(s.client, 'codex', { PROMPT: `while locked ${i}`, cd })));
    for (const d of done) assert.equal(d.obj.success, true);
    await withTimeout(s.client.ping(), 5000, 'ping while locked');
    // A read goes before the writes that wait for the lock.
    const read = await withTimeout(call(s.client, 'codex_sessions', {}), 8000, 'codex_sessions while locked');
    assert.equal(read.obj.success, true);
    // Held past the busy timeout (2 s): the writes are tried again later.
    await new Promise((r) => setTimeout(r, 3000));
    await lock.release();
    const polled = await pollUntil(async () => {
      const { obj: l } = await call(s.client, 'codex_sessions', { query: 'while locked' });
      return l.sessions?.length === 3 && l.sessions.every((x) => x.last_status === 'completed') ? l.sessions : null;
    }, 15000, 200);
    assert.ok(polled.ok, 'the calls made while it was locked were recorded once the lock was gone');
    for (const x of polled.value) assert.equal(x.turns, 1);
  } finally {
    await s.close();
  }
  // Exiting does not wait for a lock another process keeps: what is
  // queued is tried once, then the server exits 0 on stdin EOF.
  lock = lockRegistry(db);
  await new Promise((r) => setTimeout(r, 200));
  const raw = rawServer(['--codex', FAKE_CODEX, '--state-dir', stateDir], { ...process.env, FAKE_CODEX_MODE: 'ok', FAKE_CODEX_THREAD_ID: 'random' });
  try {
    await raw.initialize();
    const reply = await raw.request({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'codex', arguments: { PROMPT: 'just before exit', cd } } }, 20000);
    assert.equal(reply.result.structuredContent.success, true);
    raw.closeStdin();
    const ex = await raw.waitExit(10000);
    assert.equal(ex.code, 0, raw.stderr);
    assert.match(raw.stderr, /this record is lost/);
  } finally {
    await lock.release();
    await raw.dispose();
  }
});

test('registry: cd "/" lists every session; query ignores case beyond ASCII; a failed resume is counted only under a session codex named', T, async () => {
  const stateDir = tree.dir('state');
  const cd = tree.dir('proj');
  const ok = await fakeServer(stateDir);
  const broken = await connectSdk(['--codex', FAKE_CODEX, '--state-dir', stateDir], { ...process.env, FAKE_CODEX_MODE: 'noevents' });
  try {
    await call(ok.client, 'codex', { PROMPT: 'Überprüfe die Änderung', cd });
    let { obj } = await call(ok.client, 'codex_sessions', { cd: '/' });
    assert.equal(obj.sessions.length, 1);
    // Letters in any case, not only ASCII ones.
    for (const query of ['überprüfe', 'ÜBERPRÜFE', 'die änderung']) {
      ({ obj } = await call(ok.client, 'codex_sessions', { query }));
      assert.equal(obj.sessions.length, 1, query);
    }
    ({ obj } = await call(ok.client, 'codex_sessions', { cd: cd + '/' }));
    assert.equal(obj.sessions.length, 1);
    // A resume that fails before codex names the session (it exits at once).
    const id = '01A20C97-AAAA-7000-8000-00000000ABCD';
    const r = await call(broken.client, 'codex', { PROMPT: 'continue please', cd, SESSION_ID: id });
    assert.equal(r.obj.success, false);
    // Codex never confirmed that session: it is not made up in the registry.
    const got = await call(ok.client, 'codex_sessions', { SESSION_ID: id });
    assert.equal(got.obj.success, false);
    assert.match(got.obj.error, /no session/);
    // A session the registry knows counts a failed turn with its others.
    const known = (await call(ok.client, 'codex_sessions', {})).obj.sessions[0].SESSION_ID;
    await call(broken.client, 'codex', { PROMPT: 'resume fails', cd, SESSION_ID: known.toUpperCase() });
    // The registry is written beside the reply, on another thread: another
    // process sees the turn's end a moment later.
    let k;
    await pollUntil(async () => {
      k = await call(ok.client, 'codex_sessions', { SESSION_ID: known });
      return k.obj.session.turns === 2 && k.obj.turns.map((x) => x.status).join() === 'completed,failed' && k.obj.session.last_status === 'failed';
    }, 15000, 50);
    assert.equal(k.obj.session.turns, 2);
    assert.deepEqual(k.obj.turns.map((x) => x.status), ['completed', 'failed']);
    assert.equal(k.obj.session.last_status, 'failed');
  } finally {
    await ok.close();
    await broken.close();
  }
});

test('registry: an unwritable state directory or a corrupt database never fails a codex call', T, async () => {
  const cd = tree.dir('proj');
  // A state directory under a regular file cannot be created.
  const blocker = path.join(tree.dir('blocked'), 'file');
  fs.writeFileSync(blocker, 'not a directory');
  await withServer({ stateDir: path.join(blocker, 'state') }, async (client, sdk) => {
    const { obj } = await call(client, 'codex', { PROMPT: '[[reply:still works]]', cd });
    assert.equal(obj.success, true);
    assert.equal(obj.agent_messages, 'still works');
    assert.equal(obj.transcript, undefined);
    assert.ok(obj.warnings.some((w) => /no transcript for this call: cannot create/.test(w)), JSON.stringify(obj.warnings));
    const s = await call(client, 'codex_sessions', {});
    assert.equal(s.obj.success, false);
    assert.match(s.obj.error, /the session registry is not available: cannot create the state directory/);
    assert.match(sdk.stderr(), /cannot create the state directory/);
  });
  // A database file that is not SQLite.
  const stateDir = tree.dir('state');
  fs.writeFileSync(path.join(stateDir, 'codexmcp.sqlite'), 'this is not a database '.repeat(100));
  await withServer({ stateDir }, async (client, sdk) => {
    const { obj } = await call(client, 'codex', { PROMPT: '[[reply:works without history]]', cd });
    assert.equal(obj.success, true);
    assert.ok(fs.existsSync(obj.transcript), 'transcripts still work');
    // The registry is opened on its worker thread, which logs why it cannot be used beside the reply.
    await pollUntil(() => /session registry .*codexmcp\.sqlite.*(not a database|file is not)/.test(sdk.stderr()), 15000, 50);
    assert.match(sdk.stderr(), /session registry .*codexmcp\.sqlite.*(not a database|file is not)/);
    const s = await call(client, 'codex_sessions', {});
    assert.match(s.obj.error, /the session registry is not available/);
  });
});

test('state directory: CODEXMCP_STATE_DIR, then XDG_STATE_HOME, then ~/.local/state', T, async () => {
  const cd = tree.dir('proj');
  const base = tree.dir('homes');
  const cases = [
    [{ CODEXMCP_STATE_DIR: path.join(base, 'explicit') }, path.join(base, 'explicit')],
    [{ CODEXMCP_STATE_DIR: '', XDG_STATE_HOME: path.join(base, 'xdg') }, path.join(base, 'xdg', 'codexmcp')],
    [{ CODEXMCP_STATE_DIR: '', XDG_STATE_HOME: '', HOME: path.join(base, 'home') }, path.join(base, 'home', '.local', 'state', 'codexmcp')],
  ];
  for (const [extra, want] of cases) {
    const s = await connectSdk(['--codex', FAKE_CODEX], { ...process.env, FAKE_CODEX_MODE: 'ok', ...extra });
    try {
      const { obj } = await call(s.client, 'codex', { PROMPT: 'where', cd });
      assert.ok(obj.transcript.startsWith(want + '/transcripts/'), `${obj.transcript} not under ${want}`);
      // The registry's file is made by its worker thread, beside the reply.
      await pollUntil(() => fs.existsSync(path.join(want, 'codexmcp.sqlite')), 15000, 50);
      assert.ok(fs.existsSync(path.join(want, 'codexmcp.sqlite')));
    } finally {
      await s.close();
    }
  }
});

test('state directory: a relative one is made absolute; errors echo a bounded part of a huge value', T, async () => {
  const cd = tree.dir('proj');
  const rel = path.join('..', '..', 'build', `rel-state-${process.pid}`);
  const want = path.resolve(process.cwd(), rel);
  const s = await connectSdk(['--codex', FAKE_CODEX, '--state-dir', rel], { ...process.env, FAKE_CODEX_MODE: 'ok' }, { name: 'codex-mcp-client' });
  try {
    const { obj } = await call(s.client, 'codex', { PROMPT: 'where', cd });
    assert.ok(obj.transcript.startsWith(want + '/transcripts/'), `${obj.transcript} not under ${want}`);
    const huge = 'x'.repeat(200000);
    for (const args of [{ PROMPT: 'p', cd, sandbox: huge }, { PROMPT: 'p', cd: '/nonexistent/' + huge }, { PROMPT: 'p', cd, reasoning_effort: huge }]) {
      const r = await call(s.client, 'codex', args);
      assert.equal(r.obj.success, false);
      assert.ok(r.text.length < 3000, `${r.text.length} characters`);
    }
    const r = await call(s.client, 'codex_sessions', { SESSION_ID: huge });
    assert.ok(r.text.length < 3000, `${r.text.length} characters`);
  } finally {
    await s.close();
    fs.rmSync(want, { recursive: true, force: true });
  }
});

// ---- prompts ----

test('prompts: listed and fetched through the SDK client', T, async () => {
  await withServer({ stateDir: tree.dir('state') }, async (client) => {
    const caps = client.getServerCapabilities();
    assert.ok(caps.prompts, JSON.stringify(caps));
    const { prompts } = await client.listPrompts();
    assert.deepEqual(prompts.map((p) => p.name).sort(), ['parallel-with-codex', 'plan-with-codex', 'prototype-with-codex', 'review-with-codex']);
    const plan = prompts.find((p) => p.name === 'plan-with-codex');
    assert.ok(plan.arguments.some((a) => a.name === 'requirement' && a.required));
    const got = await client.getPrompt({ name: 'plan-with-codex', arguments: { requirement: 'add a --dry-run flag' } });
    assert.equal(got.messages[0].role, 'user');
    assert.match(got.messages[0].content.text, /add a --dry-run flag/);
    assert.match(got.messages[0].content.text, /SESSION_ID/);
    const review = await client.getPrompt({ name: 'review-with-codex', arguments: {} });
    assert.match(review.messages[0].content.text, /codex_review/);
    await assert.rejects(client.getPrompt({ name: 'plan-with-codex', arguments: {} }), /-32602.*requirement/s);
    await assert.rejects(client.getPrompt({ name: 'no-such-prompt' }), /-32602.*unknown prompt/s);
    await assert.rejects(client.getPrompt({ name: 'plan-with-codex', arguments: { requirement: 'abc\u0000 hidden' } }), /-32602.*NUL/s);
  });
});
