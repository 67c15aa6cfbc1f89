// Parallel codex calls from the REAL Claude Code CLI (pinned in package.json).
//
// Claude Code sends two tool_use blocks of one assistant message to an MCP
// server concurrently only when the tool's annotations.readOnlyHint is true,
// otherwise one after the other (REFERENCE.md §6.1). codexmcp marks `codex`
// read-only under --read-only, so there two Codex turns run side by side.
//
// Setup: `claude -p` talks to a fake Anthropic endpoint (lib/fake-anthropic.mjs)
// whose first answer holds TWO tool_use blocks of mcp__codex__codex and whose
// second answer (after both tool_results) ends the conversation. codexmcp
// runs the REAL codex CLI against the fake Responses endpoint
// (lib/fake-responses.mjs), which holds each turn's answer for 3 s
// ([[sleep:3000]]) and records when each request started and ended.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startFakeAnthropic } from './lib/fake-anthropic.mjs';
import { sharedFakeCodex } from './lib/codex-env.mjs';
import { claudeEnv, runClaudePrint, writeMcpConfig } from './lib/claude.mjs';
import { serverBin, serverExists } from './lib/mcp.mjs';
import { tempTree } from './lib/tmp.mjs';
import { terminateWithEnv } from './lib/procs.mjs';

const T = { timeout: 90000 };
const CLAUDE_MS = 70000;
const TOOL = 'mcp__codex__codex';
const TURN_MS = 3000;
const uniq = () => `c${process.pid}x${Date.now().toString(36)}x${Math.random().toString(36).slice(2, 8)}`;

if (!serverExists()) {
  test('server binary exists', () => {
    assert.fail(`codexmcp binary not found at ${serverBin()} (build it or set CODEXMCP_BIN)`);
  });
}

const codex = sharedFakeCodex();
const tree = tempTree('codexmcp-e2e-claude-par-');

/**
 * One `claude -p "go"` run whose model first asks for two codex calls at
 * once (each a 3-s Codex turn), then says "done". codexmcp (started with
 * serverArgs) is Claude's only MCP server. Returns { code, stdout, stderr,
 * out, fake, uses: [{ id, marker }], turns: [{ marker, start, end }], wallMs, describe }.
 */
async function runClaudeTwoCalls(serverArgs) {
  const root = tree.dir('run');
  const home = path.join(root, 'home'); // Claude's HOME: fresh, no login, no settings
  const stateDir = path.join(root, 'state');
  const cd = path.join(root, 'proj');
  fs.mkdirSync(home);
  fs.mkdirSync(cd);
  const marker = `CODEXMCP_E2E_MARK=${root}`;
  const u = uniq();
  const uses = ['A', 'B'].map((n) => ({ marker: `turn${n}-${u}`, id: `toolu_par${n}_${u}` }));
  const fake = await startFakeAnthropic({
    script: [
      {
        tool_uses: uses.map((x) => ({
          id: x.id,
          name: TOOL,
          input: { PROMPT: `${x.marker} [[sleep:${TURN_MS}]] [[reply:answer ${x.marker}]]`, cd },
        })),
      },
      { text: 'done' },
    ],
  });

  // codexmcp's environment is given in full in the config (lib/claude.mjs);
  // Claude's is offline and quiet, pointed at the fake.
  const mcpConfig = writeMcpConfig(path.join(root, 'mcp.json'), {
    codexHome: codex.home,
    stateDir,
    mark: root,
    serverArgs,
    extraKeys: ['CODEXMCP_ENGINE'],
  });
  const env = claudeEnv(home, fake.url);
  const t0 = Date.now();
  try {
    const r = await runClaudePrint({ mcpConfig, tool: TOOL, env, cwd: home, timeoutMs: CLAUDE_MS });
    const wallMs = Date.now() - t0;
    const turns = uses.map((x) => {
      const reqs = codex.fake.requestsFor(x.marker);
      return { marker: x.marker, n: reqs.length, start: reqs[0]?.time, end: reqs.at(-1)?.endTime };
    });
    const describe = () =>
      `claude exit ${r.code}${r.signal ? ` (${r.signal})` : ''} after ${wallMs} ms\nstdout: ${r.stdout.slice(0, 1500)}\nstderr: ${r.stderr.slice(-1500)}\n` +
      `anthropic requests: ${fake.requests.map((q) => `${q.kind}${q.step !== undefined ? `#${q.step}` : ''} ${q.method} ${q.url}`).join(', ')}\n` +
      `codex turns: ${JSON.stringify(turns)}`;
    return { ...r, fake, uses, turns, wallMs, describe };
  } finally {
    await fake.close();
    await terminateWithEnv(marker);
  }
}

/** Checks common to both runs: both calls ran, both answers reached the model, and the conversation ended. */
function assertBothRan(run) {
  assert.equal(run.code, 0, run.describe());
  assert.ok(run.out && run.out.is_error === false && run.out.result === 'done', run.describe());
  const main = run.fake.main();
  assert.ok(main.length >= 2, `two main requests\n${run.describe()}`);
  for (const x of run.uses) {
    const tr = run.fake.toolResult(x.id);
    assert.ok(tr, `the model got a tool_result for ${x.id}\n${run.describe()}`);
    assert.ok(!tr.is_error, `tool_result ${x.id} is_error: ${tr.text.slice(0, 1000)}`);
    assert.match(tr.text, new RegExp(`answer ${x.marker}`), `tool_result ${x.id} carries codex's answer`);
    // Both results arrive together in the second main request.
    assert.ok(
      main[1].body.messages.some((m) => Array.isArray(m.content) && m.content.some((b) => b.type === 'tool_result' && b.tool_use_id === x.id)),
      `the second main request carries ${x.id}\n${run.describe()}`,
    );
  }
  for (const t of run.turns) {
    assert.equal(t.n, 1, `one model request for ${t.marker}\n${run.describe()}`);
    assert.ok(Number.isFinite(t.start) && Number.isFinite(t.end), `start and end of ${t.marker} recorded\n${run.describe()}`);
    assert.ok(t.end - t.start >= TURN_MS - 50, `${t.marker} was held ${t.end - t.start} ms`);
  }
}

/** { overlap (ms both were in flight), span (first start to last end) } of the two turns. */
function timing(turns) {
  const [a, b] = turns;
  return {
    overlap: Math.min(a.end, b.end) - Math.max(a.start, b.start),
    span: Math.max(a.end, b.end) - Math.min(a.start, b.start),
    startGap: Math.abs(a.start - b.start),
  };
}

// ---------------------------------------------------------------------------

test('--read-only: Claude Code runs two codex calls of one message at the same time (two 3-s turns in under 5 s)', T, async (t) => {
  const run = await runClaudeTwoCalls(['--read-only']);
  assertBothRan(run);
  const { overlap, span, startGap } = timing(run.turns);
  t.diagnostic(`--read-only: turns overlapped ${overlap} ms, span ${span} ms (start gap ${startGap} ms), claude ran ${run.wallMs} ms`);
  assert.ok(overlap > 0, `both Codex turns were in flight at once: overlap ${overlap} ms\n${run.describe()}`);
  assert.ok(span < 5000, `first turn start to last turn end ${span} ms (serial would be >= ${2 * TURN_MS} ms)\n${run.describe()}`);
});

test('control, without --read-only: Claude Code runs the two codex calls one after the other', T, async (t) => {
  const run = await runClaudeTwoCalls([]);
  assertBothRan(run);
  const { overlap, span, startGap } = timing(run.turns);
  t.diagnostic(`no --read-only: overlap ${overlap} ms, span ${span} ms (start gap ${startGap} ms), claude ran ${run.wallMs} ms`);
  assert.ok(overlap <= 0, `the turns must not overlap without --read-only: overlap ${overlap} ms\n${run.describe()}`);
  assert.ok(span >= 2 * TURN_MS, `serial span ${span} ms\n${run.describe()}`);
});
