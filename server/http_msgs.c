/*
 * server/http_msgs.c: the API's traffic: sending (messages and the
 * subscription actions of http_users.c become outbox rows), the state of
 * outbox rows, the inbox with a cursor and acknowledgements (at least
 * once: entries stay until acknowledged), and GET /v1/events, which holds
 * the request (long polling) until an event is committed or the wait
 * ends. Routing, auth and replies are http.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "http_int.h"
#include "json.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "xmalloc.h"

#define HTTP_MAX_BODY_TEXT	(256 * 1024)
#define HTTP_MAX_WAITERS	256
#define HTTP_EVENTS_LIMIT	1000

static int
http_outbox_cb(void *arg, const struct store_outbox *m)
{
	json_t	*o = json_of_outbox(m);

	if (json_is_array((json_t *)arg))
		json_array_append_new(arg, o);
	else
		json_object_set_new(arg, "row", o);
	return 0;
}

static int
http_user_state_cb(void *arg, const struct store_user *u)
{
	*(int *)arg = u->disabled ? 2 : 1;
	return 0;
}

void
http_queue(struct http_req *r, const struct http_user *u,
    struct store_outbox *m)
{
	json_t	*o;
	int64_t	 id = 0;
	int	 state = 0, failed;

	m->local = u->local;
	m->domain = u->domain;
	if (http_write_begin(r) == -1)
		return;
	failed = store_user_get(server->store, u->local, u->domain,
	    http_user_state_cb, &state) == -1;
	if (failed)
		http_store_error(r);
	else if (state == 2) {
		http_error(r, 409, "disabled", "user %s is disabled", u->jid);
		failed = 1;
	} else if ((failed = store_outbox_add(server->store, m, &id) == -1))
		http_store_error(r);
	if (http_write_end(r, failed) == -1)
		return;
	o = json_object();
	if (store_outbox_get(server->store, id, http_outbox_cb, o) == -1) {
		json_decref(o);
		http_store_error(r);
		return;
	}
	json_object_set(o, "id", json_object_get(json_object_get(o, "row"),
	    "id"));
	json_object_set(o, "state", json_object_get(json_object_get(o, "row"),
	    "state"));
	http_reply(r, 202, o);
}

void
http_messages_send(struct http_req *r)
{
	struct http_user	 hu;
	struct store_outbox	 m;
	const char		*to, *type, *err;
	char			 jid[JID_MAX + 1];

	memset(&m, 0, sizeof(m));
	if (http_need_body(r) == -1 || http_user_arg(r, r->seg[2], &hu) == -1 ||
	    http_body_str(r, "to", JID_MAX, &to) == -1 ||
	    http_body_str(r, "type", 16, &type) == -1 ||
	    http_body_str(r, "body", HTTP_MAX_BODY_TEXT, &m.body) == -1 ||
	    http_body_str(r, "subject", 4096, &m.subject) == -1 ||
	    http_body_str(r, "thread", 256, &m.thread) == -1 ||
	    http_body_str(r, "stanza_id", 256, &m.stanza_id) == -1)
		return;
	if (to == NULL) {
		http_error(r, 400, "bad_field", "to (a JID) is required");
		return;
	}
	if (jid_prep(to, jid, sizeof(jid), &err) == -1) {
		http_error(r, 400, "bad_jid", "invalid JID \"%s\": %s", to, err);
		return;
	}
	if (type != NULL && strcmp(type, "chat") != 0 &&
	    strcmp(type, "normal") != 0 && strcmp(type, "headline") != 0) {
		http_error(r, 400, "bad_field", "type must be chat, normal or "
		    "headline");
		return;
	}
	if ((m.body == NULL || m.body[0] == '\0') && m.subject == NULL) {
		http_error(r, 400, "bad_field", "body or subject is required");
		return;
	}
	m.kind = STORE_KIND_MESSAGE;
	m.to = jid;
	m.type = type != NULL ? type : "chat";
	http_queue(r, &hu, &m);
}

void
http_outbox_show(struct http_req *r)
{
	char	*end;
	long long id = strtoll(r->seg[2], &end, 10);
	json_t	*o = json_object(), *row;

	if (*end != '\0' || id < 1) {
		json_decref(o);
		http_error(r, 400, "bad_id", "an outbox id is a positive "
		    "integer");
		return;
	}
	if (store_outbox_get(server->store, id, http_outbox_cb, o) == -1) {
		json_decref(o);
		http_store_error(r);
		return;
	}
	row = json_incref(json_object_get(o, "row"));
	json_decref(o);
	http_reply(r, 200, row);
}

/* GET /v1/outbox?ids=1,2,3 or ?user=NAME[&limit=N]. */
void
http_outbox_list(struct http_req *r)
{
	const char	*ids = http_query(r, "ids"), *user = http_query(r, "user");
	struct http_user hu;
	json_t		*a = json_array(), *o;
	char		*end;
	long long	 id;
	int64_t		 limit;
	int		 n = 0;

	if (ids != NULL) {
		while (*ids != '\0') {
			id = strtoll(ids, &end, 10);
			if (end == ids || id < 1 || (*end != ',' &&
			    *end != '\0') || ++n > 1000) {
				json_decref(a);
				http_error(r, 400, "bad_parameter", "ids is "
				    "a comma-separated list of at most 1000 "
				    "ids");
				return;
			}
			if (store_outbox_get(server->store, id, http_outbox_cb,
			    a) == -1 && store_errcode(server->store) !=
			    STORE_E_NOTFOUND) {
				json_decref(a);
				http_store_error(r);
				return;
			}
			ids = *end == ',' ? end + 1 : end;
		}
	} else {
		if (http_query_int(r, "limit", 100, 1, 10000, &limit) == -1 ||
		    (user != NULL && http_user_arg(r, user, &hu) == -1)) {
			json_decref(a);
			return;
		}
		if (store_outbox_list(server->store, user ? hu.local : NULL,
		    user ? hu.domain : NULL, (size_t)limit, http_outbox_cb,
		    a) == -1) {
			json_decref(a);
			http_store_error(r);
			return;
		}
	}
	o = json_object();
	json_object_set_new(o, "outbox", a);
	http_reply(r, 200, o);
}

static int
http_inbox_cb(void *arg, const struct store_inbox *m)
{
	json_array_append_new(arg, json_of_inbox(m));
	return 0;
}

/* GET /v1/users/NAME/inbox?after=ID&limit=N[&all=1] */
void
http_inbox_list(struct http_req *r)
{
	struct http_user hu;
	json_t		*a, *o, *last;
	int64_t		 after, limit, all, next;

	if (http_user_arg(r, r->seg[2], &hu) == -1 ||
	    http_query_int(r, "after", 0, 0, INT64_MAX, &after) == -1 ||
	    http_query_int(r, "limit", 100, 1, 1000, &limit) == -1 ||
	    http_query_int(r, "all", 0, 0, 1, &all) == -1 ||
	    http_user_exists(r, &hu) == -1)
		return;
	a = json_array();
	if (store_inbox_list(server->store, hu.local, hu.domain, after,
	    all ? STORE_INBOX_ALL : 0, (size_t)limit, http_inbox_cb, a) == -1) {
		json_decref(a);
		http_store_error(r);
		return;
	}
	next = after;
	if ((last = json_array_get(a, json_array_size(a) - 1)) != NULL)
		next = json_integer_value(json_object_get(last, "id"));
	o = json_object();
	json_object_set_new(o, "inbox", a);
	json_put_int(o, "next", next);
	http_reply(r, 200, o);
}

/* POST /v1/users/NAME/inbox/ack {"upto": ID} */
void
http_inbox_ack(struct http_req *r)
{
	struct http_user hu;
	json_t		*v, *o;
	int64_t		 n = 0;
	int		 failed;

	if (http_need_body(r) == -1 || http_user_arg(r, r->seg[2], &hu) == -1)
		return;
	v = json_object_get(r->body, "upto");
	if (v == NULL || !json_is_integer(v) || json_integer_value(v) < 1) {
		http_error(r, 400, "bad_field", "upto (the last inbox id "
		    "handled) is required");
		return;
	}
	if (http_user_exists(r, &hu) == -1 || http_write_begin(r) == -1)
		return;
	failed = store_inbox_ack(server->store, hu.local, hu.domain,
	    json_integer_value(v), &n) == -1;
	if (failed)
		http_store_error(r);
	if (http_write_end(r, failed) == -1)
		return;
	o = json_object();
	json_put_int(o, "acknowledged", n);
	json_put_int(o, "upto", json_integer_value(v));
	http_reply(r, 200, o);
}

/* Events and long polling. */

struct http_waiter {
	TAILQ_ENTRY(http_waiter) entry;
	struct evhttp_request	*req;
	struct event		*timer;
	int64_t			 after;
	size_t			 limit;
	int			 gone;		/* the client went away */
};

static TAILQ_HEAD(, http_waiter) http_waiters =
    TAILQ_HEAD_INITIALIZER(http_waiters);
static size_t		 http_nwaiters;
static struct event_base *http_base;
static struct event	*http_probe_ev;
static long long	 http_max_wait;
static uint64_t		 http_events_queries;	/* store reads, all told */

struct http_events_ctx {
	json_t		*a;
	int64_t		 last;
};

static int
http_events_cb(void *arg, const struct store_event *e)
{
	struct http_events_ctx	*cx = arg;

	json_array_append_new(cx->a, json_of_event(server->store, e));
	cx->last = e->id;
	return 0;
}

/* The events after `after` as the reply body; NULL on a store error. */
static json_t *
http_events_read(int64_t after, size_t limit, size_t *np)
{
	struct http_events_ctx	 cx = { json_array(), after };
	json_t			*o;

	http_events_queries++;
	if (store_event_list(server->store, after, limit, http_events_cb,
	    &cx) == -1) {
		json_decref(cx.a);
		return NULL;
	}
	*np = json_array_size(cx.a);
	o = json_object();
	json_object_set_new(o, "events", cx.a);
	json_put_int(o, "next", cx.last);
	return o;
}

static void
http_waiter_free(struct http_waiter *w)
{
	TAILQ_REMOVE(&http_waiters, w, entry);
	http_nwaiters--;
	event_free(w->timer);
	free(w);
}

/* Answers w with what there is (maybe nothing) and frees it. */
static void
http_waiter_answer(struct http_waiter *w, json_t *body)
{
	size_t			 n;

	if (!w->gone)
		http_conn_set_closecb(w->req, NULL, NULL);
	if (body == NULL && (body = http_events_read(w->after, w->limit,
	    &n)) == NULL) {
		body = json_object();
		json_put_str(body, "error", "store");
		json_put_str(body, "message", store_errstr(server->store));
		http_send_json(w->req, 503, body);
	} else
		/* A request whose client left is freed by evhttp here. */
		http_send_json(w->req, 200, body);
	http_waiter_free(w);
}

static void
http_waiter_timeout(evutil_socket_t fd, short what, void *arg)
{
	http_waiter_answer(arg, NULL);
}

/*
 * The connection closed under a waiting request: evhttp detached the
 * request from it and leaves it to us; answering it frees it.
 */
static void
http_waiter_closed(struct evhttp_connection *evcon, void *arg)
{
	struct http_waiter	*w = arg;

	log_debug("http: a long poll's client left (events after %lld)",
	    (long long)w->after);
	w->gone = 1;
	event_active(w->timer, EV_TIMEOUT, 0);
}

/*
 * evhttp does not read while a request waits for its answer, so a client
 * that leaves is not noticed; once a second, look at each waiting
 * request's socket and answer those whose peer closed (the answer fails
 * and evhttp frees the connection). Reading cannot tell: over TLS a
 * leaving client's close_notify is data; the kernel's end-of-stream flag
 * (POLLRDHUP) is set for both.
 */
static void
http_waiters_probe(evutil_socket_t fd, short what, void *arg)
{
	struct http_waiter		*w, *next;
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;
	struct pollfd			 p;

	for (w = TAILQ_FIRST(&http_waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->gone ||
		    (evcon = evhttp_request_get_connection(w->req)) == NULL ||
		    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL ||
		    (p.fd = bufferevent_getfd(bev)) == -1)
			continue;
		p.events = POLLRDHUP;
		p.revents = 0;
		if (poll(&p, 1, 0) == 1 &&
		    (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
			log_debug("http: a long poll's client left (events "
			    "after %lld)", (long long)w->after);
			http_waiter_answer(w, NULL);
		}
	}
}

/* The events one query read for every waiter (http_events_wake()). */
struct http_events_all {
	json_t		*events;	/* json_of_event() of each */
	int64_t		*ids;
	size_t		 n, cap;
};

static int
http_events_all_cb(void *arg, const struct store_event *e)
{
	struct http_events_all	*all = arg;

	if (all->n == all->cap) {
		all->cap = all->cap ? 2 * all->cap : 64;
		all->ids = xreallocarray(all->ids, all->cap, sizeof(*all->ids));
	}
	all->ids[all->n++] = e->id;
	json_array_append_new(all->events, json_of_event(server->store, e));
	return 0;
}

/* w's answer from the events read for all: those after w->after, at most
 * w->limit; NULL when there are none. */
static json_t *
http_events_slice(const struct http_events_all *all,
    const struct http_waiter *w)
{
	json_t	*a, *o;
	size_t	 i;
	int64_t	 last = w->after;

	a = json_array();
	for (i = 0; i < all->n && json_array_size(a) < w->limit; i++)
		if (all->ids[i] > w->after) {
			json_array_append(a, json_array_get(all->events, i));
			last = all->ids[i];
		}
	if (json_array_size(a) == 0) {
		json_decref(a);
		return NULL;
	}
	o = json_object();
	json_object_set_new(o, "events", a);
	json_put_int(o, "next", last);
	return o;
}

/*
 * After a commit: one query reads the events after the lowest cursor of
 * those waiting (at most HTTP_EVENTS_LIMIT), and each waiter gets its part
 * of them. A waiter whose cursor lies past what that read reached is left
 * for the next commit (or its timeout, which reads on its own).
 */
void
http_events_wake(void)
{
	struct http_events_all	 all;
	struct http_waiter	*w, *next;
	json_t			*body;
	int64_t			 after = INT64_MAX;
	size_t			 limit = 0, woken = 0, nw = 0;

	/* Only committed events: the daemon's batch kicks again. */
	if (store_pending(server->store))
		return;
	TAILQ_FOREACH(w, &http_waiters, entry)
		if (!w->gone) {
			nw++;
			if (w->after < after)
				after = w->after;
			if (w->limit > limit)
				limit = w->limit;
		}
	if (nw == 0)
		return;
	memset(&all, 0, sizeof(all));
	all.events = json_array();
	http_events_queries++;
	if (store_event_list(server->store, after, limit, http_events_all_cb,
	    &all) == -1) {
		log_warnx("http: events: %s", store_errstr(server->store));
		goto done;
	}
	for (w = TAILQ_FIRST(&http_waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (!w->gone && (body = http_events_slice(&all, w)) != NULL) {
			http_waiter_answer(w, body);
			woken++;
		}
	}
	if (all.n > 0)
		log_debug("http: %zu events for %zu long polls, %zu answered, "
		    "one store query", all.n, nw, woken);
 done:
	json_decref(all.events);
	free(all.ids);
}

/*
 * A reader whose cursor fell behind the journal's retention (events_keep;
 * events not yet delivered to every webhook are kept) would miss events
 * without knowing: 410 with the oldest id kept, to start again from.
 * Event ids have no gaps but those pruning leaves.
 */
static int
http_events_behind(struct http_req *r, int64_t after)
{
	int64_t	 oldest = 0;
	json_t	*o;
	char	 msg[160];

	if (after == 0)
		return 0;
	if (store_event_first(server->store, &oldest) == -1) {
		http_store_error(r);
		return -1;
	}
	if (oldest == 0 || oldest <= after + 1)
		return 0;
	o = json_object();
	json_put_str(o, "error", "gone");
	snprintf(msg, sizeof(msg), "the events after %lld up to %lld were "
	    "pruned (events_keep); start again from after=%lld",
	    (long long)after, (long long)oldest - 1, (long long)oldest - 1);
	json_put_str(o, "message", msg);
	json_put_int(o, "oldest", oldest);
	http_reply(r, 410, o);
	return -1;
}

/* GET /v1/events?after=ID&limit=N&wait=SECS */
void
http_events_get(struct http_req *r)
{
	struct http_waiter	*w;
	struct timeval		 tv;
	json_t			*body;
	int64_t			 after, limit, wait;
	size_t			 n;

	if (http_query_int(r, "after", 0, 0, INT64_MAX, &after) == -1 ||
	    http_query_int(r, "limit", 100, 1, HTTP_EVENTS_LIMIT, &limit) ==
	    -1 || http_query_int(r, "wait", 0, 0, http_max_wait, &wait) == -1 ||
	    http_events_behind(r, after) == -1)
		return;
	if (store_pending(server->store) && wait > 0)
		body = NULL;		/* wait for the commit's kick */
	else if ((body = http_events_read(after, (size_t)limit, &n)) == NULL) {
		http_store_error(r);
		return;
	} else if (n > 0 || wait == 0) {
		http_reply(r, 200, body);
		return;
	}
	json_decref(body);
	if (http_nwaiters >= HTTP_MAX_WAITERS) {
		http_error(r, 503, "busy", "too many waiting requests");
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->req = r->req;
	w->after = after;
	w->limit = (size_t)limit;
	w->timer = evtimer_new(http_base, http_waiter_timeout, w);
	tv.tv_sec = wait;
	tv.tv_usec = 0;
	evtimer_add(w->timer, &tv);
	http_conn_set_closecb(r->req, http_waiter_closed, w);
	TAILQ_INSERT_TAIL(&http_waiters, w, entry);
	http_nwaiters++;
	r->done = 1;
}

void
http_events_stats(size_t *waiting, uint64_t *queries)
{
	*waiting = http_nwaiters;
	*queries = http_events_queries;
}

void
http_events_init(struct event_base *base, long long max_wait)
{
	struct timeval	 tv = { 1, 0 };

	http_base = base;
	http_max_wait = max_wait;
	if ((http_probe_ev = event_new(base, -1, EV_PERSIST, http_waiters_probe,
	    NULL)) == NULL)
		fatalx("http: event_new failed");
	evtimer_add(http_probe_ev, &tv);
}

void
http_events_close(void)
{
	struct http_waiter	*w;

	while ((w = TAILQ_FIRST(&http_waiters)) != NULL)
		http_waiter_answer(w, NULL);
	if (http_probe_ev != NULL)
		event_free(http_probe_ev);
	http_probe_ev = NULL;
}
