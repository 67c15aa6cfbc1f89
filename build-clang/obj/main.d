build-clang/obj/main.o: src/main.c src/child.h src/jobs.h \
  src/codex_args.h src/events.h src/mcp.h src/tools.h src/limits.h \
  src/log.h src/tool_codex.h src/transport.h src/util.h src/version.h
