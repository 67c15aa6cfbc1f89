#!/usr/bin/env bash
# make lint: clang-tidy and cppcheck over src/, with zero findings.
#   clang-tidy  checks from .clang-tidy, on every src/*.c (and the src/*.h they
#               include) with the Makefile's compile flags, so clang's own
#               warnings count too; LINT_JOBS files at a time (default: nproc);
#   cppcheck    --enable=warning,style,performance,portability, with the library
#               configuration in scripts/cppcheck.cfg and the suppressions in
#               scripts/cppcheck.supp.
# Any finding of either tool fails it, printed once with where it is. A finding
# silenced in the code must say why: a NOLINT or cppcheck-suppress without a
# reason after it is a finding too.
# Usage: scripts/lint.sh [FILE.c...]   (default: src/*.c)
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in clang-tidy cppcheck pkg-config; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "lint: $tool is missing: run \`make deps\` (scripts/install-deps.sh installs it)" >&2
        exit 2
    }
done

files=("$@")
partial=()
if [ ${#files[@]} -gt 0 ]; then
    partial=(--suppress=unmatchedSuppression) # a suppression may be for a file not given
else
    # Largest first: the long ones start early and the two queues end together.
    mapfile -t files < <(ls -S src/*.c)
fi
jobs=${LINT_JOBS:-$(nproc 2>/dev/null || echo 2)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
start=$SECONDS

# The flags the Makefile compiles with (-std=c11 -D_GNU_SOURCE, the warnings,
# the libraries' include paths), read from it so the two cannot drift apart.
read -r -a cflags <<<"$(make -s --no-print-directory \
    --eval='lint-print-cflags: ; @echo $(WARN) $(PKG_CFLAGS)' lint-print-cflags)"

# ---- clang-tidy: one process per file, in parallel; a header's finding is
# reported by every file that includes it, so findings are printed once.
tidy_rc=0
printf '%s\n' "${files[@]}" |
    xargs -P "$jobs" -I{} sh -c 'f=$1; shift; clang-tidy --quiet "$f" -- "$@" \
        >"'"$out"'/tidy.$(echo "$f" | tr / _).log" 2>&1' _ {} "${cflags[@]}" || tidy_rc=$?
# A finding is its "file:line:col: warning|error:" line and the lines after it
# (the source, the caret, its notes) up to the next finding.
cat "$out"/tidy.*.log | awk '
    /^[0-9]+ warnings? (generated|treated as errors)/ || /^Suppressed [0-9]+ warnings/ { next }
    /^[^ ].*:[0-9]+:[0-9]+: (warning|error): / { key = $0; keep = !(key in seen); seen[key] = 1
                                                 if (keep) n++ }
    /^[^ ].*:[0-9]+:[0-9]+: (warning|error|note): / || key != "" { if (keep) print }
    END { print n + 0 > "/dev/stderr" }' >"$out/tidy.txt" 2>"$out/tidy.count"
tidy_n=$(cat "$out/tidy.count")
if [ "$tidy_rc" -ne 0 ] && [ "$tidy_n" -eq 0 ]; then
    # clang-tidy failed without a finding of the usual shape: show all it said
    cat "$out"/tidy.*.log >"$out/tidy.txt"
    tidy_n=1
fi

# ---- cppcheck: fast enough for one process over every file. It predefines
# no platform macro: -D__linux__ has it check the code's Linux branches (with a
# -D it checks that one configuration, not every #ifdef combination).
cpp_rc=0
cppcheck --std=c11 --enable=warning,style,performance,portability,information --inconclusive \
    --library=posix --library=gnu --library=sqlite3 --library=scripts/cppcheck.cfg \
    --suppressions-list=scripts/cppcheck.supp --inline-suppr "${partial[@]}" \
    -D_GNU_SOURCE -D__linux__ \
    --error-exitcode=1 --quiet \
    --template='{file}:{line}:{column}: {severity}: {message} [{id}]\n{code}' \
    "${files[@]}" >"$out/cppcheck.txt" 2>&1 || cpp_rc=$?
cpp_n=$(grep -cE '^[^ ].*:[0-9]+:[0-9]+: [a-z]+: ' "$out/cppcheck.txt" || true)
if [ "$cpp_rc" -ne 0 ] && [ "$cpp_n" -eq 0 ]; then
    cpp_n=1
fi

# ---- every silenced finding says why: text after NOLINT(check) or after
# "cppcheck-suppress id ;".
grep -nE 'NOLINT' "${files[@]}" src/*.h | grep -v 'NOLINTEND' |
    grep -vE 'NOLINT(NEXTLINE|BEGIN|END)?\([A-Za-z0-9.,*-]+\): *[^ */]' >"$out/reasons.txt" || true
grep -nE 'cppcheck-suppress' "${files[@]}" src/*.h |
    grep -vE 'cppcheck-suppress[a-zA-Z]* +[a-zA-Z0-9_,]+ *; *[^ */]' >>"$out/reasons.txt" || true
reasons_n=$(wc -l <"$out/reasons.txt")

secs=$((SECONDS - start))
status=0
if [ "$tidy_n" -gt 0 ]; then
    echo "== clang-tidy: $tidy_n finding(s) (checks: .clang-tidy)"
    cat "$out/tidy.txt"
    status=1
fi
if [ "$cpp_n" -gt 0 ]; then
    echo "== cppcheck: $cpp_n finding(s) (scripts/cppcheck.cfg, scripts/cppcheck.supp)"
    cat "$out/cppcheck.txt"
    status=1
fi
if [ "$reasons_n" -gt 0 ]; then
    echo "== $reasons_n suppression(s) without a reason: write it after NOLINT(check): or after"
    echo "   cppcheck-suppress id ;"
    cat "$out/reasons.txt"
    status=1
fi
if [ "$status" -ne 0 ]; then
    echo "lint: failed: $tidy_n clang-tidy, $cpp_n cppcheck, $reasons_n unexplained suppression(s) (${secs}s)"
    exit 1
fi
echo "lint: clean: clang-tidy and cppcheck, ${#files[@]} files, 0 findings (${secs}s)"
