// The app-server engine with the real Codex CLI (0.169) against the fake
// Responses endpoint: what only this engine has to get right. The lock on a
// session is released when the call ends (an outside `codex exec resume`
// works at once); sessions pass between the engines both ways; the model
// endpoint sees the same requests from both; a crash of the app-server
// fails only the calls in flight, and the next call gets a new one; a
// release cut short is undone; a profile falls back to exec; the native
// binary behind the npm launcher is what runs. Every server here is started
// with --engine appserver (or exec, to compare), whatever the suite's engine.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startFakeResponses } from './lib/fake-responses.mjs';
import { codexBin, e2eDir, makeCodexHome, removeCodexHome, env } from './lib/codex-env.mjs';
import { connectSdk, callToolChecked } from './lib/mcp.mjs';
import { tempTree } from './lib/tmp.mjs';
import { descendants, procCmdline, isAlive, pollUntil } from './lib/procs.mjs';

const T = { timeout: 90000 };
const CALL_MS = 30000;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const APPSERVER = ['--engine', 'appserver'];

let fake;
before(async () => {
  fake = await startFakeResponses();
});
after(async () => {
  await fake?.close();
});
const tree = tempTree('codexmcp-e2e-appserver-');
const uniq = () => `u${process.pid}x${Date.now().toString(36)}x${Math.random().toString(36).slice(2, 8)}`;

/** A codexmcp (args) with its own state directory, on CODEX_HOME home. */
async function server(home, args, stateDir = tree.dir('state')) {
  const sdk = await connectSdk(['--codex', codexBin(), ...args], env(home, { CODEXMCP_STATE_DIR: stateDir }));
  sdk.stateDir = stateDir;
  sdk.call = async (a, ms = CALL_MS) => (await callToolChecked(sdk.client, 'codex', a, ms)).obj;
  return sdk;
}

async function withHome(fn) {
  const home = makeCodexHome(fake.url);
  try {
    return await fn(home);
  } finally {
    removeCodexHome(home);
  }
}

/** `codex exec --json resume <id>` run by hand, as a user would. */
function execResume(home, cd, id, prompt) {
  return new Promise((resolve) => {
    const p = spawn(codexBin(), ['exec', '--json', '--skip-git-repo-check', '--cd', cd, 'resume', id, '--', '-'], {
      env: env(home),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.stdin.end(prompt);
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

/** The pid of the app-server below a codexmcp (under its supervisor). */
function appServerPid(serverPid) {
  return descendants(serverPid).find((p) => {
    const argv = procCmdline(p) ?? [];
    return argv[1] === 'app-server' && path.basename(argv[0]) === 'codex';
  });
}

function assertOk(obj, what = '') {
  assert.equal(obj.success, true, `${what}: ${JSON.stringify(obj).slice(0, 1500)}`);
  assert.match(obj.SESSION_ID, UUID_RE);
}

test('the session is released when the call ends: `codex exec resume` works right after the result', T, () =>
  withHome(async (home) => {
    const sdk = await server(home, APPSERVER);
    try {
      const cd = tree.dir('lock');
      const u = uniq();
      const first = await sdk.call({ PROMPT: `locked? ${u}`, cd });
      assertOk(first);
      // The app-server is still running, and the session is not held by it.
      assert.ok(appServerPid(sdk.pid), 'the app-server lives on after the call');
      const r = await execResume(home, cd, first.SESSION_ID, `outside ${u} [[history]]`);
      assert.equal(r.code, 0, `codex exec resume failed:\n${r.err.slice(-2000)}`);
      assert.match(r.out, new RegExp(`locked\\? ${u} \\| outside ${u}`), 'the outside turn saw the first one');
      // And the server can take the session back afterwards.
      const again = await sdk.call({ PROMPT: `back ${u} [[history]]`, cd, SESSION_ID: first.SESSION_ID });
      assertOk(again);
      assert.equal(again.agent_messages, `locked? ${u} | outside ${u} [[history]] | back ${u} [[history]]`);
      // The lock is gone, and nothing of the user's files moved: the
      // rollout is where codex put it, nothing is archived.
      assert.deepEqual(fs.readdirSync(path.join(home, 'thread-writer-locks')).filter((f) => f.includes(first.SESSION_ID)), []);
      assert.equal(fs.existsSync(path.join(home, 'archived_sessions')), false, 'nothing archived');
      const rollouts = fs.readdirSync(path.join(home, 'sessions'), { recursive: true }).filter((f) => f.includes(first.SESSION_ID));
      assert.equal(rollouts.length, 1, 'the rollout stays in sessions/');
    } finally {
      await sdk.close();
    }
  }));

test('sessions pass between the engines both ways, history intact', T, () =>
  withHome(async (home) => {
    const execSrv = await server(home, ['--engine', 'exec']);
    const appSrv = await server(home, APPSERVER);
    try {
      const cd = tree.dir('handoff');
      const u = uniq();
      const a = await execSrv.call({ PROMPT: `one ${u}`, cd });
      assertOk(a, 'exec');
      const b = await appSrv.call({ PROMPT: `two ${u} [[history]]`, cd, SESSION_ID: a.SESSION_ID });
      assertOk(b, 'app-server resumes an exec session');
      assert.equal(b.SESSION_ID, a.SESSION_ID);
      assert.equal(b.agent_messages, `one ${u} | two ${u} [[history]]`);
      const c = await execSrv.call({ PROMPT: `three ${u} [[history]]`, cd, SESSION_ID: a.SESSION_ID });
      assertOk(c, 'exec resumes a session the app-server wrote');
      assert.equal(c.agent_messages, `one ${u} | two ${u} [[history]] | three ${u} [[history]]`);
      // and a session the app-server began
      const d = await appSrv.call({ PROMPT: `four ${u}`, cd });
      const e = await execSrv.call({ PROMPT: `five ${u} [[history]]`, cd, SESSION_ID: d.SESSION_ID });
      assertOk(e);
      assert.equal(e.agent_messages, `four ${u} | five ${u} [[history]]`);
    } finally {
      await execSrv.close();
      await appSrv.close();
    }
  }));

/** A request the model endpoint got, with what differs per run taken out. */
function normalized(req, ids) {
  let text = JSON.stringify({ body: req.body, headers: req.headers });
  for (const [from, to] of ids) text = text.split(from).join(to);
  // what differs from run to run: times, the fake's call counter, codex's
  // chunk ids and wall times of a command
  text = text
    .replace(/(turn_started_at_unix_ms\\?":)\d+/g, '$1<ms>')
    .replace(/\b(call|fc|msg|rs)_\d+/g, '$1_<n>')
    .replace(/\bu\d+x[0-9a-z]+x[0-9a-z]+/g, '<u>')
    .replace(/Chunk ID: \w+/g, 'Chunk ID: <id>')
    .replace(/Wall time: [\d.]+ seconds/g, 'Wall time: <s> seconds');
  const o = JSON.parse(text);
  for (const h of ['content-length', 'host', 'connection', 'x-client-request-id', 'x-request-id']) delete o.headers[h];
  return o;
}

test('the model endpoint sees the same requests from both engines, headers included', T, () =>
  withHome(async (home) => {
    const cd = tree.dir('same');
    const png = path.join(cd, 'dot.png');
    fs.writeFileSync(png, Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64'));
    const cases = [
      { PROMPT: 'plain', cd },
      { PROMPT: 'workspace [[shell:echo hi]]', cd, sandbox: 'workspace-write', model: 'gpt-5.5', reasoning_effort: 'high' },
      { PROMPT: 'bypass', cd, yolo: true },
      { PROMPT: 'with an image', cd, image: [png] },
      { PROMPT: 'resumed [[history]]', cd, resume: true },
    ];
    const got = {};
    for (const engine of ['exec', 'appserver']) {
      const sdk = await server(home, ['--engine', engine]);
      try {
        let last;
        for (const { resume, ...c } of cases) {
          const u = uniq();
          const args = { ...c, PROMPT: `${c.PROMPT} ${u}` };
          if (resume) args.SESSION_ID = last.SESSION_ID;
          const obj = await sdk.call(args);
          last = obj;
          assertOk(obj, `${engine} ${c.PROMPT}`);
          const reqs = fake.requests.filter((r) => r.headers?.['session-id'] === obj.SESSION_ID);
          assert.ok(reqs.length >= 1, `${engine}: requests of ${c.PROMPT}`);
          const ids = [[obj.SESSION_ID, '<session>']];
          // ids the requests carry that are new per run (turn, message, call ids),
          // numbered in the order they appear
          for (const r of reqs) {
            for (const m of (JSON.stringify(r.headers) + JSON.stringify(r.body)).matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g)) {
              if (!ids.some(([f]) => f === m[0])) ids.push([m[0], `<id${ids.length}>`]);
            }
          }
          (got[c.PROMPT] ??= {})[engine] = reqs.map((r) => normalized(r, ids));
        }
      } finally {
        await sdk.close();
      }
    }
    for (const c of cases) {
      const { exec, appserver } = got[c.PROMPT];
      assert.equal(appserver.length, exec.length, `${c.PROMPT}: as many requests`);
      for (let i = 0; i < exec.length; i++) {
        assert.deepEqual(appserver[i].headers, exec[i].headers, `${c.PROMPT}: headers of request ${i + 1}`);
        assert.deepEqual(appserver[i].body, exec[i].body, `${c.PROMPT}: body of request ${i + 1}`);
      }
    }
  }));

test('an app-server killed mid-turn fails that call with its SESSION_ID; the next call gets a new one; the session resumes', T, () =>
  withHome(async (home) => {
    const sdk = await server(home, APPSERVER);
    try {
      const cd = tree.dir('crash');
      const u = uniq();
      const pending = sdk.call({ PROMPT: `doomed ${u} [[stall]]`, cd });
      const seen = await pollUntil(() => fake.requestsFor(`doomed ${u}`).length > 0, 20000);
      assert.ok(seen.ok, 'the turn reached the model');
      const pid = appServerPid(sdk.pid);
      assert.ok(pid, 'an app-server runs');
      process.kill(pid, 'SIGKILL');
      const obj = await pending;
      assert.equal(obj.success, false);
      assert.match(obj.error, /app-server was killed by signal 9 \(SIGKILL\) during the turn/);
      assert.match(obj.error, /resume it with its SESSION_ID/);
      assert.match(obj.SESSION_ID, UUID_RE);
      // the next call starts a new app-server
      const next = await sdk.call({ PROMPT: `after crash ${u}`, cd });
      assertOk(next);
      const pid2 = appServerPid(sdk.pid);
      assert.ok(pid2 && pid2 !== pid, `a new app-server (${pid2}, was ${pid})`);
      assert.ok(!isAlive(pid));
      // the interrupted session can be resumed
      const resumed = await sdk.call({ PROMPT: `resumed ${u} [[history]]`, cd, SESSION_ID: obj.SESSION_ID });
      assertOk(resumed);
      assert.match(resumed.agent_messages, new RegExp(`doomed ${u} \\[\\[stall\\]\\] \\| resumed ${u}`));
    } finally {
      await sdk.close();
    }
  }));

test('a call cancelled while a shell command runs leaves the session usable, and no command behind', T, () =>
  withHome(async (home) => {
    const sdk = await server(home, APPSERVER);
    try {
      const cd = tree.dir('interrupt');
      const u = uniq();
      const first = await sdk.call({ PROMPT: `base ${u}`, cd });
      assertOk(first);
      const obj = await sdk.call({ PROMPT: `long ${u} [[shell:sleep 300]]`, cd, SESSION_ID: first.SESSION_ID, timeout_s: 2 });
      assert.equal(obj.success, false);
      assert.match(obj.error, /^timed out after 2 s/);
      const tag = `CODEX_THREAD_ID=${first.SESSION_ID}`;
      const gone = await pollUntil(() => !descendants(sdk.pid).some((p) => {
        try {
          return fs.readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(tag);
        } catch {
          return false;
        }
      }), 3000);
      assert.ok(gone.ok, 'the sleep of the interrupted turn is gone');
      const next = await sdk.call({ PROMPT: `after ${u} [[history]]`, cd, SESSION_ID: first.SESSION_ID });
      assertOk(next);
      assert.match(next.agent_messages, new RegExp(`^base ${u} \\| long ${u}`));
    } finally {
      await sdk.close();
    }
  }));

test('two codexmcp servers resuming one session at once: one answers, the other says the session is busy', T, () =>
  withHome(async (home) => {
    const a = await server(home, APPSERVER);
    const b = await server(home, APPSERVER);
    try {
      const cd = tree.dir('two');
      const u = uniq();
      const first = await a.call({ PROMPT: `shared ${u}`, cd });
      assertOk(first);
      const slow = a.call({ PROMPT: `slow ${u} [[sleep:3000]]`, cd, SESSION_ID: first.SESSION_ID });
      assert.ok((await pollUntil(() => fake.requestsFor(`slow ${u}`).length > 0, 20000)).ok);
      const t0 = Date.now();
      const other = await b.call({ PROMPT: `other ${u}`, cd, SESSION_ID: first.SESSION_ID });
      assert.ok(Date.now() - t0 < 2500, 'answered at once, not after the other turn');
      assert.equal(other.success, false);
      assert.match(other.error, /^another process is writing this session right now/);
      assert.equal(other.SESSION_ID, first.SESSION_ID);
      assertOk(await slow);
      // once it is done, the second server can have it
      const later = await b.call({ PROMPT: `later ${u}`, cd, SESSION_ID: first.SESSION_ID });
      assertOk(later);
    } finally {
      await a.close();
      await b.close();
    }
  }));

test('a profile runs with codex exec, and the warnings say why', T, () =>
  withHome(async (home) => {
    fs.writeFileSync(path.join(home, 'fast.config.toml'), 'model = "gpt-5.5"\n');
    const sdk = await server(home, ['--engine', 'auto']);
    try {
      const obj = await sdk.call({ PROMPT: 'with a profile', cd: tree.dir('profile'), profile: 'fast' });
      assertOk(obj);
      assert.ok((obj.warnings ?? []).some((w) => /ran with codex exec: the app-server cannot take a profile/.test(w)), JSON.stringify(obj.warnings));
      const plain = await sdk.call({ PROMPT: 'without', cd: tree.dir('profile2') });
      assertOk(plain);
      assert.equal(plain.warnings, undefined, 'no warning without a profile');
    } finally {
      await sdk.close();
    }
  }));

test('`codex` as the npm launcher: its native binary runs, unless --no-native-codex', T, () =>
  withHome(async (home) => {
    const launcher = path.join(e2eDir, 'node_modules', '.bin', 'codex');
    const native = fs.realpathSync(codexBin());
    for (const [args, wantNative] of [[['--engine', 'exec'], true], [['--engine', 'exec', '--no-native-codex'], false], [APPSERVER, true]]) {
      const stateDir = tree.dir('state-native');
      const sdk = await connectSdk(['--codex', launcher, ...args], env(home, { CODEXMCP_STATE_DIR: stateDir }));
      try {
        const { obj } = await callToolChecked(sdk.client, 'codex', { PROMPT: 'native?', cd: tree.dir('native') }, CALL_MS);
        assertOk(obj, args.join(' '));
        const header = JSON.parse(fs.readFileSync(obj.transcript, 'utf8').split('\n')[0]);
        if (wantNative) {
          assert.equal(fs.realpathSync(header.argv[0]), native, `${args.join(' ')}: ${header.argv[0]}`);
          assert.equal(header.native, true);
        } else {
          assert.equal(header.argv[0], launcher);
          assert.equal(header.native, undefined);
        }
      } finally {
        await sdk.close();
      }
    }
  }));
