// Process inspection through /proc (Linux): find the processes that belong to
// one test (by an environment marker such as its unique CODEX_HOME, or by
// ancestry), check they are alive (not zombies), wait for them to go away,
// and kill strays in cleanup.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ENGINE } from './mcp.mjs';

export const hasProc = process.platform === 'linux' && fs.existsSync('/proc/self/stat');

/** Parse /proc/PID/stat. Returns { pid, comm, state, ppid, pgid, sid } or null if gone. */
export function procStat(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm is in parentheses and may contain spaces or ')': take the last ')'.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const rest = text.slice(close + 2).split(' ');
  return { pid: Number(pid), comm, state: rest[0], ppid: Number(rest[1]), pgid: Number(rest[2]), sid: Number(rest[3]) };
}

/** True if pid exists and is not a zombie (or dead). */
export function isAlive(pid) {
  const st = procStat(pid);
  return st !== null && st.state !== 'Z' && st.state !== 'X' && st.state !== 'x';
}

/** Numeric entries of /proc. */
export function allPids() {
  let names;
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  return names.filter((n) => /^\d+$/.test(n)).map(Number);
}

/** Environment entries of pid (array of "K=V"), or null if unreadable. */
export function procEnviron(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`).toString('utf8').split('\0');
  } catch {
    return null;
  }
}

/** argv of pid, or null if unreadable. */
export function procCmdline(pid) {
  try {
    const parts = fs.readFileSync(`/proc/${pid}/cmdline`).toString('utf8').split('\0');
    if (parts.length && parts[parts.length - 1] === '') parts.pop();
    return parts;
  } catch {
    return null;
  }
}

/**
 * Live (non-zombie) pids whose environment holds `marker`: either an exact
 * "K=V" entry (when marker contains "=") or any entry containing it.
 * opts.exclude: pids to leave out (e.g. the server itself, which has the
 * same environment).
 */
export function pidsWithEnv(marker, { exclude = [] } = {}) {
  const skip = new Set([process.pid, ...exclude.filter((p) => p != null).map(Number)]);
  const out = [];
  for (const pid of allPids()) {
    if (skip.has(pid)) continue;
    const env = procEnviron(pid);
    if (!env) continue;
    const hit = marker.includes('=') ? env.includes(marker) : env.some((e) => e.includes(marker));
    if (hit && isAlive(pid)) out.push(pid);
  }
  return out;
}

/** Live descendants of root (children, grandchildren, …), by ppid chains. */
export function descendants(root) {
  const stats = allPids().map(procStat).filter(Boolean);
  const kids = new Map();
  for (const s of stats) {
    if (!kids.has(s.ppid)) kids.set(s.ppid, []);
    kids.get(s.ppid).push(s);
  }
  const out = [];
  const stack = [Number(root)];
  while (stack.length) {
    const p = stack.pop();
    for (const s of kids.get(p) ?? []) {
      if (s.state !== 'Z' && s.state !== 'X') out.push(s.pid);
      stack.push(s.pid);
    }
  }
  return out;
}

/** One-line description of pids for assertion messages. */
export function describePids(pids) {
  return pids
    .map((pid) => {
      const st = procStat(pid);
      const argv = procCmdline(pid);
      return `${pid}[${st ? `${st.state} ppid=${st.ppid} pgid=${st.pgid}` : 'gone'}] ${(argv ?? []).join(' ').slice(0, 160)}`;
    })
    .join('\n  ');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Poll fn() every intervalMs until it returns a truthy value or timeoutMs
 * passes. Resolves { ok, value, elapsed }.
 */
export async function pollUntil(fn, timeoutMs, intervalMs = 50) {
  const t0 = Date.now();
  for (;;) {
    const value = await fn();
    if (value) return { ok: true, value, elapsed: Date.now() - t0 };
    if (Date.now() - t0 >= timeoutMs) return { ok: false, value, elapsed: Date.now() - t0 };
    await sleep(intervalMs);
  }
}

/**
 * Wait until no live process carries `marker` (excluding opts.exclude).
 * Resolves { ok, left: pids still alive, elapsed }.
 */
export async function waitNoneWithEnv(marker, timeoutMs, { exclude = [], intervalMs = 50 } = {}) {
  let left = [];
  const r = await pollUntil(() => {
    left = pidsWithEnv(marker, { exclude });
    return left.length === 0;
  }, timeoutMs, intervalMs);
  return { ok: r.ok, left, elapsed: r.elapsed };
}

/**
 * Sample fn() every intervalMs until stop() is called; returns a handle with
 * samples [{ t, value }] and stop() → samples.
 */
export function sampler(fn, intervalMs = 50) {
  const samples = [];
  let timer = null;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    try {
      samples.push({ t: Date.now(), value: fn() });
    } catch (e) {
      samples.push({ t: Date.now(), error: String(e) });
    }
    timer = setTimeout(tick, intervalMs);
  };
  tick();
  return {
    samples,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      return samples;
    },
  };
}

/** SIGKILL every live process carrying marker (best effort, cleanup only). Returns the pids signalled. */
export function killWithEnv(marker, { exclude = [] } = {}) {
  const pids = pidsWithEnv(marker, { exclude });
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  return pids;
}

/**
 * Cleanup: SIGTERM every live process carrying marker, wait up to graceMs for
 * them to exit (a shell can then run its EXIT traps, e.g. release a lock),
 * then SIGKILL what is left. Returns the pids signalled.
 */
export async function terminateWithEnv(marker, { exclude = [], graceMs = 1500 } = {}) {
  const pids = pidsWithEnv(marker, { exclude });
  if (pids.length === 0) return pids;
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {}
  }
  const r = await waitNoneWithEnv(marker, graceMs, { exclude });
  if (!r.ok) killWithEnv(marker, { exclude });
  return pids;
}

// ---- a codex session's turn -------------------------------------------------
// Every command codex runs carries CODEX_THREAD_ID=<SESSION_ID>; under the
// exec engine every process of a call carries the call's marker
// CODEXMCP_CALL_<server pid>=<n> (src/child.c). Under the app-server engine
// that marker belongs to the one app-server, which outlives calls: there a
// call's processes are its commands.

/** Live processes of a session's commands (codex gives each CODEX_THREAD_ID). */
export const threadProcs = (sid) => pidsWithEnv(`CODEX_THREAD_ID=${sid}`);

/**
 * Wait until the session runs `sleep 30` (its command). Returns { pids,
 * marker }: marker is the CODEXMCP_CALL_<server pid>=<n> entry of the
 * command's environment (the call's marker under exec).
 */
export async function waitSleepCommand(sid, serverPid) {
  const isSleep = (p) => (procCmdline(p) ?? []).join(' ').includes('sleep 30');
  const r = await pollUntil(() => threadProcs(sid).some(isSleep), 20000, 25);
  assert.ok(r.ok, `session ${sid} runs "sleep 30": ${describePids(threadProcs(sid))}`);
  // Its environment reads empty for a moment while its shell execs sleep:
  // read it until it is there (the same window), then require the marker.
  let cmd;
  const markerOf = (p) => (procEnviron(p) ?? []).find((e) => e.startsWith(`CODEXMCP_CALL_${serverPid}=`));
  await pollUntil(() => {
    cmd = threadProcs(sid).find(isSleep);
    return cmd !== undefined && markerOf(cmd) !== undefined;
  }, 2000, 25);
  const marker = cmd === undefined ? undefined : markerOf(cmd);
  assert.ok(marker, `the command of session ${sid} carries a CODEXMCP_CALL_${serverPid}= marker: ${(procEnviron(cmd) ?? []).filter((e) => e.startsWith('CODEXMCP')).join(' ')}`);
  if (ENGINE === 'exec') {
    // Under exec the marker is the call's own: codex exec and its supervisor carry it too.
    const all = pidsWithEnv(marker, { exclude: [serverPid] });
    assert.ok(all.some((p) => (procCmdline(p) ?? []).includes('exec') || (procCmdline(p) ?? [])[1] === '--internal-child-exec'),
      `the call's marker ${marker} is on its codex process too: ${describePids(all)}`);
  }
  return { pids: threadProcs(sid), marker };
}

/**
 * Right after a cancel was answered: no process of the turn is left (a
 * short poll of at most 2 s lets the kernel finish tearing them down).
 */
export async function assertTurnGone(sid, marker, serverPid, what) {
  const r1 = await waitNoneWithEnv(`CODEX_THREAD_ID=${sid}`, 2000);
  assert.ok(r1.ok, `${what}: the session's commands are still alive 2 s after the answer:\n  ${describePids(r1.left)}`);
  if (ENGINE === 'exec') {
    const r2 = await waitNoneWithEnv(marker, 2000, { exclude: [serverPid] });
    assert.ok(r2.ok, `${what}: processes with the call's marker ${marker} still alive 2 s after the answer:\n  ${describePids(r2.left)}`);
  }
}

/** The app-server's supervisor, the app-server, and what runs below them
 * without a CODEX_THREAD_ID (codex's own helpers): the engine itself. */
export function engineProcs(serverPid) {
  const out = [];
  for (const sup of descendants(serverPid)) {
    const argv = procCmdline(sup) ?? [];
    if (procStat(sup)?.ppid !== serverPid || argv[1] !== '--internal-child-exec' || !argv.includes('app-server')) continue;
    out.push(sup);
    for (const p of descendants(sup)) if (!(procEnviron(p) ?? []).some((e) => e.startsWith('CODEX_THREAD_ID='))) out.push(p);
  }
  return out;
}
