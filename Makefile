# codexmcp — build, tests, demo. `make help` lists the targets.
CC      ?= cc
PKGS    := libuv jansson sqlite3
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wno-format-nonliteral -Wvla
ifdef WERROR
WARN    += -Werror
endif
# Read by the recipes, not when the Makefile is parsed: `make demo` and `make test` parse it
# before their install step has put libuv, jansson, SQLite and cmocka there.
PKG_CFLAGS  = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

BUILD   ?= build
SRCS    := $(wildcard src/*.c)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
OBJS    := $(SRCS:src/%.c=$(BUILD)/obj/%.o)
LIB_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

.PHONY: all deps need-pkgs need-cmocka test test-unit test-e2e test-asan test-valgrind lint fuzz \
        soak demo bench clean help format install uninstall

all: $(BUILD)/codexmcp

## make deps: install what is missing (every target below does it first; plain make does not)
DEPS_CMD ?= scripts/install-deps.sh
deps:
	@$(DEPS_CMD)

# The targets that install first. When one of them is asked for, the install step runs before
# anything is compiled or linked: every compile and link waits for need-pkgs, which waits for deps.
# Plain `make` never installs.
INSTALL_FIRST := deps demo test test-unit test-e2e test-asan test-valgrind lint fuzz soak bench
ifneq ($(filter $(INSTALL_FIRST),$(MAKECMDGOALS)),)
need-pkgs need-cmocka: | deps
endif

# One clear message, instead of hundreds of compiler errors, when a library is missing.
check_pkgs = @missing=$$(if command -v pkg-config >/dev/null 2>&1; then \
	    for p in $(1); do pkg-config --exists $$p 2>/dev/null || printf ' %s' $$p; done; \
	    else printf ' pkg-config'; fi); \
	if [ -n "$$missing" ]; then \
	    echo "codexmcp: missing$$missing: run \`make deps\` first (it installs what is missing)." >&2; \
	    exit 1; \
	fi
need-pkgs:
	$(call check_pkgs,$(PKGS))
need-cmocka:
	$(call check_pkgs,cmocka)

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*.h) | $(BUILD)/obj need-pkgs
	$(CC) $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) $(PKG_CFLAGS) -MMD -c $< -o $@

$(BUILD)/obj $(BUILD)/unit:
	@mkdir -p $@

$(BUILD)/codexmcp: $(OBJS) | need-pkgs
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(OBJS) $(PKG_LIBS) $(LDFLAGS) -o $@

$(BUILD)/unit/test_%: tests/unit/test_%.c $(LIB_OBJS) | $(BUILD)/unit need-pkgs need-cmocka
	$(CC) $(WARN) -Wno-missing-prototypes $(CFLAGS) $(EXTRA_CFLAGS) $(PKG_CFLAGS) -iquote src $< \
	    $(LIB_OBJS) $(PKG_LIBS) $(CMOCKA_LIBS) $(LDFLAGS) -o $@

test-unit: deps $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do (cd tests/unit && ../../$$t); done

# The e2e files to run (scripts/check-fresh-build.sh runs one), and the
# engine codexmcp runs them with (CODEXMCP_ENGINE; the suite's own default is
# auto, which is the app-server with the real codex).
E2E ?= *.test.mjs
test-e2e: deps $(BUILD)/codexmcp
	cd tests/e2e && CODEXMCP_STATE_DIR=$${CODEXMCP_STATE_DIR:-$(abspath $(BUILD))/e2e-state} \
	    CODEXMCP_BIN=$(abspath $(BUILD)/codexmcp) node --test --test-concurrency=2 $(E2E)

## make test: every test (unit, then end to end under each engine: auto, then exec)
test: deps
	$(MAKE) --no-print-directory all $(UNIT_BINS)
	$(MAKE) --no-print-directory test-unit
	@echo "== end-to-end, --engine auto (the app-server) =="
	CODEXMCP_ENGINE=auto $(MAKE) --no-print-directory test-e2e
	@echo "== end-to-end, --engine exec =="
	CODEXMCP_ENGINE=exec $(MAKE) --no-print-directory test-e2e

## make test-asan: the same suites against an ASan+UBSan build (build-asan/); any report fails it
SAN_REPORTS := $(abspath build-asan/sanitizer-reports)
test-asan: deps
	@rm -rf $(SAN_REPORTS) && mkdir -p $(SAN_REPORTS)
	ASAN_OPTIONS=log_path=$(SAN_REPORTS)/asan:detect_leaks=1 \
	UBSAN_OPTIONS=log_path=$(SAN_REPORTS)/ubsan:print_stacktrace=1 \
	$(MAKE) --no-print-directory BUILD=build-asan CC=clang CFLAGS="-O1 -g" \
	    EXTRA_CFLAGS="$(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" test
	@if [ -n "$$(ls -A $(SAN_REPORTS))" ]; then \
	    echo "sanitizer reports:"; cat $(SAN_REPORTS)/*; exit 1; \
	else echo "test-asan: no sanitizer report"; fi

## make demo: the main job end to end, offline (fake model endpoint, real Codex CLI)
demo: deps all
	node demo/demo.mjs

## make fuzz: each libFuzzer target (fuzz/fuzz_<target>.c, built with ASan and UBSan into
## build-fuzz/) for FUZZ_SECONDS (default 60; CI runs 30): jsonrpc (client lines into the MCP
## session), events (codex exec lines into the reducer and a result), appserver (app-server
## notifications through the mapper), budget (results into the budget), args (tool arguments
## into codex's argv), registry (stored rows into answers). Seeds: fuzz/corpus-<target>/; what
## a run adds: build-fuzz/corpus-<target>/; its log: build-fuzz/fuzz_<target>.log
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := jsonrpc events appserver budget args registry
# Each target's -max_len: long enough for every path of its parser (a line over the target's
# line limit, a result over its budget), no longer, as a run slows down while its inputs grow.
FUZZ_MAX_LEN_jsonrpc := 4096
FUZZ_MAX_LEN_events := 8192
FUZZ_MAX_LEN_appserver := 8192
FUZZ_MAX_LEN_budget := 4096
FUZZ_MAX_LEN_args := 4096
FUZZ_MAX_LEN_registry := 16384
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_RUNS := $(FUZZ_TARGETS:%=fuzz-run-%)
.PHONY: $(FUZZ_RUNS)

fuzz: deps $(FUZZ_RUNS)

build-fuzz/fuzz_%: fuzz/fuzz_%.c $(LIB_SRCS) $(wildcard src/*.h) | need-pkgs
	@mkdir -p build-fuzz
	@echo "clang … $< -o $@"
	@clang $(WARN) -Wno-missing-prototypes $(FUZZ_FLAGS) $(PKG_CFLAGS) -iquote src $< $(LIB_SRCS) \
	    $(PKG_LIBS) -o $@

# One target's run; a crash stops `make fuzz` with the report (the input is build-fuzz/<target>-*).
$(FUZZ_RUNS): fuzz-run-%: build-fuzz/fuzz_%
	@mkdir -p build-fuzz/corpus-$*
	@rc=0; build-fuzz/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -max_len=$(FUZZ_MAX_LEN_$*) -print_final_stats=1 -artifact_prefix=build-fuzz/$*- \
	    build-fuzz/corpus-$* fuzz/corpus-$* >build-fuzz/fuzz_$*.log 2>&1 || rc=$$?; \
	echo "fuzz_$*:"; tail -n 4 build-fuzz/fuzz_$*.log; \
	if [ $$rc -ne 0 ]; then grep -A30 -E 'ERROR|runtime error|timeout' build-fuzz/fuzz_$*.log; \
	    echo "fuzz: fuzz_$* crashed (see build-fuzz/)"; exit $$rc; fi

## make test-valgrind: a subset of the end-to-end suite with the server under valgrind memcheck
## (scripts/test-valgrind.sh says which files); any error or definitely-lost byte fails it
test-valgrind: deps all
	scripts/test-valgrind.sh

## make lint: clang-tidy (.clang-tidy) and cppcheck (scripts/cppcheck.supp) over src/; any finding fails it
lint: deps
	scripts/lint.sh

## make soak: a short soak through codexmcp (bench/soak.mjs; the long runs are in docs/testing.md)
soak: deps all
	scripts/soak-short.sh

$(BUILD)/bench/reducer: bench/reducer.c $(LIB_OBJS) | need-pkgs
	@mkdir -p $(BUILD)/bench
	$(CC) $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) $(PKG_CFLAGS) -iquote src $< $(LIB_OBJS) \
	    $(PKG_LIBS) $(LDFLAGS) -o $@

## make bench: codexmcp (both engines) next to the official codex mcp-server and
## codex-mcp-server (installed from npm into a cache), call latency, cost per call,
## start-up and memory, the reducer's throughput, memory while a call streams 100 MiB;
## writes build/bench/*.json and docs/benchmarks-peers.svg
bench: deps all $(BUILD)/bench/reducer
	bench/install-peers.sh
	node bench/peers.mjs
	node bench/plot-peers.mjs
	node bench/call-latency.mjs
	bench/startup.sh
	node bench/fast-calls.mjs
	node bench/backpressure.mjs
	node bench/result-budget.mjs
	$(BUILD)/bench/reducer
	node bench/stream-rss.mjs

## make install: installs build/codexmcp (built first if needed; it never runs `make deps`) as
## $(DESTDIR)$(BINDIR)/codexmcp and the man page as $(DESTDIR)$(MANDIR)/man1/codexmcp.1; unless
## given, PREFIX=/usr/local, BINDIR=$(PREFIX)/bin, MANDIR=$(PREFIX)/share/man, DESTDIR empty
## make uninstall: removes exactly those two files (give it the same PREFIX, DESTDIR, ...)
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
INSTALL ?= install

install: $(BUILD)/codexmcp
	$(INSTALL) -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MANDIR)/man1"
	$(INSTALL) -m 0755 $(BUILD)/codexmcp "$(DESTDIR)$(BINDIR)/codexmcp"
	$(INSTALL) -m 0644 codexmcp.1 "$(DESTDIR)$(MANDIR)/man1/codexmcp.1"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/codexmcp" "$(DESTDIR)$(MANDIR)/man1/codexmcp.1"

format:
	clang-format -i src/*.c src/*.h tests/unit/*.c fuzz/*.c bench/*.c

clean:
	rm -rf build build-asan build-fuzz

help:
	@grep -E '^## ' Makefile | sed 's/^## //'

-include $(wildcard $(BUILD)/obj/*.d)
