build-clang/obj/tool_codex.o: src/tool_codex.c src/tool_codex.h \
  src/jobs.h src/codex_args.h src/events.h src/mcp.h src/tools.h
