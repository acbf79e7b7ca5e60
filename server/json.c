/*
 * server/json.c: JSON for xfed and xfedctl on jansson (json.h). The store
 * may hold any bytes a peer or the native system wrote; jansson refuses
 * invalid UTF-8, so strings go through json_str_lossy() first. Which rows
 * to show and when is the caller's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "json.h"
#include "xmalloc.h"

size_t
json_utf8_len(const unsigned char *s)
{
	unsigned int	 c = s[0], cp;
	size_t		 n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

json_t *
json_str_lossy(const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	json_t			*v;
	char			*buf, *p;
	size_t			 n;

	if (s == NULL)
		return json_null();
	if ((v = json_string(str)) != NULL)
		return v;
	/* At most 3 bytes (U+FFFD) for each byte of the input. */
	p = buf = xmalloc(strlen(str) * 3 + 1);
	while (*s != '\0') {
		if ((n = json_utf8_len(s)) == 0) {
			memcpy(p, "\xef\xbf\xbd", 3);
			p += 3;
			s++;
			continue;
		}
		memcpy(p, s, n);
		p += n;
		s += n;
	}
	*p = '\0';
	v = json_string(buf);
	free(buf);
	return v != NULL ? v : json_null();
}

void
json_put_str(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, json_str_lossy(v));
}

void
json_put_int(json_t *o, const char *key, int64_t v)
{
	json_object_set_new(o, key, json_integer((json_int_t)v));
}

void
json_put_time(json_t *o, const char *key, int64_t v)
{
	json_object_set_new(o, key, v ? json_integer((json_int_t)v) :
	    json_null());
}

void
json_put_bool(json_t *o, const char *key, int v)
{
	json_object_set_new(o, key, json_boolean(v));
}

void
json_put_base64(json_t *o, const char *key, const void *data, size_t len)
{
	char	*b;

	if (data == NULL) {
		json_object_set_new(o, key, json_null());
		return;
	}
	b = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b, data, (int)len);
	json_object_set_new(o, key, json_string(b));
	free(b);
}

unsigned char *
json_base64_decode(const char *s, size_t *lenp)
{
	unsigned char	*out;
	size_t		 len = strlen(s), i, pad = 0;
	int		 n;

	if (len % 4 != 0 || len > 64 * 1024 * 1024)
		return NULL;
	for (i = 0; i < len; i++)
		if (!(s[i] >= 'A' && s[i] <= 'Z') && !(s[i] >= 'a' &&
		    s[i] <= 'z') && !(s[i] >= '0' && s[i] <= '9') &&
		    s[i] != '+' && s[i] != '/' && !(s[i] == '=' && i >= len - 2))
			return NULL;
	if (len > 0 && s[len - 1] == '=')
		pad++;
	if (len > 1 && s[len - 2] == '=')
		pad++;
	if (pad == 1 && len > 1 && s[len - 2] == '=')
		return NULL;
	out = xmalloc(len / 4 * 3 + 1);
	if ((n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len)) < 0) {
		free(out);
		return NULL;
	}
	*lenp = (size_t)n - pad;
	return out;
}

static void
json_put_user(json_t *o, const char *local, const char *domain)
{
	char	 buf[2 * 1024 + 2];

	if (local == NULL || domain == NULL) {
		json_object_set_new(o, "user", json_null());
		return;
	}
	snprintf(buf, sizeof(buf), "%s@%s", local, domain);
	json_put_str(o, "user", buf);
}

json_t *
json_of_user(const struct store_user *u, int with_avatar)
{
	json_t	*o = json_object();

	json_put_user(o, u->local, u->domain);
	json_put_str(o, "local", u->local);
	json_put_str(o, "domain", u->domain);
	json_put_str(o, "name", u->name);
	json_put_str(o, "nickname", u->nickname);
	json_put_str(o, "email", u->email);
	json_put_str(o, "url", u->url);
	json_put_str(o, "note", u->note);
	json_put_str(o, "avatar_type", u->avatar ? u->avatar_type : NULL);
	json_put_int(o, "avatar_bytes", u->avatar ? (int64_t)u->avatar_len : 0);
	if (with_avatar)
		json_put_base64(o, "avatar", u->avatar, u->avatar_len);
	json_put_time(o, "created", u->created);
	json_put_bool(o, "disabled", u->disabled);
	return o;
}

json_t *
json_of_presence(const struct store_presence *p)
{
	json_t	*o = json_object();

	json_put_str(o, "show", store_show_name(p->show));
	json_put_str(o, "status", p->status);
	json_put_int(o, "priority", p->priority);
	json_put_time(o, "updated", p->updated);
	return o;
}

json_t *
json_of_sub(const struct store_sub *s)
{
	json_t	*o = json_object();

	json_put_str(o, "jid", s->jid);
	json_put_str(o, "subscription", store_sub_state_name(s->state));
	json_put_bool(o, "pending_out", s->pending_out);
	json_put_bool(o, "pending_in", s->pending_in);
	json_put_bool(o, "preapproved", s->preapproved);
	json_put_str(o, "request", s->request);
	json_put_time(o, "updated", s->updated);
	return o;
}

json_t *
json_of_rpres(const struct store_rpres *r)
{
	json_t	*o = json_object();

	json_put_user(o, r->local, r->domain);
	json_put_str(o, "jid", r->jid);
	json_put_str(o, "show", store_show_name(r->show));
	json_put_str(o, "status", r->status);
	json_put_int(o, "priority", r->priority);
	json_put_time(o, "updated", r->updated);
	return o;
}

json_t *
json_of_inbox(const struct store_inbox *m)
{
	json_t	*o = json_object();

	json_put_int(o, "id", m->id);
	json_put_user(o, m->local, m->domain);
	json_put_str(o, "kind", store_kind_name(m->kind));
	json_put_str(o, "from", m->from);
	json_put_str(o, "to", m->to);
	json_put_str(o, "type", m->type);
	json_put_str(o, "stanza_id", m->stanza_id);
	json_put_str(o, "body", m->body);
	json_put_str(o, "subject", m->subject);
	json_put_str(o, "thread", m->thread);
	json_put_time(o, "received", m->received);
	json_put_time(o, "consumed", m->consumed);
	json_put_str(o, "xml", m->xml);
	return o;
}

json_t *
json_of_outbox(const struct store_outbox *m)
{
	json_t	*o = json_object();

	json_put_int(o, "id", m->id);
	json_put_user(o, m->local, m->domain);
	json_put_str(o, "kind", store_kind_name(m->kind));
	json_put_str(o, "to", m->to);
	json_put_str(o, "type", m->type);
	json_put_str(o, "stanza_id", m->stanza_id);
	json_put_str(o, "body", m->body);
	json_put_str(o, "subject", m->subject);
	json_put_str(o, "state", store_out_state_name(m->state));
	json_put_int(o, "attempts", m->attempts);
	json_put_time(o, "next_attempt", m->next_attempt);
	json_put_str(o, "last_error", m->last_error);
	json_put_str(o, "error_stage", m->error_stage);
	json_put_str(o, "error_xml", m->error_xml);
	json_put_time(o, "created", m->created);
	json_put_time(o, "updated", m->updated);
	return o;
}

json_t *
json_of_webhook(const struct store_webhook *w)
{
	json_t	*o = json_object();

	json_put_int(o, "id", w->id);
	json_put_str(o, "url", w->url);
	json_put_int(o, "cursor", w->cursor);
	json_put_int(o, "delivered", w->delivered);
	json_put_int(o, "failures", w->failures);
	json_put_time(o, "last_status", w->last_status);
	json_put_str(o, "last_error", w->last_error);
	json_put_time(o, "last_attempt", w->last_attempt);
	json_put_time(o, "next_attempt", w->next_attempt);
	json_put_bool(o, "managed", w->managed);
	if (w->managed)		/* xfed.conf's secret is not in the row */
		json_put_bool(o, "signed", w->secret != NULL);
	return o;
}

json_t *
json_of_token(const struct store_token *t)
{
	json_t	*o = json_object();

	json_put_str(o, "name", t->name);
	json_put_str(o, "scope", store_scope_name(t->scope));
	json_put_time(o, "created", t->created);
	json_put_time(o, "last_used", t->last_used);
	return o;
}

static int
json_event_inbox(void *arg, const struct store_inbox *m)
{
	*(json_t **)arg = json_of_inbox(m);
	return 0;
}

static int
json_event_outbox(void *arg, const struct store_outbox *m)
{
	*(json_t **)arg = json_of_outbox(m);
	return 0;
}

static int
json_event_rpres(void *arg, const struct store_rpres *r)
{
	*(json_t **)arg = json_of_rpres(r);
	return 0;
}

static int
json_event_user(void *arg, const struct store_user *u)
{
	*(json_t **)arg = json_of_user(u, 0);
	return 0;
}

json_t *
json_of_event(struct store *st, const struct store_event *e)
{
	json_t		*o = json_object(), *data = NULL;
	const char	*at;
	char		 local[1024];

	json_put_int(o, "id", e->id);
	json_put_str(o, "type", e->type);
	json_put_str(o, "user", e->user);
	json_put_str(o, "jid", e->jid);
	json_put_str(o, "state", e->state);
	json_put_time(o, "at", e->at);
	if (strcmp(e->type, "inbox") == 0)
		store_inbox_get(st, e->ref_id, json_event_inbox, &data);
	else if (strcmp(e->type, "outbox") == 0)
		store_outbox_get(st, e->ref_id, json_event_outbox, &data);
	else if (strcmp(e->type, "presence") == 0 && e->jid != NULL &&
	    strcmp(e->state, "gone") != 0)
		store_rpres_get(st, e->user_id, e->jid, json_event_rpres, &data);
	else if (strcmp(e->type, "user") == 0 && e->user != NULL &&
	    strcmp(e->state, "deleted") != 0 &&
	    (at = strchr(e->user, '@')) != NULL &&
	    (size_t)(at - e->user) < sizeof(local)) {
		memcpy(local, e->user, at - e->user);
		local[at - e->user] = '\0';
		store_user_get(st, local, at + 1, json_event_user, &data);
	}
	json_object_set_new(o, "data", data != NULL ? data : json_null());
	return o;
}

char *
json_text(const json_t *v)
{
	char	*s;

	if ((s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		return xstrdup("null");
	return s;
}
