build-clang/obj/codex_args.o: src/codex_args.c src/codex_args.h \
  src/events.h src/util.h
