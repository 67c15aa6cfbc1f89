#!/usr/bin/env bash
# Proves that the README's commands work as the very first command on a fresh
# machine, without a fresh machine. Each step runs in a copy of the working
# tree (tracked and untracked-but-not-ignored files, so uncommitted changes
# count; no build directory) with two stubs first on PATH:
#   pkg-config  answers as if libuv, jansson, sqlite3 and cmocka were not installed
#               until the install step has run (a flag file), then is the
#               real pkg-config;
#   cc          notes any compile or link that runs before the install step
#               (on a fresh machine it would have no headers, or no cc).
# The install step is the real one (DEPS_CMD wraps scripts/install-deps.sh and
# then creates the flag file). Steps:
#   make -j8 demo                        must pass (runs the real demo)
#   make -j8 test E2E=stdio.test.mjs     must pass (every unit test, one e2e file)
#   make                                 must fail with the "run make deps" message,
#                                        without running the install step or cc
# Usage: scripts/check-fresh-build.sh [STEP...]   (STEP: demo, test, make; default all)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(make demo test)
for s in "${steps[@]}"; do
    case $s in demo | test | make) ;; *)
        echo "check-fresh-build: unknown step '$s' (demo, test, make)" >&2
        exit 2
        ;;
    esac
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/codexmcp-fresh.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP
# cc from PATH (the stub below), make's own settings from this script only.
unset CC MAKEFLAGS MFLAGS MAKELEVEL MAKEFILES

# The working tree, once; each step gets its own copy of it.
mkdir "$tmp/tree"
git ls-files -co --exclude-standard -z |
    while IFS= read -r -d '' f; do
        if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi # skip deleted files
    done |
    tar -C "$root" --null -T - -cf - | tar -C "$tmp/tree" -xf -

# The e2e npm packages: the checkout's own when they are up to date (so npm ci
# does not run again); else the install step runs npm ci in the copy.
e2e_modules=""
if cmp -s tests/e2e/package-lock.json tests/e2e/node_modules/.codexmcp-lock 2>/dev/null; then
    e2e_modules=$root/tests/e2e/node_modules
fi
# The same for the MCP Inspector's own project (with its Node 22).
inspector_modules=""
if cmp -s tests/e2e/inspector/package-lock.json tests/e2e/inspector/node_modules/.codexmcp-lock 2>/dev/null; then
    inspector_modules=$root/tests/e2e/inspector/node_modules
fi

# The stubs. They find the real tools on the PATH without the stub directory.
stubs=$tmp/stubs
mkdir "$stubs"
flag=$tmp/installed # exists once the install step has run
early=$tmp/early-cc # compiles and links before the install step
ran=$tmp/deps-ran   # the install step started
real_path=$PATH
q() { printf '%q' "$1"; }
cat >"$stubs/pkg-config" <<EOF
#!/usr/bin/env bash
# check-fresh-build.sh: libuv, jansson, sqlite3 and cmocka are "not installed" until the flag exists.
PATH=$(q "$real_path"); export PATH
[ -e $(q "$flag") ] && exec pkg-config "\$@"
missing=
for a in "\$@"; do
    case \$a in
    libuv | jansson | sqlite3 | cmocka) missing="\$missing \$a" ;;
    esac
done
[ -n "\$missing" ] || exec pkg-config "\$@"
for p in \$missing; do
    echo "Package \$p was not found in the pkg-config search path." >&2
    echo "Perhaps you should add the directory containing \\\`\$p.pc'" >&2
    echo "to the PKG_CONFIG_PATH environment variable" >&2
    echo "Package '\$p', required by 'virtual:world', not found" >&2
done
exit 1
EOF
cat >"$stubs/cc" <<EOF
#!/usr/bin/env bash
# check-fresh-build.sh: notes a compile or link that runs before the install step.
PATH=$(q "$real_path"); export PATH
[ -e $(q "$flag") ] || echo "cc \$*" >>$(q "$early")
exec cc "\$@"
EOF
chmod +x "$stubs/pkg-config" "$stubs/cc"

deps_cmd="touch $(q "$ran") && scripts/install-deps.sh && touch $(q "$flag")"

failed=0
run_step() { # name, make arguments...
    local name=$1
    shift
    local dir=$tmp/step-$name log=$tmp/step-$name.log
    rm -rf "$dir" "$flag" "$early" "$ran"
    cp -a "$tmp/tree" "$dir"
    if [ -n "$e2e_modules" ]; then
        rm -rf "$dir/tests/e2e/node_modules" # (a symlink there is not ignored: copied)
        ln -s "$e2e_modules" "$dir/tests/e2e/node_modules"
    fi
    if [ -n "$inspector_modules" ]; then
        rm -rf "$dir/tests/e2e/inspector/node_modules"
        ln -s "$inspector_modules" "$dir/tests/e2e/inspector/node_modules"
    fi
    local start=$SECONDS rc=0 why="" detail=""
    (cd "$dir" && PATH="$stubs:$real_path" timeout -k 10 1200 \
        make "$@" DEPS_CMD="$deps_cmd") >"$log" 2>&1 </dev/null || rc=$?
    local took=$((SECONDS - start))
    if [ "$name" = make ]; then
        # No install step, so: a clear message, no install, no compiler.
        if [ $rc -eq 0 ]; then
            why="succeeded, but the packages were not installed"
        elif ! grep -qF "run \`make deps\`" "$log"; then
            why="failed without the \"run \`make deps\`\" message"
        elif [ -e "$ran" ]; then
            why="ran the install step"
        elif [ -e "$early" ]; then
            why="ran the compiler"
        fi
    else
        if [ $rc -ne 0 ]; then
            why="exit status $rc: $(grep -m1 -E 'undefined reference|error:|^not ok|\*\*\*' "$log" || true)"
        elif [ ! -e "$flag" ]; then
            why="the install step did not run"
        elif [ -e "$early" ]; then
            why="the compiler ran before the install step"
        fi
    fi
    if [ -e "$early" ]; then detail=$(cat "$early"); fi
    if [ -z "$why" ]; then
        printf 'ok    %-36s %4ds\n' "make${*:+ $*}" "$took"
    else
        printf 'FAIL  %-36s %4ds  %s\n' "make${*:+ $*}" "$took" "$why"
        echo "---- output of make${*:+ $*} ----"
        cat "$log"
        if [ -n "$detail" ]; then echo "---- ran the compiler before the install step ----" && echo "$detail"; fi
        echo "---- end of make${*:+ $*} ----"
        failed=1
    fi
    rm -rf "$dir"
}

for s in "${steps[@]}"; do
    case $s in
    make) run_step make ;;
    demo) run_step demo -j8 demo ;;
    test) run_step test -j8 test E2E=stdio.test.mjs ;;
    esac
done
exit $failed
