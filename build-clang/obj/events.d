build-clang/obj/events.o: src/events.c src/events.h src/limits.h \
  src/util.h
