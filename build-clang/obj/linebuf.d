build-clang/obj/linebuf.o: src/linebuf.c src/linebuf.h src/util.h
