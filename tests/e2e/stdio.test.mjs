// stdin and stdout as regular files, and a client that stops reading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rawServer, serverBin, withTimeout } from './lib/mcp.mjs';
import { isAlive, pollUntil } from './lib/procs.mjs';

const T = { timeout: 30000 };
const FAKE_CODEX = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'fake-codex.mjs');

function run(stdio, args = []) {
  const p = spawn(serverBin(), args, { stdio });
  let stderr = '';
  p.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => p.on('exit', (code, signal) => resolve({ code, signal, stderr: () => stderr })));
  return { p, exited };
}

test('stdin /dev/null and stdout a file: exits 0 with nothing written', T, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-stdio-'));
  try {
    for (let i = 0; i < 5; i++) {
      const out = path.join(dir, `out-${i}`);
      const { exited } = run([fs.openSync('/dev/null', 'r'), fs.openSync(out, 'w'), 'pipe']);
      const r = await withTimeout(exited, 10000, 'exit');
      assert.equal(r.code, 0, r.stderr());
      assert.equal(fs.readFileSync(out, 'utf8'), '');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('stdin and stdout both files: every reply written in order, exit 0', T, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-stdio-'));
  try {
    const reqs = path.join(dir, 'req.jsonl');
    const lines = [{ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25' } }];
    for (let i = 1; i <= 200; i++) lines.push({ jsonrpc: '2.0', id: i, method: i % 2 ? 'ping' : 'tools/list' });
    fs.writeFileSync(reqs, lines.map((l) => JSON.stringify(l)).join('\n')); // no final newline
    for (let i = 0; i < 5; i++) {
      const out = path.join(dir, `out-${i}`);
      const { exited } = run([fs.openSync(reqs, 'r'), fs.openSync(out, 'w'), 'pipe']);
      const r = await withTimeout(exited, 10000, 'exit');
      assert.equal(r.code, 0, r.stderr());
      const replies = fs.readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(replies.map((m) => m.id), lines.map((l) => l.id));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a client that stops reading stdout: a second SIGTERM still ends the server', T, async () => {
  const { p, exited } = run(['pipe', 'pipe', 'pipe']);
  // Never read stdout: replies pile up in the pipe and then in the server.
  p.stdout.pause();
  p.stdin.on('error', () => {});
  const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) + '\n';
  p.stdin.write(ping.repeat(20000));
  await new Promise((r) => setTimeout(r, 500));
  p.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(p.exitCode, null, 'still flushing after the first SIGTERM');
  p.kill('SIGTERM');
  const r = await withTimeout(exited, 5000, 'exit after the second SIGTERM');
  assert.equal(r.code, 1);
  p.stdout.destroy();
});

test('a client that stops reading: the server stops reading requests, then catches up in order', { timeout: 360000 }, async () => {
  const { p, exited } = run(['pipe', 'pipe', 'pipe']);
  p.stdin.on('error', () => {});
  p.stdout.pause();
  const send = (o) => p.stdin.write(JSON.stringify(o) + '\n');
  send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25' } });
  // Each tools/list reply is ~3 KB: 60,000 of them are ~200 MB of replies
  // for ~3.6 MB of requests. A server that kept reading would take them all.
  // Written in many pieces: writableLength only counts whole writes.
  const N = 60000;
  let inputBytes = 0;
  for (let i = 1; i <= N; i += 500) {
    let chunk = '';
    for (let k = i; k < i + 500 && k <= N; k++) chunk += JSON.stringify({ jsonrpc: '2.0', id: k, method: 'tools/list' }) + '\n';
    inputBytes += Buffer.byteLength(chunk);
    p.stdin.write(chunk);
  }
  // What the server has read, from the kernel's count of its reads.
  const readBytes = () => Number(/rchar:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p.pid}/io`, 'utf8'))[1]);
  // Wait until the server stops taking input (steady for 1 s, at most 20 s).
  let last = -1;
  let steadySince = Date.now();
  const t0 = Date.now();
  while (Date.now() - t0 < 20000 && Date.now() - steadySince < 1000) {
    await new Promise((r) => setTimeout(r, 100));
    const now = readBytes();
    if (now !== last) {
      last = now;
      steadySince = Date.now();
    }
  }
  // Most of the input was never read: the server paused.
  assert.ok(last < inputBytes / 2, `server kept reading: ${last} of ${inputBytes} bytes read`);
  // Now read everything: every reply arrives, in order.
  let buf = '';
  let next = 0;
  let done;
  const all = new Promise((r) => (done = r));
  p.stdout.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const msg = JSON.parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      assert.equal(msg.id, next, 'replies in order');
      next++;
      if (next > N) done();
    }
  });
  p.stdout.resume();
  // ~200 MB of replies: a minute or more under ASan on a loaded machine.
  await withTimeout(all, 300000, 'all replies');
  p.stdin.end();
  const r = await withTimeout(exited, 5000, 'exit');
  assert.equal(r.code, 0, r.stderr());
});

test('a request file with a codex call: the call is answered before the server exits', { timeout: 60000 }, async () => {
  const { startFakeResponses } = await import('./lib/fake-responses.mjs');
  const { codexBin, makeCodexHome, removeCodexHome, env } = await import('./lib/codex-env.mjs');
  const fake = await startFakeResponses();
  const home = makeCodexHome(fake.url);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-stdio-'));
  try {
    const reqs = path.join(dir, 'req.jsonl');
    fs.writeFileSync(reqs, [
      { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18' } },
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'codex', arguments: { PROMPT: '[[sleep:300]] from a file', cd: dir } } },
      { jsonrpc: '2.0', id: 2, method: 'ping' },
    ].map((l) => JSON.stringify(l)).join('\n') + '\n');
    const out = path.join(dir, 'out.jsonl');
    const p = spawn(serverBin(), ['--codex', codexBin()], { stdio: [fs.openSync(reqs, 'r'), fs.openSync(out, 'w'), 'pipe'], env: env(home) });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    const code = await withTimeout(new Promise((r) => p.on('exit', r)), 30000, 'exit');
    assert.equal(code, 0, stderr);
    const replies = fs.readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(replies.map((m) => m.id).sort(), [0, 1, 2]);
    const call = replies.find((m) => m.id === 1);
    assert.equal(call.result.structuredContent.success, true, JSON.stringify(call));
    assert.equal(call.result.structuredContent.agent_messages, '[[sleep:300]] from a file');
  } finally {
    await fake.close();
    removeCodexHome(home);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('bad options and environment values: a message on stderr and exit status 2', T, async () => {
  const cases = [
    [['--max-parallel', '0'], {}, /--max-parallel/],
    [['--max-parallel', 'many'], {}, /--max-parallel/],
    [['--timeout', '-1'], {}, /--timeout/],
    [['--idle-timeout', 'soon'], {}, /--idle-timeout/],
    [['--kill-grace', '1.5'], {}, /--kill-grace/],
    [['--max-line-bytes', '10'], {}, /--max-line-bytes/],
    [['--log-level', 'loud'], {}, /--log-level/],
    [['--timeout'], {}, /needs a value/],
    [['stray'], {}, /unexpected argument 'stray'/],
    [[], { CODEXMCP_MAX_PARALLEL: '0' }, /CODEXMCP_MAX_PARALLEL/],
    [[], { CODEXMCP_TIMEOUT: 'x' }, /CODEXMCP_TIMEOUT/],
    [[], { CODEXMCP_IDLE_TIMEOUT: '-2' }, /CODEXMCP_IDLE_TIMEOUT/],
  ];
  for (const [args, extra, want] of cases) {
    const p = spawn(serverBin(), args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...extra } });
    let stderr = '';
    let stdout = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.stdout.on('data', (d) => (stdout += d));
    const code = await withTimeout(new Promise((r) => p.on('exit', r)), 5000, `exit for ${args.join(' ')}`);
    assert.equal(code, 2, `${JSON.stringify(args)} ${JSON.stringify(extra)}: exit ${code}`);
    assert.match(stderr, want);
    assert.equal(stdout, '', 'nothing on stdout');
  }
});

test('a client that stops reading while codex floods events: codex waits, a cancel gets through, progress is coalesced', { timeout: 180000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-stdio-'));
  const countFile = path.join(dir, 'count');
  const pidFile = path.join(dir, 'pid');
  const N = 1000000;
  const srv = rawServer(['--codex', FAKE_CODEX], {
    ...process.env,
    FAKE_CODEX_MODE: 'flood',
    FAKE_CODEX_EVENTS: String(N),
    FAKE_CODEX_COUNT_FILE: countFile,
    FAKE_CODEX_PID_FILE: pidFile,
  });
  try {
    await srv.initialize();
    await srv.sendJson({
      jsonrpc: '2.0',
      id: 'flood',
      method: 'tools/call',
      params: { name: 'codex', arguments: { PROMPT: 'flood', cd: dir, return_all_messages: true }, _meta: { progressToken: 'ft' } },
    });
    srv.child.stdout.pause();
    const written = () => (fs.existsSync(countFile) ? Number(fs.readFileSync(countFile, 'utf8') || 0) : 0);
    // Wait until codex stops getting its events out (steady for 1.5 s), or it wrote them all.
    let last = -1;
    let steadySince = Date.now();
    const t0 = Date.now();
    while (Date.now() - t0 < 90000 && Date.now() - steadySince < 1500 && last < N) {
      await new Promise((r) => setTimeout(r, 100));
      const now = written();
      if (now !== last) [last, steadySince] = [now, Date.now()];
    }
    assert.ok(last > 0 && last < N / 10, `codex wrote ${last} of ${N} events while the client read nothing`);
    const status = fs.readFileSync(`/proc/${srv.pid}/status`, 'utf8');
    t.diagnostic(`held at ${last} events; server ${/VmHWM:\s+\d+ kB/.exec(status)[0]}`);
    // The client cancels while it is still behind: codex ends now, not when it reads again.
    const fakePid = Number(fs.readFileSync(pidFile, 'utf8'));
    await srv.sendJson({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'flood', reason: 'stop' } });
    const gone = await pollUntil(() => !isAlive(fakePid), 10000);
    assert.ok(gone.ok, 'codex still running after the cancel');
    // It reads again: what was queued arrives, no reply for the cancelled call, the server answers.
    srv.child.stdout.resume();
    await srv.ping(30000);
    assert.equal(await srv.expectSilence(500), null);
    assert.ok(!srv.others.some((m) => m.id === 'flood'), 'a cancelled call is never answered');
    const progress = srv.notifications.filter((m) => m.method === 'notifications/progress');
    assert.ok(progress.length > 0 && progress.length < last, `${progress.length} progress notifications for ${last} events`);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i].params.progress > progress[i - 1].params.progress);
  } finally {
    await srv.dispose();
    if (fs.existsSync(pidFile)) try { process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL'); } catch {}
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('stdout a regular file and a result over the 4 MiB mark: every reply written once, exit 0', T, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-stdio-'));
  try {
    const reqs = path.join(dir, 'req.jsonl');
    const call = (id, PROMPT, token) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'codex', arguments: { PROMPT, cd: dir }, _meta: { progressToken: token } } });
    fs.writeFileSync(reqs, [
      { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18' } },
      // A result of about 10 MiB: the client is "behind" until the file write is done.
      call(1, 'big [[quotes:2500000]]', 'p1'),
      call(2, 'small', 'p2'),
    ].map((l) => JSON.stringify(l)).join('\n') + '\n');
    const out = path.join(dir, 'out.jsonl');
    const { exited } = run([fs.openSync(reqs, 'r'), fs.openSync(out, 'w'), 'pipe'], ['--codex', FAKE_CODEX, '--max-parallel', '1', '--max-result-chars', '10000000']);
    const r = await withTimeout(exited, 20000, 'exit');
    assert.equal(r.code, 0, r.stderr());
    const msgs = fs.readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    const replies = msgs.filter((m) => m.id !== undefined).map((m) => m.id).sort();
    assert.deepEqual(replies, [0, 1, 2]);
    const started = msgs.filter((m) => m.method === 'notifications/progress' && m.params.message.startsWith('started codex'));
    assert.deepEqual(started.map((m) => m.params.progressToken).sort(), ['p1', 'p2'], 'each progress line written once');
    // Kept: the end of the message (1 MiB), its cut marked.
    assert.match(msgs.find((m) => m.id === 1).result.structuredContent.agent_messages, /^\[codexmcp: the first \d+ bytes of this message are not kept; the full text is in \/\S+\.jsonl\]\n"{1048576}$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--idle-timeout does not fire while codex waits on a client that is behind', { timeout: 120000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-stdio-'));
  const srv = rawServer(['--codex', FAKE_CODEX, '--idle-timeout', '2'], { ...process.env, FAKE_CODEX_MODE: 'flood', FAKE_CODEX_EVENTS: '150000' });
  try {
    await srv.initialize();
    srv.child.stdout.pause();
    await srv.sendJson({ jsonrpc: '2.0', id: 'idle', method: 'tools/call', params: { name: 'codex', arguments: { PROMPT: 'flood', cd: dir }, _meta: { progressToken: 'i' } } });
    // Codex is held back far longer than the idle limit.
    await new Promise((r) => setTimeout(r, 6000));
    srv.child.stdout.resume();
    const reply = await srv.request({ jsonrpc: '2.0', id: 'after', method: 'ping' }, 60000).then(() => {
      const r = srv.others.find((m) => m.id === 'idle');
      return r ?? srv.nextReply(60000).then((x) => x.msg);
    });
    const obj = JSON.parse(reply.result.content[0].text);
    assert.equal(obj.success, true, obj.error);
  } finally {
    await srv.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a client that catches up and falls behind again at once: codex is still held back', { timeout: 120000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-stdio-'));
  const countFile = path.join(dir, 'count');
  const N = 400000;
  const srv = rawServer(['--codex', FAKE_CODEX], { ...process.env, FAKE_CODEX_MODE: 'flood', FAKE_CODEX_EVENTS: String(N), FAKE_CODEX_COUNT_FILE: countFile });
  try {
    await srv.initialize();
    const n0 = srv.rawLines.length;
    // A 5 MiB progress token: every progress line puts the client behind, and
    // sending the one held while it was behind puts it behind again.
    await srv.sendJson({ jsonrpc: '2.0', id: 'big', method: 'tools/call', params: { name: 'codex', arguments: { PROMPT: 'flood', cd: dir }, _meta: { progressToken: 'T'.repeat(5 << 20) } } });
    while (srv.rawLines.length < n0 + 2) await new Promise((r) => setTimeout(r, 5));
    srv.child.stdout.pause();
    await new Promise((r) => setTimeout(r, 5000));
    const written = Number(fs.readFileSync(countFile, 'utf8'));
    assert.ok(written < N / 10, `codex wrote ${written} of ${N} events while the client read nothing`);
  } finally {
    await srv.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
