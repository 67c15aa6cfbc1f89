#!/usr/bin/env bash
# The short soak that `make soak` and CI run: bench/soak.mjs three times, one
# after the other, with its criteria (0 failures; fds and children of the
# server back to the start, no zombies; RSS; registry rows and transcripts as
# expected; a clean exit), in about a minute on 2 cores:
#   1. 100 calls, 16 at a time, real Codex CLI, app-server engine (auto);
#   2. the same under the exec engine;
#   3. 1,000 calls, 16 at a time, the fast fake codex, exec engine.
# The long runs (1,000 real calls per engine, 10,000 fast ones) and their
# figures are in docs/benchmarks.md.
#
# One tolerance is larger here: the RSS growth, measured from the sample at
# 10 % of the calls, which in a run of 100 calls is the 10th, before the
# server's allocations have found their level (SQLite's cache, malloc's
# arenas). A slope of 90 calls says little, so runs 1 and 2 allow 2 MiB; run
# 3, 900 calls after its 10 % sample, keeps the long runs' 1 MiB (a leak of
# 1.2 KiB a call fails it).
#
# Usage: scripts/soak-short.sh   (CODEXMCP_BIN: the server, default build/codexmcp)
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${CODEXMCP_BIN:-build/codexmcp}
if [ ! -x "$bin" ]; then
    echo "soak: $bin is missing: run \`make soak\` (it builds it first)" >&2
    exit 2
fi
if [ ! -d tests/e2e/node_modules/@modelcontextprotocol/sdk ]; then
    echo "soak: tests/e2e/node_modules is missing: run \`make deps\`" >&2
    exit 2
fi
command -v sqlite3 >/dev/null || {
    echo "soak: the sqlite3 CLI is missing: run \`make deps\`" >&2
    exit 2
}
export CODEXMCP_BIN=$bin

runs=(
    "--codex real --engine auto --calls 100 --parallel 16 --rss-tolerance-kib 2048"
    "--codex real --engine exec --calls 100 --parallel 16 --rss-tolerance-kib 2048"
    "--codex fast --engine exec --calls 1000 --parallel 16 --rss-tolerance-kib 1024"
)
mkdir -p build/bench
failed=()
start=$SECONDS
for args in "${runs[@]}"; do
    echo "soak: node bench/soak.mjs $args"
    # The figures (JSON) go to build/bench/soak-*.json; the summary is on stderr.
    # shellcheck disable=SC2086 # the options are words
    if ! node bench/soak.mjs $args >/dev/null; then
        failed+=("$args")
    fi
done
echo "soak: ${#runs[@]} runs in $((SECONDS - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
    printf 'soak: FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "soak: passed"
