// A temporary directory per test file: made before its tests, removed after;
// and git, run there without the machine's configuration.
import { before, after } from 'node:test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Registers before/after hooks; returns { root, dir(name), path(name) }. */
export function tempTree(prefix) {
  let root;
  let seq = 0;
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  after(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });
  return {
    get root() {
      return root;
    },
    /** A fresh empty directory (no git repo). */
    dir(name = 'cwd') {
      const d = path.join(root, `${name}-${++seq}`);
      fs.mkdirSync(d);
      return d;
    },
    /** A fresh path (nothing created). */
    path(name) {
      return path.join(root, `${name}-${++seq}`);
    },
  };
}

const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C' };
/** `git ...args` in cwd (no system or global config, a fixed author, no signing); its stdout, trimmed. */
export function git(cwd, ...args) {
  return execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.invalid', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    env: GIT_ENV,
    encoding: 'utf8',
  }).trim();
}
