build-clang/obj/child.o: src/child.c src/child.h src/limits.h \
  src/linebuf.h src/util.h src/log.h
