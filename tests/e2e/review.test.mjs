// The `codex_review` tool: `codex exec --json … review …` through the REAL
// codex CLI against the fake Responses API, and, where only codexmcp's own
// checks and the command line matter, the fake codex
// (fixtures/fake-codex.mjs).
//
// What the real codex 0.169 does with a review (observed; REFERENCE 2.4):
// the user prompt of the review turn is codex's own text for --uncommitted,
// --base and --commit (the diff is NOT in the request: the model runs git),
// or the custom instructions, trimmed. The fake therefore plays a reviewer
// (lib/fake-responses.mjs, isReviewRequest): it runs `git diff HEAD` (or the
// git command codex's prompt names), then answers in codex's review JSON,
// which codex renders as text: "fake review: N added line(s) in M file(s)
// \n\nReview comment:\n\n- [P2] fake finding in F — /abs/F:L-L\n  fake review
// saw the added line: …". A changed file may carry directives ([[stall]],
// [[sleep:MS]], [[reply:…]]) for the fake's follow-up request. thread.started
// names the parent thread (the `session-id` header of the fake's requests),
// which `codex exec resume` continues.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeResponses } from './lib/fake-responses.mjs';
import { codexBin, makeCodexHome, removeCodexHome, env } from './lib/codex-env.mjs';
import { connectSdk, withTimeout, callToolChecked } from './lib/mcp.mjs';
import { tempTree, git } from './lib/tmp.mjs';
import { describePids, killWithEnv, pidsWithEnv, pollUntil, waitNoneWithEnv } from './lib/procs.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const FAKE_CODEX = path.join(here, 'fixtures', 'fake-codex.mjs');
const FAKE_THREAD = '01a20a0c-0000-7000-8000-000000000001';
const T = { timeout: 90000 };
const CALL_MS = 45000;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UNCOMMITTED_PROMPT = 'Review the current code changes (staged, unstaged, and untracked files) and provide prioritized findings.';
const uniq = () => `u${process.pid}x${Date.now().toString(36)}x${Math.random().toString(36).slice(2, 8)}`;

let fake;
before(async () => {
  fake = await startFakeResponses();
});
after(async () => {
  await fake?.close();
});
// The prefix has no "review" in it: argv checks look for that word.
const tree = tempTree('codexmcp-e2e-rv-');

// ---- git repositories ---------------------------------------------------------

/**
 * A git repository on branch main with one committed file (hello.txt, two
 * lines) and, unless change === null, an uncommitted change of its second
 * line to `line two <marker><change>`. Returns { dir, sha, marker, changed }.
 */
function makeRepo(name = 'repo', { change = '' } = {}) {
  const dir = fs.realpathSync(tree.dir(name));
  git(dir, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(dir, 'hello.txt'), 'line one\nline two\n');
  git(dir, 'add', 'hello.txt');
  git(dir, 'commit', '-q', '-m', 'initial commit');
  const sha = git(dir, 'rev-parse', 'HEAD');
  const marker = `CHANGED-${uniq()}`;
  const changed = `line two ${marker}${change ?? ''}`;
  if (change !== null) fs.writeFileSync(path.join(dir, 'hello.txt'), `line one\n${changed}\n`);
  return { dir, sha, marker, changed };
}

// ---- the server ---------------------------------------------------------------

/**
 * Run fn({ client, call, home, sdk, stateDir }) against a fresh codexmcp with
 * the real codex and a fresh CODEX_HOME and state directory.
 */
async function withServer(opts, fn) {
  if (typeof opts === 'function') [opts, fn] = [{}, opts];
  const home = makeCodexHome(fake.url, opts.homeOpts);
  const stateDir = tree.dir('state');
  const sdk = await connectSdk(['--codex', codexBin(), '--state-dir', stateDir, ...(opts.args ?? [])], env(home, opts.envExtra ?? {}));
  const call = (a, ms = CALL_MS, o = {}) => callReview(sdk.client, a, ms, o);
  try {
    return await fn({ client: sdk.client, call, home, sdk, stateDir });
  } catch (err) {
    err.message += `\n--- server stderr (tail) ---\n${sdk.stderr().slice(-3000)}`;
    throw err;
  } finally {
    await sdk.close();
    killWithEnv(`CODEX_HOME=${home}`);
    removeCodexHome(home);
  }
}

/**
 * Run fn({ client, call, argvFile, seen, sdk }) against a codexmcp whose codex
 * is fixtures/fake-codex.mjs in mode "ok": it writes {argv, stdin} to argvFile
 * when (and only when) it is started.
 */
async function withFakeCodex(fn) {
  const argvFile = tree.path('argv');
  const e = { ...process.env };
  for (const k of Object.keys(e)) if (/^(CODEXMCP_|FAKE_CODEX_)/.test(k)) delete e[k];
  const sdk = await connectSdk(['--codex', FAKE_CODEX, '--state-dir', tree.dir('state')], {
    ...e,
    FAKE_CODEX_MODE: 'ok',
    FAKE_CODEX_ARGV_FILE: argvFile,
  });
  const call = (a, ms = CALL_MS) => callReview(sdk.client, a, ms);
  const seen = () => JSON.parse(fs.readFileSync(argvFile, 'utf8'));
  try {
    return await fn({ client: sdk.client, call, argvFile, seen, sdk });
  } catch (err) {
    err.message += `\n--- server stderr (tail) ---\n${sdk.stderr().slice(-3000)}`;
    throw err;
  } finally {
    await sdk.close();
  }
}

/** tools/call codex_review, its envelope checked as the codex tool's are
 * (lib/mcp.mjs callToolChecked). opts: { onprogress, signal } for the SDK. */
function callReview(client, args, ms = CALL_MS, opts = {}) {
  return callToolChecked(client, 'codex_review', args, ms, opts);
}

function assertOk(obj, what = '') {
  assert.equal(obj.success, true, `${what} expected success: ${JSON.stringify(obj).slice(0, 1500)}`);
  assert.match(obj.SESSION_ID, UUID_RE);
  assert.equal(typeof obj.agent_messages, 'string');
}

/** The texts of the function_call_output items of a request body. */
function toolOutputs(body) {
  return (body?.input ?? [])
    .filter((i) => i && typeof i.type === 'string' && i.type.endsWith('_output'))
    .map((i) => (typeof i.output === 'string' ? i.output : JSON.stringify(i.output)));
}

/** The fake's review answer for a repo made by makeRepo (its one changed line). */
function expectedReview(repo) {
  return (
    'fake review: 1 added line(s) in 1 file(s)\n\nReview comment:\n\n' +
    `- [P2] fake finding in hello.txt — ${repo.dir}/hello.txt:2-2\n` +
    `  fake review saw the added line: ${repo.changed}`
  );
}

// ---- (a) reviews through the real codex -----------------------------------------

test('uncommitted: success, SESSION_ID, the review text, transcript, registry entry; the diff of the change reached the model', T, () =>
  withServer(async ({ call, client, stateDir }) => {
    const repo = makeRepo();
    const { obj } = await call({ cd: repo.dir, uncommitted: true });
    assertOk(obj, 'uncommitted review');
    assert.equal(obj.agent_messages, expectedReview(repo));

    // The transcript: a file in the state directory holding codex's stream.
    assert.equal(typeof obj.transcript, 'string', JSON.stringify(obj).slice(0, 500));
    assert.ok(path.isAbsolute(obj.transcript), obj.transcript);
    assert.ok(fs.statSync(obj.transcript).isFile(), `${obj.transcript} is a file`);
    assert.ok(fs.realpathSync(obj.transcript).startsWith(fs.realpathSync(stateDir) + path.sep), `${obj.transcript} is under ${stateDir}`);
    const lines = fs.readFileSync(obj.transcript, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines[0].type, 'codexmcp.call');
    assert.ok(lines.some((l) => l.type === 'thread.started' && l.thread_id === obj.SESSION_ID), 'thread.started in the transcript');
    assert.ok(lines.some((l) => l.type === 'turn.completed'), 'turn.completed in the transcript');

    // The registry: a session of the codex_review tool, titled by its target.
    const listed = await client.callTool({ name: 'codex_sessions', arguments: {} });
    const sessions = JSON.parse(listed.content[0].text).sessions;
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0].SESSION_ID, obj.SESSION_ID);
    assert.equal(sessions[0].tool, 'codex_review');
    assert.equal(sessions[0].title, 'review: the uncommitted changes');
    assert.equal(sessions[0].last_status, 'completed');
    assert.equal(sessions[0].transcript, obj.transcript);

    // What the model saw: codex's --uncommitted prompt, in the read-only
    // sandbox, and (in the output of the git command it ran) the change.
    const reqs = fake.requestsForSession(obj.SESSION_ID);
    assert.ok(reqs.length >= 2, `${reqs.length} requests for session ${obj.SESSION_ID}`);
    assert.ok(reqs.every((r) => r.review), 'every request was a review turn');
    assert.equal(reqs[0].prompt, UNCOMMITTED_PROMPT);
    assert.equal(JSON.parse(reqs[0].headers['x-codex-turn-metadata']).sandbox_mode, 'read-only');
    assert.ok(
      reqs.some((r) => toolOutputs(r.body).some((o) => o.includes(`+${repo.changed}`))),
      `the diff of the uncommitted change (${repo.marker}) reached the model`,
    );
  }));

test('base, commit with title, PROMPT: each reaches codex as that review target', T, () =>
  withServer(async ({ call }) => {
    const repo = makeRepo();

    const base = await call({ cd: repo.dir, base: 'main' });
    assertOk(base.obj, 'base review');
    let req = fake.requestsForSession(base.obj.SESSION_ID)[0];
    assert.match(req.prompt, new RegExp(`^Review the code changes against the base branch 'main'\\. The merge base commit for this comparison is ${repo.sha}\\.`));
    assert.equal(base.obj.agent_messages, expectedReview(repo));

    const commit = await call({ cd: repo.dir, commit: repo.sha, title: 'Initial import' });
    assertOk(commit.obj, 'commit review');
    req = fake.requestsForSession(commit.obj.SESSION_ID)[0];
    assert.equal(req.prompt, `Review the code changes introduced by commit ${repo.sha} ("Initial import"). Provide prioritized, actionable findings.`);
    assert.match(commit.obj.agent_messages, /fake review saw the added line: line one$/, 'the commit, not the uncommitted change, was reviewed');

    const commitNoTitle = await call({ cd: repo.dir, commit: repo.sha });
    assertOk(commitNoTitle.obj);
    req = fake.requestsForSession(commitNoTitle.obj.SESSION_ID)[0];
    assert.equal(req.prompt, `Review the code changes introduced by commit ${repo.sha}. Provide prioritized, actionable findings.`);

    // Custom instructions reach the model as written (codex trims them).
    const u = uniq();
    const custom = await call({ cd: repo.dir, PROMPT: `  Only look at hello.txt ${u} [[reply:custom review ${u}]]\n` });
    assertOk(custom.obj, 'PROMPT review');
    assert.equal(custom.obj.agent_messages, `custom review ${u}`);
    req = fake.requestsForSession(custom.obj.SESSION_ID)[0];
    assert.ok(req.review, 'a review turn');
    assert.equal(req.prompt, `Only look at hello.txt ${u} [[reply:custom review ${u}]]`);
  }));

test('PROMPT that looks like a flag or a target ("-", "--uncommitted", "review", "--help") is review instructions', T, () =>
  withServer(async ({ call }) => {
    const repo = makeRepo();
    // codex reads stdin for the instruction "-" even after "--": it must
    // still reach the model as "-".
    for (const prompt of ['-', '--uncommitted', 'review', '--help', '-m gpt-oops --base main']) {
      const { obj } = await call({ cd: repo.dir, PROMPT: prompt });
      assertOk(obj, JSON.stringify(prompt));
      const reqs = fake.requestsForSession(obj.SESSION_ID);
      assert.equal(reqs[0]?.prompt, prompt, `the model saw exactly ${JSON.stringify(prompt)}`);
      assert.equal(obj.agent_messages, expectedReview(repo));
    }
  }));

test('a title that starts with "-" and has quotes is passed as the title', T, () =>
  withServer(async ({ call }) => {
    const repo = makeRepo();
    const u = uniq();
    const title = `-x "quoted" ${u} [[reply:titled ${u}]]`;
    const { obj } = await call({ cd: repo.dir, commit: repo.sha, title });
    assertOk(obj, 'commit review with a dash title');
    assert.equal(obj.agent_messages, `titled ${u}`);
    const req = fake.requestsForSession(obj.SESSION_ID)[0];
    assert.equal(req.prompt, `Review the code changes introduced by commit ${repo.sha} ("${title}"). Provide prioritized, actionable findings.`);
  }));

test('model and reasoning_effort reach the review request', T, () =>
  withServer(async ({ call }) => {
    const repo = makeRepo();
    const { obj } = await call({ cd: repo.dir, uncommitted: true, model: 'gpt-6-sol', reasoning_effort: 'high' });
    assertOk(obj);
    const reqs = fake.requestsForSession(obj.SESSION_ID);
    assert.ok(reqs.length >= 1);
    for (const r of reqs) {
      assert.equal(r.body.model, 'gpt-6-sol');
      assert.equal(r.body.reasoning?.effort, 'high');
    }
    const plain = await call({ cd: repo.dir, uncommitted: true, model: '', reasoning_effort: '' });
    assertOk(plain.obj, 'empty model and effort mean the defaults');
    const r0 = fake.requestsForSession(plain.obj.SESSION_ID)[0];
    assert.equal(r0.body.model, 'gpt-5.5', 'the CODEX_HOME default model');
    assert.notEqual(r0.body.reasoning?.effort, 'high');
  }));

test('the SESSION_ID of a review continues with the codex tool: the next turn sees the review', T, () =>
  withServer(async ({ call, client }) => {
    const repo = makeRepo();
    const review = await call({ cd: repo.dir, uncommitted: true });
    assertOk(review.obj);
    const res = await withTimeout(
      client.callTool({ name: 'codex', arguments: { PROMPT: 'fix the first finding [[history]]', cd: repo.dir, SESSION_ID: review.obj.SESSION_ID } }, undefined, { timeout: CALL_MS }),
      CALL_MS + 2000,
      'tools/call codex (resume of the review)',
    );
    const obj = JSON.parse(res.content[0].text);
    assertOk(obj, 'codex turn on the review session');
    assert.equal(obj.SESSION_ID, review.obj.SESSION_ID);
    // codex keeps the review in the parent thread as a <user_action> message.
    assert.match(obj.agent_messages, /<user_action>/);
    assert.ok(obj.agent_messages.includes(`fake review saw the added line: ${repo.changed}`), obj.agent_messages);
    assert.ok(obj.agent_messages.endsWith(' | fix the first finding [[history]]'), obj.agent_messages);
  }));

test('a directory outside git is refused before codex starts (codex 0.169 would wait forever on base)', T, () =>
  withServer(async ({ call, client, home, sdk }) => {
    const dir = tree.dir('nogit');
    for (const target of [{ base: 'main' }, { uncommitted: true }, { commit: 'abc1234' }, { PROMPT: 'look' }]) {
      const { obj } = await call({ cd: dir, ...target, timeout_s: 5 }, 20000);
      assert.equal(obj.success, false, JSON.stringify(obj));
      assert.match(obj.error, /is not inside a git repository/);
    }
    // A subdirectory of a repository is inside it.
    const repo = makeRepo('sub', { change: 'x' });
    const sub = path.join(repo.dir, 'deeper');
    fs.mkdirSync(sub);
    const { obj } = await call({ cd: sub, uncommitted: true });
    assert.equal(obj.success, true, JSON.stringify(obj));
    const r = await waitNoneWithEnv(`CODEX_HOME=${home}`, 5000, { exclude: [sdk.pid] });
    assert.ok(r.ok, `left behind:\n  ${describePids(r.left)}`);
    await withTimeout(client.ping(), 5000, 'ping');
  }));

// ---- (b) refusals before anything is started -------------------------------------

test('refusals: isError naming the parameters, codex never started, server still answers', T, () =>
  withFakeCodex(async ({ call, client, argvFile, seen }) => {
    const cd = fs.realpathSync(tree.dir('proj'));
    git(cd, 'init', '-q');
    const aFile = path.join(cd, 'a-file.txt');
    fs.writeFileSync(aFile, 'x');
    const sha = '0123456789abcdef0123456789abcdef01234567';
    const cases = [
      // No target and no instructions.
      [{ cd }, [/uncommitted/, /\bbase\b/, /\bcommit\b/, /PROMPT/]],
      [{ cd, uncommitted: false }, [/uncommitted/]],
      [{ cd, title: 'T' }, [/title|uncommitted|commit/]],
      // Blank instructions are none (codex: "Review prompt cannot be empty").
      [{ cd, PROMPT: ' \n\t ' }, [/uncommitted/, /PROMPT/]],
      // Two or more targets.
      [{ cd, uncommitted: true, base: 'main' }, [/uncommitted/, /\bbase\b/]],
      [{ cd, uncommitted: true, commit: sha }, [/uncommitted/, /\bcommit\b/]],
      [{ cd, base: 'main', commit: sha }, [/\bbase\b/, /\bcommit\b/]],
      [{ cd, uncommitted: true, base: 'main', commit: sha }, [/uncommitted/, /\bbase\b/, /\bcommit\b/]],
      // Instructions together with a target (codex: "cannot be used with '[PROMPT]'").
      [{ cd, uncommitted: true, PROMPT: 'look at x' }, [/PROMPT/, /uncommitted/]],
      [{ cd, base: 'main', PROMPT: 'look at x' }, [/PROMPT/, /\bbase\b/]],
      [{ cd, commit: sha, PROMPT: 'look at x' }, [/PROMPT/, /\bcommit\b/]],
      // title only with commit (codex would silently drop it with the others).
      [{ cd, uncommitted: true, title: 'T' }, [/title/, /\bcommit\b/]],
      [{ cd, base: 'main', title: 'T' }, [/title/, /\bcommit\b/]],
      [{ cd, PROMPT: 'look at x', title: 'T' }, [/title/, /\bcommit\b/]],
      // cd.
      [{ uncommitted: true }, [/\bcd\b/]],
      [{ cd: path.join(cd, 'does-not-exist'), uncommitted: true }, [/\bcd\b/]],
      [{ cd: aFile, uncommitted: true }, [/\bcd\b/]],
      [{ cd: '', uncommitted: true }, [/\bcd\b/]],
      [{ cd: 42, uncommitted: true }, [/\bcd\b/]],
      // Types and values.
      [{ cd, uncommitted: 'yes' }, [/uncommitted/]],
      [{ cd, base: 7 }, [/\bbase\b/]],
      [{ cd, commit: ['x'] }, [/\bcommit\b/]],
      [{ cd, PROMPT: 42 }, [/PROMPT/]],
      [{ cd, commit: sha, title: 5 }, [/title/]],
      [{ cd, uncommitted: true, reasoning_effort: 'ultra' }, [/reasoning_effort/]],
      [{ cd, uncommitted: true, timeout_s: 0 }, [/timeout_s/]],
      [{ cd, uncommitted: true, model: '--yolo' }, [/model/]],
      [{ cd, uncommitted: true, bogus_param: 1 }, [/bogus_param/]],
    ];
    for (const [args, res] of cases) {
      const shown = JSON.stringify(args);
      const { res: r, obj } = await call(args);
      assert.equal(r.isError, true, `isError for ${shown}`);
      assert.equal(obj.success, false, `success false for ${shown}`);
      assert.equal(typeof obj.error, 'string', shown);
      for (const re of res) assert.match(obj.error, re, `error for ${shown} names ${re}: ${obj.error}`);
      assert.ok(!('SESSION_ID' in obj), `no SESSION_ID for ${shown}`);
      assert.ok(!fs.existsSync(argvFile), `codex was started for ${shown}: ${fs.existsSync(argvFile) ? fs.readFileSync(argvFile, 'utf8') : ''}`);
      await withTimeout(client.ping(), 5000, `ping after ${shown}`);
    }
    // The fake codex does record a start: a valid review starts it.
    const { obj } = await call({ cd, uncommitted: true });
    assert.equal(obj.success, true, JSON.stringify(obj));
    assert.equal(obj.SESSION_ID, FAKE_THREAD);
    assert.equal(obj.agent_messages, 'fake ok');
    assert.ok(seen().argv.includes('review'));
  }));

// ---- the command line (fake codex) -------------------------------------------------

/** argv after `review`, with --flag=value split into two entries. */
function reviewTail(argv) {
  const r = argv.indexOf('review');
  assert.ok(r > 0, `review in ${JSON.stringify(argv)}`);
  assert.equal(argv.lastIndexOf('review'), r, `one review in ${JSON.stringify(argv)}`);
  const out = [];
  for (let i = r + 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^(--[a-z-]+)=([\s\S]*)$/.exec(a);
    if (m) out.push(m[1], m[2]);
    else out.push(a);
  }
  return out;
}

/** Options given as flag + value (or flag=value) anywhere in argv: Map flag -> [values]. */
function flagValues(argv, ...flags) {
  const vals = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') break;
    if (flags.includes(argv[i])) vals.push(argv[i + 1]);
    for (const f of flags) if (f.startsWith('--') && argv[i].startsWith(`${f}=`)) vals.push(argv[i].slice(f.length + 1));
  }
  return vals;
}

test('argv: exec --json, read-only sandbox and --cd before review; then exactly the target; instructions on stdin', T, () =>
  withFakeCodex(async ({ call, seen }) => {
    const cd = fs.realpathSync(tree.dir('proj'));
    git(cd, 'init', '-q');
    const sha = 'abc1234';
    const check = async (args, expectTail, expectStdin = '') => {
      const { obj } = await call({ cd, ...args });
      assert.equal(obj.success, true, `${JSON.stringify(args)}: ${JSON.stringify(obj)}`);
      const { argv, stdin } = seen();
      assert.deepEqual(argv.slice(0, 2), ['exec', '--json'], JSON.stringify(argv));
      const r = argv.indexOf('review');
      const before = argv.slice(0, r);
      const sandbox = flagValues(before, '--sandbox', '-s');
      const configs = flagValues(before, '--config', '-c');
      assert.ok(
        (sandbox.length === 1 && sandbox[0] === 'read-only') || (sandbox.length === 0 && configs.includes('sandbox_mode="read-only"')),
        `read-only sandbox before review: ${JSON.stringify(argv)}`,
      );
      assert.ok(!argv.includes('--dangerously-bypass-approvals-and-sandbox') && !argv.includes('--yolo'), JSON.stringify(argv));
      assert.deepEqual(flagValues(before, '--cd', '-C'), [cd], `--cd before review: ${JSON.stringify(argv)}`);
      // After review only the target (model/config flags may stand there too).
      const tail = reviewTail(argv);
      const rest = [];
      for (let i = 0; i < tail.length; i++) {
        if (['--model', '-m', '--config', '-c'].includes(tail[i])) i++;
        else if (tail[i] !== '--skip-git-repo-check') rest.push(tail[i]);
      }
      if (typeof expectTail === 'function') expectTail(rest, stdin);
      else assert.deepEqual(rest, expectTail, `after review: ${JSON.stringify(argv)}`);
      if (typeof expectTail !== 'function') assert.equal(stdin, expectStdin, 'stdin');
      return argv;
    };

    await check({ uncommitted: true }, ['--uncommitted']);
    await check({ base: 'main' }, ['--base', 'main']);
    await check({ base: 'feature/x.y' }, ['--base', 'feature/x.y']);
    await check({ commit: sha }, ['--commit', sha]);
    await check({ commit: sha, title: 'A title with spaces' }, (rest) => {
      const pairs = [[rest[0], rest[1]], [rest[2], rest[3]]].sort();
      assert.equal(rest.length, 4, JSON.stringify(rest));
      assert.deepEqual(pairs, [['--commit', sha], ['--title', 'A title with spaces']]);
    });
    // A title starting with '-' must be glued to its flag: clap rejects
    // `--title -x` ("unexpected argument '-x' found", exit 2).
    const argv = await check({ commit: sha, title: '-x dash' }, (rest) => assert.ok(rest.includes('-x dash'), JSON.stringify(rest)));
    assert.ok(argv.includes('--title=-x dash'), `--title=-x dash in ${JSON.stringify(argv)}`);
    // Instructions: `review -` with them on stdin, or after `--` in argv.
    for (const prompt of ['Check the error paths', '-', '--uncommitted', 'two\nlines "q" $HOME `x` ünï']) {
      await check({ PROMPT: prompt }, (rest, stdin) => {
        const viaStdin = rest.length >= 1 && rest.at(-1) === '-' && (rest.length === 1 || (rest.length === 2 && rest[0] === '--')) && stdin === prompt;
        const viaArgv = prompt !== '-' && rest.length === 2 && rest[0] === '--' && rest[1] === prompt;
        assert.ok(viaStdin || viaArgv, `instructions ${JSON.stringify(prompt)}: after review ${JSON.stringify(rest)}, stdin ${JSON.stringify(stdin)}`);
      });
    }
    // model and reasoning_effort.
    const a = await check({ uncommitted: true, model: 'gpt-6-sol', reasoning_effort: 'high' }, ['--uncommitted']);
    assert.deepEqual(flagValues(a, '--model', '-m'), ['gpt-6-sol'], JSON.stringify(a));
    assert.ok(flagValues(a, '--config', '-c').some((v) => /^model_reasoning_effort="?high"?$/.test(v)), JSON.stringify(a));
  }));

// ---- tools/list ----------------------------------------------------------------------

test('tools/list: codex_review with its parameters, cd required, the codex tool\'s output schema', T, () =>
  withFakeCodex(async ({ client }) => {
    const { tools } = await withTimeout(client.listTools(), 5000, 'tools/list');
    const tool = tools.find((t) => t.name === 'codex_review');
    assert.ok(tool, `codex_review listed: ${tools.map((t) => t.name).join(', ')}`);
    assert.equal(tool.inputSchema.type, 'object');
    for (const p of ['cd', 'uncommitted', 'base', 'commit', 'PROMPT', 'title', 'model', 'reasoning_effort', 'timeout_s'])
      assert.ok(p in tool.inputSchema.properties, `inputSchema has ${p}`);
    assert.equal(tool.inputSchema.properties.uncommitted.type, 'boolean');
    assert.ok(tool.inputSchema.required.includes('cd'));
    for (const p of ['uncommitted', 'base', 'commit', 'PROMPT']) assert.ok(!tool.inputSchema.required.includes(p), `${p} is not required`);
    const codex = tools.find((t) => t.name === 'codex');
    assert.ok(tool.outputSchema && tool.outputSchema.type === 'object', 'outputSchema present');
    assert.deepEqual(tool.outputSchema, codex.outputSchema, 'the same result shape as the codex tool');
  }));

// ---- (c) progress ----------------------------------------------------------------------

test('progress notifications arrive while a review runs', T, () =>
  withServer(async ({ call }) => {
    // The fake's follow-up (after `git diff HEAD`) waits 2 s: the diff carries the directive.
    const repo = makeRepo('slow', { change: ' [[sleep:2000]]' });
    const progress = [];
    const t0 = Date.now();
    const { obj } = await call({ cd: repo.dir, uncommitted: true }, CALL_MS, {
      onprogress: (p) => progress.push({ ...p, t: Date.now() }),
    });
    const tEnd = Date.now();
    assertOk(obj);
    assert.match(obj.agent_messages, /^fake review: 1 added line/);
    assert.ok(progress.length >= 2, `progress: ${JSON.stringify(progress)}`);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i].progress > progress[i - 1].progress, 'progress increases');
    const running = progress.find((p) => /git diff HEAD/.test(p.message ?? ''));
    assert.ok(running, `a progress message names the git command: ${JSON.stringify(progress.map((p) => p.message))}`);
    // It came while the review ran, not with the result.
    assert.ok(tEnd - running.t >= 1000, `"${running.message}" came ${tEnd - running.t} ms before the result (call took ${tEnd - t0} ms)`);
    assert.ok(progress.some((p) => /^message: fake review/.test(p.message ?? '')), `the review as a message: ${JSON.stringify(progress.map((p) => p.message))}`);
  }));

// ---- (d) cancel --------------------------------------------------------------------------

for (const variant of ['uncommitted', 'PROMPT']) {
  test(`cancel (${variant}): aborting a review in progress ends its codex; the server keeps serving`, T, () =>
    withServer(async ({ call, client, home, sdk }) => {
      const marker = `CODEX_HOME=${home}`;
      const u = uniq();
      // The fake never finishes its answer ([[stall]]): in the follow-up after
      // the git command (the changed file carries it), or at once (PROMPT).
      const repo = makeRepo('stall', { change: variant === 'uncommitted' ? ` ${u} [[stall]]` : '' });
      const args = variant === 'uncommitted' ? { cd: repo.dir, uncommitted: true } : { cd: repo.dir, PROMPT: `hold on ${u} [[stall]]` };
      const stalled = () =>
        fake.requests.filter((r) => r.review && (variant === 'uncommitted' ? toolOutputs(r.body).some((o) => o.includes(u)) : r.prompt.includes(u)));
      const ac = new AbortController();
      const progress = [];
      const pending = call(args, CALL_MS, { signal: ac.signal, onprogress: (p) => progress.push(p) }).then(
        (r) => ({ r }),
        (err) => ({ err }),
      );
      try {
        const reached = await pollUntil(() => stalled().length > 0, 20000);
        assert.ok(reached.ok, 'the review reached the stalling answer');
        const before = pidsWithEnv(marker, { exclude: [sdk.pid] });
        assert.ok(before.length > 0, 'premise: codex runs while the answer stalls');
        ac.abort('e2e cancel');
        const out = await withTimeout(pending, 5000, 'the aborted call to settle');
        assert.ok(out.err, `the aborted call settled with an error: ${JSON.stringify(out.r ?? null).slice(0, 300)}`);
        const gone = await waitNoneWithEnv(marker, 5000, { exclude: [sdk.pid] });
        assert.ok(gone.ok, `codex still running after the cancel:\n  ${describePids(gone.left)}`);
        const dropped = await pollUntil(() => stalled().every((r) => r.endTime !== undefined), 3000);
        assert.ok(dropped.ok, 'the stalled request was dropped with codex');
        await withTimeout(client.ping(), 5000, 'ping after the cancel');
        // A new review works.
        const next = makeRepo('after');
        const { obj } = await call({ cd: next.dir, uncommitted: true });
        assertOk(obj, 'a review after the cancel');
        assert.equal(obj.agent_messages, expectedReview(next));
      } finally {
        ac.abort();
        killWithEnv(marker, { exclude: [sdk.pid] });
      }
    }));
}
