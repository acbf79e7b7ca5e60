/*
 * server/http.c: the HTTP API's listeners (http_listen, http_listen_tls,
 * http_socket) on libevent's evhttp, bearer-token authentication with
 * scopes, request size and rate limits, routing to the resource files
 * (http_users.c, http_msgs.c, http_admin.c) and JSON error replies. The
 * daemon wires it to the rest through hooks.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

struct conf;
struct event_base;
struct evbuffer;
struct tls_ctx;

struct http_hooks {
	/* Commits the daemon's open batch now; 0 or -1. */
	int	(*flush)(void);
	/* After a commit of ours: events may be waiting. */
	void	(*committed)(void);
	/* Writes /metrics into buf (see metrics.h). */
	void	(*metrics)(struct evbuffer *buf, int openmetrics);
};

/* Binds every configured listener; -1 (logged) when one fails. */
int	 http_init(struct event_base *, const struct conf *, struct tls_ctx *,
	    const struct http_hooks *);
/* SIGHUP: the new rate, connection caps and timeouts (listeners, body
 * size and long-poll wait stay). */
void	 http_reload(const struct conf *);
/* Answers requests still waiting (long polls) and closes the listeners. */
void	 http_free(void);
/* Removes the http_socket this process bound (a start that failed). */
void	 http_unlink(void);
/* For /metrics: open connections, long polls waiting, and the store reads
 * of events made for long polls since the start. */
struct http_stats {
	size_t		 connections;
	size_t		 long_polls;
	uint64_t	 events_queries;
};
void	 http_stats(struct http_stats *);
/* New events may be committed: long polls read them. */
void	 http_events_kick(void);

#endif
