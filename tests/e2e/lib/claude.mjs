// Running the REAL Claude Code CLI (pinned in package.json) offline: its
// environment, an --mcp-config with codexmcp as its only server, and one
// `claude -p` run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { codexBin, e2eDir, env as codexEnv } from './codex-env.mjs';
import { serverBin } from './mcp.mjs';

export const claudeBin = path.join(e2eDir, 'node_modules', '.bin', 'claude');

/** Offline and quiet: no update checks, telemetry or error reports. */
export const CLAUDE_QUIET_ENV = {
  NO_COLOR: '1',
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  DISABLE_AUTOUPDATER: '1',
  DISABLE_TELEMETRY: '1',
  DISABLE_ERROR_REPORTING: '1',
};

/**
 * Claude's environment for `claude -p`: offline and quiet, HOME = home,
 * pointed at the fake Anthropic endpoint anthropicUrl, and waiting for the
 * MCP server before the first turn.
 */
export function claudeEnv(home, anthropicUrl) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(ANTHROPIC_|CLAUDE_|OPENAI_|CODEX_|MCP_|MAX_MCP_)/.test(k) || /^(https?|all|no)_proxy$/i.test(k)) delete env[k];
  }
  Object.assign(env, {
    HOME: home,
    ...CLAUDE_QUIET_ENV,
    ANTHROPIC_BASE_URL: anthropicUrl,
    ANTHROPIC_API_KEY: 'dummy',
    MCP_CONNECTION_NONBLOCKING: 'false',
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  });
  return env;
}

const SERVER_ENV_KEYS = ['CODEX_HOME', 'HOME', 'PATH', 'NO_COLOR', 'RUST_LOG', 'NO_PROXY', 'no_proxy', 'LANG', 'TMPDIR'];

/**
 * Write an --mcp-config file whose only server, "codex", is codexmcp with
 * the real codex and --state-dir stateDir (then serverArgs). The server's
 * environment is given in full: CODEX_HOME, the empty HOME codex runs its
 * shell with, PATH (codex runs `bash -lc`), no proxies, no OpenAI
 * credentials (codex-env.mjs's env(codexHome), with extraKeys of it too);
 * and CODEXMCP_E2E_MARK=mark to find strays by.
 */
export function writeMcpConfig(file, { codexHome, stateDir, mark, serverArgs = [], extraKeys = [] }) {
  const ce = codexEnv(codexHome);
  const serverEnv = { CODEXMCP_E2E_MARK: mark };
  for (const k of [...SERVER_ENV_KEYS, ...extraKeys]) {
    if (ce[k] !== undefined) serverEnv[k] = ce[k];
  }
  fs.writeFileSync(
    file,
    JSON.stringify({
      mcpServers: {
        codex: {
          type: 'stdio',
          command: serverBin(),
          args: ['--codex', codexBin(), '--state-dir', stateDir, ...serverArgs],
          env: serverEnv,
        },
      },
    }),
  );
  return file;
}

/**
 * `claude -p go` with the servers of mcpConfig only, tool allowed, JSON
 * output; SIGKILLed after timeoutMs. Resolves with { code, signal, stdout,
 * stderr, out (stdout parsed, or null) }.
 */
export async function runClaudePrint({ mcpConfig, tool, env, cwd, timeoutMs }) {
  const args = ['-p', 'go', '--mcp-config', mcpConfig, '--strict-mcp-config', '--allowedTools', tool, '--output-format', 'json'];
  const r = await new Promise((resolve) => {
    // stdin closed: else `claude -p` waits 3 s for piped input.
    const child = spawn(claudeBin, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  let out = null;
  try {
    out = JSON.parse(r.stdout);
  } catch {}
  return { ...r, out };
}
