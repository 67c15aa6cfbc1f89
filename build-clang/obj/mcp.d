build-clang/obj/mcp.o: src/mcp.c src/mcp.h src/tools.h src/jsonrpc.h \
  src/limits.h src/log.h src/util.h
