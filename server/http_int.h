/*
 * server/http_int.h: what http.c shares with the resource files
 * (http_users.c, http_msgs.c, http_admin.c) and nobody else: the request
 * being served, replies, and the parsing helpers every resource uses.
 */
#ifndef HTTP_INT_H
#define HTTP_INT_H

#include <stdint.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "jid.h"
#include "store.h"

#define HTTP_MAX_SEGS	8

struct http_req {
	struct evhttp_request	*req;
	enum evhttp_cmd_type	 method;
	char			*seg[HTTP_MAX_SEGS];	/* decoded path parts */
	int			 nseg;
	char			 segbuf[2048];
	struct evkeyvalq	 query;
	int64_t			 token_id;
	enum store_scope	 scope;
	json_t			*body;		/* parsed JSON, or NULL */
	int			 done;		/* a reply went out */
};

struct http_user {
	char		 local[JID_PART_MAX + 1];
	char		 domain[JID_PART_MAX + 1];
	char		 jid[2 * JID_PART_MAX + 2];
};

/* Replies with body (taken; NULL: none) as JSON. */
void	 http_reply(struct http_req *, int status, json_t *body);
/* {"error": code, "message": ...} with status. */
void	 http_error(struct http_req *, int status, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The store's last error as 404, 409, 422 or 503. */
void	 http_store_error(struct http_req *);
/* A reply on a request held past its callback (long polls). */
void	 http_send_json(struct evhttp_request *, int status, json_t *body);

/* Query parameter, or NULL. */
const char *http_query(struct http_req *, const char *key);
/* An integer parameter in [min, max] (def when absent); -1 after a 400. */
int	 http_query_int(struct http_req *, const char *key, int64_t def,
	    int64_t min, int64_t max, int64_t *out);
/* A user named by a path part (NAME or NAME@DOMAIN, hosted); -1 after a
 * 400. Existence is not checked. */
int	 http_user_arg(struct http_req *, const char *arg, struct http_user *);
/* The user is in the store: 0, or -1 after a 404. */
int	 http_user_exists(struct http_req *, const struct http_user *);
/* The body's string member key (NULL when absent); -1 after a 400 when it
 * is there but not a string, or longer than max bytes. */
int	 http_body_str(struct http_req *, const char *key, size_t max,
	    const char **out);
/* A JSON body is required: -1 after a 400 when there is none. */
int	 http_need_body(struct http_req *);

/* One write, all or nothing, committed before the reply: -1 after a
 * 503. http_write_end() commits (or rolls back when failed is set). */
int	 http_write_begin(struct http_req *);
int	 http_write_end(struct http_req *, int failed);

/* http_msgs.c: queues m (kind, to, bodies set) from an existing, enabled
 * user u and replies 202 with the outbox row. */
void	 http_queue(struct http_req *, const struct http_user *u,
	    struct store_outbox *m);

/* Resources: one handler per route (http.c has the table). */
void	 http_users_list(struct http_req *);
void	 http_users_create(struct http_req *);
void	 http_users_show(struct http_req *);
void	 http_users_update(struct http_req *);
void	 http_users_delete(struct http_req *);
void	 http_presence_show(struct http_req *);
void	 http_presence_set(struct http_req *);
void	 http_rpres_list(struct http_req *);
void	 http_subs_list(struct http_req *);
void	 http_subs_action(struct http_req *);
void	 http_messages_send(struct http_req *);
void	 http_outbox_show(struct http_req *);
void	 http_outbox_list(struct http_req *);
void	 http_inbox_list(struct http_req *);
void	 http_inbox_ack(struct http_req *);
void	 http_events_get(struct http_req *);
void	 http_webhooks_list(struct http_req *);
void	 http_webhooks_create(struct http_req *);
void	 http_webhooks_delete(struct http_req *);
void	 http_tokens_list(struct http_req *);

/* http_conn.c: connections below evhttp (caps, request deadline, JSON
 * error pages). http_conn_bev() is evhttp's bufferevent callback (arg: the
 * TLS context, or NULL for plain sockets). */
/* evhttp's limit on a request's headers, in bytes */
#define HTTP_MAX_HEADERS	(16 * 1024)
struct conf;
struct bufferevent *http_conn_bev(struct event_base *, void *tls);
void	 http_conn_init(struct event_base *, const struct conf *);
void	 http_conn_limits(const struct conf *);
/* A request arrived: its connection's header deadline is off; -1 after a
 * 503 when its connection is over a cap and it asks for more than /health. */
int	 http_conn_request(struct http_req *);
/* An answer went out on req's connection: its next request's deadline. */
void	 http_conn_replied(struct evhttp_request *);
void	 http_conn_set_closecb(struct evhttp_request *,
	    void (*)(struct evhttp_connection *, void *), void *);
struct evconnlistener;
void	 http_conn_listener(struct evconnlistener *);
size_t	 http_conn_open(void);
void	 http_conn_free_all(void);

/* http_msgs.c: long polls waiting for events. */
void	 http_events_wake(void);
void	 http_events_close(void);
void	 http_events_init(struct event_base *, long long max_wait);
void	 http_events_stats(size_t *waiting, uint64_t *queries);

#endif
