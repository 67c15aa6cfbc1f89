// What a client cannot make codexmcp do, and what codexmcp keeps to itself.
//
// 1. Argument values never become options or shell text. Every string
//    parameter of `codex` and `codex_review` gets values that start with
//    `-`/`--`, hold `;`, `$(…)`, backticks, a newline or a NUL, each naming a
//    marker file a shell would create. Through a fake codex that records its
//    argv and stdin, each is refused (an error that names the parameter, and
//    codex never starts) or reaches codex as one argv element in the value
//    position of its flag, in an argv that codex's parser reads as nothing
//    but our own options. Then the accepted ones go through the real Codex
//    CLI (under the suite's engine) to the fake Responses endpoint, which
//    sees them verbatim, or Codex refuses them with a clear error. No marker
//    file ever appears. A NUL in what Codex prints ends the turn as usual.
// 2. The caps hold against Codex's own configuration: a CODEX_HOME whose
//    config.toml and profiles ask for danger-full-access (as sandbox_mode or
//    as default_permissions), for no approvals, or for commands to run
//    outside the sandbox when an approval reviewer allows it; and against a
//    session made with full access and resumed under --read-only; and, under
//    --max-sandbox workspace-write or --allow-root, against writable_roots
//    of config.toml or a profile (without a cap they still apply). What the
//    app-server is sent (thread/start, thread/resume, turn/start) is read
//    off the fake app-server's log.
// 3. A cd cannot be moved out of --allow-root: its parent swapped for a link
//    while the call waits in the queue, `..` after a link, a session made
//    elsewhere and resumed.
// 4. The state directory is private whatever the umask, and the log at the
//    default level holds no prompt and no word of Codex's output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedFakeCodex, codexBin, env as codexEnv, makeCodexHome, removeCodexHome } from './lib/codex-env.mjs';
import { connectSdk, usingSdk, serverBin, serverExists, callToolChecked, withTimeout, ENGINE } from './lib/mcp.mjs';
import { terminateWithEnv } from './lib/procs.mjs';
import { waitRequest } from './lib/fake-responses.mjs';
import { tempTree, git } from './lib/tmp.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const FAKE_CODEX = path.join(here, 'fixtures', 'fake-codex.mjs');
const FAKE_APPSERVER = path.join(here, 'fixtures', 'fake-appserver.mjs');
const T = { timeout: 90000 };
const LONG = { timeout: 400000 };
const CALL_MS = 30000;
const APP_SERVER = ENGINE !== 'exec'; // what the real codex runs under in this run
const uniq = () => `s${process.pid}x${Date.now().toString(36)}x${Math.random().toString(36).slice(2, 8)}`;
const IFS = '$' + '{IFS}'; // a space to a shell, none to our token check

if (!serverExists()) {
  test('server binary exists', () => {
    assert.fail(`codexmcp binary not found at ${serverBin()} (build it or set CODEXMCP_BIN)`);
  });
}

const codex = sharedFakeCodex();
const tree = tempTree('codexmcp-e2e-security-');

/** Environment of a server: no CODEXMCP_ or FAKE_ variable but those given. */
function serverEnv(home, extra = {}) {
  const e = codexEnv(home);
  for (const k of Object.keys(e)) if (/^(CODEXMCP_(?!ENGINE$)|FAKE_CODEX_|FAKE_APPSERVER_)/.test(k)) delete e[k];
  return { ...e, ...extra };
}

/** A server on fn(sdk), closed after; its stderr is added to a failure. */
async function withServer(argv, env, fn, opts = {}) {
  const sdk = await connectSdk(argv, env, opts);
  return usingSdk(sdk, () => fn(sdk));
}

/**
 * Codex's workspace-write sandbox lets commands write /tmp and $TMPDIR as
 * well as the workspace: "outside the workspace" must be somewhere else.
 * /var/tmp, else a directory beside the tests.
 */
let outsideRoot;
before(() => {
  const writableAnyway = ['/tmp', os.tmpdir(), process.env.TMPDIR].filter(Boolean).map((d) => fs.realpathSync(d));
  for (const base of ['/var/tmp', here]) {
    try {
      const d = fs.realpathSync(fs.mkdtempSync(path.join(base, 'codexmcp-e2e-outside-')));
      if (!writableAnyway.some((w) => d === w || d.startsWith(`${w}/`))) {
        outsideRoot = d;
        return;
      }
      fs.rmSync(d, { recursive: true, force: true });
    } catch {}
  }
  throw new Error('no directory outside /tmp and $TMPDIR to test writes outside the workspace');
});
after(() => {
  if (outsideRoot) fs.rmSync(outsideRoot, { recursive: true, force: true });
});
let outsideSeq = 0;
const outsideDir = (name) => {
  const d = path.join(outsideRoot, `${name}-${++outsideSeq}`);
  fs.mkdirSync(d);
  return d;
};

// CODEX_HOMEs of this file beyond the shared one (removed after it, with
// whatever still runs with them).
const homes = [];
after(async () => {
  for (const h of homes) {
    await terminateWithEnv(`CODEX_HOME=${h}`);
    removeCodexHome(h);
  }
});
/** A CODEX_HOME on the shared fake endpoint whose config.toml starts with `top` (top-level keys), with profiles { name: toml }. */
function codexHome(top, profiles = {}) {
  const home = makeCodexHome(codex.fake.url);
  homes.push(home);
  const file = path.join(home, 'config.toml');
  fs.writeFileSync(file, `${top}\n${fs.readFileSync(file, 'utf8')}`);
  for (const [name, toml] of Object.entries(profiles)) fs.writeFileSync(path.join(home, `${name}.config.toml`), toml);
  return home;
}

/** Run the real codex directly (no codexmcp): { code, stdout, stderr }. */
function runCodex(home, args, prompt, cwd) {
  return new Promise((resolve) => {
    const c = spawn(codexBin(), args, { env: codexEnv(home), cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => c.kill('SIGKILL'), 60000);
    c.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
    c.stdin.end(prompt);
  });
}

/** The sandbox codex told the model endpoint it ran in (x-codex-turn-metadata). */
const sandboxOf = (req) => JSON.parse(req.headers['x-codex-turn-metadata'] ?? '{}').sandbox_mode;

// ---- 1. argument values ------------------------------------------------------------

/**
 * Hostile values; each names its own marker file, which a shell running any
 * part of it would create (`touch${IFS}x` is `touch x` to a shell, and has
 * no white space for our checks to see).
 */
function hostileValues(marker) {
  return [
    { what: 'a leading -', v: '-x' },
    { what: 'a flag of codex', v: '--dangerously-bypass-approvals-and-sandbox' },
    { what: 'a config override', v: '--config=sandbox_mode="danger-full-access"' },
    { what: 'a config override without its flag', v: 'sandbox_mode="danger-full-access"' },
    { what: 'a ;', v: `a;touch${IFS}${marker}-semicolon` },
    { what: 'a $(…) with a space', v: `$(touch ${marker}-subst)` },
    { what: 'a $(…)', v: `x$(touch${IFS}${marker}-subst2)` },
    { what: 'backticks', v: `x\`touch${IFS}${marker}-backtick\`` },
    { what: 'a newline', v: `x\ntouch ${marker}-newline` },
    { what: 'a NUL', v: `x\u0000touch ${marker}-nul` },
  ];
}

// How each kind of parameter takes a value: refused, or passed on.
//   prompt: never refused; on codex's stdin, never in argv
//   path:   refused only with a NUL (cd, image: they must exist)
//   text:   refused only with a NUL (title)
//   token:  refused when it starts with '-' or holds white space, a control character or NUL
//   enum:   refused unless one of its values (none of these is)
function refusedFor(kind, v) {
  if (kind === 'prompt') return false;
  if (kind === 'enum') return true;
  if (v.includes('\u0000')) return true;
  if (kind === 'token') return v.startsWith('-') || /[\u0000-\u0020\u007f]/.test(v);
  return false;
}

/**
 * argv (after argv[0]) as codex's parser (clap) reads it: options, then
 * positionals, then what follows `--`. Fails when an element would be read
 * as an option we did not mean: anything starting with '-' that is not one
 * of our flags, or a value after a flag that starts with '-' (clap takes it
 * for an option, e.g. `--image -x.png`: "unexpected argument '-x'").
 */
function parseArgv(argv) {
  const withValue = new Set(['--sandbox', '--cd', '--model', '--profile', '--config', '--image']);
  const bare = new Set(['--json', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', '--uncommitted']);
  const glued = ['--base', '--commit', '--title'];
  const shown = JSON.stringify(argv);
  assert.equal(argv[0], 'exec', shown);
  const opts = [];
  const pos = [];
  let rest = null;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest = argv.slice(i + 1);
      break;
    }
    if (withValue.has(a)) {
      const v = argv[++i];
      assert.ok(v !== undefined, `${a} without a value: ${shown}`);
      assert.ok(!v.startsWith('-'), `the value of ${a}, ${JSON.stringify(v)}, would be read as an option: ${shown}`);
      opts.push([a, v]);
      continue;
    }
    const g = glued.find((f) => a.startsWith(`${f}=`));
    if (g) {
      opts.push([g, a.slice(g.length + 1)]);
      continue;
    }
    if (bare.has(a)) {
      opts.push([a, true]);
      continue;
    }
    assert.ok(!a.startsWith('-'), `argv element ${JSON.stringify(a)} would be read as an option: ${shown}`);
    pos.push(a);
  }
  // The prompt (or review instructions) on stdin; a review of a target has none.
  if (rest !== null || !pos.includes('review')) assert.deepEqual(rest, ['-'], `argv ends with -- - (the prompt on stdin): ${shown}`);
  const values = (flag) => opts.filter(([f]) => f === flag).map(([, v]) => v);
  return { opts, pos, values };
}

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

/**
 * The places where hostile values can live: a git repository (for
 * codex_review) holding directories named after each value (the cd rows;
 * relative to the server's cwd, which is the repository) and image files
 * named after each value.
 */
function hostileFixture() {
  const repo = fs.realpathSync(tree.dir('hostile-repo'));
  git(repo, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(repo, 'a.txt'), 'one\n');
  git(repo, 'add', 'a.txt');
  git(repo, 'commit', '-q', '-m', 'init');
  const sha = git(repo, 'rev-parse', 'HEAD');
  const imgDir = path.join(repo, 'images');
  const markers = fs.realpathSync(tree.dir('markers'));
  const marker = path.join(markers, 'MARK');
  const values = hostileValues(marker);
  for (const { v } of values) {
    if (v.includes('\u0000')) continue;
    fs.mkdirSync(path.resolve(repo, v), { recursive: true });
    const img = path.resolve(imgDir, v);
    fs.mkdirSync(path.dirname(img), { recursive: true });
    fs.writeFileSync(img, PNG);
  }
  return { repo, sha, imgDir, markers, values };
}

/** Every string parameter of both tools: how a call passes a value v, and where in argv (or stdin) it must arrive. */
function paramTable(fx) {
  const codexArgs = (extra) => ({ PROMPT: 'a hostile value', cd: fx.repo, ...extra });
  const flag = (f) => (v, a) => assert.deepEqual(a.values(f), [v], `${f}`);
  return [
    { tool: 'codex', p: 'PROMPT', kind: 'prompt', args: (v) => ({ PROMPT: v, cd: fx.repo }) },
    { tool: 'codex', p: 'cd', kind: 'path', args: (v) => ({ PROMPT: 'a hostile cd', cd: v }), where: (v, a) => assert.deepEqual(a.values('--cd'), [fs.realpathSync(path.resolve(fx.repo, v))]) },
    { tool: 'codex', p: 'sandbox', kind: 'enum', args: (v) => codexArgs({ sandbox: v }) },
    { tool: 'codex', p: 'SESSION_ID', kind: 'token', args: (v) => codexArgs({ SESSION_ID: v }), where: (v, a) => assert.deepEqual(a.pos, ['resume', v]) },
    { tool: 'codex', p: 'model', kind: 'token', args: (v) => codexArgs({ model: v }), where: flag('--model') },
    { tool: 'codex', p: 'profile', kind: 'token', args: (v) => codexArgs({ profile: v }), where: flag('--profile') },
    { tool: 'codex', p: 'reasoning_effort', kind: 'enum', args: (v) => codexArgs({ reasoning_effort: v }) },
    { tool: 'codex', p: 'all_messages_filter', kind: 'enum', args: (v) => codexArgs({ all_messages_filter: [v] }) },
    {
      tool: 'codex',
      p: 'image',
      kind: 'path',
      err: 'image[0]',
      args: (v) => codexArgs({ cd: fx.imgDir, image: [v] }),
      where: (v, a) => assert.deepEqual(a.values('--image'), [fs.realpathSync(path.resolve(fx.imgDir, v))]),
    },
    { tool: 'codex_review', p: 'cd', kind: 'path', args: (v) => ({ cd: v, uncommitted: true }), where: (v, a) => assert.deepEqual(a.values('--cd'), [fs.realpathSync(path.resolve(fx.repo, v))]) },
    { tool: 'codex_review', p: 'base', kind: 'token', args: (v) => ({ cd: fx.repo, base: v }), where: flag('--base') },
    { tool: 'codex_review', p: 'commit', kind: 'token', args: (v) => ({ cd: fx.repo, commit: v }), where: flag('--commit') },
    { tool: 'codex_review', p: 'title', kind: 'text', args: (v) => ({ cd: fx.repo, commit: fx.sha, title: v }), where: flag('--title') },
    { tool: 'codex_review', p: 'PROMPT', kind: 'prompt', args: (v) => ({ cd: fx.repo, PROMPT: v }) },
    { tool: 'codex_review', p: 'model', kind: 'token', args: (v) => ({ cd: fx.repo, uncommitted: true, model: v }), where: flag('--model') },
    { tool: 'codex_review', p: 'reasoning_effort', kind: 'enum', args: (v) => ({ cd: fx.repo, uncommitted: true, reasoning_effort: v }) },
  ];
}

const rowName = (row, what) => `${row.tool} ${row.p} with ${what}`;
const noMarkers = (fx, when) => assert.deepEqual(fs.readdirSync(fx.markers), [], `a shell ran a value (${when})`);
const ALLOWED_CONFIG = /^(model_reasoning_effort="(minimal|low|medium|high|xhigh)"|approval_policy="never")$/;

test('every string parameter of codex and codex_review: a hostile value is refused naming it, or reaches codex as one argv element in its place (fake codex)', LONG, async () => {
  const fx = hostileFixture();
  const root = fs.realpathSync(tree.root);
  const argvFile = tree.path('argv');
  // The server runs in the repository, so a relative cd is one of the values itself.
  const args = ['-c', 'cd "$0" && exec "$@"', fx.repo, serverBin(), '--codex', FAKE_CODEX, '--engine', 'exec', '--state-dir', tree.dir('state')];
  await withServer(args, serverEnv(codex.home, { FAKE_CODEX_ARGV_FILE: argvFile, FAKE_CODEX_THREAD_ID: 'random' }), async (sdk) => {
    let refused = 0;
    let passed = 0;
    for (const row of paramTable(fx)) {
      for (const { what, v } of fx.values) {
        const name = rowName(row, what);
        fs.rmSync(argvFile, { force: true });
        const { obj } = await callToolChecked(sdk.client, row.tool, row.args(v), CALL_MS);
        if (refusedFor(row.kind, v)) {
          refused++;
          assert.equal(obj.success, false, `${name} should be refused: ${JSON.stringify(obj)}`);
          assert.ok(obj.error.startsWith(row.err ?? row.p), `${name}: the error names ${row.err ?? row.p}: ${obj.error}`);
          assert.ok(!fs.existsSync(argvFile), `${name}: refused, yet codex started: ${fs.existsSync(argvFile) && fs.readFileSync(argvFile, 'utf8')}`);
        } else {
          passed++;
          assert.equal(obj.success, true, `${name} should run: ${JSON.stringify(obj)}`);
          const seen = JSON.parse(fs.readFileSync(argvFile, 'utf8'));
          const a = parseArgv(seen.argv);
          const shown = `${name}: ${JSON.stringify(seen.argv)}`;
          // Only our own configuration; the sandbox and approval policy always given.
          for (const c of a.values('--config')) assert.match(c, ALLOWED_CONFIG, shown);
          assert.ok(a.values('--config').includes('approval_policy="never"'), shown);
          assert.deepEqual(a.values('--sandbox'), ['read-only'], shown);
          assert.ok(!seen.argv.includes('--dangerously-bypass-approvals-and-sandbox'), shown);
          // Elements that hold the value (the temporary root's random name could).
          const holders = seen.argv.filter((x) => (x.startsWith(`${root}/`) ? x.slice(root.length) : x).includes(v));
          if (row.kind === 'prompt') {
            assert.equal(seen.stdin, v, `${name}: stdin is the value`);
            assert.deepEqual(holders, [], `${name}: the prompt is in argv: ${shown}`);
          } else {
            row.where(v, a);
            // The value itself is one element (or the one glued to its flag), nowhere else.
            assert.equal(holders.length, 1, `${name}: one element holds the value: ${shown}`);
          }
        }
        noMarkers(fx, name);
      }
    }
    // Both branches were taken, many times.
    assert.ok(refused >= 40 && passed >= 40, `refused ${refused}, passed ${passed}`);
    await withTimeout(sdk.client.ping(), 5000, 'ping');
  }, { command: '/bin/sh' });
});

test('an image path that starts with - is not read as an option when it is passed relative to cd (fake codex)', T, async () => {
  // With a comma in cd, the absolute path cannot be passed (codex splits
  // --image values at commas); the path relative to cd is, and one that
  // starts with '-' must stay a value.
  const cd = fs.realpathSync(tree.dir('with,comma'));
  const names = ['-x.png', '--dangerously-bypass-approvals-and-sandbox', `-$(touch${IFS}MARK).png`];
  for (const n of names) fs.writeFileSync(path.join(cd, n), PNG);
  const argvFile = tree.path('argv');
  await withServer(['--codex', FAKE_CODEX, '--engine', 'exec', '--state-dir', tree.dir('state')], serverEnv(codex.home, { FAKE_CODEX_ARGV_FILE: argvFile }), async (sdk) => {
    for (const n of names) {
      fs.rmSync(argvFile, { force: true });
      const { obj } = await callToolChecked(sdk.client, 'codex', { PROMPT: 'look', cd, image: [n] }, CALL_MS);
      assert.equal(obj.success, true, `${n}: ${JSON.stringify(obj)}`);
      const seen = JSON.parse(fs.readFileSync(argvFile, 'utf8'));
      const a = parseArgv(seen.argv);
      const imgs = a.values('--image');
      assert.equal(imgs.length, 1, JSON.stringify(seen.argv));
      assert.ok(!imgs[0].includes(','), `no comma: ${imgs[0]}`);
      // Codex runs in cd: the value names the file from there.
      assert.equal(fs.realpathSync(path.resolve(cd, imgs[0])), path.join(cd, n), JSON.stringify(seen.argv));
    }
    assert.ok(!fs.existsSync(path.join(cd, 'MARK')), 'a shell ran a value');
  });
});

/** The request the fake endpoint got for a call whose PROMPT holds tag (the first). */
const requestOf = (tag) => codex.fake.requestsFor(tag)[0];
/** The <cwd> codex last told the model (its environment context escapes XML). */
function cwdOf(req) {
  const text = req.body.input.map((i) => (Array.isArray(i.content) ? i.content.map((c) => c.text ?? '').join('') : '')).join('\n');
  const m = [...text.matchAll(/<cwd>([^<]*)<\/cwd>/g)].at(-1);
  const xml = { quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' };
  return m?.[1].replace(/&(quot|apos|lt|gt|amp);/g, (_, e) => xml[e]);
}

test(`hostile values the tools accept, through the real codex (${APP_SERVER ? 'app-server' : 'exec'} engine): verbatim to the model endpoint, or a clear error from Codex`, LONG, async () => {
  const fx = hostileFixture();
  // Branches named after the values, for review's base (git takes them all).
  for (const { v } of fx.values) if (!refusedFor('token', v)) git(fx.repo, 'branch', v);
  const args = ['-c', 'cd "$0" && exec "$@"', fx.repo, serverBin(), '--codex', codexBin(), '--state-dir', tree.dir('state')];
  await withServer(args, serverEnv(codex.home), async (sdk) => {
    let current = '';
    const call = async (tool, a) => {
      try {
        return (await callToolChecked(sdk.client, tool, a, CALL_MS)).obj;
      } catch (err) {
        err.message += ` (${current})`;
        throw err;
      }
    };
    for (const row of paramTable(fx)) {
      for (const { what, v } of fx.values) {
        if (refusedFor(row.kind, v)) continue;
        const name = rowName(row, what);
        current = name;
        const tag = uniq();
        const before = codex.fake.requests.length;
        const newRequests = () => codex.fake.requests.slice(before).filter((r) => !r.ignored);
        if (row.tool === 'codex' && row.p === 'PROMPT') {
          // Without a directive the fake answers with the prompt it got.
          const obj = await call('codex', row.args(v));
          assert.equal(obj.success, true, `${name}: ${JSON.stringify(obj)}`);
          assert.equal(newRequests().at(-1)?.prompt, v, `${name}: the prompt the model endpoint got`);
          assert.equal(obj.agent_messages, v, name);
        } else if (row.tool === 'codex') {
          const a = { ...row.args(v), PROMPT: `hostile ${tag} [[reply:ok ${tag}]]` };
          const obj = await call('codex', a);
          if (row.p === 'profile' || (row.p === 'SESSION_ID' && APP_SERVER)) {
            // Not a profile name Codex takes ("pass a plain name"); no such session.
            assert.equal(obj.success, false, `${name}: ${JSON.stringify(obj)}`);
            assert.match(obj.error, row.p === 'profile' ? /--profile/ : /session id/i, name);
            assert.ok(obj.error.includes(v), `${name}: the error names the value: ${obj.error}`);
            assert.equal(codex.fake.requestsFor(tag).length, 0, `${name}: Codex went on to the model`);
          } else if (row.p === 'SESSION_ID') {
            // codex exec resume takes an id or a thread name; 0.169 starts a
            // new session for a name it does not know.
            assert.equal(obj.success, true, `${name}: ${JSON.stringify(obj)}`);
            assert.match(obj.SESSION_ID, /^[0-9a-f-]{36}$/, name);
            assert.equal(requestOf(tag).headers['session-id'], obj.SESSION_ID, name);
          } else {
            assert.equal(obj.success, true, `${name}: ${JSON.stringify(obj)}`);
            const req = requestOf(tag);
            assert.ok(req, `${name}: the model endpoint saw the call`);
            assert.equal(sandboxOf(req), 'read-only', name);
            if (row.p === 'model') assert.equal(req.body.model, v, `${name}: the model asked for`);
            if (row.p === 'cd') assert.equal(cwdOf(req), fs.realpathSync(path.resolve(fx.repo, v)), `${name}: the cwd codex was given`);
            if (row.p === 'image') {
              const parts = req.body.input.flatMap((i) => (Array.isArray(i.content) ? i.content : []));
              assert.ok(parts.some((p) => p.type === 'input_image' && /^data:image\/png;base64,/.test(p.image_url ?? '')), `${name}: the image was sent`);
            }
          }
        } else {
          // codex_review (always codex exec review).
          const obj = await call('codex_review', row.args(v));
          const reqs = newRequests();
          assert.equal(obj.success, true, `${name}: ${JSON.stringify(obj)}`);
          assert.ok(reqs.length > 0 && reqs.every((r) => r.review), `${name}: review requests`);
          const first = reqs[0];
          if (row.p === 'PROMPT') assert.equal(first.prompt, v.trim(), `${name}: the review instructions`);
          if (row.p === 'model') assert.equal(first.body.model, v, name);
          if (row.p === 'base' || row.p === 'commit' || row.p === 'title') assert.ok(first.prompt.includes(v), `${name}: the review prompt holds the value: ${first.prompt}`);
          if (row.p === 'cd') assert.equal(cwdOf(first), fs.realpathSync(path.resolve(fx.repo, v)), `${name}: the cwd codex was given`);
        }
        noMarkers(fx, name);
      }
    }
    await withTimeout(sdk.client.ping(), 5000, 'ping');
  }, { command: '/bin/sh' });
});

test(`a NUL in what Codex prints (a command's output, a reply) ends the turn as any other (${APP_SERVER ? 'app-server' : 'exec'} engine)`, T, async () => {
  const cd = fs.realpathSync(tree.dir('nul-out'));
  await withServer(['--codex', codexBin(), '--state-dir', tree.dir('state')], serverEnv(codex.home), async (sdk) => {
    const tag = uniq();
    const { obj } = await callToolChecked(sdk.client, 'codex', { PROMPT: `nul ${tag} [[shell:printf 'a\\000b']]`, cd, return_all_messages: true }, CALL_MS);
    assert.equal(obj.success, true, JSON.stringify(obj));
    const cmd = obj.all_messages.find((e) => e.type === 'item.completed' && e.item?.type === 'command_execution');
    assert.equal(cmd?.item.aggregated_output, 'a\u0000b', JSON.stringify(obj.all_messages));
    const reply = await callToolChecked(sdk.client, 'codex', { PROMPT: `nul ${tag} [[reply:one\u0000two]]`, cd }, CALL_MS);
    assert.equal(reply.obj.agent_messages, 'one\u0000two', JSON.stringify(reply.obj));
  });
});

// ---- 2. the caps against Codex's configuration ------------------------------------

const FULL = 'sandbox_mode = "danger-full-access"\napproval_policy = "never"\n';
const PROFILES = {
  // The same as the top level, as a profile.
  wide: FULL,
  // Full access the new way: a built-in permission profile.
  perm: 'default_permissions = ":danger-full-access"\n',
  // Commands may ask to leave the sandbox; a reviewer model approves.
  guard: 'approval_policy = "on-request"\napprovals_reviewer = "auto_review"\n',
};
const GUARD_TOP = PROFILES.guard;

/** A server (real codex, this run's engine) with caps on fn(call). */
function withCapped(home, caps, fn) {
  return withServer(['--codex', codexBin(), '--state-dir', tree.dir('state'), ...caps], serverEnv(home), (sdk) =>
    fn(async (a) => (await callToolChecked(sdk.client, 'codex', a, CALL_MS)).obj),
  );
}

/** A call with [[shell:…]] that must run its command (the turn completes), in the sandbox asked for. */
async function shellCall(call, a, cmd, { sandbox = 'read-only', escalated = false } = {}) {
  const tag = uniq();
  const obj = await call({ ...a, PROMPT: `caps ${tag} [[shell:${cmd}]]${escalated ? ' [[escalated]]' : ''}` });
  assert.equal(obj.success, true, `${JSON.stringify(a)}: ${JSON.stringify(obj)}`);
  assert.match(obj.agent_messages, /^shell done/, JSON.stringify(obj));
  const reqs = codex.fake.requestsFor(tag).filter((r) => !r.guardian);
  assert.ok(reqs.length >= 2, `${JSON.stringify(a)}: the command ran and the model heard back: ${JSON.stringify(reqs.map((r) => r.prompt))} ${JSON.stringify(obj)}`);
  assert.equal(sandboxOf(reqs[0]), sandbox, `${JSON.stringify(a)}: the sandbox codex ran in`);
  return { obj, tag };
}

test('controls: without codexmcp, this CODEX_HOME gives full access (config, profile wide, profile perm) and lets a reviewer approve a command outside the sandbox (profile guard)', T, async () => {
  const home = codexHome(FULL, PROFILES);
  const guardHome = codexHome(GUARD_TOP);
  const cd = fs.realpathSync(tree.dir('control'));
  const out = outsideDir('control');
  const base = ['exec', '--json', '--skip-git-repo-check', '--cd', cd];
  const cases = [
    { home, args: base, file: 'config' },
    { home, args: [...base, '--profile', 'wide'], file: 'wide' },
    { home, args: [...base, '--profile', 'perm'], file: 'perm' },
    // Even in the read-only sandbox, as codexmcp asked before it said "never".
    { home, args: ['exec', '--json', '--skip-git-repo-check', '--sandbox', 'read-only', '--cd', cd, '--profile', 'guard'], file: 'guard', escalated: true },
    { home: guardHome, args: ['exec', '--json', '--skip-git-repo-check', '--sandbox', 'read-only', '--cd', cd], file: 'guard-top', escalated: true },
  ];
  for (const c of cases) {
    const target = path.join(out, c.file);
    const r = await runCodex(c.home, [...c.args, '--', '-'], `control ${uniq()} [[shell:touch ${target}]]${c.escalated ? ' [[escalated]]' : ''}`, cd);
    assert.equal(r.code, 0, `${c.file}: ${r.stderr.slice(-1500)}`);
    assert.ok(fs.existsSync(target), `${c.file}: the control did not write ${target}; stdout: ${r.stdout.slice(-1500)}`);
  }
});

test(`--read-only holds against a config and profiles that ask for full access, no approvals or an approval reviewer (${APP_SERVER ? 'app-server' : 'exec'} engine)`, T, async () => {
  const home = codexHome(FULL, PROFILES);
  const cd = fs.realpathSync(tree.dir('ro'));
  const out = outsideDir('ro');
  await withCapped(home, ['--read-only'], async (call) => {
    for (const profile of [undefined, 'wide', 'perm', 'guard']) {
      const a = profile ? { cd, profile } : { cd };
      const inside = path.join(cd, `in-${profile ?? 'config'}`);
      const outside = path.join(out, `out-${profile ?? 'config'}`);
      await shellCall(call, a, `touch ${inside} ${outside}`);
      // A command that asks to leave the sandbox (a reviewer would allow it).
      const esc = path.join(out, `esc-${profile ?? 'config'}`);
      await shellCall(call, a, `touch ${esc}`, { escalated: true });
      for (const f of [inside, outside, esc]) assert.ok(!fs.existsSync(f), `${JSON.stringify(a)}: ${f} was written under --read-only`);
      for (const bad of [{ yolo: true }, { sandbox: 'workspace-write' }, { sandbox: 'danger-full-access' }]) {
        const obj = await call({ ...a, ...bad, PROMPT: 'refused [[shell:touch /never]]' });
        assert.equal(obj.success, false, JSON.stringify(bad));
        assert.match(obj.error, /--read-only/);
      }
    }
  });
  // The reviewer configured at the top level, where the app-server takes it too.
  const guardHome = codexHome(GUARD_TOP);
  await withCapped(guardHome, ['--read-only'], async (call) => {
    const esc = path.join(out, 'esc-guard-top');
    await shellCall(call, { cd }, `touch ${esc}`, { escalated: true });
    assert.ok(!fs.existsSync(esc), `${esc} was written under --read-only`);
  });
});

test(`--max-sandbox workspace-write: with that config and those profiles a write outside cd is refused by the sandbox, one inside is not (${APP_SERVER ? 'app-server' : 'exec'} engine)`, T, async () => {
  const home = codexHome(FULL, PROFILES);
  const cd = fs.realpathSync(tree.dir('ww'));
  const out = outsideDir('ww');
  await withCapped(home, ['--max-sandbox', 'workspace-write'], async (call) => {
    for (const profile of [undefined, 'wide', 'perm', 'guard']) {
      const a = { cd, sandbox: 'workspace-write', ...(profile ? { profile } : {}) };
      const name = profile ?? 'config';
      const inside = path.join(cd, `in-${name}`);
      const outside = path.join(out, `out-${name}`);
      await shellCall(call, a, `touch ${inside} ${outside}`, { sandbox: 'workspace-write' });
      assert.ok(fs.existsSync(inside), `${name}: the write inside cd should work`);
      assert.ok(!fs.existsSync(outside), `${name}: ${outside} was written outside cd`);
      const esc = path.join(out, `esc-${name}`);
      await shellCall(call, a, `touch ${esc}`, { sandbox: 'workspace-write', escalated: true });
      assert.ok(!fs.existsSync(esc), `${name}: ${esc} was written outside the sandbox`);
      for (const bad of [{ yolo: true }, { sandbox: 'danger-full-access' }]) {
        const obj = await call({ ...a, ...bad, PROMPT: 'refused [[shell:touch /never]]' });
        assert.equal(obj.success, false, JSON.stringify(bad));
        assert.match(obj.error, /--max-sandbox/);
      }
    }
  });
});

/**
 * A CODEX_HOME whose config.toml gives workspace-write one more writable root
 * (top), and whose profile `roots` another (prof); both under /var/tmp.
 * Codex 0.169 reads a profile from CODEX_HOME/<name>.config.toml (it refuses
 * the legacy [profiles.roots] table in config.toml).
 */
function rootsHome() {
  const top = outsideDir('roots-top');
  const prof = outsideDir('roots-prof');
  const home = codexHome(`sandbox_workspace_write.writable_roots = [${JSON.stringify(top)}]`, {
    roots: `sandbox_mode = "workspace-write"\n\n[sandbox_workspace_write]\nwritable_roots = [${JSON.stringify(prof)}]\n`,
  });
  return { home, top, prof };
}

test('control: without codexmcp, writable_roots in config.toml and in a profile let workspace-write write there, outside cd', T, async () => {
  const { home, top, prof } = rootsHome();
  const cd = fs.realpathSync(tree.dir('roots-control'));
  for (const [profile, dir] of [[undefined, top], ['roots', prof]]) {
    const target = path.join(dir, 'control');
    const args = ['exec', '--json', '--skip-git-repo-check', '--sandbox', 'workspace-write', '--cd', cd, ...(profile ? ['--profile', profile] : []), '--', '-'];
    const r = await runCodex(home, args, `control ${uniq()} [[shell:touch ${target}]]`, cd);
    assert.equal(r.code, 0, `${profile ?? 'config'}: ${r.stderr.slice(-1500)}`);
    assert.ok(fs.existsSync(target), `${profile ?? 'config'}: the control did not write ${target}; stdout: ${r.stdout.slice(-1500)}`);
  }
});

test(`--max-sandbox workspace-write and --allow-root: writable_roots in config.toml or a profile give workspace-write no write outside cd; without a cap they still apply (${APP_SERVER ? 'app-server' : 'exec'} engine)`, LONG, async () => {
  const { home, top, prof } = rootsHome();
  const root = fs.realpathSync(tree.dir('roots-root'));
  const cd = path.join(root, 'cd');
  fs.mkdirSync(cd);
  const runs = [
    { caps: ['--max-sandbox', 'workspace-write'], name: 'max', capped: true },
    { caps: ['--allow-root', root], name: 'root', capped: true },
    { caps: [], name: 'none', capped: false },
  ];
  for (const run of runs) {
    await withCapped(home, run.caps, async (call) => {
      for (const [profile, dir] of [[undefined, top], ['roots', prof]]) {
        const name = `${run.name}-${profile ?? 'config'}`;
        const inside = path.join(cd, `in-${name}`);
        const outside = path.join(dir, `out-${name}`);
        const { obj } = await shellCall(call, { cd, sandbox: 'workspace-write', ...(profile ? { profile } : {}) }, `touch ${inside} ${outside}`, { sandbox: 'workspace-write' });
        // The app-server took the call itself (a profile goes to exec).
        if (APP_SERVER && !profile) assert.ok(!(obj.warnings ?? []).some((w) => /ran with codex exec/.test(w)), `${name}: ${JSON.stringify(obj.warnings)}`);
        assert.ok(fs.existsSync(inside), `${name}: the write inside cd should work`);
        if (run.capped) assert.ok(!fs.existsSync(outside), `${name}: ${outside} (a writable root of Codex's configuration) was written under ${run.caps.join(' ')}`);
        else assert.ok(fs.existsSync(outside), `${name}: without a cap the configured writable root ${outside} should still be writable`);
      }
    });
  }
});

test(`a session made with full access, resumed under --read-only, runs read-only (${APP_SERVER ? 'app-server' : 'exec'} engine)`, T, async () => {
  const cd = fs.realpathSync(tree.dir('resume'));
  const out = outsideDir('resume');
  // Made without caps (a turn without a command: the fake runs a
  // [[shell:…]] only in a turn with none in its history), in a CODEX_HOME
  // that gives full access, and in one whose reviewer lets commands out.
  const cases = [
    { home: codexHome(FULL), name: 'full', escalated: false },
    { home: codexHome(GUARD_TOP), name: 'reviewer', escalated: true },
  ];
  for (const c of cases) {
    await withCapped(c.home, [], async (call) => {
      const tag = uniq();
      const obj = await call({ cd, sandbox: 'danger-full-access', PROMPT: `made ${tag} [[reply:made]]` });
      assert.equal(obj.success, true, JSON.stringify(obj));
      assert.equal(sandboxOf(requestOf(tag)), 'danger-full-access');
      c.sid = obj.SESSION_ID;
    });
    await withCapped(c.home, ['--read-only'], async (call) => {
      const target = path.join(out, c.name);
      const { obj } = await shellCall(call, { cd, SESSION_ID: c.sid }, `touch ${target}`, { escalated: c.escalated });
      assert.equal(obj.SESSION_ID, c.sid, 'the same session');
      assert.ok(!fs.existsSync(target), `${c.name}: ${target} was written by a resumed turn under --read-only`);
    });
  }
});

test('app-server traffic: thread/start and thread/resume carry the capped sandbox and approval policy "never" (and, for workspace-write under a cap, empty writable_roots), turn/start does not widen them, a profile goes to exec with its sandbox (fake app-server)', T, async () => {
  const cd = fs.realpathSync(tree.dir('as'));
  const ROOTS = 'sandbox_workspace_write.writable_roots';
  const runs = [
    [['--read-only'], 'read-only'],
    [['--max-sandbox', 'workspace-write'], 'workspace-write'],
    [['--allow-root', cd], 'workspace-write'],
    [[], 'workspace-write'], // no cap: the configuration's writable_roots stay
  ];
  for (const [caps, sandbox] of runs) {
    const bounded = caps.length > 0 && sandbox === 'workspace-write';
    const log = tree.path('as-log');
    const argvFile = tree.path('argv');
    const env = serverEnv(codex.home, { FAKE_APPSERVER_LOG: log, FAKE_CODEX_ARGV_FILE: argvFile });
    await withServer(['--codex', FAKE_APPSERVER, '--engine', 'appserver', '--state-dir', tree.dir('state'), ...caps], env, async (sdk) => {
      const call = async (a) => (await callToolChecked(sdk.client, 'codex', a, CALL_MS)).obj;
      const one = await call({ PROMPT: 'first', cd, sandbox, model: 'm-x', reasoning_effort: 'high' });
      assert.equal(one.success, true, JSON.stringify(one));
      const two = await call({ PROMPT: 'again', cd, sandbox, SESSION_ID: one.SESSION_ID });
      assert.equal(two.success, true, JSON.stringify(two));
      const three = await call({ PROMPT: 'default', cd });
      assert.equal(three.success, true, JSON.stringify(three));
      // A profile: the app-server cannot take one, so exec runs the call.
      const four = await call({ PROMPT: 'with a profile', cd, sandbox, profile: 'wide' });
      assert.equal(four.success, true, JSON.stringify(four));
      const a = parseArgv(JSON.parse(fs.readFileSync(argvFile, 'utf8')).argv);
      assert.deepEqual(a.values('--sandbox'), [sandbox]);
      assert.deepEqual(a.values('--profile'), ['wide']);
      assert.ok(a.values('--config').includes('approval_policy="never"'), `exec is told "never" too: ${JSON.stringify(a.opts)}`);
      assert.equal(a.values('--config').includes(`${ROOTS}=[]`), bounded, `${caps}: exec's writable_roots: ${JSON.stringify(a.opts)}`);
    });
    const sent = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.dir === 'in' && e.msg.method);
    const threads = sent.filter((e) => e.msg.method === 'thread/start' || e.msg.method === 'thread/resume');
    assert.deepEqual(threads.map((e) => e.msg.method), ['thread/start', 'thread/resume', 'thread/start'], `${caps}`);
    const asked = [sandbox, sandbox, 'read-only'];
    threads.forEach((e, i) => {
      assert.equal(e.msg.params.sandbox, asked[i], `${caps}: ${JSON.stringify(e.msg)}`);
      assert.equal(e.msg.params.approvalPolicy, 'never', `${caps}: ${JSON.stringify(e.msg)}`);
      assert.ok(!('profile' in e.msg.params), JSON.stringify(e.msg));
      for (const k of Object.keys(e.msg.params.config ?? {})) assert.match(k, /^(thread_unload_delay_secs|model_reasoning_effort|sandbox_workspace_write\.writable_roots)$/, `${caps}: config ${k}`);
      const roots = e.msg.params.config?.[ROOTS];
      if (bounded && asked[i] === 'workspace-write') assert.deepEqual(roots, [], `${caps}: ${JSON.stringify(e.msg)}`);
      else assert.equal(roots, undefined, `${caps}: ${JSON.stringify(e.msg)}`);
    });
    const turns = sent.filter((e) => e.msg.method === 'turn/start');
    assert.equal(turns.length, 3, `${caps}`);
    for (const e of turns)
      for (const k of ['sandboxPolicy', 'approvalPolicy', 'sandbox', 'config']) assert.ok(!(k in e.msg.params), `${caps}: turn/start sets ${k}: ${JSON.stringify(e.msg)}`);
  }
});

// ---- 3. a cd moved out of --allow-root ---------------------------------------------

test(`--allow-root: a queued call whose cd's parent was swapped for a link out of the root is refused when it starts (${APP_SERVER ? 'app-server' : 'exec'} engine)`, T, async () => {
  const root = fs.realpathSync(tree.dir('swap-root'));
  const away = fs.realpathSync(tree.dir('swap-away'));
  fs.mkdirSync(path.join(root, 'parent', 'cd'), { recursive: true });
  fs.mkdirSync(path.join(away, 'cd'));
  const args = ['--codex', codexBin(), '--max-parallel', '1', '--allow-root', root, '--state-dir', tree.dir('state')];
  await withServer(args, serverEnv(codex.home), async (sdk) => {
    // The first call holds the one slot until it is cancelled.
    const hold = uniq();
    const ac = new AbortController();
    const first = sdk.client
      .callTool({ name: 'codex', arguments: { PROMPT: `hold ${hold} [[stall]]`, cd: root } }, undefined, { timeout: CALL_MS, signal: ac.signal })
      .then((r) => assert.fail(`the held call answered: ${JSON.stringify(r)}`), (err) => err);
    await waitRequest(codex.fake, hold);
    const tag = uniq();
    let queued;
    const heardQueued = new Promise((resolve) => (queued = resolve));
    const second = callToolChecked(
      sdk.client,
      'codex',
      { PROMPT: `moved ${tag} [[shell:touch here-${tag}]]`, cd: path.join(root, 'parent', 'cd'), sandbox: 'workspace-write' },
      CALL_MS,
      { onprogress: (p) => /queued/.test(p.message ?? '') && queued() },
    );
    await withTimeout(heardQueued, 10000, 'the second call queued');
    fs.renameSync(path.join(root, 'parent'), path.join(root, 'parent-old'));
    fs.symlinkSync(away, path.join(root, 'parent'));
    ac.abort();
    assert.match(String(await first), /abort/i);
    const { obj } = await second;
    assert.equal(obj.success, false, `the moved call ran: ${JSON.stringify(obj)}`);
    assert.match(obj.error, /--allow-root/);
    assert.ok(obj.error.includes(path.join(away, 'cd')), `the error says where it leads: ${obj.error}`);
    assert.match(obj.error, /waited in the queue/);
    assert.equal(codex.fake.requestsFor(tag).length, 0, 'codex ran the moved call');
    for (const d of [path.join(away, 'cd'), path.join(root, 'parent-old', 'cd')]) assert.deepEqual(fs.readdirSync(d), [], d);
    // Still serving, inside the root.
    const ok = await callToolChecked(sdk.client, 'codex', { PROMPT: `after ${tag} [[reply:fine]]`, cd: path.join(root, 'parent-old', 'cd') }, CALL_MS);
    assert.equal(ok.obj.agent_messages, 'fine');
  });
});

test(`--allow-root: .. after a link is resolved from where the link leads, not by the text (${APP_SERVER ? 'app-server' : 'exec'} engine)`, T, async () => {
  const top = fs.realpathSync(tree.dir('dots'));
  const root = path.join(top, 'root');
  const away = path.join(top, 'away');
  fs.mkdirSync(path.join(root, 'a', 'b'), { recursive: true });
  fs.mkdirSync(path.join(away, 'sub'), { recursive: true });
  fs.symlinkSync(path.join(away, 'sub'), path.join(root, 'out')); // root/out -> away/sub
  fs.symlinkSync(path.join(root, 'a', 'b'), path.join(root, 'in')); // root/in -> root/a/b
  const args = ['--codex', codexBin(), '--allow-root', root, '--state-dir', tree.dir('state')];
  await withServer(args, serverEnv(codex.home), async (sdk) => {
    const call = async (cd) => {
      const tag = uniq();
      const { obj } = await callToolChecked(sdk.client, 'codex', { PROMPT: `dots ${tag} [[reply:ran ${tag}]]`, cd }, CALL_MS);
      return { obj, tag };
    };
    // As text each of these is inside root; resolved, each is outside.
    for (const [cd, leads] of [
      [`${root}/out/..`, away],
      [`${root}/out/../sub`, path.join(away, 'sub')],
      [`${root}/out/../sub/..`, away],
    ]) {
      const { obj, tag } = await call(cd);
      assert.equal(obj.success, false, `${cd} ran: ${JSON.stringify(obj)}`);
      assert.match(obj.error, /--allow-root/, cd);
      assert.ok(obj.error.includes(`resolves to "${leads}"`), `${cd}: ${obj.error}`);
      assert.equal(codex.fake.requestsFor(tag).length, 0, `${cd} reached codex`);
    }
    // Resolved, these are inside, whatever the text says (the second leaves
    // root as text); codex is given the resolved path.
    for (const [cd, real] of [
      [`${root}/in/..`, path.join(root, 'a')],
      [`${root}/in/../..`, root],
    ]) {
      const { obj, tag } = await call(cd);
      assert.equal(obj.success, true, `${cd}: ${JSON.stringify(obj)}`);
      assert.equal(obj.agent_messages, `ran ${tag}`);
      assert.equal(cwdOf(requestOf(tag)), real, `${cd}: the cwd codex was given`);
    }
  });
});

test(`--allow-root: a session made outside the root, resumed with a cd inside it, works in that cd (${APP_SERVER ? 'app-server' : 'exec'} engine)`, T, async () => {
  const root = fs.realpathSync(tree.dir('resume-root'));
  const away = fs.realpathSync(tree.dir('resume-away'));
  let sid;
  await withServer(['--codex', codexBin(), '--state-dir', tree.dir('state')], serverEnv(codex.home), async (sdk) => {
    const tag = uniq();
    const { obj } = await callToolChecked(sdk.client, 'codex', { PROMPT: `away ${tag} [[reply:made]]`, cd: away, sandbox: 'workspace-write' }, CALL_MS);
    assert.equal(obj.success, true, JSON.stringify(obj));
    assert.equal(cwdOf(requestOf(tag)), away);
    sid = obj.SESSION_ID;
  });
  const args = ['--codex', codexBin(), '--allow-root', root, '--state-dir', tree.dir('state')];
  await withServer(args, serverEnv(codex.home), async (sdk) => {
    const refused = await callToolChecked(sdk.client, 'codex', { PROMPT: 'refused', cd: away, SESSION_ID: sid }, CALL_MS);
    assert.match(refused.obj.error, /--allow-root/);
    const tag = uniq();
    const { obj } = await callToolChecked(sdk.client, 'codex', { PROMPT: `back ${tag} [[shell:touch made-${tag}]]`, cd: root, SESSION_ID: sid, sandbox: 'workspace-write' }, CALL_MS);
    assert.equal(obj.success, true, JSON.stringify(obj));
    assert.equal(obj.SESSION_ID, sid);
    assert.equal(cwdOf(codex.fake.requestsFor(tag).at(-1)), root, 'the cwd codex was given');
    assert.ok(fs.existsSync(path.join(root, `made-${tag}`)), 'the command ran in the cd of the call');
    assert.deepEqual(fs.readdirSync(away), [], 'nothing written where the session was made');
  });
});

// ---- 4. what it keeps -------------------------------------------------------------

/** Every file and directory below dir, with its mode. */
function walk(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out.push({ p, dir: e.isDirectory(), mode: fs.statSync(p).mode & 0o777 });
    if (e.isDirectory()) walk(p, out);
  }
  return out;
}

test('state files are 0600 and directories 0700 even under umask 000', T, async () => {
  const state = path.join(tree.dir('umask'), 'state'); // created by the server
  const cd = fs.realpathSync(tree.dir('umask-project'));
  // The server inherits the umask of the shell that starts it.
  const sdk = await connectSdk(['-c', `umask 000; exec "${serverBin()}" --codex "${codexBin()}" --state-dir "${state}"`],
    codexEnv(codex.home), { command: '/bin/sh' });
  await usingSdk(sdk, async () => {
    const r = await callToolChecked(sdk.client, 'codex', { PROMPT: 'say hi', cd, wait_s: 30 }, CALL_MS);
    assert.equal(r.obj.success, true, JSON.stringify(r.obj));
  });
  const entries = walk(state);
  assert.ok(entries.some((e) => e.p.endsWith('.jsonl')), 'a transcript was written');
  assert.ok(entries.some((e) => e.p.endsWith('codexmcp.sqlite')), 'the registry was written');
  assert.equal(fs.statSync(state).mode & 0o777, 0o700, state);
  for (const e of entries) assert.equal(e.mode, e.dir ? 0o700 : 0o600, `${e.p} is ${e.mode.toString(8)}`);
});

test('the log at the default level holds no prompt and no Codex output', T, async () => {
  const cd = fs.realpathSync(tree.dir('log-project'));
  const secret = `SECRETPROMPT${process.pid}`;
  const said = `SECRETANSWER${process.pid}`;
  const printed = `SECRETOUTPUT${process.pid}`;
  const sdk = await connectSdk(['--codex', codexBin(), '--state-dir', tree.dir('log-state')], codexEnv(codex.home));
  let stderr = '';
  await usingSdk(sdk, async () => {
    const ok = await callToolChecked(sdk.client, 'codex', { PROMPT: `${secret} [[reply:${said}]]`, cd }, CALL_MS);
    assert.equal(ok.obj.agent_messages, said);
    const cmd = await callToolChecked(sdk.client, 'codex', { PROMPT: `${secret} [[shell:echo ${printed}]]`, cd }, CALL_MS);
    assert.ok(JSON.stringify(cmd.obj).includes(printed), 'the command ran and printed');
    const bad = await callToolChecked(sdk.client, 'codex', { PROMPT: `${secret} [[fail400]]`, cd }, CALL_MS);
    assert.equal(bad.obj.success, false);
    stderr = sdk.stderr();
  });
  for (const word of [secret, said, printed])
    assert.ok(!stderr.includes(word), `the log holds ${word}:\n${stderr}`);
});
