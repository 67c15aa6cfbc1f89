build-clang/obj/util.o: src/util.c src/util.h
