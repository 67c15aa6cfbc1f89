#!/usr/bin/env bash
# Installs the servers bench/peers.mjs compares codexmcp to, from npm, into a
# cache folder outside the repository (never into its node_modules):
#   @openai/codex@0.153.4   the last release with the official `codex mcp-server`
#   codex-mcp-server@1.4.10 a popular Node bridge that runs `codex exec`
# Each goes to a prefix of its own, named after the version, and is skipped
# when already there with the right version, so running this again is cheap.
# Folder: $CODEXMCP_BENCH_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/codexmcp-bench.
# Usage: bench/install-peers.sh   (prints the folder on its last line)
set -euo pipefail
cache=${CODEXMCP_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/codexmcp-bench}
mkdir -p "$cache"

# installed_version PREFIX PACKAGE: the version npm put under PREFIX, or nothing.
installed_version() {
    local pj="$1/node_modules/$2/package.json"
    [ -f "$pj" ] || return 0
    node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).version ?? ""))' "$pj"
}

# install PACKAGE VERSION: npm install PACKAGE@VERSION into $cache/<name>-<version>.
install() {
    local pkg=$1 version=$2
    local prefix="$cache/${pkg##*/}-$version"
    if [ "$(installed_version "$prefix" "$pkg")" = "$version" ]; then
        echo "install-peers: $pkg@$version already in $prefix"
        return 0
    fi
    echo "install-peers: installing $pkg@$version into $prefix"
    rm -rf "$prefix"
    mkdir -p "$prefix"
    # A package.json of its own, so npm does not climb to an enclosing project.
    printf '{"name":"codexmcp-bench-peer","private":true}\n' >"$prefix/package.json"
    npm install --prefix "$prefix" --save-exact --no-audit --no-fund --loglevel=error "$pkg@$version"
    local got
    got=$(installed_version "$prefix" "$pkg")
    if [ "$got" != "$version" ]; then
        echo "install-peers: $pkg: expected version $version in $prefix, found '${got}'" >&2
        exit 1
    fi
}

install @openai/codex 0.153.4
install codex-mcp-server 1.4.10

# The official server is run as its native binary (what bin/codex.js starts);
# check that npm brought the platform package holding it.
native=$(find "$cache/codex-0.153.4/node_modules/@openai" -path '*/vendor/*/bin/codex' -type f 2>/dev/null | head -n 1)
if [ -z "$native" ] || ! "$native" --version >/dev/null 2>&1; then
    echo "install-peers: no runnable native codex binary under $cache/codex-0.153.4 (the platform package is an optional dependency)" >&2
    exit 1
fi
echo "install-peers: $("$native" --version) at $native"
echo "$cache"
