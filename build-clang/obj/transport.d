build-clang/obj/transport.o: src/transport.c src/transport.h \
  src/jsonrpc.h src/limits.h src/linebuf.h src/util.h src/log.h
