build-clang/obj/jobs.o: src/jobs.c src/jobs.h src/codex_args.h \
  src/events.h src/mcp.h src/tools.h src/child.h src/limits.h src/log.h \
  src/util.h
