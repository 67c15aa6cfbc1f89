#!/usr/bin/env bash
# Start-up time and memory of codexmcp: initialize + tools/list + ping from
# a file, until exit, N times (default 50). Prints the median wall time and
# the peak resident set size (VmHWM) of one run.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CODEXMCP_BIN:-build/codexmcp}
n=${1:-50}
req=$(mktemp)
trap 'rm -f "$req"' EXIT
printf '%s\n' \
  '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}' \
  '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
  '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' \
  '{"jsonrpc":"2.0","id":2,"method":"ping"}' >"$req"
times=()
for _ in $(seq "$n"); do
    t0=$(date +%s%N)
    "$bin" <"$req" >/dev/null
    t1=$(date +%s%N)
    times+=($(((t1 - t0) / 1000)))
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
# Peak RSS: keep stdin open so the process is alive while we read /proc.
peak=$( (cat "$req"; sleep 0.3) | { "$bin" >/dev/null & pid=$!; sleep 0.2; grep VmHWM /proc/$pid/status | awk '{print $2}'; wait $pid; })
echo "start-up to exit (initialize, tools/list, ping): median $((median / 1000)).$(((median % 1000) / 100)) ms over $n runs"
echo "peak resident memory: ${peak} KiB"
