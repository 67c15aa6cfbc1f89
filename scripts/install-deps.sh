#!/usr/bin/env bash
# Installs what codexmcp needs to build and test, quietly and only what is
# missing: Debian packages (compilers, libuv, jansson, SQLite, cmocka) and the npm
# packages of the end-to-end tests (the MCP SDK, the pinned Codex CLI, the MCP
# Inspector).
set -euo pipefail
cd "$(dirname "$0")/.."
# One run at a time (two makes started at once on a fresh checkout would
# collide in apt-get and npm ci): a lock on this script itself, nothing to
# clean up.
exec 9<scripts/install-deps.sh
flock 9

need_pkgs=()
# libclang-rt-dev: the ASan, UBSan and libFuzzer runtimes (only "recommended" by clang).
# valgrind, clang-tidy, cppcheck: make test-valgrind and make lint.
# mandoc, groff-base: the man page's checks (tests/e2e/install.test.mjs).
for pkg in gcc clang libclang-rt-dev make pkg-config libuv1-dev libjansson-dev libsqlite3-dev sqlite3 libcmocka-dev procps git \
           valgrind clang-tidy cppcheck mandoc groff-base; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
        need_pkgs+=("$pkg")
done
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    need_pkgs+=(nodejs npm)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
    echo "install-deps: installing ${need_pkgs[*]}" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    log=$(mktemp)
    if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends \
        "${need_pkgs[@]}"; } >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "install-deps: apt-get failed" >&2
        exit 1
    fi
    rm -f "$log"
fi

# npm ci only when the lock file changed since the last install: the end-to-end
# tests' packages, and the MCP Inspector with the Node 22 it needs (its own
# project, so the system Node stays as it is).
for dir in tests/e2e tests/e2e/inspector; do
    stamp=$dir/node_modules/.codexmcp-lock
    if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
        echo "install-deps: npm ci in $dir" >&2
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
        cp "$dir/package-lock.json" "$stamp"
    fi
done
