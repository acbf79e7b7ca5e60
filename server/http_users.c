/*
 * server/http_users.c: the API's users and what hangs off them: profile
 * and avatar, their own presence, their contacts' presence and their
 * subscriptions (/v1/users...). Subscription actions are outbox rows, as
 * in store/CONTRACT.md; the daemon sends them. Routing, auth and replies
 * are http.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "http_int.h"
#include "json.h"
#include "server.h"
#include "store.h"
#include "xmalloc.h"

#define HTTP_MAX_TEXT	(64 * 1024)

static int
http_users_list_cb(void *arg, const struct store_user *u)
{
	json_array_append_new(arg, json_of_user(u, 0));
	return 0;
}

void
http_users_list(struct http_req *r)
{
	json_t	*a = json_array(), *o;

	if (store_user_list(server->store, NULL, http_users_list_cb, a) ==
	    -1) {
		json_decref(a);
		http_store_error(r);
		return;
	}
	o = json_object();
	json_object_set_new(o, "users", a);
	http_reply(r, 200, o);
}

static int
http_user_cb(void *arg, const struct store_user *u)
{
	*(json_t **)arg = json_of_user(u, 1);
	return 0;
}

/* Replies with the user as stored now. */
static void
http_user_reply(struct http_req *r, int status, const struct http_user *u)
{
	json_t	*o = NULL;

	if (store_user_get(server->store, u->local, u->domain, http_user_cb,
	    &o) == -1) {
		http_store_error(r);
		return;
	}
	http_reply(r, status, o);
}

/* The profile fields a body may carry, in struct store_user order. */
static const char *const http_user_fields[] = {
	"name", "nickname", "email", "url", "note",
};

/* Fills u's profile from the body (fields absent keep their value);
 * -1 after a 400. avatar points into *avatarp (caller frees). */
static int
http_user_fields_read(struct http_req *r, struct store_user *u,
    unsigned char **avatarp)
{
	const char	**dst[] = { &u->name, &u->nickname, &u->email, &u->url,
			    &u->note };
	const char	*v, *type;
	json_t		*j;
	size_t		 i, len;

	for (i = 0; i < 5; i++) {
		if (json_object_get(r->body, http_user_fields[i]) == NULL)
			continue;
		if (http_body_str(r, http_user_fields[i], HTTP_MAX_TEXT,
		    &v) == -1)
			return -1;
		*dst[i] = v;
	}
	if ((j = json_object_get(r->body, "disabled")) != NULL) {
		if (!json_is_boolean(j)) {
			http_error(r, 400, "bad_field", "disabled must be "
			    "true or false");
			return -1;
		}
		u->disabled = json_is_true(j);
	}
	if ((j = json_object_get(r->body, "avatar")) != NULL) {
		if (json_is_null(j)) {
			u->avatar = NULL;
			u->avatar_len = 0;
			u->avatar_type = NULL;
			return 0;
		}
		if (http_body_str(r, "avatar", 64 * 1024 * 1024, &v) == -1 ||
		    http_body_str(r, "avatar_type", 255, &type) == -1)
			return -1;
		if (type == NULL || strchr(type, '/') == NULL) {
			http_error(r, 400, "bad_field", "avatar needs "
			    "avatar_type, a MIME type such as image/png");
			return -1;
		}
		if ((*avatarp = json_base64_decode(v, &len)) == NULL ||
		    len == 0) {
			http_error(r, 400, "bad_field", "avatar must be "
			    "non-empty base64");
			return -1;
		}
		u->avatar = *avatarp;
		u->avatar_len = len;
		u->avatar_type = type;
	}
	return 0;
}

void
http_users_create(struct http_req *r)
{
	struct http_user	 hu;
	struct store_user	 u;
	unsigned char		*avatar = NULL;
	const char		*name;
	int			 failed;

	if (http_need_body(r) == -1 || http_body_str(r, "user", 2100,
	    &name) == -1)
		return;
	if (name == NULL) {
		http_error(r, 400, "bad_field", "user (NAME or NAME@DOMAIN) "
		    "is required");
		return;
	}
	if (http_user_arg(r, name, &hu) == -1)
		return;
	memset(&u, 0, sizeof(u));
	if (http_user_fields_read(r, &u, &avatar) == -1)
		goto out;
	if (http_write_begin(r) == -1)
		goto out;
	/* One event for a plain create: the update only for more fields. */
	failed = store_user_add(server->store, hu.local, hu.domain, u.name,
	    &u.id) == -1 || (json_object_size(r->body) > (size_t)(1 +
	    (json_object_get(r->body, "name") != NULL)) &&
	    store_user_update(server->store, &u) == -1);
	if (failed)
		http_store_error(r);
	if (http_write_end(r, failed) == 0)
		http_user_reply(r, 201, &hu);
 out:
	free(avatar);
}

void
http_users_show(struct http_req *r)
{
	struct http_user	 hu;

	if (http_user_arg(r, r->seg[2], &hu) == 0)
		http_user_reply(r, 200, &hu);
}

/* A copy of the stored user, to update field by field. */
struct http_user_copy {
	struct store_user	 u;
	char			*s[6];
	void			*avatar;
};

static char *
http_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static int
http_user_copy_cb(void *arg, const struct store_user *u)
{
	struct http_user_copy	*c = arg;

	c->u = *u;
	c->u.name = c->s[0] = http_dup(u->name);
	c->u.nickname = c->s[1] = http_dup(u->nickname);
	c->u.email = c->s[2] = http_dup(u->email);
	c->u.url = c->s[3] = http_dup(u->url);
	c->u.note = c->s[4] = http_dup(u->note);
	c->u.avatar_type = c->s[5] = http_dup(u->avatar_type);
	c->u.local = c->u.domain = NULL;
	if (u->avatar != NULL) {
		c->avatar = xmalloc(u->avatar_len ? u->avatar_len : 1);
		memcpy(c->avatar, u->avatar, u->avatar_len);
		c->u.avatar = c->avatar;
	}
	return 0;
}

void
http_users_update(struct http_req *r)
{
	struct http_user	 hu;
	struct http_user_copy	 c;
	unsigned char		*avatar = NULL;
	int			 i, failed;

	memset(&c, 0, sizeof(c));
	if (http_need_body(r) == -1 || http_user_arg(r, r->seg[2], &hu) == -1)
		return;
	if (http_write_begin(r) == -1)
		return;
	failed = store_user_get(server->store, hu.local, hu.domain,
	    http_user_copy_cb, &c) == -1;
	if (failed)
		http_store_error(r);
	else if (http_user_fields_read(r, &c.u, &avatar) == -1)
		failed = 1;
	else if ((failed = store_user_update(server->store, &c.u) == -1))
		http_store_error(r);
	if (http_write_end(r, failed) == 0)
		http_user_reply(r, 200, &hu);
	for (i = 0; i < 6; i++)
		free(c.s[i]);
	free(c.avatar);
	free(avatar);
}

void
http_users_delete(struct http_req *r)
{
	struct http_user	 hu;
	int			 failed;

	if (http_user_arg(r, r->seg[2], &hu) == -1 ||
	    http_write_begin(r) == -1)
		return;
	failed = store_user_del(server->store, hu.local, hu.domain) == -1;
	if (failed)
		http_store_error(r);
	if (http_write_end(r, failed) == 0)
		http_reply(r, 204, NULL);
}

void
http_presence_show(struct http_req *r)
{
	struct http_user	 hu;
	struct store_presence	 p;

	if (http_user_arg(r, r->seg[2], &hu) == -1 ||
	    http_user_exists(r, &hu) == -1)
		return;
	if (store_presence_get(server->store, hu.local, hu.domain, &p) == -1) {
		http_store_error(r);
		return;
	}
	http_reply(r, 200, json_of_presence(&p));
}

void
http_presence_set(struct http_req *r)
{
	struct http_user	 hu;
	struct store_presence	 p;
	enum store_show		 show = STORE_SHOW_AVAILABLE;
	const char		*s, *status;
	json_t			*j;
	int			 prio = 0, failed;

	if (http_need_body(r) == -1 || http_user_arg(r, r->seg[2], &hu) == -1 ||
	    http_body_str(r, "show", 32, &s) == -1 ||
	    http_body_str(r, "status", HTTP_MAX_TEXT, &status) == -1)
		return;
	if (s != NULL && store_show_parse(s, &show) == -1) {
		http_error(r, 400, "bad_field", "show must be available, chat, "
		    "away, xa, dnd or unavailable");
		return;
	}
	if ((j = json_object_get(r->body, "priority")) != NULL) {
		if (!json_is_integer(j) || json_integer_value(j) < -128 ||
		    json_integer_value(j) > 127) {
			http_error(r, 400, "bad_field", "priority must be an "
			    "integer from -128 to 127");
			return;
		}
		prio = (int)json_integer_value(j);
	}
	if (http_user_exists(r, &hu) == -1 || http_write_begin(r) == -1)
		return;
	failed = store_presence_set(server->store, hu.local, hu.domain, show,
	    status, prio) == -1;
	if (failed)
		http_store_error(r);
	if (http_write_end(r, failed) == -1)
		return;
	if (store_presence_get(server->store, hu.local, hu.domain, &p) == -1)
		http_store_error(r);
	else
		http_reply(r, 200, json_of_presence(&p));
}

static int
http_rpres_cb(void *arg, const struct store_rpres *p)
{
	json_array_append_new(arg, json_of_rpres(p));
	return 0;
}

void
http_rpres_list(struct http_req *r)
{
	struct http_user	 hu;
	json_t			*a, *o;

	if (http_user_arg(r, r->seg[2], &hu) == -1 ||
	    http_user_exists(r, &hu) == -1)
		return;
	a = json_array();
	if (store_rpres_list(server->store, hu.local, hu.domain, http_rpres_cb,
	    a) == -1) {
		json_decref(a);
		http_store_error(r);
		return;
	}
	o = json_object();
	json_object_set_new(o, "presence", a);
	http_reply(r, 200, o);
}

static int
http_subs_cb(void *arg, const struct store_sub *s)
{
	json_array_append_new(arg, json_of_sub(s));
	return 0;
}

void
http_subs_list(struct http_req *r)
{
	struct http_user	 hu;
	json_t			*a, *o;

	if (http_user_arg(r, r->seg[2], &hu) == -1 ||
	    http_user_exists(r, &hu) == -1)
		return;
	a = json_array();
	if (store_sub_list(server->store, hu.local, hu.domain, http_subs_cb,
	    a) == -1) {
		json_decref(a);
		http_store_error(r);
		return;
	}
	o = json_object();
	json_object_set_new(o, "subscriptions", a);
	http_reply(r, 200, o);
}

void
http_subs_action(struct http_req *r)
{
	static const struct {
		const char	*action;
		enum store_kind	 kind;
	} acts[] = {
		{ "subscribe", STORE_KIND_SUBSCRIBE },
		{ "approve", STORE_KIND_SUBSCRIBED },
		{ "deny", STORE_KIND_UNSUBSCRIBED },
		{ "unsubscribe", STORE_KIND_UNSUBSCRIBE },
	};
	struct http_user	 hu;
	struct store_outbox	 m;
	const char		*err, *text = NULL;
	char			 jid[JID_MAX + 1];
	size_t			 i;

	if (http_user_arg(r, r->seg[2], &hu) == -1)
		return;
	for (i = 0; i < 4; i++)
		if (strcmp(r->seg[5], acts[i].action) == 0)
			break;
	if (i == 4) {
		http_error(r, 404, "not_found", "the action must be subscribe, "
		    "approve, deny or unsubscribe");
		return;
	}
	if (jid_prep(r->seg[4], jid, sizeof(jid), &err) == -1) {
		http_error(r, 400, "bad_jid", "invalid JID: %s", err);
		return;
	}
	if (strchr(jid, '/') != NULL) {
		http_error(r, 400, "bad_jid", "a bare JID is required");
		return;
	}
	if (r->body != NULL && http_body_str(r, "status", HTTP_MAX_TEXT,
	    &text) == -1)
		return;
	memset(&m, 0, sizeof(m));
	m.kind = acts[i].kind;
	m.to = jid;
	m.body = m.kind == STORE_KIND_SUBSCRIBE ? text : NULL;
	http_queue(r, &hu, &m);
}
