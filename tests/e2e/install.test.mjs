// `make install` and `make uninstall` (PREFIX, DESTDIR, BINDIR, MANDIR), the
// man page they install (clean under mandoc -Tlint and groff -ww, and current:
// every option of --help, every CODEXMCP_* variable of src/*.c and the
// commands doctor, ps and log are in it, and it lists no option codexmcp does
// not have), and the installed binary added to the real Claude Code CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, serverBin } from './lib/mcp.mjs';
import { claudeBin, CLAUDE_QUIET_ENV } from './lib/claude.mjs';
import { allPids, pollUntil, procCmdline } from './lib/procs.mjs';
import { tempTree } from './lib/tmp.mjs';

const tmp = tempTree('codexmcp-install-');
const manSrc = path.join(repoRoot, 'codexmcp.1');
// The options of `codexmcp ps` and `codexmcp log` in the command line agreed
// for them (issue 12), which the server's --help does not list.
const SUBCOMMAND_OPTIONS = ['-n', '--json', '--color', '-f', '--follow', '--state-dir'];
const SECTIONS = ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'COMMANDS', 'ENVIRONMENT', 'FILES', 'EXIT STATUS', 'EXAMPLES', 'SEE ALSO'];

/** cmd args, synchronously: { code, out (stdout), err (stderr) }. */
function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120000, ...opts });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// make as a user runs it, from the repository's root, with the suite's
// server binary as what it installs (BUILD is its directory: build/, or
// build-asan/ under make test-asan). Nothing from an outer make (its flags,
// its jobserver) or the environment (PREFIX, DESTDIR, ...) leaks in.
const MAKE_ENV = (() => {
  const env = { ...process.env, LC_ALL: 'C' };
  for (const k of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES', 'PREFIX', 'DESTDIR', 'BINDIR', 'MANDIR', 'BUILD', 'INSTALL']) {
    delete env[k];
  }
  return env;
})();
function make(...args) {
  const build = path.relative(repoRoot, path.dirname(serverBin()));
  return sh('make', ['-s', '-C', repoRoot, `BUILD=${build}`, ...args], { env: MAKE_ENV });
}

/** Every file (not directory) below dir, as paths relative to it, sorted. */
function filesBelow(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isDirectory()) out.push(path.relative(dir, path.join(e.parentPath ?? e.path, e.name)));
  }
  return out.sort();
}

const mode = (file) => fs.statSync(file).mode & 0o7777;

/** The page rendered as plain text (mandoc -Tascii, without overstrike). */
function renderAscii(page) {
  const r = sh('mandoc', ['-Tascii', page]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, '');
  return r.out.replace(/.\x08/g, '');
}

/** mandoc -Tlint and groff -ww print nothing for page. */
function assertCleanPage(page) {
  const lint = sh('mandoc', ['-Tlint', page]);
  assert.equal(lint.out + lint.err, '', `mandoc -Tlint ${page}`);
  assert.equal(lint.code, 0);
  const groff = sh('groff', ['-ww', '-man', '-z', page]);
  assert.equal(groff.out + groff.err, '', `groff -ww -man -z ${page}`);
  assert.equal(groff.code, 0);
}

/** The sections of rendered text: Map heading → its text. */
function sections(text) {
  const map = new Map();
  let cur = null;
  for (const line of text.split('\n')) {
    if (/^[A-Z][A-Z ]+$/.test(line)) {
      cur = line;
      map.set(cur, '');
    } else if (cur) {
      map.set(cur, map.get(cur) + line + '\n');
    }
  }
  return map;
}

/**
 * The options a help text lists in its option column: "  -h, --help  ...",
 * "  --codex PATH  ...", "      --json  ..." (not the descriptions, indented further).
 */
function helpOptions(help) {
  const opts = new Set();
  for (const line of help.split('\n')) {
    if (!/^ {1,8}(-[A-Za-z](, | |$)|--[a-z])/.test(line)) continue;
    for (const o of line.trim().split(/\s{2,}/)[0].matchAll(/(?:^|[\s,[])(--?[A-Za-z][\w-]*)/g)) opts.add(o[1]);
  }
  return opts;
}

/** The options the page defines: those in the tags of its .TP paragraphs. */
function pageTagOptions(source) {
  const lines = source.split('\n');
  const opts = new Set();
  for (let i = 0; i + 1 < lines.length; i++) {
    if (lines[i].trim() !== '.TP') continue;
    const tag = lines[i + 1]
      .replace(/^\.(B|I|BI|BR|IR|RB|RI|IB)\s+/, '')
      .replace(/\\f[BIRP]/g, '')
      .replace(/\\-/g, '-')
      .replace(/"/g, '');
    if (!tag.startsWith('-')) continue;
    for (const m of tag.matchAll(/(?:^|[\s,])(--?[A-Za-z][\w-]*)/g)) opts.add(m[1]);
  }
  return opts;
}

/** Every CODEXMCP_* name inside a string literal of src/*.c. */
function sourceVariables() {
  const names = new Set();
  const src = path.join(repoRoot, 'src');
  for (const f of fs.readdirSync(src).filter((n) => n.endsWith('.c'))) {
    const text = fs.readFileSync(path.join(src, f), 'utf8');
    for (const lit of text.matchAll(/"(?:[^"\\\n]|\\.)*"/g)) {
      for (const m of lit[0].matchAll(/CODEXMCP_[A-Z][A-Z_]*/g)) names.add(m[0]);
    }
  }
  return names;
}

const hasWord = (text, word) => new RegExp(`(^|[^\\w-])${word.replace(/[-]/g, '\\-')}(?![\\w-])`, 'm').test(text);

test('make install DESTDIR=… PREFIX=/usr: the binary (0755) and the man page (0644); the page renders clean; make uninstall removes exactly them', { timeout: 180000 }, async (t) => {
  const destdir = tmp.dir('destdir');
  const vars = [`DESTDIR=${destdir}`, 'PREFIX=/usr'];
  const bin = path.join(destdir, 'usr/bin/codexmcp');
  const page = path.join(destdir, 'usr/share/man/man1/codexmcp.1');

  const inst = make('install', ...vars);
  assert.equal(inst.code, 0, inst.out + inst.err);
  assert.equal(inst.out + inst.err, '', 'make -s install prints nothing');
  assert.deepEqual(filesBelow(destdir), ['usr/bin/codexmcp', 'usr/share/man/man1/codexmcp.1']);
  assert.equal(mode(bin), 0o755);
  assert.equal(mode(page), 0o644);
  assert.ok(fs.readFileSync(bin).equals(fs.readFileSync(serverBin())), 'the installed binary is the build');
  assert.ok(fs.readFileSync(page).equals(fs.readFileSync(manSrc)), 'the installed page is codexmcp.1');
  const v = sh(bin, ['--version']);
  assert.equal(v.code, 0, v.err);
  assert.match(v.out, /^codexmcp \d+\.\d+\.\d+\n$/);
  assert.equal(v.out, sh(serverBin(), ['--version']).out);

  await t.test('the installed page: mandoc -Tlint and groff -ww print nothing; mandoc renders every section', () => {
    assertCleanPage(page);
    const text = renderAscii(page);
    const heads = [...sections(text).keys()];
    for (const s of SECTIONS) assert.ok(heads.includes(s), `section ${s} in ${heads.join(', ')}`);
  });

  await t.test('claude mcp add codex -s local -- <installed binary>: ✔ Connected; -e reaches the server', async () => {
    const home = tmp.dir('home');
    const proj = path.join(home, 'proj');
    fs.mkdirSync(proj);
    const add = await claude(['mcp', 'add', 'codex', '-s', 'local', '--', bin], home, proj);
    assert.match(add.out, /Added stdio MCP server codex/, add.out);
    // Options through -e and after --, as the README shows; a bad value
    // through -e makes the server exit 2, which Claude Code reports.
    await claude(['mcp', 'add', 'codex-ro', '-s', 'local', '-e', 'CODEXMCP_MAX_PARALLEL=2', '--', bin, '--read-only'], home, proj);
    await claude(['mcp', 'add', 'codex-bad', '-s', 'local', '-e', 'CODEXMCP_ENGINE=bogus', '--', bin], home, proj);
    const list = await claude(['mcp', 'list'], home, proj);
    const esc = bin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.match(list.out, new RegExp(`^codex: ${esc} +- ✔ Connected$`, 'm'), list.out);
    assert.match(list.out, new RegExp(`^codex-ro: ${esc} --read-only - ✔ Connected$`, 'm'), list.out);
    assert.match(list.out, /^codex-bad: .* - ✘ Failed to connect/m, list.out);
    // Claude Code ended the servers it started.
    const running = () => allPids().filter((pid) => procCmdline(pid)?.[0] === bin);
    const gone = await pollUntil(() => running().length === 0, 10000);
    for (const pid of running()) process.kill(pid, 'SIGKILL');
    assert.ok(gone.ok, 'servers left running by claude mcp list');
  });

  // Something else in the same directories: uninstall must leave it.
  fs.writeFileSync(path.join(destdir, 'usr/bin/other'), '');
  fs.writeFileSync(path.join(destdir, 'usr/share/man/man1/other.1'), '');
  const un = make('uninstall', ...vars);
  assert.equal(un.code, 0, un.out + un.err);
  assert.equal(un.out + un.err, '');
  // The directories stay (they may hold other files): only the two files go.
  assert.deepEqual(filesBelow(destdir), ['usr/bin/other', 'usr/share/man/man1/other.1']);
  assert.ok(fs.statSync(path.join(destdir, 'usr/bin')).isDirectory());
  // Again: nothing left to remove is not an error.
  assert.equal(make('uninstall', ...vars).code, 0);
});

test('make install: PREFIX defaults to /usr/local; BINDIR and MANDIR override it; uninstall follows them', { timeout: 120000 }, () => {
  const cases = [
    { vars: [], bin: 'usr/local/bin/codexmcp', page: 'usr/local/share/man/man1/codexmcp.1' },
    { vars: ['PREFIX=/opt/cx'], bin: 'opt/cx/bin/codexmcp', page: 'opt/cx/share/man/man1/codexmcp.1' },
    { vars: ['PREFIX=/opt/cx', 'BINDIR=/b', 'MANDIR=/m'], bin: 'b/codexmcp', page: 'm/man1/codexmcp.1' },
  ];
  for (const c of cases) {
    const destdir = tmp.dir('destdir');
    const inst = make('install', `DESTDIR=${destdir}`, ...c.vars);
    assert.equal(inst.code, 0, inst.out + inst.err);
    assert.deepEqual(filesBelow(destdir), [c.bin, c.page].sort(), c.vars.join(' '));
    assert.equal(mode(path.join(destdir, c.bin)), 0o755);
    assert.equal(mode(path.join(destdir, c.page)), 0o644);
    const un = make('uninstall', `DESTDIR=${destdir}`, ...c.vars);
    assert.equal(un.code, 0, un.out + un.err);
    assert.deepEqual(filesBelow(destdir), [], c.vars.join(' '));
  }
});

test('make install runs no install step (make deps); make help lists install and uninstall', () => {
  const dry = make('-n', 'install', 'DESTDIR=/nonexistent-destdir');
  assert.equal(dry.code, 0, dry.err);
  assert.doesNotMatch(dry.out, /install-deps/);
  assert.match(dry.out, /install -m 0755 \S+codexmcp "\/nonexistent-destdir\/usr\/local\/bin\/codexmcp"/);
  const help = make('help');
  assert.match(help.out, /^make install: /m);
  assert.match(help.out, /^make uninstall: /m);
});

test('the man page is current: --help, src/*.c, the commands doctor, ps and log', () => {
  assertCleanPage(manSrc);
  const source = fs.readFileSync(manSrc, 'utf8');
  const text = renderAscii(manSrc);
  const sec = sections(text);

  // Its header names this version.
  const version = sh(serverBin(), ['--version']).out.trim();
  assert.match(source, new RegExp(`^\\.TH CODEXMCP 1 \\S+ "${version}" `, 'm'));

  // Every option of --help (the server's, and each command's once it has its own).
  const help = sh(serverBin(), ['--help']);
  assert.equal(help.code, 0);
  const known = helpOptions(help.out);
  assert.ok(known.has('--read-only') && known.has('--state-dir') && known.has('-h'), [...known].join(' '));
  for (const cmd of ['doctor', 'ps', 'log']) {
    const h = sh(serverBin(), [cmd, '--help']);
    if (h.code === 0) for (const o of helpOptions(h.out)) known.add(o);
  }
  for (const o of known) assert.ok(hasWord(text, o), `${o} (codexmcp --help) is not in the man page`);

  // ... and the other way round: every option the page defines (a .TP tag)
  // or shows in SYNOPSIS is one of codexmcp's.
  const allowed = new Set([...known, ...SUBCOMMAND_OPTIONS]);
  const listed = pageTagOptions(source);
  for (const m of sec.get('SYNOPSIS').matchAll(/(?:^|[\s[])(--?[A-Za-z][\w-]*)/g)) listed.add(m[1]);
  assert.ok(listed.has('--codex') && listed.has('--follow') && listed.has('-n'), [...listed].join(' '));
  for (const o of listed) assert.ok(allowed.has(o), `the man page lists ${o}, which codexmcp does not have`);

  // Every CODEXMCP_* variable of the sources, and the others it reads.
  const vars = sourceVariables();
  assert.ok(vars.has('CODEXMCP_STATE_DIR') && vars.has('CODEXMCP_READ_ONLY'), [...vars].join(' '));
  const env = sec.get('ENVIRONMENT');
  for (const name of [...vars, 'CODEX_HOME', 'HOME', 'XDG_STATE_HOME', 'NO_COLOR', 'PATH']) {
    const found = name.endsWith('_') ? env.includes(name) : new RegExp(`(^|[^\\w])${name}(?![A-Z_])`, 'm').test(env);
    assert.ok(found, `${name} is not in ENVIRONMENT`);
  }
  // ... and no variable the sources do not have.
  for (const m of text.matchAll(/CODEXMCP_[A-Z][A-Z_]*/g)) {
    assert.ok([...vars].some((v) => (v.endsWith('_') ? m[0].startsWith(v) : m[0] === v)), `the man page names ${m[0]}, which src/*.c does not`);
  }

  // Each command has its own subsection in COMMANDS, and its line in SYNOPSIS.
  for (const cmd of ['doctor', 'ps', 'log']) {
    assert.match(sec.get('COMMANDS'), new RegExp(`^ {3}codexmcp ${cmd}( |$)`, 'm'), `COMMANDS has no codexmcp ${cmd}`);
    assert.match(sec.get('SYNOPSIS'), new RegExp(`^ +codexmcp ${cmd}( |$)`, 'm'), `SYNOPSIS has no codexmcp ${cmd}`);
  }
});

function claude(args, home, cwd) {
  return new Promise((resolve) => {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (/^(ANTHROPIC_|CLAUDE_)/.test(k)) delete env[k];
    Object.assign(env, { HOME: home, ...CLAUDE_QUIET_ENV });
    execFile(claudeBin, args, { env, cwd, timeout: 60000 }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, out: stdout + stderr }));
  });
}
