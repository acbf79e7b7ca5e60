/*
 * server/http_admin.c: the API's admin resources: the delivery state of
 * each webhook (cursor, backlog, failures) and the tokens (names and
 * scopes, never the secrets). Making tokens is xfedctl's (the secret is
 * shown once, on the terminal of who made it).
 */
#include "http_int.h"
#include "json.h"
#include "server.h"
#include "store.h"

static int
http_webhooks_cb(void *arg, const struct store_webhook *w)
{
	json_t	*o = json_of_webhook(w);
	int64_t	 n = 0;

	store_event_count(server->store, w->cursor, &n);
	json_put_int(o, "backlog", n);
	json_array_append_new(arg, o);
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
