// A temporary directory per test file: made before its tests, removed after.
import { before, after } from 'node:test';
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
