build-clang/obj/tools.o: src/tools.c src/tools.h src/util.h
