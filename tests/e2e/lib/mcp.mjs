// Helpers to start the codexmcp server binary, via the MCP SDK or raw pipes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..', '..');

/** Path of the server binary: $CODEXMCP_BIN or <repo>/build/codexmcp. */
export function serverBin() {
  return process.env.CODEXMCP_BIN ? path.resolve(process.env.CODEXMCP_BIN) : path.join(repoRoot, 'build', 'codexmcp');
}

export function serverExists() {
  try {
    fs.accessSync(serverBin(), fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Reject after ms with a descriptive error (the timer does not keep the loop alive). */
export function withTimeout(promise, ms, what = 'operation') {
  let t;
  const timeout = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`timeout after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(t));
}

/**
 * Connect an SDK Client to the server over stdio.
 * Returns { client, transport, stderr(): string, close() }.
 */
export async function connectSdk(args = [], env = process.env, { name = 'e2e', timeoutMs = 10000, capabilities = {}, command = serverBin() } = {}) {
  const transport = new StdioClientTransport({
    command,
    args,
    env,
    stderr: 'pipe',
  });
  let stderrText = '';
  // The stderr stream exists before start() when stderr: 'pipe'.
  transport.stderr?.on('data', (d) => {
    stderrText += d.toString('utf8');
  });
  const client = new Client({ name, version: '0.0.0' }, { capabilities });
  try {
    await withTimeout(client.connect(transport), timeoutMs, 'SDK connect/initialize');
  } catch (err) {
    // Else a server that answered too late would hold the test file open.
    await transport.close().catch(() => {});
    throw err;
  }
  return {
    client,
    transport,
    stderr: () => stderrText,
    pid: transport.pid,
    async close() {
      try {
        await withTimeout(client.close(), 5000, 'SDK close');
      } catch {}
    },
  };
}

/**
 * fn() on a connectSdk() connection; if it throws, the server's stderr
 * (tail) is added to the error; the connection is closed after either way.
 */
export async function usingSdk(sdk, fn) {
  try {
    return await fn();
  } catch (err) {
    err.message += `\n--- server stderr (tail) ---\n${sdk.stderr().slice(-3000)}`;
    throw err;
  } finally {
    await sdk.close();
  }
}

/**
 * Spawn the server with raw pipes.
 * opts: { stdin?: 'pipe' | fd number, cwd?, wrap?: a command that execs the
 * server (its path and args are appended), e.g. `unshare -m sh -c …` }.
 * Returns an object with send/next/request/notifications/closeStdin/exited/stderr/kill.
 */
export function rawServer(args = [], env = process.env, opts = {}) {
  const [command, ...pre] = [...(opts.wrap ?? []), serverBin()];
  const child = spawn(command, [...pre, ...args], {
    env,
    cwd: opts.cwd,
    stdio: [opts.stdin ?? 'pipe', 'pipe', 'pipe'],
  });
  const lines = []; // raw text lines not yet consumed by next()
  const waiters = []; // pending next() resolvers
  const replies = new Map(); // id key -> parsed reply (for request())
  const replyWaiters = new Map(); // id key -> resolver
  let buf = Buffer.alloc(0);
  let stdoutEnded = false;

  const srv = {
    child,
    pid: child.pid,
    stderr: '',
    stdout: '', // every byte received on stdout (for raw-text assertions)
    /** Raw text of every line received on stdout. */
    rawLines: [],
    /** Notifications seen by request() while waiting for replies. */
    notifications: [],
    /** Messages received by request() that matched no outstanding id. */
    others: [],
    exited: null,
  };

  srv.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    // Spawn failure (e.g. ENOENT): no 'exit' event follows.
    child.on('error', (err) => {
      srv.stderr += `\n[spawn error] ${err.message}`;
      if (child.pid === undefined) resolve({ code: null, signal: null, error: err });
    });
  });
  /** Resolves after exit AND after stdout/stderr closed (all output received). */
  srv.closed = new Promise((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
    child.on('error', (err) => {
      if (child.pid === undefined) resolve({ code: null, signal: null, error: err });
    });
  });
  child.stderr.on('data', (d) => {
    srv.stderr += d.toString('utf8');
  });
  child.stdout.on('data', (d) => {
    srv.stdout += d.toString('utf8');
    buf = Buffer.concat([buf, d]);
    let nl;
    while ((nl = buf.indexOf(0x0a)) >= 0) {
      const line = buf.subarray(0, nl).toString('utf8');
      buf = buf.subarray(nl + 1);
      srv.rawLines.push(line);
      deliver(line);
    }
  });
  child.stdout.on('end', () => {
    stdoutEnded = true;
    for (const w of waiters.splice(0)) w.reject(new Error(`server stdout ended; stderr:\n${srv.stderr}`));
  });
  child.stdin?.on('error', () => {}); // EPIPE after the server exits

  function deliver(line) {
    if (waiters.length) waiters.shift().resolve(line);
    else lines.push(line);
  }

  function parse(line) {
    try {
      return JSON.parse(line);
    } catch (e) {
      throw new Error(`server wrote a non-JSON stdout line: ${JSON.stringify(line.slice(0, 300))}`);
    }
  }

  /** Next raw stdout line (string, without "\n"). */
  srv.nextRaw = function nextRaw(timeoutMs = 5000) {
    if (lines.length) return Promise.resolve(lines.shift());
    if (stdoutEnded) return Promise.reject(new Error(`server stdout ended; stderr:\n${srv.stderr}`));
    let entry;
    const p = new Promise((resolve, reject) => {
      entry = { resolve, reject };
      waiters.push(entry);
    });
    return withTimeout(p, timeoutMs, 'a stdout line').catch((err) => {
      const i = waiters.indexOf(entry);
      if (i >= 0) waiters.splice(i, 1);
      throw err;
    });
  };

  /** Next parsed JSON message from stdout. */
  srv.next = async function next(timeoutMs = 5000) {
    return parse(await srv.nextRaw(timeoutMs));
  };

  /** Write raw bytes (string or Buffer); the caller adds "\n". */
  srv.send = function send(data) {
    return new Promise((resolve, reject) => {
      child.stdin.write(data, (err) => (err ? reject(err) : resolve()));
    });
  };

  /**
   * Next message that is not a notification (notifications go to
   * srv.notifications). Resolves { msg, raw } — raw is the line text.
   */
  srv.nextReply = async function nextReply(timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for a reply; stderr:\n${srv.stderr}`);
      const line = await srv.nextRaw(left);
      const msg = parse(line);
      if (msg && !Array.isArray(msg) && typeof msg === 'object' && msg.method !== undefined && msg.id === undefined) {
        srv.notifications.push(msg);
        continue;
      }
      return { msg, raw: line };
    }
  };

  /** Send one JSON message followed by "\n". */
  srv.sendJson = function sendJson(obj) {
    return srv.send(JSON.stringify(obj) + '\n');
  };

  /**
   * Send a request object (must have an id) and resolve with its reply, read
   * through next(); notifications are collected in srv.notifications.
   * opts.raw: resolve with { msg, raw } where raw is the reply line text.
   */
  srv.request = async function request(obj, timeoutMs = 5000, { raw = false } = {}) {
    const key = JSON.stringify(obj.id);
    await srv.send(JSON.stringify(obj) + '\n');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for reply to ${key}; stderr:\n${srv.stderr}`);
      const line = await srv.nextRaw(left).catch((e) => {
        throw new Error(`${e.message} (reply to id ${key}); stderr:\n${srv.stderr}`);
      });
      const msg = parse(line);
      if (msg && !Array.isArray(msg) && msg.method !== undefined && msg.id === undefined) {
        srv.notifications.push(msg);
        continue;
      }
      if (msg && !Array.isArray(msg) && JSON.stringify(msg.id) === key && ('result' in msg || 'error' in msg)) {
        return raw ? { msg, raw: line } : msg;
      }
      srv.others.push(msg);
    }
  };

  let autoId = 1_000_000;
  /** ping and assert the reply; returns the reply. */
  srv.ping = async function ping(timeoutMs = 5000) {
    const id = `ping-${autoId++}`;
    const r = await srv.request({ jsonrpc: '2.0', id, method: 'ping' }, timeoutMs);
    if (!r.result || typeof r.result !== 'object' || Object.keys(r.result).length !== 0) {
      throw new Error(`bad ping reply: ${JSON.stringify(r)}`);
    }
    return r;
  };

  /** initialize + notifications/initialized; returns the initialize result. */
  srv.initialize = async function initialize(protocolVersion = '2025-11-25', timeoutMs = 5000) {
    const r = await srv.request(
      {
        jsonrpc: '2.0',
        id: `init-${autoId++}`,
        method: 'initialize',
        params: { protocolVersion, capabilities: {}, clientInfo: { name: 'e2e-raw', version: '0.0.0' } },
      },
      timeoutMs,
    );
    if (!r.result) throw new Error(`initialize failed: ${JSON.stringify(r)}`);
    await srv.sendJson({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return r.result;
  };

  /** Assert no stdout line arrives within ms (returns the line if one does). */
  srv.expectSilence = async function expectSilence(ms = 300) {
    try {
      const line = await srv.nextRaw(ms);
      return line;
    } catch (e) {
      if (/^timeout/.test(e.message)) return null;
      throw e;
    }
  };

  srv.closeStdin = function closeStdin() {
    child.stdin?.end();
  };

  srv.kill = function kill(sig = 'SIGKILL') {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill(sig);
      } catch {}
    }
  };

  /** Wait for exit with a timeout, then SIGKILL as a last resort. */
  srv.waitExit = async function waitExit(timeoutMs = 5000) {
    return withTimeout(srv.exited, timeoutMs, 'server exit');
  };

  /** Wait until the process exited and its stdout/stderr are fully read. */
  srv.waitClosed = async function waitClosed(timeoutMs = 5000) {
    return withTimeout(srv.closed, timeoutMs, 'server exit and stdio close');
  };

  /**
   * Kill (if still running) and wait; safe to call in finally/after. With
   * CODEXMCP_E2E_DISPOSE_EOF=1 (scripts/test-valgrind.sh: a SIGKILLed server
   * gets no leak check) the server is first ended as a client ends it, by
   * stdin EOF, and SIGKILLed only if it is still there 10 s later.
   */
  srv.dispose = async function dispose() {
    if (process.env.CODEXMCP_E2E_DISPOSE_EOF === '1' && child.exitCode === null && child.signalCode === null) {
      child.stdout.resume();
      child.stdin?.end();
      try {
        await withTimeout(srv.exited, 10000, 'server exit after stdin EOF');
      } catch {}
    }
    srv.kill('SIGKILL');
    try {
      await withTimeout(srv.exited, 5000, 'server exit after SIGKILL');
    } catch {}
  };

  return srv;
}

/**
 * A multiplexing reader over a rawServer's stdout (several requests in
 * flight): every JSON line is logged as { msg, t, idx } in arrival order,
 * replies are matched by id. Returns { srv, log, replies, duplicates (second
 * replies for one id), badLines (not JSON), send(obj), waitFor(pred, ms,
 * what), hasReply(id), waitReply(id, ms) }; the tests add their own
 * request helpers to it.
 */
export function jsonLineMux(srv) {
  const log = []; // { msg, t, idx }
  const replies = new Map(); // JSON id -> first reply entry
  const duplicates = []; // second replies for one id
  const badLines = [];
  const listeners = new Set();
  const decoder = new StringDecoder('utf8');
  let buf = '';
  srv.child.setMaxListeners(0); // one 'exit' listener per reply waited for (pages of 50+)
  srv.child.stdout.on('data', (d) => {
    buf += decoder.write(d);
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        badLines.push(line);
        continue;
      }
      const entry = { msg, t: Date.now(), idx: log.length };
      log.push(entry);
      if (msg && msg.id !== undefined && msg.method === undefined) {
        const key = JSON.stringify(msg.id);
        if (replies.has(key)) duplicates.push(entry);
        else replies.set(key, entry);
      }
      for (const l of [...listeners]) l(entry);
    }
  });
  const m = {
    srv,
    log,
    replies,
    duplicates,
    badLines,
    send: (obj) => srv.sendJson(obj),
    /** Resolves with the first log entry matching pred (already logged or future). */
    waitFor(pred, timeoutMs, what = 'a message') {
      const found = log.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const l = (entry) => {
          if (!pred(entry)) return;
          cleanup();
          resolve(entry);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timeout after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        const onExit = () => {
          cleanup();
          reject(new Error(`server exited while waiting for ${what}`));
        };
        function cleanup() {
          clearTimeout(timer);
          listeners.delete(l);
          srv.child.off('exit', onExit);
        }
        listeners.add(l);
        srv.child.once('exit', onExit);
      });
    },
    hasReply: (id) => replies.has(JSON.stringify(id)),
    waitReply(id, timeoutMs) {
      const key = JSON.stringify(id);
      return m.waitFor((e) => e.msg.method === undefined && JSON.stringify(e.msg.id) === key, timeoutMs, `the reply to id ${key}`);
    },
  };
  return m;
}

/**
 * tools/call `name` through the SDK client; returns { res, obj } with obj =
 * JSON.parse(content[0].text). Checks the result envelope of codexmcp's
 * tools: one text part of compact JSON, structuredContent (when present)
 * equal to it, isError iff success is false. opts: { onprogress, signal }
 * for the SDK.
 */
export async function callToolChecked(client, name, args, ms, opts = {}) {
  const res = await withTimeout(
    client.callTool({ name, arguments: args }, undefined, { timeout: ms, ...opts }),
    ms + 2000,
    `tools/call ${name} ${JSON.stringify(args).slice(0, 160)}`,
  );
  assert.ok(Array.isArray(res.content) && res.content.length === 1, `one content part: ${JSON.stringify(res).slice(0, 500)}`);
  assert.equal(res.content[0].type, 'text');
  const text = res.content[0].text;
  let obj;
  try {
    obj = JSON.parse(text);
  } catch {
    assert.fail(`content[0].text is not JSON: ${text.slice(0, 300)}`);
  }
  assert.ok(!text.includes('\n'), 'content[0].text is compact JSON (no raw newlines)');
  assert.equal(typeof obj.success, 'boolean', text.slice(0, 300));
  if (obj.success) assert.ok(!res.isError, `success result must not be isError: ${text.slice(0, 300)}`);
  else assert.equal(res.isError, true, `failure result must set isError: ${text.slice(0, 300)}`);
  if (res.structuredContent !== undefined) assert.deepEqual(res.structuredContent, obj, 'structuredContent equals the text JSON');
  return { res, obj };
}

/** The engine the suite runs (make test runs it under auto, then exec):
 * with the real codex, anything but "exec" means the app-server engine. */
export const ENGINE = process.env.CODEXMCP_ENGINE || 'auto';

/** How many tests of a describe that runs its tests at once run together:
 * all (true), unless CODEXMCP_E2E_CONCURRENCY says a number
 * (scripts/test-valgrind.sh: every server under valgrind is CPU-bound). */
export const CONCURRENCY = Number(process.env.CODEXMCP_E2E_CONCURRENCY) > 0 ? Number(process.env.CODEXMCP_E2E_CONCURRENCY) : true;

/** Whether the server is an AddressSanitizer build (make test-asan). */
export const ASAN = fs.existsSync(serverBin()) && fs.readFileSync(serverBin()).includes('__asan_init');

/** env for a server whose memory a test measures: under ASan, freed memory
 * waits in a 256 MiB quarantine before it is reused, so a server that frees
 * as it goes grows to hundreds of MiB; such a server gets 8 MiB. */
export function measuredEnv(env) {
  if (!ASAN) return env;
  return { ...env, ASAN_OPTIONS: `${env.ASAN_OPTIONS ? `${env.ASAN_OPTIONS}:` : ''}quarantine_size_mb=8` };
}
