build-clang/obj/log.o: src/log.c src/log.h src/util.h
