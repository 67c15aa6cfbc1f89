build-clang/obj/jsonrpc.o: src/jsonrpc.c src/jsonrpc.h src/util.h
