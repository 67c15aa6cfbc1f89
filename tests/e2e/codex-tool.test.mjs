// End-to-end tests of the `codex` tool through the REAL codex CLI, which talks
// to the fake Responses API (lib/fake-responses.mjs). Each test gets its own
// CODEX_HOME and its own codexmcp server; the fake is shared (prompts differ).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFakeResponses } from './lib/fake-responses.mjs';
import { codexBin, makeCodexHome, removeCodexHome, env } from './lib/codex-env.mjs';
import { connectSdk, rawServer, withTimeout, callToolChecked, ENGINE } from './lib/mcp.mjs';
import { tempTree } from './lib/tmp.mjs';
import { describePids, killWithEnv, pollUntil, waitNoneWithEnv } from './lib/procs.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const T = { timeout: 60000 };
const CALL_MS = 30000;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let fake;
before(async () => {
  fake = await startFakeResponses();
});
after(async () => {
  await fake?.close();
});
const tree = tempTree('codexmcp-e2e-tool-');
const freshDir = (name) => tree.dir(name);

/**
 * Run fn({ client, call, home, sdk }) against a fresh codexmcp (real codex,
 * fresh CODEX_HOME). opts: { args, envExtra, home, homeOpts }.
 */
async function withCodex(opts, fn) {
  if (typeof opts === 'function') [opts, fn] = [{}, opts];
  const ownHome = !opts.home;
  const home = opts.home ?? makeCodexHome(fake.url, opts.homeOpts);
  const args = opts.args ?? ['--codex', codexBin()];
  const sdk = await connectSdk(args, env(home, opts.envExtra ?? {}));
  const call = (a, ms = CALL_MS) => callCodex(sdk.client, a, ms);
  try {
    return await fn({ client: sdk.client, call, home, sdk });
  } catch (err) {
    err.message += `\n--- server stderr (tail) ---\n${sdk.stderr().slice(-3000)}`;
    throw err;
  } finally {
    await sdk.close();
    if (ownHome) removeCodexHome(home);
  }
}

/** tools/call codex, its envelope checked (lib/mcp.mjs callToolChecked). */
function callCodex(client, args, ms = CALL_MS) {
  return callToolChecked(client, 'codex', args, ms);
}

function assertOk(obj, what = '') {
  assert.equal(obj.success, true, `${what} expected success: ${JSON.stringify(obj).slice(0, 1500)}`);
  assert.match(obj.SESSION_ID, UUID_RE);
  assert.equal(typeof obj.agent_messages, 'string');
}

/** A first turn in a fresh directory: { cd, id } of the new session. */
async function newSession(call, prompt) {
  const cd = freshDir();
  const { obj } = await call({ PROMPT: prompt, cd });
  assertOk(obj);
  return { cd, id: obj.SESSION_ID };
}

// ---------------------------------------------------------------------------

test('prompts come back byte for byte (quotes, newlines, non-ASCII, $, backticks, leading -, "resume", "--help")', T, () =>
  withCodex(async ({ call }) => {
    const cd = freshDir();
    const prompts = [
      `-leading dash "double" 'single' $HOME $(echo pwned) \`uname\` \\ back\\slash\nline two\tTab — ünïcödé 日本語 🚀 \u00a0nbsp\r\n\nend ; rm -rf x && echo '`,
      'resume',
      '--help',
      '-',
      '--',
      'review --uncommitted',
      '-m gpt-oops --sandbox danger-full-access',
      'trailing newline\n',
    ];
    for (const prompt of prompts) {
      const { obj } = await call({ PROMPT: prompt, cd });
      assertOk(obj, JSON.stringify(prompt));
      assert.equal(obj.agent_messages, prompt, `echo of ${JSON.stringify(prompt)}`);
      assert.ok(fake.requests.some((r) => r.prompt === prompt), `the model saw exactly ${JSON.stringify(prompt)}`);
    }
  }));

test('resume: turn 2 with SESSION_ID sees turn 1 and keeps the SESSION_ID', T, () =>
  withCodex(async ({ call }) => {
    const cd = freshDir();
    const p1 = `first turn ${process.pid}-${Date.now()}`;
    const t1 = await call({ PROMPT: p1, cd });
    assertOk(t1.obj);
    assert.equal(t1.obj.agent_messages, p1);
    const p2 = 'second turn [[history]]';
    const t2 = await call({ PROMPT: p2, cd, SESSION_ID: t1.obj.SESSION_ID });
    assertOk(t2.obj);
    assert.equal(t2.obj.SESSION_ID, t1.obj.SESSION_ID);
    assert.equal(t2.obj.agent_messages, `${p1} | ${p2}`);
    // A third turn still has both.
    const t3 = await call({ PROMPT: 'third [[history]]', cd, SESSION_ID: t1.obj.SESSION_ID });
    assertOk(t3.obj);
    assert.equal(t3.obj.SESSION_ID, t1.obj.SESSION_ID);
    assert.equal(t3.obj.agent_messages, `${p1} | ${p2} | third [[history]]`);
  }));

test('two parallel turns on one SESSION_ID run one after the other (each sees a consistent history)', T, () =>
  withCodex(async ({ call }) => {
    const { cd, id } = await newSession(call, 'serial A');
    const pB = 'serial B [[sleep:400]] [[history]]';
    const pC = 'serial C [[history]]';
    const [b, c] = await Promise.all([call({ PROMPT: pB, cd, SESSION_ID: id }), call({ PROMPT: pC, cd, SESSION_ID: id })]);
    assertOk(b.obj, 'B');
    assertOk(c.obj, 'C');
    assert.equal(b.obj.SESSION_ID, id);
    assert.equal(c.obj.SESSION_ID, id);
    // Whichever ran second saw the other's turn in its history.
    const histories = [b.obj.agent_messages, c.obj.agent_messages].sort((x, y) => x.length - y.length);
    const okOrder =
      (histories[0] === `serial A | ${pB}` && histories[1] === `serial A | ${pB} | ${pC}`) ||
      (histories[0] === `serial A | ${pC}` && histories[1] === `serial A | ${pC} | ${pB}`);
    assert.ok(okOrder, `turns on one session must not overlap: ${JSON.stringify(histories)}`);
  }));

test('resume together with sandbox, profile, reasoning_effort and image (exec flags before `resume`)', T, () =>
  withCodex(async ({ call, home }) => {
    const cd = freshDir();
    fs.writeFileSync(path.join(home, 'e2eprof.config.toml'), 'model = "gpt-6-sol"\n');
    const png = writePng(path.join(cd, 'pic.png'));
    const t1 = await call({ PROMPT: 'flags turn one', cd, profile: 'e2eprof', sandbox: 'workspace-write' });
    assertOk(t1.obj);
    assert.equal(fake.requests.at(-1).body.model, 'gpt-6-sol', 'profile applied');
    const t2 = await call({
      PROMPT: 'flags turn two [[history]]',
      cd,
      SESSION_ID: t1.obj.SESSION_ID,
      profile: 'e2eprof',
      sandbox: 'workspace-write',
      reasoning_effort: 'low',
      image: [png],
      skip_git_repo_check: true,
    });
    assertOk(t2.obj, 'resume with flags');
    assert.equal(t2.obj.SESSION_ID, t1.obj.SESSION_ID);
    assert.match(t2.obj.agent_messages, /^flags turn one \| /);
    assert.match(t2.obj.agent_messages, /flags turn two \[\[history\]\]$/);
    const req = fake.requestsFor('flags turn two').at(-1);
    assert.equal(req.body.reasoning?.effort, 'low');
    assert.equal(req.body.model, 'gpt-6-sol');
    assert.ok(hasInputImage(req.body), 'resumed turn carries the image');
  }));

test('resume of an unknown SESSION_ID fails with codex\'s reason', T, () =>
  withCodex(async ({ call }) => {
    const id = '01a20a14-19fd-7441-be4f-000000000000';
    const { obj } = await call({ PROMPT: 'resume me', cd: freshDir(), SESSION_ID: id });
    assert.equal(obj.success, false);
    assert.match(obj.error, /no rollout found/);
    // exec fails with its exit status; the app-server answers thread/resume with the reason
    if (ENGINE === 'exec') assert.match(obj.error, /status 1/);
    else assert.match(obj.error, /^codex could not resume session 01a20a14-19fd-7441-be4f-000000000000: /);
  }));

test('return_all_messages: thread.started, command_execution started/completed in order; reasoning item; absent without the flag', T, () =>
  withCodex(async ({ call }) => {
    const cd = freshDir();
    const { obj } = await call({ PROMPT: 'all [[shell:echo hi]]', cd, return_all_messages: true });
    assertOk(obj);
    assert.equal(obj.agent_messages, 'shell done: hi');
    const all = obj.all_messages;
    assert.ok(Array.isArray(all), 'all_messages is an array');
    assert.equal(all[0].type, 'thread.started');
    assert.equal(all[0].thread_id, obj.SESSION_ID);
    const iStart = all.findIndex((e) => e.type === 'item.started' && e.item?.type === 'command_execution');
    const iDone = all.findIndex((e) => e.type === 'item.completed' && e.item?.type === 'command_execution');
    assert.ok(iStart > 0, 'item.started command_execution present');
    assert.ok(iDone > iStart, 'item.completed after item.started');
    assert.match(all[iDone].item.command, /echo hi/);
    assert.equal(all[iDone].item.exit_code, 0);
    const iMsg = all.findIndex((e) => e.type === 'item.completed' && e.item?.type === 'agent_message');
    assert.ok(iMsg > iDone, 'agent_message after the command');
    assert.equal(all.at(-1).type, 'turn.completed');

    const r = await call({ PROMPT: 'why [[reason:deep thoughts here]]', cd, return_all_messages: true });
    assertOk(r.obj);
    assert.equal(r.obj.agent_messages, 'reasoned');
    const reasoning = r.obj.all_messages.filter((e) => e.type === 'item.completed' && e.item?.type === 'reasoning');
    assert.equal(reasoning.length, 1);
    assert.equal(reasoning[0].item.text, 'deep thoughts here');
    assert.ok(!r.obj.agent_messages.includes('deep thoughts'), 'reasoning is not an agent message');

    const plain = await call({ PROMPT: 'plain [[shell:echo hi]]', cd });
    assertOk(plain.obj);
    assert.equal(plain.obj.agent_messages, 'shell done: hi');
    assert.ok(!('all_messages' in plain.obj), 'no all_messages without the flag');
    const off = await call({ PROMPT: 'off [[reason:x]]', cd, return_all_messages: false });
    assertOk(off.obj);
    assert.ok(!('all_messages' in off.obj), 'no all_messages with return_all_messages false');
  }));

test('[[multi]]: several agent messages are joined with a blank line', T, () =>
  withCodex(async ({ call }) => {
    const { obj } = await call({ PROMPT: 'two messages [[multi]]', cd: freshDir() });
    assertOk(obj);
    assert.equal(obj.agent_messages, 'part one\n\npart two');
  }));

test('[[usage]]: usage is reported', T, () =>
  withCodex(async ({ call }) => {
    const { obj } = await call({ PROMPT: 'count [[usage]]', cd: freshDir() });
    assertOk(obj);
    assert.equal(obj.usage?.input_tokens, 120);
    assert.equal(obj.usage?.cached_input_tokens, 20);
    assert.equal(obj.usage?.output_tokens, 7);
  }));

test('[[fail5xx:1]] with stream_max_retries 2: success "recovered after 1", reconnect notice is not a warning', T, () =>
  withCodex({ homeOpts: { streamMaxRetries: 2 } }, async ({ call }) => {
    const { obj } = await call({ PROMPT: `flaky ${Date.now()} [[fail5xx:1]]`, cd: freshDir() });
    assertOk(obj);
    assert.equal(obj.agent_messages, 'recovered after 1');
    for (const w of obj.warnings ?? []) assert.doesNotMatch(w, /^Reconnecting\.\.\./, 'retry notice reported as a warning');
  }));

test('[[fail400]]: success false, isError, error names the cause, SESSION_ID present', T, () =>
  withCodex(async ({ call }) => {
    const { res, obj } = await call({ PROMPT: 'broken [[fail400]]', cd: freshDir() });
    assert.equal(res.isError, true);
    assert.equal(obj.success, false);
    assert.match(obj.error, /fake permanent failure/);
    assert.match(obj.SESSION_ID, UUID_RE);
  }));

test('a 300 kB prompt is echoed exactly', T, () =>
  withCodex(async ({ call }) => {
    const unit = 'Zeile ünïcödé 日本語 "q" \'s\' $x `b` \\ — 🚀\n';
    let prompt = 'BIG-PROMPT-START\n';
    let i = 0;
    while (prompt.length < 300000) prompt += `${i++}: ${unit}`;
    prompt += 'BIG-PROMPT-END';
    // Over the default result budget: this test is about the prompt, so it asks for room.
    const { obj } = await call({ PROMPT: prompt, cd: freshDir(), max_result_chars: 1000000 }, 60000);
    assertOk(obj);
    assert.equal(obj.agent_messages.length, prompt.length);
    assert.ok(obj.agent_messages === prompt, 'agent_messages differs from the 300 kB prompt');
  }));

test('timeout_s: a turn that runs too long is stopped; error and SESSION_ID', T, () =>
  withCodex(async ({ call, client }) => {
    const t0 = Date.now();
    // 3 s: codex names the session first (under valgrind, or on a loaded
    // machine, 1 s ran out before it had); the turn would take 30 s.
    const { obj } = await call({ PROMPT: 'slow [[sleep:30000]]', cd: freshDir(), timeout_s: 3 });
    const took = Date.now() - t0;
    assert.equal(obj.success, false);
    assert.match(obj.error, /timed out after 3 s/);
    assert.match(obj.SESSION_ID ?? '', UUID_RE);
    assert.ok(took < 15000, `returned after ${took} ms`);
    await withTimeout(client.ping(), 5000, 'ping');
  }));

// ---- argument validation --------------------------------------------------

test('invalid arguments: isError naming the parameter, no codex run, server still answers ping', T, () =>
  withCodex(async ({ call, client }) => {
    const cd = freshDir();
    const aFile = path.join(cd, 'a-file.txt');
    fs.writeFileSync(aFile, 'x');
    const cases = [
      [{ PROMPT: 'x', cd: path.join(tree.root, 'does-not-exist') }, /\bcd\b/],
      [{ PROMPT: 'x', cd: aFile }, /\bcd\b/],
      [{ PROMPT: 'x', cd: '' }, /\bcd\b/],
      [{ PROMPT: 'x' }, /\bcd\b/],
      [{ PROMPT: 'x', cd: 42 }, /\bcd\b/],
      [{ cd }, /PROMPT/],
      [{ PROMPT: 42, cd }, /PROMPT/],
      [{ PROMPT: '', cd }, /PROMPT/],
      [{ PROMPT: ['x'], cd }, /PROMPT/],
      [{ PROMPT: 'x', cd, sandbox: 'bogus' }, /sandbox/],
      [{ PROMPT: 'x', cd, sandbox: 1 }, /sandbox/],
      [{ PROMPT: 'x', cd, image: 'pic.png' }, /image/],
      [{ PROMPT: 'x', cd, image: [path.join(cd, 'missing.png')] }, /image/],
      [{ PROMPT: 'x', cd, image: [cd] }, /image/],
      [{ PROMPT: 'x', cd, image: [5] }, /image/],
      [{ PROMPT: 'x', cd, SESSION_ID: '-x' }, /SESSION_ID/],
      [{ PROMPT: 'x', cd, SESSION_ID: 'a b' }, /SESSION_ID/],
      [{ PROMPT: 'x', cd, SESSION_ID: 'a\nb' }, /SESSION_ID/],
      [{ PROMPT: 'x', cd, SESSION_ID: 7 }, /SESSION_ID/],
      [{ PROMPT: 'x', cd, reasoning_effort: 'ultra' }, /reasoning_effort/],
      [{ PROMPT: 'x', cd, reasoning_effort: 'HIGH' }, /reasoning_effort/],
      [{ PROMPT: 'x', cd, timeout_s: 0 }, /timeout_s/],
      [{ PROMPT: 'x', cd, timeout_s: -1 }, /timeout_s/],
      [{ PROMPT: 'x', cd, timeout_s: '5' }, /timeout_s/],
      [{ PROMPT: 'x', cd, session_id: 'abc' }, /session_id/],
      [{ PROMPT: 'x', cd, prompt: 'lower' }, /"prompt"/],
      [{ PROMPT: 'x', cd, yolo: 'true' }, /yolo/],
      [{ PROMPT: 'x', cd, return_all_messages: 1 }, /return_all_messages/],
      [{ PROMPT: 'x', cd, skip_git_repo_check: 'no' }, /skip_git_repo_check/],
      [{ PROMPT: 'x', cd, model: '--yolo' }, /model/],
      [{ PROMPT: 'x', cd, model: 3 }, /model/],
      [{ PROMPT: 'x', cd, profile: '-p' }, /profile/],
    ];
    const before = fake.requests.length;
    for (const [args, re] of cases) {
      const { res, obj } = await call(args);
      const shown = JSON.stringify(args);
      assert.equal(res.isError, true, `isError for ${shown}`);
      assert.equal(obj.success, false, `success false for ${shown}`);
      assert.equal(typeof obj.error, 'string');
      assert.match(obj.error, re, `error for ${shown} should name the parameter: ${obj.error}`);
      assert.ok(!('SESSION_ID' in obj) || args.SESSION_ID === undefined, `no SESSION_ID for ${shown}`);
      await withTimeout(client.ping(), 5000, `ping after ${shown}`);
    }
    assert.equal(fake.requests.length, before, 'no codex turn reached the model for invalid arguments');
    // Still fully working afterwards.
    const { obj } = await call({ PROMPT: 'still works', cd });
    assertOk(obj);
    assert.equal(obj.agent_messages, 'still works');
  }));

test('null and empty optional values mean "default"', T, () =>
  withCodex(async ({ call }) => {
    const { obj } = await call({
      PROMPT: 'defaults please',
      cd: freshDir(),
      SESSION_ID: '',
      model: '',
      profile: '',
      reasoning_effort: '',
      image: [],
      sandbox: null,
    });
    assertOk(obj);
    assert.equal(obj.agent_messages, 'defaults please');
  }));

// ---- locating codex -------------------------------------------------------

test('missing codex binary: --codex, CODEXMCP_CODEX, PATH without codex', T, async () => {
  const emptyBin = freshDir('emptybin');
  fs.mkdirSync(path.join(emptyBin, 'codex')); // a directory named codex is not an executable
  const noExec = freshDir('noexec');
  fs.writeFileSync(path.join(noExec, 'codex'), '#!/bin/sh\necho hi\n', { mode: 0o644 });
  const pathWithout = `${emptyBin}:${noExec}:/usr/bin:/bin`;
  for (const d of ['/usr/bin', '/bin']) assert.ok(!fs.existsSync(path.join(d, 'codex')), `precondition: no codex in ${d}`);
  const cd = freshDir();
  const variants = [
    { what: '--codex /nonexistent/codex', args: ['--codex', '/nonexistent/codex'], re: /\/nonexistent\/codex/ },
    { what: '--codex non-executable file', args: ['--codex', path.join(noExec, 'codex')], re: /noexec/ },
    { what: 'CODEXMCP_CODEX', args: [], envExtra: { CODEXMCP_CODEX: '/nonexistent/env-codex', PATH: pathWithout }, re: /\/nonexistent\/env-codex/ },
    { what: 'PATH without codex', args: [], envExtra: { PATH: pathWithout }, re: /PATH/ },
    { what: '--codex wins over CODEXMCP_CODEX', args: ['--codex', '/nonexistent/flag-codex'], envExtra: { CODEXMCP_CODEX: codexBin() }, re: /flag-codex/ },
  ];
  for (const v of variants) {
    await withCodex({ args: v.args, envExtra: v.envExtra }, async ({ call, client }) => {
      const { res, obj } = await call({ PROMPT: 'hello', cd });
      assert.equal(res.isError, true, v.what);
      assert.equal(obj.success, false, v.what);
      assert.ok(obj.error.includes('npm i -g @openai/codex'), `${v.what}: ${obj.error}`);
      assert.match(obj.error, v.re, `${v.what}: ${obj.error}`);
      await withTimeout(client.ping(), 5000, 'ping');
    });
  }
  // And the positive counterparts: CODEXMCP_CODEX alone, and codex found on PATH.
  await withCodex({ args: [], envExtra: { CODEXMCP_CODEX: codexBin(), PATH: pathWithout } }, async ({ call }) => {
    const { obj } = await call({ PROMPT: 'via env', cd });
    assertOk(obj);
    assert.equal(obj.agent_messages, 'via env');
  });
  const pathDir = freshDir('pathbin');
  fs.symlinkSync(codexBin(), path.join(pathDir, 'codex'));
  await withCodex({ args: [], envExtra: { PATH: `${emptyBin}:${pathDir}:/usr/bin:/bin` } }, async ({ call }) => {
    const { obj } = await call({ PROMPT: 'via PATH', cd });
    assertOk(obj);
    assert.equal(obj.agent_messages, 'via PATH');
  });
});

// ---- concurrency ----------------------------------------------------------

test('8 parallel calls each get their own answer and session', T, () =>
  withCodex(async ({ call, client }) => {
    const cd = freshDir();
    const N = 8;
    const t0 = Date.now();
    const results = await Promise.all(
      Array.from({ length: N }, (_, n) => {
        const sleep = n % 3 === 0 ? ' [[sleep:300]]' : '';
        return call({ PROMPT: `parallel ${n}${sleep} [[reply:answer-${n}]]`, cd }, 60000);
      }),
    );
    results.forEach(({ obj }, n) => {
      assertOk(obj, `call ${n}`);
      assert.equal(obj.agent_messages, `answer-${n}`);
    });
    const ids = new Set(results.map(({ obj }) => obj.SESSION_ID));
    assert.equal(ids.size, N, 'distinct SESSION_IDs');
    await withTimeout(client.ping(), 5000, 'ping');
    assert.ok(Date.now() - t0 < 60000);
  }));

// ---- protocol versions and tool metadata ----------------------------------

test('tools/list: codex tool with inputSchema, outputSchema and annotations', T, () =>
  withCodex(async ({ client }) => {
    const { tools } = await withTimeout(client.listTools(), 5000, 'tools/list');
    const tool = tools.find((t) => t.name === 'codex');
    assert.ok(tool, 'codex tool listed');
    assert.equal(tool.inputSchema.type, 'object');
    assert.deepEqual([...tool.inputSchema.required].sort(), ['PROMPT', 'cd']);
    assert.equal(tool.inputSchema.additionalProperties, false);
    for (const p of ['PROMPT', 'cd', 'sandbox', 'SESSION_ID', 'skip_git_repo_check', 'return_all_messages', 'image', 'model', 'yolo', 'profile', 'reasoning_effort', 'timeout_s'])
      assert.ok(p in tool.inputSchema.properties, `inputSchema has ${p}`);
    assert.deepEqual(tool.inputSchema.properties.sandbox.enum, ['read-only', 'workspace-write', 'danger-full-access']);
    assert.ok(tool.outputSchema && tool.outputSchema.type === 'object', 'outputSchema present');
    for (const p of ['success', 'SESSION_ID', 'agent_messages', 'error']) assert.ok(p in tool.outputSchema.properties, `outputSchema has ${p}`);
    assert.equal(tool.annotations?.readOnlyHint, false);
    assert.equal(tool.annotations?.destructiveHint, true);
    assert.equal(tool.annotations?.openWorldHint, true);
  }));

test('structuredContent: present under 2025-11-25 (SDK), for success and error results', T, () =>
  withCodex(async ({ call }) => {
    const ok = await call({ PROMPT: 'structured', cd: freshDir() });
    assert.ok(ok.res.structuredContent, 'structuredContent on success');
    assert.equal(ok.res.structuredContent.agent_messages, 'structured');
    const bad = await call({ PROMPT: 'structured', cd: '/nonexistent-dir-x' });
    assert.ok(bad.res.structuredContent, 'structuredContent on isError');
    assert.equal(bad.res.structuredContent.success, false);
  }));

for (const [version, structured] of [
  ['2024-11-05', false],
  ['2025-03-26', false],
  ['2025-06-18', true],
]) {
  test(`structuredContent ${structured ? 'present' : 'absent'} under ${version} (raw client)`, T, async () => {
    const home = makeCodexHome(fake.url);
    const srv = rawServer(['--codex', codexBin()], env(home));
    try {
      const init = await srv.initialize(version);
      assert.equal(init.protocolVersion, version);
      const cd = freshDir();
      let id = 1;
      for (const [args, success] of [
        [{ PROMPT: `raw ${version}`, cd }, true],
        [{ PROMPT: 'x', cd, sandbox: 'bogus' }, false],
      ]) {
        const r = await srv.request({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: 'codex', arguments: args } }, CALL_MS);
        assert.ok(r.result, `result: ${JSON.stringify(r).slice(0, 500)}`);
        const obj = JSON.parse(r.result.content[0].text);
        assert.equal(obj.success, success, JSON.stringify(obj));
        if (success) assert.equal(obj.agent_messages, `raw ${version}`);
        assert.equal(r.result.isError === true, !success);
        if (structured) assert.deepEqual(r.result.structuredContent, obj);
        else assert.ok(!('structuredContent' in r.result), `no structuredContent under ${version}: ${JSON.stringify(r.result).slice(0, 300)}`);
      }
    } catch (err) {
      err.message += `\n--- server stderr ---\n${srv.stderr.slice(-3000)}`;
      throw err;
    } finally {
      await srv.dispose();
      removeCodexHome(home);
    }
  });
}

// ---- options reach the model request ---------------------------------------

const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
function writePng(file) {
  fs.writeFileSync(file, Buffer.from(PNG_1X1, 'base64'));
  return file;
}
function hasInputImage(body) {
  return (body?.input ?? []).some(
    (i) => i?.type === 'message' && i.role === 'user' && Array.isArray(i.content) && i.content.some((p) => p?.type === 'input_image'),
  );
}

test('reasoning_effort, model and image reach the model request', T, () =>
  withCodex({ homeOpts: { model: 'gpt-6-sol' } }, async ({ call }) => {
    const cd = freshDir();
    const base = await call({ PROMPT: 'opts baseline', cd });
    assertOk(base.obj);
    const baseReq = fake.requestsFor('opts baseline').at(-1);
    assert.equal(baseReq.body.model, 'gpt-6-sol', 'config default model without the parameter');
    assert.notEqual(baseReq.body.reasoning?.effort, 'high');
    assert.ok(!hasInputImage(baseReq.body));

    const eff = await call({ PROMPT: 'opts effort', cd, reasoning_effort: 'high' });
    assertOk(eff.obj);
    assert.equal(fake.requestsFor('opts effort').at(-1).body.reasoning?.effort, 'high');

    const eff2 = await call({ PROMPT: 'opts minimal effort', cd, reasoning_effort: 'minimal' });
    assertOk(eff2.obj);
    assert.equal(fake.requestsFor('opts minimal effort').at(-1).body.reasoning?.effort, 'minimal');

    const mod = await call({ PROMPT: 'opts model', cd, model: 'gpt-5.5' });
    assertOk(mod.obj);
    assert.equal(fake.requestsFor('opts model').at(-1).body.model, 'gpt-5.5');

    const png = writePng(path.join(cd, 'tiny.png'));
    const png2 = writePng(path.join(cd, 'tiny two.png')); // a space in the path
    const img = await call({ PROMPT: 'opts image', cd, image: [png, png2] });
    assertOk(img.obj);
    assert.match(img.obj.agent_messages, /opts image$/, 'the prompt survived --image');
    const imgReq = fake.requestsFor('opts image').at(-1);
    assert.ok(hasInputImage(imgReq.body), 'input_image part in the request');
    const parts = imgReq.body.input.filter((i) => i.role === 'user').flatMap((i) => i.content ?? []);
    assert.equal(parts.filter((p) => p.type === 'input_image').length, 2, 'both images sent');
    assert.ok(parts.some((p) => p.type === 'input_image' && /^data:image\/png;base64,/.test(p.image_url ?? '')), 'image is a PNG data URL');

    // A missing image is rejected up front (codex itself would only tell the model).
    const rel = await call({ PROMPT: 'opts rel image', cd, image: ['tiny-not-here.png'] });
    assert.equal(rel.obj.success, false);
    assert.match(rel.obj.error, /image/);
  }));

// ---- sandbox ---------------------------------------------------------------

test('sandbox workspace-write lets [[shell:touch x.txt]] create the file; read-only does not', T, () =>
  withCodex(async ({ call }) => {
    const ww = freshDir('ww');
    const { obj } = await call({ PROMPT: 'make it [[shell:touch x.txt]]', cd: ww, sandbox: 'workspace-write' });
    assertOk(obj);
    assert.ok(fs.existsSync(path.join(ww, 'x.txt')), `x.txt created in ${ww}: ${JSON.stringify(obj)}`);

    const ro = freshDir('ro');
    const r2 = await call({ PROMPT: 'try it [[shell:touch y.txt]]', cd: ro });
    assertOk(r2.obj);
    assert.ok(!fs.existsSync(path.join(ro, 'y.txt')), 'read-only (default) must not create y.txt');

    const ro2 = freshDir('ro2');
    const r3 = await call({ PROMPT: 'try again [[shell:touch z.txt]]', cd: ro2, sandbox: 'read-only' });
    assertOk(r3.obj);
    assert.ok(!fs.existsSync(path.join(ro2, 'z.txt')), 'explicit read-only must not create z.txt');
  }));

test('skip_git_repo_check false outside a git repo: codex refuses, error explains', T, () =>
  withCodex(async ({ call }) => {
    const { obj } = await call({ PROMPT: 'git check', cd: freshDir('nogit'), skip_git_repo_check: false });
    assert.equal(obj.success, false);
    assert.match(obj.error, /skip-git-repo-check|trusted directory/);
  }));

// ---- what the review found ----------------------------------------------------

test('an image path with a comma is refused (codex splits it); a link to it without one works', T, () =>
  withCodex(async ({ call }) => {
    const cd = freshDir();
    writePng(path.join(cd, 'a,b.png'));
    const bad = await call({ PROMPT: 'comma image', cd, image: ['a,b.png'] });
    assert.equal(bad.obj.success, false);
    assert.match(bad.obj.error, /^image\[0\] "a,b\.png": codex cannot take an image path with a comma/);
    assert.equal(fake.requestsFor('comma image').length, 0, 'codex never ran');
    fs.symlinkSync('a,b.png', path.join(cd, 'ab.png'));
    const ok = await call({ PROMPT: 'comma image via link', cd, image: ['ab.png'] });
    assertOk(ok.obj);
    assert.ok(hasInputImage(fake.requestsFor('comma image via link').at(-1).body), 'the image reached the model');
  }));

test('SESSION_ID in upper case is the same session: the second turn waits instead of failing', T, () =>
  withCodex(async ({ call }) => {
    const { cd, id } = await newSession(call, 'case A');
    const [b, c] = await Promise.all([
      call({ PROMPT: 'case B [[sleep:800]] [[history]]', cd, SESSION_ID: id }),
      (async () => {
        await sleep(150);
        return call({ PROMPT: 'case C [[history]]', cd, SESSION_ID: id.toUpperCase() });
      })(),
    ]);
    assertOk(b.obj, 'B');
    assertOk(c.obj, 'C');
    assert.equal(c.obj.SESSION_ID, id);
    assert.equal(c.obj.agent_messages, 'case A | case B [[sleep:800]] [[history]] | case C [[history]]');
  }));

test('a session another codex is writing right now: the error says so', T, () =>
  withCodex(async ({ call, home }) => {
    const { cd, id } = await newSession(call, 'writer A');
    // Another codex, outside this server, resumes the session and stays in its turn.
    const other = spawn(codexBin(), ['exec', '--json', '--skip-git-repo-check', '--cd', cd, 'resume', id, '--', '-'], {
      env: env(home),
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    other.stdin.end('writer B [[sleep:6000]]');
    try {
      const r = await pollUntil(() => fake.requestsFor('writer B').length > 0, 15000);
      assert.ok(r.ok, 'the other codex reached the model');
      const { obj } = await call({ PROMPT: 'writer C', cd, SESSION_ID: id });
      assert.equal(obj.success, false);
      assert.match(obj.error, /^another process is writing this session right now/);
      assert.equal(obj.SESSION_ID, id);
    } finally {
      other.kill('SIGKILL');
    }
  }));

test('a process a command started in a session of its own is gone when the call ends', T, () =>
  withCodex(async ({ call, home, sdk }) => {
    const cd = freshDir();
    // Unsandboxed, `setsid … &` outlives the command and codex itself.
    const { obj } = await call({
      PROMPT: '[[shell:setsid sleep 321 >/dev/null 2>&1 </dev/null & echo started]]',
      cd,
      sandbox: 'danger-full-access',
    });
    assertOk(obj);
    assert.match(obj.agent_messages, /shell done: started/);
    // Every command codex runs carries the session in CODEX_THREAD_ID (under
    // the app-server engine the app-server itself lives on, and it has none).
    const tag = `CODEX_THREAD_ID=${obj.SESSION_ID}`;
    const r = await waitNoneWithEnv(tag, 2000, { exclude: [sdk.pid] });
    const left = describePids(r.left);
    killWithEnv(tag, { exclude: [sdk.pid] });
    assert.ok(r.ok, `left behind after the call:\n  ${left}`);
  }));

test('ids and progress tokens that are not integers, with the real codex: echoed as written', T, async () => {
  const home = makeCodexHome(fake.url);
  const srv = rawServer(['--codex', codexBin()], env(home));
  try {
    await srv.initialize('2025-06-18');
    const cd = freshDir();
    await srv.send(
      `{"jsonrpc":"2.0","id":1.50,"method":"tools/call","params":{"name":"codex","arguments":{"PROMPT":"float ids","cd":${JSON.stringify(cd)}},"_meta":{"progressToken":2.5e0}}}\n`,
    );
    let progress = 0;
    for (;;) {
      const line = await srv.nextRaw(CALL_MS);
      const msg = JSON.parse(line);
      if (msg.method === 'notifications/progress') {
        assert.ok(line.includes('"progressToken":2.5e0'), line);
        progress++;
        continue;
      }
      assert.ok(line.startsWith('{"jsonrpc":"2.0","id":1.50,"result":'), line.slice(0, 200));
      assert.equal(JSON.parse(msg.result.content[0].text).agent_messages, 'float ids');
      break;
    }
    assert.ok(progress >= 2, `${progress} progress notifications`);
  } finally {
    await srv.dispose();
    removeCodexHome(home);
  }
});

test('every test CODEX_HOME turns plugins off: codex never tries git ls-remote', T, async () => {
  // codex runs /usr/bin/git by its path, with its own environment: git's
  // trace file shows every git command it starts.
  const trace = path.join(freshDir('gittrace'), 'trace');
  await withCodex({ envExtra: { GIT_TRACE: trace } }, async ({ call }) => {
    assertOk((await call({ PROMPT: 'no plugins [[sleep:500]]', cd: freshDir() })).obj);
  });
  const calls = fs.existsSync(trace) ? fs.readFileSync(trace, 'utf8') : '';
  assert.doesNotMatch(calls, /ls-remote/, calls);
});
