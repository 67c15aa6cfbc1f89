// make demo: codexmcp's main job end to end, offline.
// A fake OpenAI Responses endpoint on 127.0.0.1 stands in for the model;
// everything else is real: the Codex CLI (npm @openai/codex, pinned in
// tests/e2e), codexmcp, and the official MCP TypeScript SDK as the client.
// It runs two turns on one SESSION_ID, one traced call (progress and
// all_messages), three questions fanned out in the background, a bad call, a big turn cut to fit
// the client, a review of an uncommitted change, and finds the sessions again
// in the registry; and prints what happened.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFakeResponses } from '../tests/e2e/lib/fake-responses.mjs';
import { codexBin, makeCodexHome, removeCodexHome, env } from '../tests/e2e/lib/codex-env.mjs';
import { connectSdk, serverBin } from '../tests/e2e/lib/mcp.mjs';

const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const say = (s = '') => console.log(s);
const short = (s, n = 100) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

function result(r) {
  const obj = JSON.parse(r.content[0].text);
  if (!obj.success) throw new Error(`call failed: ${obj.error}`);
  return obj;
}

async function main() {
  const fake = await startFakeResponses();
  const home = makeCodexHome(fake.url);
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-demo-project-'));
  fs.writeFileSync(path.join(project, 'README.md'), '# demo project\n');
  const git = (...args) => execFileSync('git', ['-c', 'user.name=demo', '-c', 'user.email=demo@example.com', ...args], { cwd: project, stdio: 'pipe' });
  git('init', '-q', '-b', 'main');
  git('add', 'README.md');
  git('commit', '-q', '-m', 'initial commit');
  const stateDir = path.join(project, '.state');
  fs.writeFileSync(path.join(project, '.gitignore'), '.state/\n');
  const srv = await connectSdk(['--codex', codexBin(), '--state-dir', stateDir], env(home), { name: 'codexmcp-demo' });
  const { client } = srv;
  const t0 = Date.now();
  try {
    say(bold('codexmcp demo') + dim(`  (server ${serverBin()}, codex ${codexBin().split('/node_modules/')[1] ?? codexBin()})`));
    say(dim(`fake Responses endpoint ${fake.url}; project ${project}`));
    const info = client.getServerVersion();
    say(`connected to ${info.name} ${info.version}, protocol ${client.transport?.protocolVersion ?? '2025-11-25'}`);
    const { tools } = await client.listTools();
    say(`tools: ${tools.map((t) => t.name).join(', ')}  (parameters: ${Object.keys(tools[0].inputSchema.properties).join(', ')})`);

    say('\n' + bold('1. Two turns on one session'));
    let r = result(await client.callTool({ name: 'codex', arguments: { PROMPT: 'Remember the word "pelican".', cd: project } }));
    say(`  turn 1 → SESSION_ID ${r.SESSION_ID}`);
    say(`           agent: ${short(r.agent_messages)}`);
    const sid = r.SESSION_ID;
    r = result(await client.callTool({ name: 'codex', arguments: { PROMPT: '[[history]] Which word did I ask you to remember?', cd: project, SESSION_ID: sid } }));
    say(`  turn 2 → SESSION_ID ${r.SESSION_ID} ${r.SESSION_ID === sid ? '(same session)' : '(DIFFERENT!)'}`);
    say(`           agent (the fake lists the prompts it was sent): ${short(r.agent_messages, 140)}`);

    say('\n' + bold('2. A traced call: progress while Codex works, every event in all_messages'));
    const progress = [];
    r = result(await client.callTool(
      { name: 'codex', arguments: { PROMPT: '[[shell:ls]] List the project files.', cd: project, return_all_messages: true } },
      undefined,
      { onprogress: (p) => progress.push(p) },
    ));
    for (const p of progress) say(`  progress ${String(p.progress).padStart(2)}: ${p.message}`);
    say(`  all_messages: ${r.all_messages.map((e) => e.type + (e.item ? `(${e.item.type})` : '')).join(' → ')}`);
    say(`  agent: ${short(r.agent_messages)}`);

    say('\n' + bold('3. Three questions at once: each started with wait_s 0, then one codex_wait'));
    const started = Date.now();
    const tasks = [];
    for (const name of ['alpha', 'beta', 'gamma']) {
      const r0 = result(await client.callTool({ name: 'codex', arguments: { PROMPT: `[[sleep:500]] [[reply:${name} done]]`, cd: project, wait_s: 0 } }));
      say(`  ${name.padEnd(5)} → ${r0.status} after ${Date.now() - started} ms: task ${String(r0.task).slice(0, 8)}…, session ${r0.SESSION_ID.slice(0, 13)}…`);
      tasks.push(r0.task);
    }
    const all = result(await client.callTool({ name: 'codex_wait', arguments: { task: tasks, wait_s: 60 } }));
    for (const t of all.tasks) say(`  task ${t.task.slice(0, 8)}… ${t.status}: "${t.agent_messages}"`);
    say(`  all three done in ${Date.now() - started} ms (each waits 500 ms at the model: they ran side by side)`);

    say('\n' + bold('4. A clear error'));
    const bad = await client.callTool({ name: 'codex', arguments: { PROMPT: 'hi', cd: '/no/such/dir' } });
    say(`  isError ${bad.isError}: ${JSON.parse(bad.content[0].text).error}`);

    say('\n' + bold('5. A big turn, cut to fit the client, with everything in its transcript'));
    const big = await client.callTool({ name: 'codex', arguments: { PROMPT: '[[shell:seq 1 300000]] Count to 300000.', cd: project, return_all_messages: true } });
    r = result(big);
    say(`  result: ${big.content[0].text.length} characters (budget 48000); trimmed: ${short(r.trimmed, 90)}`);
    const cut = r.all_messages.find((e) => e.item?.type === 'command_execution' && e.item.aggregated_output?.includes('[codexmcp:'));
    if (cut) {
      const out = cut.item.aggregated_output.replace(/\n/g, ' ');
      const at = out.indexOf('[codexmcp:');
      say(`  command output: ${out.slice(0, 40)}… ${short(out.slice(at, out.indexOf(']', at) + 1), 80)} …${out.slice(-40)}`);
    }
    say(`  transcript: ${r.transcript} (${fs.statSync(r.transcript).size} bytes, every event in full)`);

    say('\n' + bold('6. Codex reviews an uncommitted change (codex_review)'));
    fs.writeFileSync(path.join(project, 'README.md'), '# demo project\nNow with a second line.\n');
    r = result(await client.callTool({ name: 'codex_review', arguments: { cd: project, uncommitted: true } }));
    for (const line of r.agent_messages.split('\n').filter(Boolean)) say(`  ${short(line, 120)}`);

    say('\n' + bold('7. Finding a session again (codex_sessions), e.g. after a restart'));
    r = result(await client.callTool({ name: 'codex_sessions', arguments: { cd: project, limit: 4 } }));
    for (const x of r.sessions) say(`  ${x.SESSION_ID.slice(0, 13)}…  ${x.tool.padEnd(12)} ${String(x.turns).padStart(1)} turn(s)  ${x.last_status.padEnd(9)}  "${short(x.title, 50)}"`);
    const { prompts } = await client.listPrompts();
    say(`  prompts (slash commands in Claude Code): ${prompts.map((p) => p.name).join(', ')}`);

    say('\n' + bold('8. From a terminal: codexmcp ps and codexmcp log'));
    const cli = (...args) => execFileSync(serverBin(), [...args, '--state-dir', stateDir, '--color', 'never'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const ps = cli('ps', '-n', '4').trimEnd().split('\n');
    for (const line of ps) say(`  ${short(line, 150)}`);
    say(dim(`  $ codexmcp log ${sid.slice(0, 13)}   (the start of a SESSION_ID will do)`));
    for (const line of cli('log', sid.slice(0, 13)).trimEnd().split('\n')) say(`  ${short(line, 120)}`);

    say(`\n${bold('done')} in ${Date.now() - t0} ms; ${fake.requests.length} model requests served by the fake endpoint.`);
    say(dim('Real use needs only a logged-in Codex CLI (`codex login`); see README.md.'));
  } finally {
    await srv.close();
    await fake.close();
    removeCodexHome(home);
    fs.rmSync(project, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`demo failed: ${err.stack || err}`);
  process.exit(1);
});
