// Fault handling and the exact codex command line, with the fake codex
// script (fixtures/fake-codex.mjs) standing in for the CLI via --codex.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectSdk, rawServer, withTimeout } from './lib/mcp.mjs';
import { pollUntil } from './lib/procs.mjs';
import { tempTree } from './lib/tmp.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const FAKE_CODEX = path.join(here, 'fixtures', 'fake-codex.mjs');
const FAST_CODEX = path.join(here, 'fixtures', 'fast-codex.sh');
const FAKE_THREAD = '01a20a0c-0000-7000-8000-000000000001';
const FAKE_USAGE = { input_tokens: 10, cached_input_tokens: 0, cache_write_input_tokens: 0, output_tokens: 2, reasoning_output_tokens: 0 };
const T = { timeout: 60000 };
const CALL_MS = 30000;

const tree = tempTree('codexmcp-e2e-faults-');
const freshDir = (name) => tree.dir(name);

function baseEnv(extra = {}) {
  const e = { ...process.env };
  for (const k of Object.keys(e)) if (/^(CODEXMCP_|FAKE_CODEX_)/.test(k)) delete e[k];
  return { ...e, ...extra };
}

/**
 * Run fn({ call, client, argvFile, sdk }) against a codexmcp whose codex is the
 * fake script in the given mode.
 */
async function withFake(mode, fn, { envExtra = {}, args = [] } = {}) {
  const argvFile = tree.path('argv');
  const sdk = await connectSdk(['--codex', FAKE_CODEX, ...args], baseEnv({ FAKE_CODEX_MODE: mode, FAKE_CODEX_ARGV_FILE: argvFile, ...envExtra }));
  const call = (a, ms = CALL_MS) => callCodex(sdk.client, a, ms);
  const seen = () => JSON.parse(fs.readFileSync(argvFile, 'utf8'));
  try {
    return await fn({ call, client: sdk.client, argvFile, seen, sdk });
  } catch (err) {
    err.message += `\n--- server stderr (tail) ---\n${sdk.stderr().slice(-3000)}`;
    throw err;
  } finally {
    await sdk.close();
  }
}

async function callCodex(client, args, ms = CALL_MS) {
  const res = await withTimeout(
    client.callTool({ name: 'codex', arguments: args }, undefined, { timeout: ms }),
    ms + 2000,
    `tools/call codex ${JSON.stringify(args).slice(0, 120)}`,
  );
  assert.equal(res.content?.[0]?.type, 'text', JSON.stringify(res).slice(0, 500));
  const obj = JSON.parse(res.content[0].text);
  if (obj.success) assert.ok(!res.isError, res.content[0].text.slice(0, 500));
  else assert.equal(res.isError, true, res.content[0].text.slice(0, 500));
  if (res.structuredContent !== undefined) assert.deepEqual(res.structuredContent, obj);
  return { res, obj };
}

const ping = (client) => withTimeout(client.ping(), 5000, 'ping');

/** pids of live processes whose command line contains every needle (not
 * codexmcp's supervisor of a call, whose command line holds codex's). */
function findProcs(...needles) {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let cmd;
    try {
      cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (needles.every((n) => cmd.includes(n)) && !cmd.includes('--internal-child-exec')) out.push(Number(d));
  }
  return out;
}

/** True while /proc/pid exists and is not a zombie. */
function alive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the command line -------------------------------------------------------

test('argv: exec --json --sandbox read-only --cd <realpath> --skip-git-repo-check --config approval_policy="never" -- -, prompt on stdin exactly', T, () =>
  withFake('ok', async ({ call, seen }) => {
    const real = freshDir('real');
    const link = tree.path('link');
    fs.symlinkSync(real, link);
    const prompt = `--help\nresume "q" 'q' $HOME \`x\` ünï 日本 🚀\r\n\ttrailing\n`;
    const { obj } = await call({ PROMPT: prompt, cd: link + '/' });
    assert.equal(obj.success, true, JSON.stringify(obj));
    assert.equal(obj.agent_messages, 'fake ok');
    assert.equal(obj.SESSION_ID, FAKE_THREAD);
    assert.deepEqual(obj.usage, FAKE_USAGE);
    const s = seen();
    assert.deepEqual(s.argv, ['exec', '--json', '--sandbox', 'read-only', '--cd', fs.realpathSync(real), '--skip-git-repo-check', '--config', 'approval_policy="never"', '--', '-']);
    assert.equal(s.stdin, prompt, 'stdin carries the prompt byte for byte');
  }));

test('argv: a prompt that looks like a flag or subcommand never reaches argv', T, () =>
  withFake('ok', async ({ call, seen }) => {
    const cd = freshDir();
    for (const prompt of ['resume', '--help', '-', '--', 'exec --json']) {
      const { obj } = await call({ PROMPT: prompt, cd });
      assert.equal(obj.success, true);
      const s = seen();
      assert.equal(s.stdin, prompt);
      assert.deepEqual(s.argv.slice(-2), ['--', '-']);
      assert.equal(s.argv.filter((a) => a === prompt).length, prompt === '-' ? 1 : prompt === '--' ? 1 : 0, `argv ${JSON.stringify(s.argv)}`);
    }
  }));

test('argv: sandbox values and yolo', T, () =>
  withFake('ok', async ({ call, seen }) => {
    const cd = fs.realpathSync(freshDir());
    for (const sb of ['read-only', 'workspace-write', 'danger-full-access']) {
      await call({ PROMPT: 'sb', cd, sandbox: sb });
      const a = seen().argv;
      const i = a.indexOf('--sandbox');
      assert.ok(i > 0 && a[i + 1] === sb, `--sandbox ${sb} in ${JSON.stringify(a)}`);
      assert.ok(!a.includes('--dangerously-bypass-approvals-and-sandbox'));
    }
    await call({ PROMPT: 'yolo', cd, yolo: true });
    let a = seen().argv;
    assert.deepEqual(a, ['exec', '--json', '--dangerously-bypass-approvals-and-sandbox', '--cd', cd, '--skip-git-repo-check', '--', '-']);
    await call({ PROMPT: 'yolo+sb', cd, yolo: true, sandbox: 'read-only' });
    a = seen().argv;
    assert.ok(a.includes('--dangerously-bypass-approvals-and-sandbox'));
    assert.ok(!a.includes('--sandbox'), `yolo replaces --sandbox: ${JSON.stringify(a)}`);
    await call({ PROMPT: 'no yolo', cd, yolo: false, skip_git_repo_check: false });
    a = seen().argv;
    assert.deepEqual(a, ['exec', '--json', '--sandbox', 'read-only', '--cd', cd, '--config', 'approval_policy="never"', '--', '-']);
  }));

test('argv: with SESSION_ID every exec-level flag comes before `resume <id>`, then -- and -', T, () =>
  withFake('ok', async ({ call, seen }) => {
    const cd = fs.realpathSync(freshDir());
    const img = path.join(cd, 'a b.png');
    fs.writeFileSync(img, 'not really a png');
    const id = '01a20a0c-1111-7000-8000-00000000abcd';
    const prompt = 'resume me\n-- please';
    const { obj } = await call({
      PROMPT: prompt,
      cd,
      SESSION_ID: id,
      sandbox: 'workspace-write',
      model: 'gpt-5.5',
      profile: 'fast',
      reasoning_effort: 'high',
      image: [img],
    });
    assert.equal(obj.success, true);
    const { argv: a, stdin } = seen();
    assert.equal(stdin, prompt);
    assert.deepEqual(a.slice(0, 2), ['exec', '--json']);
    const r = a.indexOf('resume');
    assert.ok(r > 0, `resume in ${JSON.stringify(a)}`);
    assert.equal(a[r + 1], id);
    assert.equal(a.lastIndexOf('resume'), r);
    const before = (flag, value) => {
      const i = a.indexOf(flag);
      assert.ok(i > 0 && i < r, `${flag} before resume: ${JSON.stringify(a)}`);
      if (value !== undefined) assert.equal(a[i + 1], value, `${flag} value`);
    };
    before('--sandbox', 'workspace-write');
    before('--cd', cd);
    before('--skip-git-repo-check');
    before('--model', 'gpt-5.5');
    before('--profile', 'fast');
    before('--config', 'model_reasoning_effort="high"');
    // images: after the flags, each value an absolute path, and the prompt is read from stdin.
    const ii = a.indexOf('--image');
    assert.ok(ii > 0, '--image present');
    assert.equal(a[ii + 1], img);
    assert.deepEqual(a.slice(-2), ['--', '-']);
    assert.ok(!a.includes(prompt));

    // Without SESSION_ID: no resume at all.
    await call({ PROMPT: 'fresh', cd });
    assert.ok(!seen().argv.includes('resume'));
  }));

test('argv: image paths are passed as absolute paths, each with its own --image', T, () =>
  withFake('ok', async ({ call, seen }) => {
    const cd = fs.realpathSync(freshDir());
    const a1 = path.join(cd, 'one.png');
    const a2 = path.join(cd, 'two with spaces.png');
    fs.writeFileSync(a1, 'x');
    fs.writeFileSync(a2, 'x');
    const { obj } = await call({ PROMPT: 'imgs', cd, image: [a1, `${cd}/./sub/../${path.basename(a2)}`] });
    // "sub" does not exist: a path through it is not an existing file.
    assert.equal(obj.success, false);
    assert.match(obj.error, /image\[1\]/);
    const ok = await call({ PROMPT: 'imgs', cd, image: [a1, `${cd}/./${path.basename(a2)}`] });
    assert.equal(ok.obj.success, true);
    const a = seen().argv;
    const imgs = a.flatMap((v, i) => (v === '--image' ? [a[i + 1]] : []));
    assert.deepEqual(imgs, [a1, a2]);
    assert.deepEqual(a.slice(-2), ['--', '-']);
  }));

test('argv: an image path with a comma is refused before codex starts (codex would split it)', T, () =>
  withFake('ok', async ({ call, argvFile }) => {
    const cd = fs.realpathSync(freshDir());
    fs.writeFileSync(path.join(cd, 'a,b.png'), 'x');
    const { obj } = await call({ PROMPT: 'imgs', cd, image: ['a,b.png'] });
    assert.equal(obj.success, false);
    assert.match(obj.error, /^image\[0\] "a,b\.png": codex cannot take an image path with a comma/);
    assert.ok(!fs.existsSync(argvFile), 'codex never started');
    // A link to it without a comma is passed as the link.
    fs.symlinkSync(path.join(cd, 'a,b.png'), path.join(cd, 'ab.png'));
    const ok = await call({ PROMPT: 'imgs', cd, image: ['ab.png'] });
    assert.equal(ok.obj.success, true, JSON.stringify(ok.obj));
    const a = JSON.parse(fs.readFileSync(argvFile, 'utf8')).argv;
    assert.equal(a[a.indexOf('--image') + 1], path.join(cd, 'ab.png'));
  }));

test('stdin: a NUL byte in PROMPT reaches codex; in an argv value it is a clear error under the id', T, () =>
  withFake('ok', async ({ call, seen }) => {
    const cd = freshDir();
    const { obj } = await call({ PROMPT: 'before\u0000after', cd });
    assert.equal(obj.success, true, JSON.stringify(obj));
    assert.equal(seen().stdin, 'before\u0000after');
    for (const [args, name] of [
      [{ PROMPT: 'x', cd: cd + '\u0000' }, 'cd'],
      [{ PROMPT: 'x', cd, model: 'gpt\u0000' }, 'model'],
      [{ PROMPT: 'x', cd, SESSION_ID: 'abc\u0000' }, 'SESSION_ID'],
      [{ PROMPT: 'x', cd, image: ['pic\u0000.png'] }, 'image\\[0\\]'],
    ]) {
      const r = await call(args);
      assert.equal(r.obj.success, false);
      assert.match(r.obj.error, new RegExp(`^${name} must not contain NUL characters`));
    }
  }));

test('stdin: a 300 kB prompt reaches codex exactly', T, () =>
  withFake('ok', async ({ call, seen }) => {
    let prompt = '';
    for (let i = 0; prompt.length < 300000; i++) prompt += `${i} ünï 日本 "x" \\ \n`;
    const { obj } = await call({ PROMPT: prompt, cd: freshDir() });
    assert.equal(obj.success, true);
    assert.ok(seen().stdin === prompt, 'stdin differs from the prompt');
  }));

// ---- faults ------------------------------------------------------------------

test('crash mid-stream: isError naming the signal and the stderr text, SESSION_ID kept', T, () =>
  withFake('crash', async ({ call, client }) => {
    const { res, obj } = await call({ PROMPT: 'crash please', cd: freshDir(), return_all_messages: true });
    assert.equal(res.isError, true);
    assert.equal(obj.success, false);
    assert.match(obj.error, /signal|status/i);
    assert.match(obj.error, /SIGSEGV|signal 11|status 139/);
    assert.match(obj.error, /simulated crash/);
    assert.equal(obj.SESSION_ID, FAKE_THREAD);
    assert.ok(Array.isArray(obj.all_messages) && obj.all_messages[0].type === 'thread.started', 'events so far are kept');
    await ping(client);
  }));

test('garbage lines: success, warnings quote the non-JSON lines', T, () =>
  withFake('garbage', async ({ call, client }) => {
    const { obj } = await call({ PROMPT: 'garbage please', cd: freshDir() });
    assert.equal(obj.success, true, JSON.stringify(obj));
    assert.equal(obj.agent_messages, 'fake ok');
    assert.equal(obj.SESSION_ID, FAKE_THREAD);
    assert.ok(Array.isArray(obj.warnings), `warnings: ${JSON.stringify(obj)}`);
    const all = obj.warnings.join('\n');
    for (const junk of ['rmcp serde error: boom', '{broken', 'not json at all', '[1,2', 'rmcp serde error: trailing'])
      assert.ok(all.includes(junk), `a warning mentions ${JSON.stringify(junk)}: ${all}`);
    assert.match(all, /not a JSON event/);
    await ping(client);
  }));

test('20 MiB stdout line: skipped with a warning, success, server alive', T, () =>
  withFake('hugeline', async ({ call, client }) => {
    const { obj } = await call({ PROMPT: 'huge please', cd: freshDir() }, 45000);
    assert.equal(obj.success, true, JSON.stringify(obj).slice(0, 1000));
    assert.equal(obj.agent_messages, 'fake ok');
    assert.equal(obj.SESSION_ID, FAKE_THREAD);
    const w = (obj.warnings ?? []).join('\n');
    assert.match(w, /skipped a codex output line/);
    assert.match(w, /20971520 bytes/);
    assert.ok(JSON.stringify(obj).length < 100000, 'the huge line is not copied into the result');
    await ping(client);
    const again = await call({ PROMPT: 'again', cd: freshDir() }, 45000);
    assert.equal(again.obj.success, true, JSON.stringify(again.obj).slice(0, 2000));
  }));

test('no events, exit 1: isError with the exit status and the stderr text', T, () =>
  withFake('noevents', async ({ call, client }) => {
    const { res, obj } = await call({ PROMPT: 'noevents please', cd: freshDir() });
    assert.equal(res.isError, true);
    assert.equal(obj.success, false);
    assert.match(obj.error, /status 1\b/);
    assert.match(obj.error, /something went wrong before the model/);
    assert.ok(!('SESSION_ID' in obj), 'no thread.started, no SESSION_ID');
    await ping(client);
  }));

test('hang after turn.completed: success within ~5 s and the codex process is gone', T, () =>
  withFake('hang', async ({ call, client }) => {
    const cd = fs.realpathSync(freshDir('hang'));
    const t0 = Date.now();
    const pending = call({ PROMPT: 'hang please', cd }, 20000);
    // Find the fake codex while it runs (its argv carries our unique --cd).
    let pids = [];
    while (Date.now() - t0 < 5000) {
      pids = findProcs('fake-codex.mjs', cd);
      if (pids.length) break;
      await sleep(25);
    }
    const { obj } = await pending;
    const took = Date.now() - t0;
    assert.equal(obj.success, true, JSON.stringify(obj));
    assert.equal(obj.agent_messages, 'fake ok');
    assert.equal(obj.SESSION_ID, FAKE_THREAD);
    assert.ok(took < 5500, `result after ${took} ms (expected ~2 s after turn.completed)`);
    assert.equal(pids.length, 1, 'saw the fake codex process while the call ran');
    let gone = false;
    for (let i = 0; i < 40 && !gone; i++) {
      gone = !alive(pids[0]);
      if (!gone) await sleep(25);
    }
    assert.ok(gone, `fake codex pid ${pids[0]} still alive after the result`);
    assert.deepEqual(findProcs('fake-codex.mjs', cd).filter(alive), []);
    await ping(client);
  }));

test('stopping codex also ends what it started in a session of its own, even if it ignores SIGTERM', T, async () => {
  const pidFile = tree.path('orphan-pid');
  await withFake('orphan', async ({ call, client }) => {
    const { res, obj } = await call({ PROMPT: 'start a helper', cd: freshDir('orphan'), timeout_s: 1 }, 15000);
    assert.equal(res.isError, true);
    assert.match(obj.error, /^timed out after 1 s/);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    assert.ok(pid > 0);
    let gone = false;
    for (let i = 0; i < 80 && !gone; i++) {
      gone = !alive(pid);
      if (!gone) await sleep(25);
    }
    if (!gone) process.kill(pid, 'SIGKILL');
    assert.ok(gone, `the helper process ${pid} (own session) outlived its codex`);
    await ping(client);
  }, { envExtra: { FAKE_CODEX_PID_FILE: pidFile } });
});

test('--idle-timeout: retry notices are not progress, the call still times out', T, () =>
  withFake('retrying', async ({ call, client }) => {
    const t0 = Date.now();
    const { res, obj } = await call({ PROMPT: 'retry forever', cd: freshDir() }, 15000);
    assert.equal(res.isError, true);
    assert.match(obj.error, /^timed out: codex reported nothing for 1 s/);
    assert.equal(obj.SESSION_ID, FAKE_THREAD);
    assert.ok(Date.now() - t0 < 8000, `took ${Date.now() - t0} ms`);
    await ping(client);
  }, { args: ['--idle-timeout', '1'] }));

test('stderr flood (1 MiB): success, the flood is not in the result', T, () =>
  withFake('stderrflood', async ({ call, client }) => {
    const { obj } = await call({ PROMPT: 'flood please', cd: freshDir() });
    assert.equal(obj.success, true, JSON.stringify(obj).slice(0, 1000));
    assert.equal(obj.agent_messages, 'fake ok');
    assert.ok(JSON.stringify(obj).length < 100000);
    await ping(client);
  }));

test('fault modes on parallel servers, 3 calls each, do not disturb each other', T, async () => {
  const modes = { ok: true, garbage: true, noevents: false, crash: false, stderrflood: true };
  await Promise.all(
    Object.entries(modes).map(([mode, success]) =>
      withFake(mode, async ({ call }) => {
        const rs = await Promise.all([1, 2, 3].map((n) => call({ PROMPT: `${mode} ${n}`, cd: freshDir() })));
        for (const { obj } of rs) assert.equal(obj.success, success, `${mode}: ${JSON.stringify(obj).slice(0, 300)}`);
      }),
    ),
  );
});

test('codex path that cannot be executed (not a file): isError, server alive', T, async () => {
  const dir = freshDir('notafile');
  const sdk = await connectSdk(['--codex', dir], baseEnv());
  try {
    const { obj } = await callCodex(sdk.client, { PROMPT: 'x', cd: freshDir() });
    assert.equal(obj.success, false);
    assert.ok(obj.error.includes('npm i -g @openai/codex'), obj.error);
    await ping(sdk.client);
  } finally {
    await sdk.close();
  }
});

// ---- what the review found ---------------------------------------------------

test('a codex reached through a symlink named codex keeps that name in argv[0] (multi-call launcher)', T, async () => {
  const bin = freshDir('bin');
  const launcher = path.join(bin, 'multicall');
  // Dispatches on the name it was called by, as volta's shim or busybox do.
  fs.writeFileSync(
    launcher,
    `#!/bin/sh\ncase "\${0##*/}" in\n  codex) exec node ${JSON.stringify(FAKE_CODEX)} "$@" ;;\n` +
      `  *) echo "multicall: called as '\${0##*/}'" >&2; exit 64 ;;\nesac\n`,
    { mode: 0o755 },
  );
  fs.symlinkSync('multicall', path.join(bin, 'codex'));
  const argvFile = tree.path('argv');
  const env = baseEnv({ FAKE_CODEX_MODE: 'ok', FAKE_CODEX_ARGV_FILE: argvFile, PATH: `${bin}:${process.env.PATH}` });
  for (const args of [[], ['--codex', path.join(bin, 'codex')]]) {
    const sdk = await connectSdk(args, env);
    try {
      const { obj } = await callCodex(sdk.client, { PROMPT: 'through a launcher', cd: freshDir() });
      assert.equal(obj.success, true, `${JSON.stringify(args)}: ${JSON.stringify(obj)}`);
      assert.equal(obj.agent_messages, 'fake ok');
    } finally {
      await sdk.close();
    }
  }
});

test('a cd removed while its call waits in the queue is named as the cause', T, () =>
  withFake(
    'ok',
    async ({ client }) => {
      const cd = freshDir('doomed');
      const first = callCodex(client, { PROMPT: 'hold the slot [[sleep:1500]]', cd: freshDir() });
      await sleep(300);
      const second = callCodex(client, { PROMPT: 'queued', cd });
      await sleep(200);
      fs.rmSync(cd, { recursive: true });
      assert.equal((await first).obj.success, true);
      const { obj } = await second;
      assert.equal(obj.success, false);
      assert.match(obj.error, /^cd ".*doomed-\d+" is not an existing directory any more: it was removed or replaced while the call waited in the queue/);
      assert.doesNotMatch(obj.error, /could not start codex/);
    },
    { args: ['--max-parallel', '1'] },
  ));

test('processes codex left in sessions of their own are gone when a normal call ends', T, async () => {
  const pidFile = tree.path('daemon-pid');
  const pidFile2 = tree.path('daemon-pid2');
  await withFake(
    'daemon',
    async ({ call }) => {
      const { obj } = await call({ PROMPT: 'start a dev server', cd: freshDir() });
      assert.equal(obj.success, true, JSON.stringify(obj));
      // A sleep holding codex's stdout, and a daemon that left its parent and
      // rewrote its title over its environment (as postgres does).
      const pids = [pidFile, pidFile2].map((f) => Number(fs.readFileSync(f, 'utf8')));
      // They were killed before the reply: allow the kernel a moment to reap them.
      const r = await pollUntil(() => pids.every((p) => !alive(p)), 1000);
      const left = pids.filter(alive);
      for (const p of left) process.kill(p, 'SIGKILL');
      assert.ok(r.ok, `outlived their call: ${left.join(', ')}`);
    },
    { envExtra: { FAKE_CODEX_PID_FILE: pidFile, FAKE_CODEX_PID_FILE2: pidFile2 } },
  );
});

test('queue positions: a few lines per call, not one per call ahead each time a call ends', { timeout: 120000 }, async () => {
  const N = 400;
  const srv = rawServer(['--codex', FAST_CODEX, '--max-parallel', '1'], baseEnv());
  try {
    await srv.initialize();
    const cd = freshDir();
    for (let i = 0; i < N; i++)
      await srv.sendJson({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'codex', arguments: { PROMPT: `call ${i}`, cd }, _meta: { progressToken: `t${i}` } } });
    const queued = new Map();
    let replies = 0;
    while (replies < N) {
      const m = await srv.next(60000);
      if (m.method === 'notifications/progress') {
        const { progressToken: tok, message } = m.params;
        if (message.startsWith('queued:')) queued.set(tok, (queued.get(tok) ?? 0) + 1);
      } else if (m.id !== undefined) {
        assert.equal(JSON.parse(m.result.content[0].text).success, true);
        replies++;
      }
    }
    const total = [...queued.values()].reduce((a, b) => a + b, 0);
    const most = Math.max(...queued.values());
    // Before: every finished call sent every waiting call a new position, N(N-1)/2 lines.
    assert.ok(total <= 4 * N, `${total} queue lines for ${N} calls`);
    assert.ok(most <= 4, `a call got ${most} queue lines`);
    assert.equal(queued.size, N - 1, 'every call but the first was told its position on entry');
  } finally {
    await srv.dispose();
  }
});

test('the queue is bounded: past 4096 waiting calls a call gets an error result at once', { timeout: 120000 }, async () => {
  const srv = rawServer(['--codex', FAKE_CODEX, '--max-parallel', '1'], baseEnv({ FAKE_CODEX_MODE: 'ok' }));
  try {
    await srv.initialize();
    const cd = freshDir();
    const call = (id, PROMPT) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'codex', arguments: { PROMPT, cd } } });
    // One runs (and holds its slot), 4096 wait, the next is refused.
    let batch = JSON.stringify(call('running', 'hold [[sleep:20000]]')) + '\n';
    for (let i = 0; i < 4096; i++) batch += JSON.stringify(call(i, `waiting ${i}`)) + '\n';
    await srv.send(batch);
    const r = await srv.request(call('one-too-many', 'refused'), 30000);
    const obj = JSON.parse(r.result.content[0].text);
    assert.equal(r.result.isError, true);
    assert.match(obj.error, /^too many calls are waiting \(4096 queued/);
    await srv.ping();
  } finally {
    await srv.dispose();
  }
});

test('when codexmcp itself is SIGKILLed, what its calls started ends too, in a session of its own or not', T, async () => {
  const pidFile = tree.path('orphan-pid');
  const sdk = await connectSdk(['--codex', FAKE_CODEX], baseEnv({ FAKE_CODEX_MODE: 'orphan', FAKE_CODEX_PID_FILE: pidFile }));
  const pending = callCodex(sdk.client, { PROMPT: 'start something', cd: freshDir() }, 20000).catch(() => {});
  let orphan = 0;
  try {
    const r = await pollUntil(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8'), 10000);
    assert.ok(r.ok, 'the fake codex started its process');
    orphan = Number(fs.readFileSync(pidFile, 'utf8'));
    process.kill(sdk.pid, 'SIGKILL');
    const gone = await pollUntil(() => !alive(orphan), 3000);
    assert.ok(gone.ok, `pid ${orphan} (its own session, ignores SIGTERM) outlived a SIGKILLed codexmcp`);
  } finally {
    if (orphan && alive(orphan)) process.kill(orphan, 'SIGKILL');
    await sdk.close();
    await pending;
  }
});
