/*
 * server/http.c: the HTTP API's front door (http.h). Every request goes
 * through http_request(): /health answers without a token; anything else
 * needs "Authorization: Bearer TOKEN" naming a token of the store (only
 * its SHA-256 is compared), within its rate (a bucket per token), on a
 * route of the table below whose method and scope it has. Bodies larger
 * than http_max_body are refused by evhttp itself (413, made JSON by
 * http_conn.c, which also caps connections). What each route does is in
 * http_users.c, http_msgs.c and http_admin.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <openssl/ssl.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "conf.h"
#include "http.h"
#include "http_int.h"
#include "json.h"
#include "log.h"
#include "lru.h"
#include "server.h"
#include "tls.h"
#include "token.h"
#include "xmalloc.h"

#define HTTP_MAX_BUCKETS	4096	/* tokens and addresses, least recent go */
#define HTTP_USED_EVERY		60	/* seconds between last_used writes */

#define M_GET		EVHTTP_REQ_GET
#define M_POST		EVHTTP_REQ_POST
#define M_PUT		EVHTTP_REQ_PUT
#define M_PATCH		EVHTTP_REQ_PATCH
#define M_DELETE	EVHTTP_REQ_DELETE

/* A path is matched part by part; "*" matches any one part. */
struct http_route {
	int			 method;
	const char		*path;
	enum store_scope	 scope;
	void			(*fn)(struct http_req *);
};

static const struct http_route http_routes[] = {
	{ M_GET, "v1/users", STORE_SCOPE_READ, http_users_list },
	{ M_POST, "v1/users", STORE_SCOPE_WRITE, http_users_create },
	{ M_GET, "v1/users/*", STORE_SCOPE_READ, http_users_show },
	{ M_PATCH, "v1/users/*", STORE_SCOPE_WRITE, http_users_update },
	{ M_DELETE, "v1/users/*", STORE_SCOPE_WRITE, http_users_delete },
	{ M_GET, "v1/users/*/presence", STORE_SCOPE_READ, http_presence_show },
	{ M_PUT, "v1/users/*/presence", STORE_SCOPE_WRITE, http_presence_set },
	{ M_GET, "v1/users/*/contacts/presence", STORE_SCOPE_READ,
	    http_rpres_list },
	{ M_GET, "v1/users/*/subscriptions", STORE_SCOPE_READ, http_subs_list },
	{ M_POST, "v1/users/*/subscriptions/*/*", STORE_SCOPE_WRITE,
	    http_subs_action },
	{ M_POST, "v1/users/*/messages", STORE_SCOPE_WRITE,
	    http_messages_send },
	{ M_GET, "v1/users/*/inbox", STORE_SCOPE_READ, http_inbox_list },
	{ M_POST, "v1/users/*/inbox/ack", STORE_SCOPE_WRITE, http_inbox_ack },
	{ M_GET, "v1/outbox", STORE_SCOPE_READ, http_outbox_list },
	{ M_GET, "v1/outbox/*", STORE_SCOPE_READ, http_outbox_show },
	{ M_GET, "v1/events", STORE_SCOPE_READ, http_events_get },
	{ M_GET, "v1/webhooks", STORE_SCOPE_ADMIN, http_webhooks_list },
	{ M_POST, "v1/webhooks", STORE_SCOPE_ADMIN, http_webhooks_create },
	{ M_DELETE, "v1/webhooks/*", STORE_SCOPE_ADMIN, http_webhooks_delete },
	{ M_GET, "v1/tokens", STORE_SCOPE_ADMIN, http_tokens_list },
	{ M_GET, "metrics", STORE_SCOPE_READ, NULL },
};
#define NROUTES	(sizeof(http_routes) / sizeof(http_routes[0]))

struct http_bucket {
	double		 tokens;
	struct timespec	 last;
	time_t		 used_written;
};

static struct evhttp		*http_plain, *http_tls;
static struct evconnlistener	*http_unix_lev;
static char			 http_unix_path[108];
static struct http_hooks	 http_hooks;
static struct lru		 http_buckets;
static long long		 http_rate;

static const char *
http_method_name(int m)
{
	switch (m) {
	case M_GET:	return "GET";
	case M_POST:	return "POST";
	case M_PUT:	return "PUT";
	case M_PATCH:	return "PATCH";
	case M_DELETE:	return "DELETE";
	case EVHTTP_REQ_HEAD:	return "HEAD";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE:	return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	default:	return "OTHER";
	}
}

void
http_send_json(struct evhttp_request *req, int status, json_t *body)
{
	struct evbuffer	*buf = evbuffer_new();
	char		*s;

	if (body != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "application/json");
	/* A HEAD answer has no body (evhttp would send one, unannounced),
	 * but the headers a GET would have. */
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		json_decref(body);
		body = NULL;
	}
	if (body != NULL) {
		s = json_text(body);
		evbuffer_add(buf, s, strlen(s));
		evbuffer_add(buf, "\n", 1);
		free(s);
		json_decref(body);
	}
	evhttp_send_reply(req, status, NULL, buf);
	evbuffer_free(buf);
	http_conn_replied(req);
}

void
http_reply(struct http_req *r, int status, json_t *body)
{
	if (r->done) {
		json_decref(body);
		return;
	}
	r->done = 1;
	http_send_json(r->req, status, body);
}

void
http_error(struct http_req *r, int status, const char *code,
    const char *fmt, ...)
{
	json_t	*o = json_object();
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_put_str(o, "error", code);
	json_put_str(o, "message", msg);
	if (status == 401)
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "WWW-Authenticate", "Bearer realm=\"xfed\"");
	http_reply(r, status, o);
}

void
http_store_error(struct http_req *r)
{
	struct store	*st = server->store;

	switch (store_errcode(st)) {
	case STORE_E_NOTFOUND:
		http_error(r, 404, "not_found", "%s", store_errstr(st));
		break;
	case STORE_E_EXISTS:
		http_error(r, 409, "exists", "%s", store_errstr(st));
		break;
	case STORE_E_INVALID:
		http_error(r, 422, "invalid", "%s", store_errstr(st));
		break;
	default:
		log_warnx("http: store: %s", store_errstr(st));
		http_error(r, 503, "store", "%s", store_errstr(st));
		break;
	}
}

const char *
http_query(struct http_req *r, const char *key)
{
	return evhttp_find_header(&r->query, key);
}

int
http_query_int(struct http_req *r, const char *key, int64_t def,
    int64_t min, int64_t max, int64_t *out)
{
	const char	*v = http_query(r, key);
	char		*end;
	long long	 n;

	if (v == NULL) {
		*out = def;
		return 0;
	}
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < min || n > max) {
		http_error(r, 400, "bad_parameter", "%s must be an integer "
		    "between %lld and %lld", key, (long long)min,
		    (long long)max);
		return -1;
	}
	*out = n;
	return 0;
}

int
http_user_arg(struct http_req *r, const char *arg, struct http_user *u)
{
	const char	*at = strchr(arg, '@'), *err;
	char		 local[JID_PART_MAX + 1], dom[JID_PART_MAX + 1];
	size_t		 n = at ? (size_t)(at - arg) : strlen(arg);

	if (n == 0 || n > JID_PART_MAX) {
		http_error(r, 400, "bad_user", "invalid user name");
		return -1;
	}
	memcpy(local, arg, n);
	local[n] = '\0';
	if (jid_prep_local(local, u->local, sizeof(u->local), &err) == -1) {
		http_error(r, 400, "bad_user", "invalid user name: %s", err);
		return -1;
	}
	if (at != NULL) {
		if (jid_prep_domain(at + 1, dom, sizeof(dom), &err) == -1) {
			http_error(r, 400, "bad_user", "invalid domain: %s",
			    err);
			return -1;
		}
		if (!conf_is_hosted(server->conf, dom)) {
			http_error(r, 404, "not_found", "%s is not a hosted "
			    "domain", dom);
			return -1;
		}
		snprintf(u->domain, sizeof(u->domain), "%s", dom);
	} else
		snprintf(u->domain, sizeof(u->domain), "%s",
		    CONF_DOMAIN(server->conf, 0));
	snprintf(u->jid, sizeof(u->jid), "%s@%s", u->local, u->domain);
	return 0;
}

int
http_user_exists(struct http_req *r, const struct http_user *hu)
{
	int64_t	 id;
	int	 rc;

	if ((rc = store_user_find(server->store, hu->local, hu->domain,
	    &id)) == 1)
		return 0;
	if (rc == 0)
		http_error(r, 404, "not_found", "no user %s", hu->jid);
	else
		http_store_error(r);
	return -1;
}

int
http_need_body(struct http_req *r)
{
	if (r->body == NULL || !json_is_object(r->body)) {
		http_error(r, 400, "bad_json", "a JSON object is required");
		return -1;
	}
	return 0;
}

int
http_body_str(struct http_req *r, const char *key, size_t max,
    const char **out)
{
	json_t	*v;

	*out = NULL;
	if (r->body == NULL || (v = json_object_get(r->body, key)) == NULL ||
	    json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		http_error(r, 400, "bad_field", "%s must be a string", key);
		return -1;
	}
	if (json_string_length(v) > max || strlen(json_string_value(v)) !=
	    json_string_length(v)) {
		http_error(r, 400, "bad_field", "%s: longer than %zu bytes or "
		    "holds NUL", key, max);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

int
http_write_begin(struct http_req *r)
{
	/* The daemon's open batch goes first, through its own path. */
	if ((store_pending(server->store) && http_hooks.flush() == -1) ||
	    store_begin(server->store) == -1) {
		http_store_error(r);
		return -1;
	}
	return 0;
}

int
http_write_end(struct http_req *r, int failed)
{
	if (failed) {
		store_rollback(server->store);
		return -1;
	}
	if (store_commit(server->store) == -1) {
		http_store_error(r);
		return -1;
	}
	http_hooks.committed();
	return 0;
}

/* Splits the path into r->seg, each part decoded on its own (so %2F
 * stays inside a part); -1 when it does not fit. */
static int
http_split(struct http_req *r, const char *path)
{
	char	 raw[2048], *p, *save = NULL, *dec;
	size_t	 n, used = 0;

	if (strlen(path) >= sizeof(raw))
		return -1;
	snprintf(raw, sizeof(raw), "%s", path);
	r->nseg = 0;
	for (p = strtok_r(raw, "/", &save); p != NULL;
	    p = strtok_r(NULL, "/", &save)) {
		if (r->nseg == HTTP_MAX_SEGS ||
		    (dec = evhttp_uridecode(p, 0, &n)) == NULL)
			return -1;
		if (used + n + 1 > sizeof(r->segbuf) ||
		    memchr(dec, '\0', n) != NULL) {
			free(dec);
			return -1;
		}
		memcpy(r->segbuf + used, dec, n + 1);
		free(dec);
		r->seg[r->nseg++] = r->segbuf + used;
		used += n + 1;
	}
	return 0;
}

static int
http_route_match(const struct http_route *rt, const struct http_req *r)
{
	char	 pat[128], *p, *save = NULL;
	int	 i = 0;

	snprintf(pat, sizeof(pat), "%s", rt->path);
	for (p = strtok_r(pat, "/", &save); p != NULL;
	    p = strtok_r(NULL, "/", &save), i++)
		if (i >= r->nseg || (strcmp(p, "*") != 0 &&
		    strcmp(p, r->seg[i]) != 0))
			return 0;
	return i == r->nseg;
}

/*
 * A bucket of http_rate a second, bursts of twice that, per key (a token,
 * or a client address without one); 1 when this request is allowed. The
 * table is bounded: a flood of new addresses evicts the idlest buckets
 * (a bucket evicted comes back full, as one idle that long would be).
 */
static int
http_rate_ok(const char *key, int *write_used)
{
	struct http_bucket	*b;
	struct timespec		 now;
	double			 dt, cap = 2.0 * http_rate;
	int			 created;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (http_buckets.max == 0)
		lru_init(&http_buckets, HTTP_MAX_BUCKETS, sizeof(*b));
	b = lru_get(&http_buckets, key, &created);
	if (created) {
		b->tokens = cap;
		b->last = now;
		b->used_written = 0;
	}
	dt = (double)(now.tv_sec - b->last.tv_sec) +
	    (now.tv_nsec - b->last.tv_nsec) / 1e9;
	b->last = now;
	b->tokens += dt * http_rate;
	if (b->tokens > cap)
		b->tokens = cap;
	*write_used = time(NULL) - b->used_written >= HTTP_USED_EVERY;
	if (*write_used)
		b->used_written = time(NULL);
	if (b->tokens < 1.0)
		return 0;
	b->tokens -= 1.0;
	return 1;
}

static int
http_token_cb(void *arg, const struct store_token *t)
{
	struct http_req	*r = arg;

	r->token_id = t->id;
	r->scope = t->scope;
	return 0;
}

/* The bucket key of requests without a valid token: the peer address. */
static void
http_peer_key(struct http_req *r, char *key, size_t len)
{
	struct evhttp_connection	*evcon;
	char				*addr = NULL;
	ev_uint16_t			 port;

	if ((evcon = evhttp_request_get_connection(r->req)) != NULL)
		evhttp_connection_get_peer(evcon, &addr, &port);
	snprintf(key, len, "a:%s", addr != NULL ? addr : "");
}

/* 401, or 429 for a peer that keeps trying without a valid token. */
static void
http_unauthorized(struct http_req *r, const char *why)
{
	char	 key[LRU_KEY_MAX];
	int	 used;

	http_peer_key(r, key, sizeof(key));
	if (!http_rate_ok(key, &used)) {
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", "1");
		http_error(r, 429, "rate_limited", "too many requests "
		    "without a valid token");
		return;
	}
	http_error(r, 401, "unauthorized", "%s", why);
}

/* Checks the bearer token: 0, or -1 after the reply. */
static int
http_auth(struct http_req *r)
{
	const char	*h = evhttp_find_header(
			    evhttp_request_get_input_headers(r->req),
			    "Authorization");
	char		 hash[TOKEN_HASH_LEN + 1], key[32];
	int		 used;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0 || h[7] == '\0') {
		http_unauthorized(r, "a bearer token is required "
		    "(Authorization: Bearer TOKEN)");
		return -1;
	}
	h += 7;
	h += strspn(h, " ");
	token_hash(h, strlen(h), hash);
	if (store_token_find(server->store, hash, http_token_cb, r) == -1) {
		if (store_errcode(server->store) != STORE_E_NOTFOUND) {
			http_store_error(r);
			return -1;
		}
		http_unauthorized(r, "unknown or revoked token");
		return -1;
	}
	snprintf(key, sizeof(key), "t:%lld", (long long)r->token_id);
	if (!http_rate_ok(key, &used)) {
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", "1");
		http_error(r, 429, "rate_limited", "more than %lld requests "
		    "a second", http_rate);
		return -1;
	}
	/* A hint for "token list", batched with the daemon's writes. */
	if (used)
		store_token_used(server->store, r->token_id, time(NULL));
	return 0;
}

static void
http_metrics(struct http_req *r)
{
	struct evbuffer	*buf = evbuffer_new();
	const char	*accept = evhttp_find_header(
			    evhttp_request_get_input_headers(r->req), "Accept");

	int		 om = accept != NULL &&
			    strstr(accept, "application/openmetrics-text") != NULL;

	http_hooks.metrics(buf, om);
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Content-Type", om ? "application/openmetrics-text; version=1.0.0; "
	    "charset=utf-8" : "text/plain; version=0.0.4; charset=utf-8");
	r->done = 1;
	evhttp_send_reply(r->req, 200, NULL, buf);
	evbuffer_free(buf);
	http_conn_replied(r->req);
}

static void
http_health(struct http_req *r)
{
	json_t	*o = json_object();
	int64_t	 v;
	int	 ok = store_event_last(server->store, &v) == 0;

	json_put_str(o, "status", ok ? "ok" : "store unavailable");
	json_put_int(o, "uptime", (int64_t)(time(NULL) - server->started));
	http_reply(r, ok ? 200 : 503, o);
}

/* Parses a JSON body into r->body: -1 after a 400. */
static int
http_parse_body(struct http_req *r)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(r->req);
	size_t		 len = evbuffer_get_length(in);
	json_error_t	 err;

	if (len == 0)
		return 0;
	r->body = json_loadb((const char *)evbuffer_pullup(in, -1), len,
	    JSON_REJECT_DUPLICATES, &err);
	if (r->body == NULL) {
		http_error(r, 400, "bad_json", "line %d column %d: %s",
		    err.line, err.column, err.text);
		return -1;
	}
	return 0;
}

static void
http_request(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const struct http_route	*rt = NULL;
	struct http_req		 r;
	const char		*path, *q;
	char			 allow[64];
	size_t			 i;
	int			 path_found = 0;

	memset(&r, 0, sizeof(r));
	r.req = req;
	r.method = evhttp_request_get_command(req);
	TAILQ_INIT(&r.query);
	if (http_conn_request(&r) == -1)
		goto out;
	path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (path == NULL || http_split(&r, path) == -1) {
		http_error(&r, 400, "bad_path", "malformed path");
		goto out;
	}
	if ((q = evhttp_uri_get_query(uri)) != NULL &&
	    evhttp_parse_query_str(q, &r.query) == -1) {
		http_error(&r, 400, "bad_query", "malformed query string");
		goto out;
	}
	if (r.nseg == 1 && strcmp(r.seg[0], "health") == 0 &&
	    r.method == M_GET) {
		http_health(&r);
		goto out;
	}
	if (http_auth(&r) == -1)
		goto out;
	allow[0] = '\0';
	for (i = 0; i < NROUTES; i++) {
		if (!http_route_match(&http_routes[i], &r))
			continue;
		path_found = 1;
		if ((int)http_routes[i].method == (int)r.method) {
			rt = &http_routes[i];
			break;
		}
		snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow),
		    "%s%s", allow[0] ? ", " : "",
		    http_method_name(http_routes[i].method));
	}
	if (rt == NULL && path_found) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", allow);
		http_error(&r, 405, "method_not_allowed", "%s is not allowed "
		    "here (Allow: %s)", http_method_name(r.method), allow);
		goto out;
	}
	if (rt == NULL) {
		http_error(&r, 404, "not_found", "no such resource");
		goto out;
	}
	if (r.scope < rt->scope) {
		http_error(&r, 403, "forbidden", "this needs a token with "
		    "scope %s (this one has %s)", store_scope_name(rt->scope),
		    store_scope_name(r.scope));
		goto out;
	}
	if (r.method != M_GET && http_parse_body(&r) == -1)
		goto out;
	if (rt->fn == NULL)
		http_metrics(&r);
	else
		rt->fn(&r);
	if (!r.done) {
		log_warnx("http: %s %s: no reply", http_method_name(r.method),
		    path);
		http_error(&r, 500, "internal", "no reply");
	}
 out:
	evhttp_clear_headers(&r.query);
	json_decref(r.body);
}

static struct evhttp *
http_new(struct event_base *base, const struct conf *c, struct tls_ctx *tls)
{
	struct evhttp	*h;

	if ((h = evhttp_new(base)) == NULL)
		fatalx("evhttp_new failed");
	evhttp_set_gencb(h, http_request, NULL);
	evhttp_set_max_body_size(h, c->http_max_body);
	evhttp_set_max_headers_size(h, HTTP_MAX_HEADERS);
	/* Every method evhttp knows, so that http_request() answers 405. */
	evhttp_set_allowed_methods(h, M_GET | M_POST | M_PUT | M_PATCH |
	    M_DELETE | EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS |
	    EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT);
	/* Idle or slow reading; a long poll does not read while it waits. */
	evhttp_set_timeout(h, (int)c->http_header_timeout);
	evhttp_set_bevcb(h, http_conn_bev, tls);
	return h;
}

static int
http_bind(struct evhttp *h, const struct conf_addr *a, const char *what)
{
	struct evhttp_bound_socket	*b;
	int				 fd, on = 1;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("%s %s: socket", what, a->text);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (a->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&a->ss, a->len) == -1 ||
	    listen(fd, 128) == -1) {
		log_warn("%s %s", what, a->text);
		close(fd);
		return -1;
	}
	if ((b = evhttp_accept_socket_with_handle(h, fd)) == NULL) {
		log_warnx("%s %s: evhttp_accept_socket failed", what, a->text);
		close(fd);
		return -1;
	}
	http_conn_listener(evhttp_bound_socket_get_listener(b));
	log_info("HTTP API listening on %s%s", a->text,
	    h == http_tls ? " (TLS)" : "");
	return 0;
}

static int
http_bind_unix(struct event_base *base, const char *path)
{
	struct sockaddr_un	 sun;
	struct stat		 sb;
	mode_t			 old;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("http_socket %s: path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	/* only a stale socket goes: never a file the path names by mistake
	 * (the store, a config) */
	if (lstat(path, &sb) == 0 && !S_ISSOCK(sb.st_mode)) {
		log_warnx("http_socket %s: exists and is not a socket", path);
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("http_socket %s: unlink", path);
		return -1;
	}
	old = umask(0117);
	http_unix_lev = evconnlistener_new_bind(base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 64,
	    (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (http_unix_lev == NULL) {
		log_warn("http_socket %s: bind", path);
		return -1;
	}
	if (evhttp_bind_listener(http_plain, http_unix_lev) == NULL) {
		log_warnx("http_socket %s: evhttp_bind_listener failed", path);
		return -1;
	}
	http_conn_listener(http_unix_lev);
	snprintf(http_unix_path, sizeof(http_unix_path), "%s", path);
	log_info("HTTP API listening on %s", path);
	return 0;
}

int
http_init(struct event_base *base, const struct conf *c, struct tls_ctx *tls,
    const struct http_hooks *hooks)
{
	size_t	 i;

	http_hooks = *hooks;
	http_rate = c->http_rate;
	http_events_init(base, c->http_max_wait);
	http_conn_init(base, c);
	if (c->http_listens.n == 0 && c->http_listens_tls.n == 0 &&
	    c->http_socket == NULL)
		return 0;
	http_plain = http_new(base, c, NULL);
	for (i = 0; i < c->http_listens.n; i++)
		if (http_bind(http_plain, CONF_HTTP(c, i), "http_listen") == -1)
			return -1;
	if (c->http_listens_tls.n > 0) {
		if (tls == NULL) {
			log_warnx("http_listen_tls: no TLS certificate");
			return -1;
		}
		http_tls = http_new(base, c, tls);
		for (i = 0; i < c->http_listens_tls.n; i++)
			if (http_bind(http_tls, CONF_HTTP_TLS(c, i),
			    "http_listen_tls") == -1)
				return -1;
	}
	if (c->http_socket != NULL && http_bind_unix(base, c->http_socket) ==
	    -1)
		return -1;
	return 0;
}

void
http_reload(const struct conf *c)
{
	http_rate = c->http_rate;
	http_conn_limits(c);
	if (http_plain != NULL)
		evhttp_set_timeout(http_plain, (int)c->http_header_timeout);
	if (http_tls != NULL)
		evhttp_set_timeout(http_tls, (int)c->http_header_timeout);
}

void
http_stats(struct http_stats *hs)
{
	hs->connections = http_conn_open();
	http_events_stats(&hs->long_polls, &hs->events_queries);
}

void
http_events_kick(void)
{
	http_events_wake();
}

void
http_unlink(void)
{
	if (http_unix_path[0] != '\0')
		unlink(http_unix_path);
	http_unix_path[0] = '\0';
}

void
http_free(void)
{
	http_events_close();
	if (http_plain != NULL)
		evhttp_free(http_plain);
	if (http_tls != NULL)
		evhttp_free(http_tls);
	http_plain = http_tls = NULL;
	http_conn_free_all();
	if (http_buckets.max != 0)
		lru_clear(&http_buckets);
	http_buckets.max = 0;
	/* evhttp_free() freed the bound listener with its fd. */
	http_unix_lev = NULL;
	if (http_unix_path[0] != '\0')
		unlink(http_unix_path);
}
