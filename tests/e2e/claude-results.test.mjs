// What the model sees of codexmcp's results, through the REAL Claude Code CLI
// (pinned in package.json): `claude -p` talks to a fake Anthropic Messages
// endpoint (lib/fake-anthropic.mjs) whose scripted first answer is a tool_use
// of mcp__codex__codex; Claude Code calls codexmcp, which runs the REAL codex
// CLI against the fake Responses endpoint (lib/fake-responses.mjs); the next
// model request carries the tool_result exactly as Claude Code hands it to the
// model, and the test inspects it there.
//
// Claude Code 2.1.330 facts these tests lean on (REFERENCE.md §6.1):
// - A result with structuredContent reaches the model as one string,
//   JSON.stringify(structuredContent) (compact); its text blocks are dropped.
//   A text-only result arrives as [{type:"text",text}] blocks.
// - A result over 50,000 characters is saved to a file and the model gets a
//   "<persisted-output> Output too large … Full output saved to: …" note,
//   unless the tool's tools/list entry sets _meta["anthropic/maxResultSizeChars"]
//   (capped at 500,000), which also skips the MAX_MCP_OUTPUT_TOKENS (25,000)
//   check. Without it, a result over chars/4 > 12,500 is measured with
//   /v1/messages/count_tokens; over 25,000 tokens it is saved to a file with
//   "Error: result (N characters) exceeds maximum allowed tokens. Output has
//   been saved to …".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startFakeResponses } from './lib/fake-responses.mjs';
import { startFakeAnthropic } from './lib/fake-anthropic.mjs';
import { makeCodexHome, removeCodexHome } from './lib/codex-env.mjs';
import { claudeEnv, runClaudePrint, writeMcpConfig } from './lib/claude.mjs';
import { tempTree } from './lib/tmp.mjs';
import { terminateWithEnv } from './lib/procs.mjs';

const T = { timeout: 60000 };
const CLAUDE_MS = 50000;
const TOOL = 'mcp__codex__codex';
const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
// Claude Code's notes in place of a result it moved to a file.
const MOVED_RE = /exceeds maximum allowed tokens|Output has been saved to|<persisted-output>|Full output saved to:|Output too large/;

let fakeResponses;
before(async () => {
  fakeResponses = await startFakeResponses();
});
after(async () => {
  await fakeResponses?.close();
});
const tree = tempTree('codexmcp-e2e-claude-results-');

/**
 * One `claude -p "go"` run: the fake Anthropic endpoint answers the first
 * main request with a tool_use of mcp__codex__codex with `input`, and the
 * next with "done". codexmcp is Claude's only MCP server (--strict-mcp-config),
 * with the real codex and a fresh CODEX_HOME and --state-dir.
 * Returns { code, stdout, stderr, out (parsed JSON or null), fake, toolUseId,
 * toolResult, stateDir }.
 */
async function runClaude(input, { serverArgs = [] } = {}) {
  const root = tree.dir('run');
  const home = path.join(root, 'home'); // Claude's HOME: fresh, no login, no settings
  const stateDir = path.join(root, 'state');
  fs.mkdirSync(home);
  const codexHome = makeCodexHome(fakeResponses.url);
  const marker = `CODEXMCP_E2E_MARK=${root}`;
  const fake = await startFakeAnthropic({
    script: [{ tool_use: { name: TOOL, input } }, { text: 'done' }],
  });

  // codexmcp's environment is given in full in the config (lib/claude.mjs);
  // Claude's is offline and quiet, pointed at the fake.
  const mcpConfig = writeMcpConfig(path.join(root, 'mcp.json'), { codexHome, stateDir, mark: root, serverArgs });
  const env = claudeEnv(home, fake.url);
  try {
    const r = await runClaudePrint({ mcpConfig, tool: TOOL, env, cwd: home, timeoutMs: CLAUDE_MS });
    const first = fake.main()[0];
    const toolUseId = first?.reply?.blocks?.find((b) => b.type === 'tool_use')?.id;
    const toolResult = toolUseId ? fake.toolResult(toolUseId) : undefined;
    const describe = () =>
      `claude exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\nstdout: ${r.stdout.slice(0, 1500)}\nstderr: ${r.stderr.slice(-1500)}\n` +
      `requests: ${fake.requests.map((q) => `${q.kind} ${q.method} ${q.url}`).join(', ')}`;
    return { ...r, fake, toolUseId, toolResult, stateDir, describe };
  } finally {
    await fake.close();
    await terminateWithEnv(marker);
    removeCodexHome(codexHome);
  }
}

/** Common checks of one run: claude finished, offered the tool, and the model got a tool_result for it. */
function assertRan(run) {
  assert.equal(run.code, 0, run.describe());
  assert.ok(run.out && run.out.is_error === false && run.out.result === 'done', run.describe());
  const first = run.fake.main()[0];
  // Offered as a tool, or (Claude Code's default tool search) named in the
  // list of deferred tools; a tool_use of it works either way.
  const offered = first.body.tools.some((t) => t.name === TOOL) || JSON.stringify(first.body).includes(TOOL);
  assert.ok(offered, `${TOOL} offered to the model: ${first.body.tools.map((t) => t.name)}\n${run.describe()}`);
  assert.ok(run.toolResult, `the follow-up request carries the tool_result\n${run.describe()}`);
  assert.ok(!run.toolResult.is_error, `tool_result is_error: ${run.toolResult.text.slice(0, 1000)}`);
}

/** The shape the tool_result content has: 'string' (Claude's form for structuredContent) or 'blocks:<types>'. */
function contentShape(content) {
  return typeof content === 'string' ? 'string' : `blocks:${content.map((c) => c.type).join(',')}`;
}

/**
 * The result text codexmcp sent, recovered even when Claude Code moved it to
 * a file: { moved, text, savedPath }. Claude saves a text result as its text
 * or as JSON of the content blocks; both are unwrapped here.
 */
function resultAsSent(tr) {
  if (!MOVED_RE.test(tr.text)) return { moved: false, text: tr.text };
  const m = tr.text.match(/(?:Full output saved to:|Output has been saved to) (\/\S+?)\.?(?:\n|$)/);
  if (!m || !fs.existsSync(m[1])) return { moved: true, text: null, savedPath: m?.[1] };
  let text = fs.readFileSync(m[1], 'utf8');
  try {
    const v = JSON.parse(text);
    if (Array.isArray(v)) text = v.filter((b) => b?.type === 'text').map((b) => b.text).join('\n');
  } catch {}
  return { moved: true, text, savedPath: m[1] };
}

/** The result JSON object from a result text, or null. */
function parseResult(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------

test('codex through Claude Code: the model gets the answer and a SESSION_ID in the tool_result', T, async (t) => {
  const cd = tree.dir('proj');
  const run = await runClaude({ PROMPT: '[[reply:hello from codex]]', cd });
  assertRan(run);
  const tr = run.toolResult;
  t.diagnostic(`tool_result content shape: ${contentShape(tr.content)}; ${tr.text.length} chars: ${tr.text.slice(0, 300)}`);
  assert.match(tr.text, /hello from codex/);
  assert.match(tr.text, /"SESSION_ID":"[0-9a-f-]{36}"/);
  const obj = parseResult(tr.text);
  assert.ok(obj, `the tool_result text is the result JSON: ${tr.text.slice(0, 500)}`);
  assert.equal(obj.success, true);
  assert.match(obj.SESSION_ID, UUID_RE);
  assert.match(obj.agent_messages, /hello from codex/);
  if (typeof tr.content === 'string') {
    // structuredContent: Claude Code gives JSON.stringify(structuredContent), compact.
    assert.equal(tr.content, JSON.stringify(obj), 'structuredContent arrives as compact JSON');
  } else {
    assert.deepEqual(tr.content.map((c) => c.type), ['text'], 'a text-only result arrives as its text blocks');
  }
  // The codex prompt went through unchanged.
  assert.ok(fakeResponses.requests.some((r) => r.prompt === '[[reply:hello from codex]]'));
});

test('a big turn (1.3 MB of command output, a 500 kB answer, return_all_messages) reaches the model inline, trimmed, with a transcript', T, async (t) => {
  const cd = tree.dir('proj');
  // seq 1 200000 prints 1,288,895 bytes; the answer is 500,000 characters.
  const PROMPT = '[[shell:seq 1 200000]] [[bigreply:500000]]';
  const run = await runClaude({ PROMPT, cd, return_all_messages: true });
  assertRan(run);
  const tr = run.toolResult;
  const sent = resultAsSent(tr);
  t.diagnostic(
    `tool_result: shape ${contentShape(tr.content)}, ${tr.text.length} chars as received; ` +
      (sent.moved ? `Claude moved it to ${sent.savedPath} (${sent.text?.length ?? '?'} chars): ${tr.text.slice(0, 200)}` : 'inline'),
  );
  const text = sent.text ?? '';
  const obj = parseResult(text);

  await t.test('inline: not replaced by Claude Code\'s "saved to a file" note', () => {
    assert.ok(!sent.moved, `Claude Code moved the result (${sent.text?.length ?? '?'} chars) to a file; the model got:\n${tr.text.slice(0, 600)}`);
  });
  await t.test('at most 48,000 characters (the --max-result-chars default for Claude Code)', () => {
    assert.ok(sent.text !== null, 'result text recovered');
    assert.ok(text.length <= 48000, `the result is ${text.length} characters`);
    assert.ok(text.length > 30000, `the budget is used, not wasted: ${text.length} characters`);
  });
  await t.test('cuts are marked with "[codexmcp:"', () => {
    assert.ok(text.includes('[codexmcp:'), `no cut marker in: ${text.slice(0, 300)} … ${text.slice(-300)}`);
  });
  await t.test('the result names its transcript, a JSONL file of over 1.2 MB holding every codex event', () => {
    assert.ok(obj, `result is JSON: ${text.slice(0, 300)}`);
    assert.equal(obj.success, true, text.slice(0, 500));
    assert.equal(typeof obj.transcript, 'string', `transcript field: ${JSON.stringify(obj.transcript)}`);
    assert.ok(path.isAbsolute(obj.transcript) && obj.transcript.endsWith('.jsonl'), obj.transcript);
    assert.ok(obj.transcript.startsWith(run.stateDir + path.sep), `${obj.transcript} is under --state-dir ${run.stateDir}`);
    const size = fs.statSync(obj.transcript).size;
    assert.ok(size > 1200000, `transcript is ${size} bytes`);
    const lines = fs.readFileSync(obj.transcript, 'utf8').trimEnd().split('\n');
    for (const l of lines) JSON.parse(l); // one JSON value a line
    assert.ok(lines.some((l) => l.includes('"command_execution"') && l.includes('\\n199999\\n200000')), 'the whole command output');
    assert.ok(lines.some((l) => l.includes('BIGREPLY-END')), 'the whole answer');
  });
});

// Why the default budget for Claude Code is 48,000 and not 60,000: Claude
// Code 2.1.330 moves any result over 50,000 characters to a file, whatever
// its tokens. If a later pinned version stops doing so, this test says so.
test('a ~55,000-character result (max_result_chars 60000) is moved to a file by Claude Code: the reason for the 48,000 default', T, async (t) => {
  const cd = tree.dir('proj');
  // bigReply text has quotes, tabs and newlines, which JSON escapes: 47,000
  // characters of answer make a result of about 55,000 characters.
  const run = await runClaude({ PROMPT: '[[bigreply:47000]]', cd, max_result_chars: 60000 });
  assertRan(run);
  const tr = run.toolResult;
  const sent = resultAsSent(tr);
  t.diagnostic(
    `result ${sent.text?.length ?? '?'} chars as sent; the model got ${contentShape(tr.content)} of ${tr.text.length} chars: ` +
      (sent.moved ? tr.text.slice(0, 240) : 'inline'),
  );
  assert.ok(sent.text !== null, 'result text recovered');
  assert.ok(sent.text.length > 50000 && sent.text.length < 60000, `precondition: result is ${sent.text.length} characters`);
  assert.ok(!sent.text.includes('[codexmcp:'), 'precondition: nothing was cut');
  assert.ok(sent.moved, `Claude Code now passes a ${sent.text.length}-character result inline: the default budget could grow`);
});
