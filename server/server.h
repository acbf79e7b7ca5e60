/*
 * server/server.h: the running daemon's shared context, one per process,
 * set up by main() in xfed.c. Modules take what they need from it instead
 * of keeping their own copies of the config or the event base.
 */
#ifndef SERVER_H
#define SERVER_H

#include <time.h>

struct conf;
struct event_base;
struct store;
struct tls_ctx;

struct server {
	struct event_base	*base;
	struct conf		*conf;		/* replaced on SIGHUP */
	struct store		*store;
	struct tls_ctx		*tls;		/* NULL without certificates */
	time_t			 started;
	int			 stopping;	/* shutdown under way */
};

extern struct server	*server;

#endif
