// The MCP Inspector's CLI (`mcp-inspector --cli`, pinned in
// inspector/package.json with the Node 22 it needs) against codexmcp: one
// inspector run per request, each starting its own codexmcp, as a user
// checks a server from the shell. Asserted: its exit code (2.12: 0 ok,
// 1 usage or a JSON-RPC error, 5 tool error) and the JSON it prints
// (`--format json`: the result on stdout, an error envelope on stderr).
//
// Codex is the REAL codex CLI against the fake Responses API
// (lib/fake-responses.mjs), with a CODEX_HOME pointing at it. The inspector
// starts its server with a few variables of its own environment only (HOME,
// PATH, …): the rest (CODEX_HOME, the suite's CODEXMCP_ENGINE, …) is handed
// over with -e, as a user would have to.
//
// Run: node --test inspector.test.mjs            (app-server engine)
//      CODEXMCP_ENGINE=exec node --test inspector.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { codexBin, e2eDir, sharedFakeCodex } from './lib/codex-env.mjs';
import { userPrompts } from './lib/fake-responses.mjs';
import { serverBin, serverExists, ENGINE } from './lib/mcp.mjs';
import { describePids, terminateWithEnv, waitNoneWithEnv } from './lib/procs.mjs';
import { tempTree } from './lib/tmp.mjs';
import { runProcess } from './lib/cli.mjs';

const T = { timeout: 120000 };
const RUN_MS = 60000;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** What ran the calls: with the real codex 0.169 anything but exec is the app-server. */
const ENGINE_NAME = ENGINE === 'exec' ? 'exec' : 'appserver';

const inspectorModules = path.join(e2eDir, 'inspector', 'node_modules');
/** Node 22 from the npm package `node` (the system Node is older than the inspector allows). */
const node22 = path.join(inspectorModules, '.bin', 'node');
/** The inspector's `mcp-inspector` bin: with --cli, its command-line client. */
const inspectorJs = path.join(inspectorModules, '@modelcontextprotocol', 'inspector', 'clients', 'launcher', 'build', 'index.js');

const codex = sharedFakeCodex();
const tree = tempTree('codexmcp-e2e-inspector-');

if (!serverExists()) {
  test('server binary exists', () => {
    assert.fail(`codexmcp binary not found at ${serverBin()} (build it or set CODEXMCP_BIN)`);
  });
}

let runSeq = 0;

/** Run `cmd ...args` to its end (SIGKILLed after RUN_MS). */
const run = (cmd, args, env) => runProcess(cmd, args, { env, timeoutMs: RUN_MS });

/** A JSON document, or null. */
function parsed(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * `mcp-inspector --cli -q --format json ...args -- codexmcp --codex <real
 * codex> --state-dir <stateDir>`, on Node 22, with a fresh HOME, in a clean
 * environment. Resolves the run with out / err: its stdout / stderr parsed
 * (null when not JSON), and why: a description for assertion messages.
 * After the inspector exits, no process of its server may be left.
 */
async function inspector(args, { stateDir = tree.dir('state'), quiet = true } = {}) {
  const home = tree.dir('home');
  const mark = `inspector-${process.pid}-${++runSeq}`;
  // The inspector's own environment: it passes HOME, PATH and the like on.
  const env = { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8', NO_COLOR: '1' };
  // Everything else the server needs, by -e; the engine is the suite's.
  const serverEnv = {
    CODEX_HOME: codex.home,
    CODEXMCP_E2E_MARK: mark,
    CODEXMCP_ENGINE: process.env.CODEXMCP_ENGINE,
    // A sanitizer build (make test-asan) reports where the suite says.
    ASAN_OPTIONS: process.env.ASAN_OPTIONS,
    UBSAN_OPTIONS: process.env.UBSAN_OPTIONS,
    RUST_LOG: 'error',
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  };
  const e = Object.entries(serverEnv).filter(([, v]) => v).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const argv = [inspectorJs, '--cli', ...(quiet ? ['-q'] : []), '--format', 'json', ...e, ...args, '--', serverBin(), '--codex', codexBin(), '--state-dir', stateDir];
  const r = await run(node22, argv, env);
  const left = await waitNoneWithEnv(`CODEXMCP_E2E_MARK=${mark}`, 5000);
  if (!left.ok) await terminateWithEnv(`CODEXMCP_E2E_MARK=${mark}`);
  r.out = parsed(r.stdout);
  r.err = parsed(r.stderr);
  r.why = `mcp-inspector ${args.join(' ')}: exit ${r.code}${r.signal ? ` (${r.signal})` : ''} after ${r.ms} ms\n--- stdout ---\n${r.stdout.slice(0, 4000)}\n--- stderr ---\n${r.stderr.slice(-3000)}`;
  assert.ok(left.ok, `processes of the inspector's server left after it exited:\n  ${describePids(left.left)}\n${r.why}`);
  return r;
}

/** tools/call NAME with args (a JSON object, passed verbatim). */
const callTool = (name, args, opts) => inspector(['--method', 'tools/call', '--tool-name', name, '--tool-args-json', JSON.stringify(args)], opts);

/**
 * The codex tool's answer in a tools/call result: one text part holding
 * compact JSON, the same object as structuredContent, isError iff it failed.
 */
function toolResult(r) {
  const res = r.out?.result;
  assert.ok(res && Array.isArray(res.content) && res.content.length === 1, `one content part: ${r.why}`);
  assert.equal(res.content[0].type, 'text', r.why);
  const obj = parsed(res.content[0].text);
  assert.ok(obj, `content[0].text is JSON: ${r.why}`);
  assert.deepEqual(res.structuredContent, obj, `structuredContent equals the text JSON: ${r.why}`);
  assert.equal(res.isError === true, obj.success === false, `isError iff success is false: ${r.why}`);
  return obj;
}

// ---------------------------------------------------------------------------

test('tools/list: the five tools with their input schemas; no schema portability error (--strict)', T, async () => {
  for (const extra of [['--strict'], ['--protocol-era', 'auto']]) {
    const r = await inspector(['--method', 'tools/list', ...extra]);
    assert.equal(r.code, 0, r.why);
    const tools = r.out?.result?.tools;
    assert.ok(Array.isArray(tools), r.why);
    const byName = new Map(tools.map((t) => [t.name, t]));
    assert.deepEqual([...byName.keys()].sort(), ['codex', 'codex_cancel', 'codex_review', 'codex_sessions', 'codex_wait'], r.why);
    for (const t of tools) {
      assert.equal(t.inputSchema?.type, 'object', `${t.name}: ${JSON.stringify(t.inputSchema)}`);
      assert.equal(typeof t.description, 'string', t.name);
    }
    const codexSchema = byName.get('codex').inputSchema;
    assert.deepEqual(codexSchema.required, ['PROMPT', 'cd']);
    for (const p of ['PROMPT', 'cd', 'SESSION_ID']) assert.equal(codexSchema.properties[p]?.type, 'string', `codex.${p}`);
    assert.deepEqual(codexSchema.properties.sandbox.enum, ['read-only', 'workspace-write', 'danger-full-access']);
    assert.deepEqual(byName.get('codex_review').inputSchema.required, ['cd']);
    assert.deepEqual(byName.get('codex_wait').inputSchema.required, ['task']);
    assert.deepEqual(byName.get('codex_wait').inputSchema.properties.task?.anyOf?.map((s) => s.type), ['string', 'array']);
  }
  // Without -q the inspector prints what --strict finds less portable (a
  // `type` array, which a single-type dialect such as Gemini's rejects).
  const loud = await inspector(['--method', 'tools/list', '--strict'], { quiet: false });
  assert.equal(loud.code, 0, loud.why);
  assert.doesNotMatch(loud.stderr, /Warning: tool|Error: tool/, loud.why);
});

test('tools/call codex: a real codex turn, then a second run resuming its SESSION_ID sees the first', T, async () => {
  const stateDir = tree.dir('state');
  const cd = tree.dir('cwd');
  const p1 = `inspector first turn ${process.pid}-${Date.now()}`;
  const r1 = await callTool('codex', { PROMPT: p1, cd }, { stateDir });
  assert.equal(r1.code, 0, r1.why);
  const t1 = toolResult(r1);
  assert.equal(t1.success, true, r1.why);
  assert.match(t1.SESSION_ID, UUID_RE);
  assert.equal(t1.agent_messages, p1, 'the fake answers with the prompt');

  // A new inspector run, so a new codexmcp: the session is found again by its id.
  const p2 = 'inspector second turn [[history]]';
  const r2 = await callTool('codex', { PROMPT: p2, cd, SESSION_ID: t1.SESSION_ID }, { stateDir });
  assert.equal(r2.code, 0, r2.why);
  const t2 = toolResult(r2);
  assert.equal(t2.success, true, r2.why);
  assert.equal(t2.SESSION_ID, t1.SESSION_ID);
  assert.equal(t2.agent_messages, `${p1} | ${p2}`, 'the second turn saw the first ([[history]]: every prompt)');
  const req = codex.fake.requestsFor(p2).at(-1);
  assert.ok(req, 'the fake received the second turn');
  assert.deepEqual(userPrompts(req.body), [p1, p2], 'the model got the first prompt back as history');

  // Both turns ran under the suite's engine: the inspector's -e reached the server.
  const ps = await run(serverBin(), ['ps', '--json', '--state-dir', stateDir], { PATH: process.env.PATH, HOME: tree.dir('home') });
  assert.equal(ps.code, 0, ps.stderr);
  const turns = parsed(ps.stdout)?.filter((row) => row.SESSION_ID === t1.SESSION_ID);
  assert.ok(Array.isArray(turns), ps.stdout);
  assert.deepEqual(turns.map((row) => [row.status, row.engine]), [['completed', ENGINE_NAME], ['completed', ENGINE_NAME]], ps.stdout);
});

test('tool errors exit 5: codex with a cd that does not exist (tool_is_error), an unknown tool (tool_not_found)', T, async () => {
  const missing = tree.path('missing');
  const r = await callTool('codex', { PROMPT: 'never runs', cd: missing });
  assert.equal(r.code, 5, r.why);
  assert.equal(r.err?.error?.code, 'tool_is_error', r.why);
  const obj = toolResult(r);
  assert.equal(obj.success, false);
  assert.equal(obj.error, `cd ${JSON.stringify(missing)} is not an existing directory`);
  assert.equal(codex.fake.requestsFor('never runs').length, 0, 'codex never ran');

  const u = await callTool('codex_nosuch', {});
  assert.equal(u.code, 5, u.why);
  assert.equal(u.err?.error?.code, 'tool_not_found', u.why);
  assert.match(u.err.error.message, /codex_nosuch/);
  assert.equal(u.stdout, '', u.why);
});

test('logging/setLevel: debug → exit 0 and {}; an invalid level → exit 1 (usage)', T, async () => {
  const r = await inspector(['--method', 'logging/setLevel', '--log-level', 'debug']);
  assert.equal(r.code, 0, r.why);
  assert.deepEqual(r.out, { result: {} }, r.why);
  // The inspector checks the level itself (protocol.test.mjs sends bad ones
  // to the server): exit 1, the valid levels named.
  const bad = await inspector(['--method', 'logging/setLevel', '--log-level', 'loud']);
  assert.equal(bad.code, 1, bad.why);
  assert.equal(bad.stdout, '', bad.why);
  assert.match(bad.err?.error?.message ?? '', /^Invalid log level: loud\. Valid levels are: debug, info, /, bad.why);
});

test('prompts/list and prompts/get: the four prompts; the arguments passed are in the messages; a missing one → exit 1', T, async () => {
  const list = await inspector(['--method', 'prompts/list']);
  assert.equal(list.code, 0, list.why);
  const prompts = list.out?.result?.prompts;
  assert.ok(Array.isArray(prompts), list.why);
  const args = Object.fromEntries(prompts.map((p) => [p.name, p.arguments.map((a) => `${a.name}${a.required ? '!' : ''}`)]));
  assert.deepEqual(args, {
    'plan-with-codex': ['requirement!', 'cd'],
    'prototype-with-codex': ['task!', 'cd'],
    'review-with-codex': ['focus', 'base', 'cd'],
    'parallel-with-codex': ['questions!', 'cd'],
  });

  const requirement = `add a frobnicator ${process.pid}`;
  const cd = tree.dir('project');
  const get = await inspector(['--method', 'prompts/get', '--prompt-name', 'plan-with-codex', '--prompt-args', `requirement=${requirement}`, `cd=${cd}`]);
  assert.equal(get.code, 0, get.why);
  const messages = get.out?.result?.messages;
  assert.ok(Array.isArray(messages) && messages.length === 1, get.why);
  assert.equal(messages[0].role, 'user');
  assert.equal(messages[0].content.type, 'text');
  assert.ok(messages[0].content.text.includes(`Requirement:\n${requirement}\n`), messages[0].content.text);
  assert.ok(messages[0].content.text.includes(`cd = ${cd},`), messages[0].content.text);

  const review = await inspector(['--method', 'prompts/get', '--prompt-name', 'review-with-codex', '--prompt-args', 'base=release-7']);
  assert.equal(review.code, 0, review.why);
  assert.match(review.out?.result?.messages?.[0]?.content?.text ?? '', /this branch's changes against release-7 \(target: base = "release-7"\)/, review.why);

  // The server's -32602 reaches the user as the inspector's error envelope.
  const missing = await inspector(['--method', 'prompts/get', '--prompt-name', 'prototype-with-codex']);
  assert.equal(missing.code, 1, missing.why);
  assert.match(missing.err?.error?.message ?? '', /^Invalid params: prompt prototype-with-codex needs the argument task: /, missing.why);
});
