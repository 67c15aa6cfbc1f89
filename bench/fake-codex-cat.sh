#!/bin/sh
# A stand-in for `codex exec --json` that prints a recorded stream as fast as
# the pipe takes it: the file named by $BENCH_CODEX_STREAM (bench/stream-rss.mjs
# writes one). Reads the prompt first, as codex does.
cat >/dev/null
exec cat "${BENCH_CODEX_STREAM:?BENCH_CODEX_STREAM is not set}"
