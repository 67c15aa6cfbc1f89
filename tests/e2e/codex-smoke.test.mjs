// Proves the real codex CLI works against the fake Responses server, without codexmcp.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFakeResponses } from './lib/fake-responses.mjs';
import { codexBin, makeCodexHome, removeCodexHome, env } from './lib/codex-env.mjs';

let fake;
const homes = [];
let workdir;

before(async () => {
  fake = await startFakeResponses();
  workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-e2e-cwd-'));
});
after(async () => {
  await fake?.close();
  for (const h of homes) removeCodexHome(h);
  if (workdir) fs.rmSync(workdir, { recursive: true, force: true });
});

/** Run `codex exec --json --skip-git-repo-check [extra] -` with prompt on stdin. */
async function runCodex(prompt, { extra = [], home, timeoutMs = 30000 } = {}) {
  if (!home) {
    home = makeCodexHome(fake.url);
    homes.push(home);
  }
  const child = spawn(codexBin(), ['exec', '--json', '--skip-git-repo-check', ...extra, '-'], {
    env: env(home),
    cwd: workdir,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(prompt);
  let timer;
  const result = await new Promise((resolve) => {
    timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(timer);
  const events = stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  return { ...result, stdout, stderr, events, home };
}

const items = (events, type) =>
  events.filter((e) => e.type === 'item.completed' && e.item?.type === type).map((e) => e.item);

function assertCompleted(r) {
  assert.equal(r.code, 0, `codex exit code; stderr:\n${r.stderr}\nstdout:\n${r.stdout}`);
  assert.equal(r.events[0]?.type, 'thread.started', r.stdout);
  assert.match(r.events[0].thread_id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(r.events.at(-1)?.type, 'turn.completed', r.stdout);
}

test('codex binary resolves to the native executable', () => {
  const bin = codexBin();
  assert.ok(path.isAbsolute(bin));
  assert.ok(fs.statSync(bin).isFile());
  // Native binary: ELF (or Mach-O), not a node script.
  const head = fs.readFileSync(bin).subarray(0, 4);
  assert.ok(head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])) || head.readUInt32LE(0) === 0xfeedfacf, 'native binary');
});

test('plain prompt is echoed byte for byte', async () => {
  const prompt = `-leading dash "double" 'single' $HOME \`backtick\` \\ back\nsecond line\tTab — ünïcödé 日本語 🚀\n\nend`;
  const r = await runCodex(prompt);
  assertCompleted(r);
  const msgs = items(r.events, 'agent_message');
  assert.equal(msgs.length, 1);
  assert.equal(msgs[0].text, prompt);
  // The fake saw exactly this prompt as the last real user message.
  const reqs = fake.requests.filter((q) => q.prompt === prompt);
  assert.equal(reqs.length, 1);
  assert.equal(reqs[0].body.stream, true);
});

test('[[shell:echo hi]] gives a command_execution item', async () => {
  const r = await runCodex('run it [[shell:echo hi]]');
  assertCompleted(r);
  const started = r.events.filter((e) => e.type === 'item.started' && e.item?.type === 'command_execution');
  assert.equal(started.length, 1);
  const cmds = items(r.events, 'command_execution');
  assert.equal(cmds.length, 1);
  assert.match(cmds[0].command, /echo hi/);
  assert.equal(cmds[0].exit_code, 0);
  assert.equal(cmds[0].status, 'completed');
  assert.match(cmds[0].aggregated_output, /(^|\n)hi\n/);
  const msgs = items(r.events, 'agent_message');
  assert.equal(msgs.at(-1).text, 'shell done: hi');
  assert.equal(fake.requestsFor('run it [[shell:echo hi]]').length, 2);
});

test('[[reason:thinking hard]] gives a reasoning item', async () => {
  const r = await runCodex('please [[reason:thinking hard]]');
  assertCompleted(r);
  const reasoning = items(r.events, 'reasoning');
  assert.equal(reasoning.length, 1);
  assert.equal(reasoning[0].text, 'thinking hard');
  assert.equal(items(r.events, 'agent_message').at(-1).text, 'reasoned');
});

test('[[multi]] and [[reply:…]] and [[usage]]', async () => {
  const r = await runCodex('two [[multi]] [[usage]]');
  assertCompleted(r);
  assert.deepEqual(items(r.events, 'agent_message').map((m) => m.text), ['part one', 'part two']);
  const usage = r.events.at(-1).usage;
  assert.equal(usage.input_tokens, 120);
  assert.equal(usage.cached_input_tokens, 20);
  assert.equal(usage.output_tokens, 7);

  const r2 = await runCodex('x [[reply:custom answer]]');
  assertCompleted(r2);
  assert.equal(items(r2.events, 'agent_message').at(-1).text, 'custom answer');
});

test('exec resume sees the earlier turn via [[history]]', async () => {
  const first = await runCodex('first turn prompt');
  assertCompleted(first);
  const id = first.events[0].thread_id;
  const second = await runCodex('second turn [[history]]', { home: first.home, extra: ['resume', id] });
  assertCompleted(second);
  assert.equal(second.events[0].thread_id, id);
  assert.equal(items(second.events, 'agent_message').at(-1).text, 'first turn prompt | second turn [[history]]');
});

test('[[fail5xx:1]] is retried and recovers; [[fail400]] fails the turn', async () => {
  const r = await runCodex('flaky [[fail5xx:1]]');
  assertCompleted(r);
  assert.ok(r.events.some((e) => e.type === 'error' && /^Reconnecting\.\.\. 1\/2/.test(e.message)), r.stdout);
  assert.equal(items(r.events, 'agent_message').at(-1).text, 'recovered after 1');

  const f = await runCodex('broken [[fail400]]');
  assert.equal(f.code, 1, f.stderr);
  const failed = f.events.at(-1);
  assert.equal(failed.type, 'turn.failed');
  assert.match(failed.error.message, /fake permanent failure/);
});

test('[[stall]] never completes; fake close() ends it', async () => {
  const local = await startFakeResponses();
  const home = makeCodexHome(local.url, { streamMaxRetries: 0 });
  homes.push(home);
  const child = spawn(codexBin(), ['exec', '--json', '--skip-git-repo-check', '-'], { env: env(home), cwd: workdir });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.resume();
  child.stdin.end('wait [[stall]]');
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  try {
    // Wait until the fake got the request, then check codex is still running.
    const t0 = Date.now();
    while (local.requests.length === 0 && Date.now() - t0 < 15000) await new Promise((r) => setTimeout(r, 50));
    assert.equal(local.requests.length, 1, 'request reached the fake');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(child.exitCode, null, 'codex still running while stalled');
    assert.ok(!/turn\.(completed|failed)/.test(stdout));
    await local.close(); // destroys the stalled socket → codex fails the turn (no retries)
    let timer;
    const res = await Promise.race([
      exited,
      new Promise((r) => (timer = setTimeout(() => r('timeout'), 15000))),
    ]);
    clearTimeout(timer);
    assert.notEqual(res, 'timeout', 'codex exits after the stream is cut');
    assert.match(stdout, /turn\.failed/);
  } finally {
    child.kill('SIGKILL');
    await local.close();
  }
});
