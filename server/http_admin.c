/*
 * server/http_admin.c: the API's admin resources: webhooks (made and
 * deleted here, with their secret, besides xfed.conf's; each one's
 * delivery state: cursor, backlog, failures) and the tokens (names and
 * scopes, never the secrets). Making tokens is xfedctl's (the secret is
 * shown once, on the terminal of who made it).
 */
#include <errno.h>
#include <stdlib.h>

#include "http_int.h"
#include "json.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "webhook.h"

#define HTTP_WEBHOOK_SECRET_MAX	256

/* A webhook's row with its backlog (events after its cursor). */
static json_t *
http_webhook_json(const struct store_webhook *w)
{
	json_t	*o = json_of_webhook(w);
	int64_t	 n = 0;

	store_event_count(server->store, w->cursor, &n);
	json_put_int(o, "backlog", n);
	return o;
}

static int
http_webhooks_cb(void *arg, const struct store_webhook *w)
{
	json_array_append_new(arg, http_webhook_json(w));
	return 0;
}

void
http_webhooks_list(struct http_req *r)
{
	json_t	*a = json_array(), *o;

	if (store_webhook_list(server->store, http_webhooks_cb, a) == -1) {
		json_decref(a);
		http_store_error(r);
		return;
	}
	o = json_object();
	json_object_set_new(o, "webhooks", a);
	http_reply(r, 200, o);
}

struct http_webhook_one {
	int64_t	 id;
	json_t	*o;
};

static int
http_webhook_one_cb(void *arg, const struct store_webhook *w)
{
	struct http_webhook_one	*one = arg;

	if (w->id == one->id && one->o == NULL)
		one->o = http_webhook_json(w);
	return 0;
}

/* Ends a webhook write (failed: rolled back after the error reply) and
 * makes the running set follow it: 0, or -1 when it did not happen. */
static int
http_webhooks_changed(struct http_req *r, int failed)
{
	if (failed)
		http_store_error(r);
	if (http_write_end(r, failed) == -1)
		return -1;
	(void)webhook_sync(server->conf);	/* it logs what failed */
	return 0;
}

/* POST /v1/webhooks {"url": URL, "secret": SECRET}: events from now on. */
void
http_webhooks_create(struct http_req *r)
{
	struct http_webhook_one	 one = { 0, NULL };
	const char		*url, *secret;
	int64_t			 start = 0;
	int			 failed;

	if (http_need_body(r) == -1 ||
	    http_body_str(r, "url", 2048, &url) == -1 ||
	    http_body_str(r, "secret", HTTP_WEBHOOK_SECRET_MAX, &secret) == -1)
		return;
	if (url == NULL || !webhook_url_ok(url)) {
		http_error(r, 400, "bad_field", "url must be an http or https "
		    "URL with a host");
		return;
	}
	if (secret != NULL && *secret == '\0') {
		/* as xfedctl's --secret "": no silent unsigned webhook */
		http_error(r, 400, "bad_field", "secret must not be empty "
		    "(leave it out for an unsigned webhook)");
		return;
	}
	if (http_write_begin(r) == -1)
		return;
	failed = store_event_last(server->store, &start) == -1 ||
	    store_webhook_add(server->store, url, secret, start, &one.id) == -1;
	if (http_webhooks_changed(r, failed) == -1)
		return;
	if (store_webhook_list(server->store, http_webhook_one_cb, &one) ==
	    -1 || one.o == NULL) {
		http_store_error(r);
		return;
	}
	http_reply(r, 201, one.o);
}

/* DELETE /v1/webhooks/ID: a managed webhook stops at once. */
void
http_webhooks_delete(struct http_req *r)
{
	char	*end;
	int64_t	 id;
	int	 failed;

	errno = 0;
	id = strtoll(r->seg[2], &end, 10);
	if (r->seg[2][0] < '1' || r->seg[2][0] > '9' || *end != '\0' ||
	    errno != 0) {
		http_error(r, 400, "bad_path", "a webhook id is a positive "
		    "integer");
		return;
	}
	if (http_write_begin(r) == -1)
		return;
	failed = store_webhook_delete(server->store, id) == -1;
	if (http_webhooks_changed(r, failed) == 0)
		http_reply(r, 204, NULL);
}

static int
http_tokens_cb(void *arg, const struct store_token *t)
{
	json_array_append_new(arg, json_of_token(t));
	return 0;
}

void
http_tokens_list(struct http_req *r)
{
	json_t	*a = json_array(), *o;

	if (store_token_list(server->store, http_tokens_cb, a) == -1) {
		json_decref(a);
		http_store_error(r);
		return;
	}
	o = json_object();
	json_object_set_new(o, "tokens", a);
	http_reply(r, 200, o);
}
