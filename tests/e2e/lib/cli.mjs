// Running codexmcp's command-line views (doctor, ps, log) as a user runs
// them: through a pipe, or on a terminal (script(1) from util-linux gives
// the command a pty), and reading what they print.
import { spawn } from 'node:child_process';
import { serverBin } from './mcp.mjs';

/** Whether text holds an ESC byte (any colour or terminal sequence). */
export const hasEsc = (text) => text.includes('\x1b');

/** text without SGR sequences. */
export const stripSgr = (text) => text.replace(/\x1b\[[0-9;]*m/g, '');

/** One argument quoted for sh. */
export const shQuote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/**
 * Run `cmd ...args` to its end. opts: { env, cwd, timeoutMs (default 60 s:
 * then SIGKILL, and timedOut is set) }. Resolves { code, signal, stdout,
 * stderr, ms, timedOut }.
 */
export function runProcess(cmd, args, { env = process.env, cwd, timeoutMs = 60000 } = {}) {
  const t0 = Date.now();
  const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve) => {
    child.on('error', (err) => {
      stderr += `\n[spawn error] ${err.message}`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0, timedOut });
    });
  });
}

/**
 * Run `codexmcp ...args` to its end. opts: { env, timeoutMs (as runProcess),
 * tty (run it on a pty through `script -qec`; its stdout then holds both
 * streams, with "\r\n" turned back into "\n"), cwd, wrap (a command that
 * execs it, e.g. unshare …) }. Resolves as runProcess.
 */
export async function runCli(args, { env = process.env, timeoutMs = 60000, tty = false, cwd, wrap = [] } = {}) {
  let argv = [...wrap, serverBin(), ...args];
  if (tty) argv = ['script', '-qec', argv.map(shQuote).join(' '), '/dev/null'];
  const r = await runProcess(argv[0], argv.slice(1), { env, cwd, timeoutMs });
  if (tty) r.stdout = r.stdout.replace(/\r\n/g, '\n');
  return r;
}

/** A short account of a run for assertion messages. */
export function describeRun(r) {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''} after ${r.ms} ms${r.timedOut ? ' (killed: timed out)' : ''}\n--- stdout ---\n${r.stdout.slice(0, 6000)}\n--- stderr ---\n${r.stderr.slice(-3000)}`;
}

/**
 * Start `codexmcp ...args` and read its stdout as it streams: returns
 * { child, chunks: [{ t, text }], stdout(), stderr(), closed: Promise<{ code,
 * signal, at }>, waitFor(re, ms) (resolves with the time the text so far
 * first matched re), kill() }.
 */
export function streamCli(args, { env = process.env } = {}) {
  const child = spawn(serverBin(), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks = [];
  let out = '';
  let err = '';
  const listeners = new Set();
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    out += d;
    chunks.push({ t: Date.now(), text: d });
    for (const l of [...listeners]) l();
  });
  child.stderr.on('data', (d) => (err += d));
  const closed = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      resolve({ code, signal, at: Date.now() });
      for (const l of [...listeners]) l();
    });
    child.on('error', (e) => {
      err += `\n[spawn error] ${e.message}`;
    });
  });
  let exited = false;
  closed.then(() => (exited = true));
  return {
    child,
    chunks,
    stdout: () => out,
    stderr: () => err,
    closed,
    waitFor(re, ms) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (re.test(out)) {
            done();
            resolve(Date.now());
          } else if (exited) {
            done();
            reject(new Error(`exited before its output matched ${re}:\n${out}\n--- stderr ---\n${err}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timeout after ${ms} ms waiting for ${re} in:\n${out}\n--- stderr ---\n${err}`));
        }, ms);
        function done() {
          clearTimeout(timer);
          listeners.delete(check);
        }
        listeners.add(check);
        check();
      });
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * Parse doctor's report: lines "✓ …", "! …", "✗ …", each ✗ and ! followed by
 * "  fix: …". Returns { checks: [{ mark, text, fix, line }], other: [lines
 * that are neither] } (colour stripped first).
 */
export function parseDoctor(stdout) {
  const checks = [];
  const other = [];
  for (const line of stripSgr(stdout).split('\n')) {
    if (line === '') continue;
    let m;
    if ((m = /^([✓!✗]) (.*)$/u.exec(line))) checks.push({ mark: m[1], text: m[2], fix: null, line });
    else if ((m = /^\s+fix: (.*)$/.exec(line)) && checks.length && checks.at(-1).fix === null) checks.at(-1).fix = m[1];
    else other.push(line);
  }
  return { checks, other };
}
