/*
 * server/webhook.c: reliable webhooks. Each `webhook URL [SECRET]` line
 * has a row in the store's webhooks table whose cursor is the last event
 * the receiver acknowledged (a 2xx answer). Events after the cursor are
 * POSTed in order, up to WEBHOOK_BATCH at a time, one request in flight
 * per webhook; a failure (no connection, timeout, any other status) waits
 * 1 s, 2 s, 4 s ... up to webhook_backoff_max and sends the same events
 * again. The cursor moves in the daemon's batch, so after a crash or a
 * restart delivery resumes from the store: at least once, in order.
 *
 * The body is {"events": [...]}, each event as /v1/events shows it. With a
 * secret, X-Xfed-Signature is "sha256=" and the hex HMAC-SHA256 of the
 * X-Xfed-Timestamp value, ".", and the body. Only committed events are
 * read (never while the daemon's batch is open), so nothing is announced
 * that a failed commit takes back. HTTP is libevent's evhttp client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>

#include "config.h"
#include "conf.h"
#include "json.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "token.h"
#include "webhook.h"
#include "xmalloc.h"

#define WEBHOOK_BATCH	100	/* events per POST */
#define WEBHOOK_MAX_ANSWER (16 * 1024)	/* bytes of a receiver's headers, of its body */

struct webhook {
	int64_t			 id;		/* webhooks.id */
	char			*url;
	char			*secret;
	struct evhttp_uri	*uri;
	char			 host[256];
	char			*target;	/* path and query */
	int			 port;
	int			 https;
	struct evhttp_connection *con;
	struct event		*timer;
	int			 inflight;
	int64_t			 cursor;
	int64_t			 batch_last;	/* last id in flight */
	int64_t			 batch_n;
	int			 failures;
	int			 last_status;
	char			 last_error[128];
	int			 said_dup;	/* the warning below, once */
};

static struct webhook		**webhooks;
static size_t			 nwebhooks;
static struct event_base	*webhook_base;
static struct evdns_base	*webhook_dns;
static SSL_CTX			*webhook_ssl;
static long long		 webhook_timeout, webhook_backoff_max;

static void	webhook_send(struct webhook *);

static int
webhook_row_cb(void *arg, const struct store_webhook *row)
{
	struct webhook	*w = arg;

	w->id = row->id;
	w->cursor = row->cursor;
	w->failures = row->failures;
	return 0;
}

static void
webhook_timer(evutil_socket_t fd, short what, void *arg)
{
	webhook_send(arg);
}

static void
webhook_sign(struct webhook *w, struct evkeyvalq *h, const char *body,
    size_t len)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		 ts[32], hex[2 * EVP_MAX_MD_SIZE + 1];
	char		 sig[2 * EVP_MAX_MD_SIZE + 8];
	char		*msg;
	size_t		 n;

	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	evhttp_add_header(h, "X-Xfed-Timestamp", ts);
	if (w->secret == NULL)
		return;
	n = strlen(ts) + 1 + len;
	msg = xmalloc(n);
	memcpy(msg, ts, strlen(ts));
	msg[strlen(ts)] = '.';
	memcpy(msg + strlen(ts) + 1, body, len);
	if (HMAC(EVP_sha256(), w->secret, (int)strlen(w->secret),
	    (unsigned char *)msg, n, md, &mdlen) == NULL)
		fatalx("HMAC failed");
	free(msg);
	token_hex(md, mdlen, hex);
	snprintf(sig, sizeof(sig), "sha256=%s", hex);
	evhttp_add_header(h, "X-Xfed-Signature", sig);
}

static void
webhook_retry(struct webhook *w, int status, const char *error)
{
	struct timeval	 tv = { 1, 0 };
	int		 i;

	w->failures++;
	w->last_status = status;
	snprintf(w->last_error, sizeof(w->last_error), "%s", error);
	for (i = 1; i < w->failures && tv.tv_sec < webhook_backoff_max; i++)
		tv.tv_sec *= 2;
	if (tv.tv_sec > webhook_backoff_max)
		tv.tv_sec = webhook_backoff_max;
	log_warnx("webhook %s: %s; events %lld.. again in %lds", w->url, error,
	    (long long)w->cursor + 1, (long)tv.tv_sec);
	if (store_webhook_fail(server->store, w->id, status, error,
	    (int64_t)time(NULL) + tv.tv_sec) == -1)
		log_warnx("webhook: store: %s", store_errstr(server->store));
	evtimer_add(w->timer, &tv);
}

static void
webhook_done(struct evhttp_request *req, void *arg)
{
	struct webhook	*w = arg;
	struct timeval	 now = { 0, 0 };
	char		 err[64];
	int		 code = req ? evhttp_request_get_response_code(req) : 0;

	w->inflight = 0;
	if (code < 200 || code > 299) {
		if (code == 0)
			snprintf(err, sizeof(err), "no answer (connection "
			    "failed or timed out)");
		else
			snprintf(err, sizeof(err), "HTTP status %d", code);
		webhook_retry(w, code, err);
		return;
	}
	w->cursor = w->batch_last;
	w->failures = 0;
	w->last_status = code;
	w->last_error[0] = '\0';
	log_debug("webhook %s: events up to %lld delivered", w->url,
	    (long long)w->cursor);
	if (store_webhook_done(server->store, w->id, w->cursor, w->batch_n,
	    code) == -1)
		log_warnx("webhook: store: %s", store_errstr(server->store));
	/* Never from inside evhttp's callback: the next POST from the loop. */
	evtimer_add(w->timer, &now);
}

struct webhook_batch {
	json_t		*a;
	int64_t		 last;
};

static int
webhook_event_cb(void *arg, const struct store_event *e)
{
	struct webhook_batch	*b = arg;

	json_array_append_new(b->a, json_of_event(server->store, e));
	b->last = e->id;
	return 0;
}

static struct evhttp_connection *
webhook_connect(struct webhook *w)
{
	struct bufferevent	*bev;
	SSL			*ssl;

	if (!w->https)
		return evhttp_connection_base_new(webhook_base, webhook_dns,
		    w->host, (unsigned short)w->port);
	if ((ssl = SSL_new(webhook_ssl)) == NULL)
		return NULL;
	/* The name (or address) in the URL must be the certificate's. */
	if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), w->host) != 1) {
		SSL_set_tlsext_host_name(ssl, w->host);
		SSL_set1_host(ssl, w->host);
	}
	if ((bev = bufferevent_openssl_socket_new(webhook_base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS)) == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	return evhttp_connection_base_bufferevent_new(webhook_base,
	    webhook_dns, bev, w->host, (unsigned short)w->port);
}

static void
webhook_send(struct webhook *w)
{
	struct webhook_batch	 b = { NULL, 0 };
	struct evhttp_request	*req;
	struct evkeyvalq	*h;
	json_t			*o;
	char			*body, host[300];
	size_t			 len;

	if (w->inflight || evtimer_pending(w->timer, NULL) ||
	    server->stopping)
		return;
	/* Only committed events: the flush kicks us again. */
	if (store_pending(server->store))
		return;
	b.a = json_array();
	if (store_event_list(server->store, w->cursor, WEBHOOK_BATCH,
	    webhook_event_cb, &b) == -1) {
		json_decref(b.a);
		webhook_retry(w, 0, store_errstr(server->store));
		return;
	}
	if (json_array_size(b.a) == 0) {
		json_decref(b.a);
		return;
	}
	w->batch_last = b.last;
	w->batch_n = (int64_t)json_array_size(b.a);
	o = json_object();
	json_object_set_new(o, "events", b.a);
	body = json_text(o);
	json_decref(o);

	/* A fresh connection for each TLS attempt; plain ones are reused. */
	if (w->con != NULL && (w->https || w->failures > 0)) {
		evhttp_connection_free(w->con);
		w->con = NULL;
	}
	if (w->con == NULL) {
		if ((w->con = webhook_connect(w)) == NULL) {
			free(body);
			webhook_retry(w, 0, "cannot make a connection");
			return;
		}
		evhttp_connection_set_timeout(w->con, (int)webhook_timeout);
		evhttp_connection_set_retries(w->con, 0);
		/* only the status matters: a receiver that answers without
		 * end must not fill our memory */
		evhttp_connection_set_max_headers_size(w->con,
		    WEBHOOK_MAX_ANSWER);
		evhttp_connection_set_max_body_size(w->con, WEBHOOK_MAX_ANSWER);
	}
	req = evhttp_request_new(webhook_done, w);
	h = evhttp_request_get_output_headers(req);
	/* RFC 7230 5.4: the port when it is not the scheme's, an IPv6
	 * literal in brackets */
	if (strchr(w->host, ':') != NULL)
		snprintf(host, sizeof(host), "[%s]", w->host);
	else
		snprintf(host, sizeof(host), "%s", w->host);
	if (w->port != (w->https ? 443 : 80)) {
		len = strlen(host);
		snprintf(host + len, sizeof(host) - len, ":%d", (int)w->port);
	}
	evhttp_add_header(h, "Host", host);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "User-Agent", "xfed/" XFED_VERSION);
	webhook_sign(w, h, body, strlen(body));
	evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
	free(body);
	w->inflight = 1;
	if (evhttp_make_request(w->con, req, EVHTTP_REQ_POST, w->target) ==
	    -1) {
		/* evhttp freed req */
		w->inflight = 0;
		webhook_retry(w, 0, "cannot send the request");
	}
}

int
webhook_url_ok(const char *url)
{
	struct evhttp_uri	*u;
	const char		*scheme, *host;
	int			 ok;

	if ((u = evhttp_uri_parse(url)) == NULL)
		return 0;
	scheme = evhttp_uri_get_scheme(u);
	host = evhttp_uri_get_host(u);
	ok = scheme != NULL && (strcmp(scheme, "http") == 0 ||
	    strcmp(scheme, "https") == 0) && host != NULL && *host != '\0' &&
	    strlen(host) < 256 && strlen(url) <= 2048;
	evhttp_uri_free(u);
	return ok;
}

static int
webhook_setup(struct webhook *w, const char *url, const char *secret,
    int64_t start)
{
	const char	*host, *path, *query;
	size_t		 n;

	w->url = xstrdup(url);
	w->secret = secret ? xstrdup(secret) : NULL;
	if ((w->uri = evhttp_uri_parse(url)) == NULL ||
	    (host = evhttp_uri_get_host(w->uri)) == NULL || *host == '\0' ||
	    strlen(host) >= sizeof(w->host)) {
		log_warnx("webhook %s: not a URL", url);
		return -1;
	}
	w->https = strcmp(evhttp_uri_get_scheme(w->uri), "https") == 0;
	/* Brackets of an IPv6 literal go for the connection. */
	n = strlen(host);
	if (host[0] == '[' && n > 2 && host[n - 1] == ']')
		snprintf(w->host, sizeof(w->host), "%.*s", (int)n - 2, host + 1);
	else
		snprintf(w->host, sizeof(w->host), "%s", host);
	w->port = evhttp_uri_get_port(w->uri);
	if (w->port == -1)
		w->port = w->https ? 443 : 80;
	path = evhttp_uri_get_path(w->uri);
	query = evhttp_uri_get_query(w->uri);
	xasprintf(&w->target, "%s%s%s", path && *path ? path : "/",
	    query ? "?" : "", query ? query : "");
	w->timer = evtimer_new(webhook_base, webhook_timer, w);
	if (store_webhook_open(server->store, w->url, start, webhook_row_cb,
	    w) == -1) {
		log_warnx("webhook %s: store: %s", w->url,
		    store_errstr(server->store));
		return -1;
	}
	log_info("webhook %s: events after %lld", w->url, (long long)w->cursor);
	return 0;
}

/* The resolver and the TLS client context, made for the first webhook. */
static void
webhook_client_init(const struct conf *c)
{
	if (webhook_ssl != NULL)
		return;
	if ((webhook_dns = evdns_base_new(webhook_base,
	    EVDNS_BASE_INITIALIZE_NAMESERVERS)) == NULL)
		log_warnx("webhook: no resolver; host names resolve blocking");
	if ((webhook_ssl = SSL_CTX_new(TLS_client_method())) == NULL)
		fatalx("webhook: SSL_CTX_new failed");
	SSL_CTX_set_default_verify_paths(webhook_ssl);
	if (c->tls_ca_file != NULL)
		SSL_CTX_load_verify_locations(webhook_ssl, c->tls_ca_file, NULL);
	SSL_CTX_set_verify(webhook_ssl, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_min_proto_version(webhook_ssl, TLS1_2_VERSION);
}

static void
webhook_drop(struct webhook *w)
{
	if (w->con != NULL)
		evhttp_connection_free(w->con);	/* its request, uncalled */
	if (w->timer != NULL)
		event_free(w->timer);
	if (w->uri != NULL)
		evhttp_uri_free(w->uri);
	free(w->url);
	free(w->secret);
	free(w->target);
	free(w);
}

/* The webhooks wanted: xfed.conf's lines, then the managed rows. */
struct webhook_want {
	char	*url;
	char	*secret;
	int64_t	 id;		/* its row's, 0 before it has one */
	int	 dup;		/* xfed.conf's line, and a managed row too */
};

struct webhook_wants {
	struct webhook_want	*v;
	size_t			 n, cap;
	/* rows of xfed.conf lines no longer there */
	int64_t			*gone;
	size_t			 ngone, capgone;
};

/* 1 when url is wanted (so far, or added now) */
static int
webhook_want(struct webhook_wants *ws, const char *url, const char *secret,
    int64_t id, int add)
{
	size_t	 i;

	for (i = 0; i < ws->n; i++)
		if (strcmp(ws->v[i].url, url) == 0) {
			if (ws->v[i].id == 0)
				ws->v[i].id = id;
			if (add && id != 0)	/* a managed row */
				ws->v[i].dup = 1;
			return 1;	/* xfed.conf's line first */
		}
	if (!add)
		return 0;
	if (ws->n == ws->cap) {
		ws->cap = ws->cap ? 2 * ws->cap : 8;
		ws->v = xreallocarray(ws->v, ws->cap, sizeof(*ws->v));
	}
	ws->v[ws->n].url = xstrdup(url);
	ws->v[ws->n].secret = secret ? xstrdup(secret) : NULL;
	ws->v[ws->n].id = id;
	ws->n++;
	return 1;
}

/* A managed row is wanted; any row names the id of xfed.conf's line; the
 * row of a line no longer in xfed.conf is to go. */
static int
webhook_managed_cb(void *arg, const struct store_webhook *row)
{
	struct webhook_wants	*ws = arg;

	if (webhook_want(ws, row->url, row->secret, row->id, row->managed) ||
	    row->managed)
		return 0;
	if (ws->ngone == ws->capgone) {
		ws->capgone = ws->capgone ? 2 * ws->capgone : 8;
		ws->gone = xreallocarray(ws->gone, ws->capgone,
		    sizeof(*ws->gone));
	}
	ws->gone[ws->ngone++] = row->id;
	return 0;
}

/*
 * A webhook line of xfed.conf whose URL a row made through the API or
 * xfedctl has too (the row came first: each refuses the other's URL after)
 * runs once, as that row, with the line's secret. Said once per webhook.
 */
static void
webhook_dup_say(struct webhook *w, const struct webhook_want *want)
{
	if (!want->dup || w->said_dup)
		return;
	w->said_dup = 1;
	log_warnx("webhook %s: xfed.conf's line has the URL of webhook %lld, "
	    "made through the API or xfedctl: one webhook runs, with the "
	    "line's secret; remove the line, or delete the row (xfedctl "
	    "webhook del %lld)", w->url, (long long)w->id, (long long)w->id);
}

/*
 * Makes the running set what xfed.conf and the store's managed rows say:
 * a webhook that stays (the same row) keeps its connection, timer and
 * cursor; a new one starts after the newest event (its row's cursor when
 * it has one); one gone stops, its request in flight dropped, and the row
 * of a line gone from xfed.conf is deleted (its URL may then be added
 * through the API or xfedctl). -1 when the store fails.
 */
int
webhook_sync(const struct conf *c)
{
	struct webhook_wants	 ws = { NULL, 0, 0, NULL, 0, 0 };
	struct webhook		**next, *w;
	int64_t			 start = 0;
	size_t			 i, j, n = 0;
	int			 rc = 0, made = 0, forgot = 0;

	webhook_timeout = c->webhook_timeout;
	webhook_backoff_max = c->webhook_backoff_max;
	for (i = 0; i < c->webhooks.n; i++)
		webhook_want(&ws, CONF_WEBHOOK(c, i)->url,
		    CONF_WEBHOOK(c, i)->secret, 0, 1);
	if (store_webhook_list(server->store, webhook_managed_cb, &ws) == -1 ||
	    store_event_last(server->store, &start) == -1) {
		log_warnx("webhooks: store: %s", store_errstr(server->store));
		rc = -1;
		goto out;
	}
	for (i = 0; i < ws.ngone; i++) {
		if (store_webhook_forget(server->store, ws.gone[i]) == -1) {
			log_warnx("webhooks: store: %s",
			    store_errstr(server->store));
			rc = -1;
		} else
			log_info("webhook %lld: its line left xfed.conf, its "
			    "row is deleted", (long long)ws.gone[i]);
		forgot = 1;
	}
	next = xcalloc(ws.n + 1, sizeof(*next));
	for (i = 0; i < ws.n; i++) {
		/* By row: a URL deleted and made again is a new webhook. */
		for (j = 0, w = NULL; j < nwebhooks && w == NULL; j++)
			if (webhooks[j] != NULL && ws.v[i].id != 0 &&
			    webhooks[j]->id == ws.v[i].id) {
				w = webhooks[j];
				webhooks[j] = NULL;
			}
		if (w != NULL) {
			free(w->secret);
			w->secret = ws.v[i].secret ? xstrdup(ws.v[i].secret) :
			    NULL;
			webhook_dup_say(w, &ws.v[i]);
			next[n++] = w;
			continue;
		}
		webhook_client_init(c);
		w = xcalloc(1, sizeof(*w));
		if (webhook_setup(w, ws.v[i].url, ws.v[i].secret, start) == -1) {
			webhook_drop(w);
			rc = -1;
			continue;
		}
		webhook_dup_say(w, &ws.v[i]);
		next[n++] = w;
		made = 1;
	}
	for (j = 0; j < nwebhooks; j++)
		if (webhooks[j] != NULL) {
			log_info("webhook %s: removed", webhooks[j]->url);
			webhook_drop(webhooks[j]);
		}
	free(webhooks);
	webhooks = next;
	nwebhooks = n;
	if ((made || forgot) && store_flush(server->store) == -1) {
		log_warnx("webhooks: store: %s", store_errstr(server->store));
		rc = -1;
	}
	if (made)
		webhook_kick();
 out:
	for (i = 0; i < ws.n; i++) {
		free(ws.v[i].url);
		free(ws.v[i].secret);
	}
	free(ws.v);
	free(ws.gone);
	return rc;
}

int
webhook_init(struct event_base *base, const struct conf *c)
{
	webhook_base = base;
	return webhook_sync(c);
}

void
webhook_kick(void)
{
	size_t	 i;

	for (i = 0; i < nwebhooks; i++)
		webhook_send(webhooks[i]);
}

int64_t
webhook_min_cursor(void)
{
	int64_t	 m = INT64_MAX;
	size_t	 i;

	for (i = 0; i < nwebhooks; i++)
		if (webhooks[i]->cursor < m)
			m = webhooks[i]->cursor;
	return m;
}

void
webhook_foreach(void (*fn)(void *, const struct webhook_info *), void *arg)
{
	struct webhook_info	 wi;
	size_t			 i;

	for (i = 0; i < nwebhooks; i++) {
		wi.url = webhooks[i]->url;
		wi.cursor = webhooks[i]->cursor;
		wi.failures = webhooks[i]->failures;
		wi.inflight = webhooks[i]->inflight;
		wi.last_status = webhooks[i]->last_status;
		wi.last_error = webhooks[i]->last_error;
		if (store_event_count(server->store, wi.cursor, &wi.backlog) ==
		    -1)
			wi.backlog = -1;
		fn(arg, &wi);
	}
}

void
webhook_free(void)
{
	size_t	 i;

	for (i = 0; i < nwebhooks; i++)
		webhook_drop(webhooks[i]);
	free(webhooks);
	webhooks = NULL;
	nwebhooks = 0;
	if (webhook_dns != NULL)
		evdns_base_free(webhook_dns, 0);
	if (webhook_ssl != NULL)
		SSL_CTX_free(webhook_ssl);
	webhook_dns = NULL;
	webhook_ssl = NULL;
}
