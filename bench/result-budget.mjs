// What the result budget gives a client's model, in tokens (limits.h:
// BUDGET_*). Runs big turns through codexmcp, with a stand-in codex that
// prints a prepared event stream, for each kind of text a real turn
// produces (source code, a diff, build and test logs, numbers), and counts
// the tokens of the result the client receives:
//   - as Claude Code (clientInfo claude-code, default budget), with
//     Anthropic's tokenizer (@anthropic-ai/tokenizer; Claude Code's cap is
//     25,000 tokens, MAX_MCP_OUTPUT_TOKENS);
//   - as Codex (clientInfo codex-mcp-client), in bytes (Codex cuts results
//     at about 10 KiB) and in o200k tokens (gpt-tokenizer).
// Usage: node bench/result-budget.mjs
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { connectSdk } from '../tests/e2e/lib/mcp.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const require = createRequire(path.join(root, 'tests', 'e2e', 'package.json'));
const { countTokens } = require('@anthropic-ai/tokenizer');
const { encode } = require('gpt-tokenizer/model/gpt-4o');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-budget-'));

function sources() {
  let text = '';
  for (const f of fs.readdirSync(path.join(root, 'src')).sort()) text += fs.readFileSync(path.join(root, 'src', f), 'utf8');
  return text;
}

function diff(code) {
  const lines = code.split('\n');
  let out = 'diff --git a/src/all.c b/src/all.c\n--- a/src/all.c\n+++ b/src/all.c\n';
  for (let i = 0; i < lines.length; i++) {
    if (i % 40 === 0) out += `@@ -${i + 1},40 +${i + 1},41 @@\n`;
    out += (i % 7 === 3 ? '-' : i % 7 === 4 ? '+' : ' ') + lines[i] + '\n';
  }
  return out;
}

function buildLog() {
  let out = '';
  for (let i = 0; out.length < 1200000; i++) {
    const f = `src/module_${i % 97}.c`;
    out += i % 5 === 0
      ? `${f}:${(i * 37) % 900}:${i % 80}: warning: unused variable 'tmp_${i}' [-Wunused-variable]\n`
      : `cc -std=c11 -O2 -g -Wall -Wextra -c ${f} -o build/obj/module_${i % 97}.o\n`;
    if (i % 11 === 0) out += `tests/test_${i % 31}.py::test_case_${i} ${i % 13 === 0 ? 'FAILED' : 'PASSED'} [${i % 100}%]\n`;
  }
  return out;
}

function numbers() {
  let out = '';
  for (let i = 1; out.length < 1200000; i++) out += `${i}\n`;
  return out;
}

// One turn: a command whose output is `output`, and an answer `answer`.
function stream(output, answer) {
  const id = '01a20a0c-0000-7000-8000-00000000b0d9';
  const cmd = { id: 'item_1', type: 'command_execution', command: "/bin/bash -lc 'make test'", aggregated_output: '', exit_code: null, status: 'in_progress' };
  return [
    { type: 'thread.started', thread_id: id },
    { type: 'turn.started' },
    { type: 'item.completed', item: { id: 'item_0', type: 'reasoning', text: '**Running the tests**' } },
    { type: 'item.started', item: cmd },
    { type: 'item.completed', item: { ...cmd, aggregated_output: output, exit_code: 0, status: 'completed' } },
    { type: 'item.completed', item: { id: 'item_2', type: 'agent_message', text: answer } },
    { type: 'turn.completed', usage: { input_tokens: 1000, cached_input_tokens: 0, output_tokens: 100, reasoning_output_tokens: 0 } },
  ].map((e) => JSON.stringify(e)).join('\n') + '\n';
}

function fakeCodex(name, jsonl) {
  const data = path.join(tmp, `${name}.jsonl`);
  fs.writeFileSync(data, jsonl);
  const script = path.join(tmp, `${name}.sh`);
  fs.writeFileSync(script, `#!/bin/sh\ncat >/dev/null\ncat '${data}'\n`, { mode: 0o755 });
  return script;
}

async function result(codex, client) {
  const sdk = await connectSdk(['--codex', codex, '--state-dir', path.join(tmp, 'state')], process.env, { name: client });
  try {
    const res = await sdk.client.callTool({ name: 'codex', arguments: { PROMPT: 'go', cd: tmp, return_all_messages: true } });
    return res.content[0].text;
  } finally {
    await sdk.close();
  }
}

const code = sources();
const kinds = {
  'code (answer: source, output: a diff)': stream(diff(code).repeat(3), code.repeat(3)),
  'logs (answer: a log, output: a build log)': stream(buildLog(), buildLog().slice(0, 500000)),
  'numbers (answer: numbers, output: seq)': stream(numbers(), numbers().slice(0, 500000)),
};

console.log('kind | client | characters | bytes | tokens | characters per token');
for (const [kind, jsonl] of Object.entries(kinds)) {
  const codex = fakeCodex(kind.split(' ')[0], jsonl);
  const claude = await result(codex, 'claude-code');
  const t = countTokens(claude);
  console.log(`${kind} | Claude Code | ${claude.length} | ${Buffer.byteLength(claude)} | ${t} (Anthropic) | ${(claude.length / t).toFixed(2)}`);
  const cx = await result(codex, 'codex-mcp-client');
  const o = encode(cx).length;
  console.log(`${kind} | Codex | ${cx.length} | ${Buffer.byteLength(cx)} | ${o} (o200k) | ${(cx.length / o).toFixed(2)}`);
}
fs.rmSync(tmp, { recursive: true, force: true });
