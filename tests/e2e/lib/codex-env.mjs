// Locating the native codex binary and building isolated CODEX_HOME dirs.
import { before, after } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeResponses } from './fake-responses.mjs';
import { terminateWithEnv } from './procs.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const e2eDir = path.resolve(here, '..');
const nm = path.join(e2eDir, 'node_modules');

function targetTriples() {
  const arch = process.arch;
  if (process.platform === 'linux') {
    if (arch === 'x64') return [['codex-linux-x64', 'x86_64-unknown-linux-musl'], ['codex-linux-x64', 'x86_64-unknown-linux-gnu']];
    if (arch === 'arm64') return [['codex-linux-arm64', 'aarch64-unknown-linux-musl'], ['codex-linux-arm64', 'aarch64-unknown-linux-gnu']];
  }
  if (process.platform === 'darwin') {
    if (arch === 'x64') return [['codex-darwin-x64', 'x86_64-apple-darwin']];
    if (arch === 'arm64') return [['codex-darwin-arm64', 'aarch64-apple-darwin']];
  }
  return [];
}

let cachedBin;
/** Absolute path of the native codex binary (not the node launcher). */
export function codexBin() {
  if (cachedBin) return cachedBin;
  if (process.env.CODEX_E2E_BIN) return (cachedBin = path.resolve(process.env.CODEX_E2E_BIN));
  const candidates = [];
  for (const [pkg, triple] of targetTriples()) {
    candidates.push(path.join(nm, '@openai', pkg, 'vendor', triple, 'bin', 'codex'));
    candidates.push(path.join(nm, '@openai', 'codex', 'vendor', triple, 'codex', 'codex'));
    candidates.push(path.join(nm, '@openai', 'codex', 'vendor', triple, 'bin', 'codex'));
  }
  // Any vendor dir that ships a codex binary (robust against layout changes).
  try {
    for (const d of fs.readdirSync(path.join(nm, '@openai'))) {
      if (!d.startsWith('codex-')) continue;
      const vendor = path.join(nm, '@openai', d, 'vendor');
      for (const t of fs.existsSync(vendor) ? fs.readdirSync(vendor) : []) {
        if (t.includes(process.arch === 'arm64' ? 'aarch64' : 'x86_64') && t.includes(process.platform === 'darwin' ? 'darwin' : process.platform)) {
          candidates.push(path.join(vendor, t, 'bin', 'codex'));
          candidates.push(path.join(vendor, t, 'codex', 'codex'));
        }
      }
    }
  } catch {}
  candidates.push(path.join(nm, '.bin', 'codex'));
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return (cachedBin = c);
    } catch {}
  }
  throw new Error(`native codex binary not found; run "npm ci" in ${e2eDir}. Tried:\n  ${candidates.join('\n  ')}`);
}

const homes = new Set();

/**
 * Create a fresh CODEX_HOME pointing at the fake Responses server.
 * opts: { streamMaxRetries = 2, model = "gpt-5.5", extraToml = "" }.
 */
export function makeCodexHome(fakeUrl, { streamMaxRetries = 2, model = 'gpt-5.5', extraToml = '' } = {}) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-e2e-home-'));
  const toml = [
    `model = ${JSON.stringify(model)}`,
    `model_provider = "fake"`,
    `check_for_update_on_startup = false`,
    ``,
    `[model_providers.fake]`,
    `name = "Fake"`,
    `base_url = ${JSON.stringify(fakeUrl)}`,
    `wire_api = "responses"`,
    `request_max_retries = 0`,
    `stream_max_retries = ${Number(streamMaxRetries)}`,
    ``,
    // Else codex 0.169 runs `git ls-remote https://github.com/openai/plugins.git`
    // at every start: a network these machines do not have, and time.
    `[features]`,
    `plugins = false`,
    ``,
    extraToml,
  ].join('\n');
  fs.writeFileSync(path.join(home, 'config.toml'), toml);
  homes.add(home);
  return home;
}

/** Remove a CODEX_HOME made by makeCodexHome (best effort). */
export function removeCodexHome(home) {
  homes.delete(home);
  try {
    fs.rmSync(home, { recursive: true, force: true });
  } catch {}
}

/**
 * Process env for running codex (or codexmcp) offline: CODEX_HOME set, proxy and
 * OpenAI credential variables removed so nothing can reach the internet.
 */
export function env(home, extra = {}) {
  const e = { ...process.env };
  for (const k of Object.keys(e)) {
    if (/^(OPENAI_|CODEX_(?!E2E)|AZURE_OPENAI)/.test(k) || /^(https?|all|no)_proxy$/i.test(k)) delete e[k];
  }
  e.CODEX_HOME = home;
  // An empty HOME: codex runs the user's login shell (`bash -lc`, which
  // sources ~/.bashrc); the machine's dotfiles must not slow or stall tests.
  e.HOME = path.join(home, 'user-home');
  fs.mkdirSync(e.HOME, { recursive: true });
  e.NO_COLOR = '1';
  e.RUST_LOG = e.RUST_LOG_E2E ?? 'error';
  // Loopback only, never via a proxy.
  e.NO_PROXY = e.no_proxy = '127.0.0.1,localhost';
  return { ...e, ...extra };
}

/**
 * One fake Responses endpoint and one CODEX_HOME pointing at it for a whole
 * test file: registers before/after hooks and returns { fake, home } (read
 * them inside tests). After the file, what is still running with that
 * CODEX_HOME is stopped, then both are removed.
 */
export function sharedFakeCodex() {
  let fake;
  let home;
  before(async () => {
    fake = await startFakeResponses();
    home = makeCodexHome(fake.url);
  });
  after(async () => {
    if (home) await terminateWithEnv(`CODEX_HOME=${home}`);
    await fake?.close();
    if (home) removeCodexHome(home);
  });
  return {
    get fake() {
      return fake;
    },
    get home() {
      return home;
    },
  };
}
