/* server/server.c: the one daemon context (server.h). */
#include "server.h"

struct server	*server;
