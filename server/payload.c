/*
 * server/payload.c: an outbox row as the stanza it becomes, and the checks
 * that keep a bad row from reaching a stream. A row written by a writer
 * that does not validate can hold bytes that are not UTF-8, characters
 * XML 1.0 forbids, or be larger than a peer will take; sent as it is,
 * the peer ends the stream (RFC 6120 4.9.3.22 unsupported-encoding,
 * 4.9.3.13 not-well-formed, 4.9.3.14 policy-violation) and the rows
 * written after it on the same stream are lost with it. Checked here, such
 * a row fails alone. NUL bytes are found where the row is read
 * (store_outbox.nul_column), since a C string ends at the first one. A
 * message row's type is one a native user may send, else the peer's
 * handling of it is anyone's guess (RFC 6121 5.2.2).
 */
#include <stdio.h>
#include <string.h>

#include "el.h"
#include "jid.h"
#include "payload.h"
#include "store.h"
#include "utf8.h"

struct el *
payload_stanza(const struct store_outbox *o, const char *to, const char *id)
{
	static const char *const ptype[] = {
		[STORE_KIND_SUBSCRIBE] = "subscribe",
		[STORE_KIND_SUBSCRIBED] = "subscribed",
		[STORE_KIND_UNSUBSCRIBE] = "unsubscribe",
		[STORE_KIND_UNSUBSCRIBED] = "unsubscribed",
	};
	struct el	*el;
	char		 from[2 * JID_PART_MAX + 2];

	snprintf(from, sizeof(from), "%s@%s", o->local, o->domain);
	switch (o->kind) {
	case STORE_KIND_MESSAGE:
		el = el_new(EL_NS_SERVER, "message");
		el_set_attr(el, "type", o->type ? o->type : "chat");
		break;
	case STORE_KIND_SUBSCRIBE:
	case STORE_KIND_SUBSCRIBED:
	case STORE_KIND_UNSUBSCRIBE:
	case STORE_KIND_UNSUBSCRIBED:
		el = el_new(EL_NS_SERVER, "presence");
		el_set_attr(el, "type", ptype[o->kind]);
		break;
	default:
		return NULL;
	}
	el_set_attr(el, "from", from);
	el_set_attr(el, "to", to);
	el_set_attr(el, "id", id);
	if (o->kind == STORE_KIND_MESSAGE) {
		el_add_text_child(el, EL_NS_SERVER, "subject", o->subject);
		el_add_text_child(el, EL_NS_SERVER, "body", o->body);
		el_add_text_child(el, EL_NS_SERVER, "thread", o->thread);
	} else if (o->kind == STORE_KIND_SUBSCRIBE)
		el_add_text_child(el, EL_NS_SERVER, "status", o->body);	/* the request text */
	return el;
}

int
payload_row_ok(const struct store_outbox *o, char *why, size_t whysz)
{
	static const char *const types[] = { "chat", "normal", "headline" };
	const char	*p;
	size_t		 i;

	if (o->kind != STORE_KIND_MESSAGE || o->type == NULL)
		return 0;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(o->type, types[i]) == 0)
			return 0;
	/* the value in the reason only when it is short printable ASCII */
	for (p = o->type; *p >= 0x20 && *p < 0x7f; p++)
		;
	if (*p == '\0' && p - o->type <= 32)
		snprintf(why, whysz, "type \"%s\" is not chat, normal or "
		    "headline", o->type);
	else
		snprintf(why, whysz, "type is not chat, normal or headline");
	return -1;
}

int
payload_text_ok(const char *s, size_t n, size_t *at)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned long		 cp;
	size_t			 i = 0, k;

	while (i < n) {
		if (p[i] >= 0x20 && p[i] < 0x80) {	/* the common case */
			i++;
			continue;
		}
		/* XML 1.0 2.2: #x9 | #xA | #xD | [#x20-#xD7FF] |
		 * [#xE000-#xFFFD] | [#x10000-#x10FFFF] */
		if ((k = utf8_decode(p + i, n - i, &cp)) == 0 ||
		    (cp < 0x20 && cp != 0x9 && cp != 0xa && cp != 0xd) ||
		    cp == 0xfffe || cp == 0xffff) {
			*at = i;
			return 0;
		}
		i += k;
	}
	return 1;
}

/* "not UTF-8" or "U+0001, which XML 1.0 does not allow", at s[at]. */
static void
payload_bad(const char *what, const char *s, size_t n, size_t at, char *why,
    size_t whysz)
{
	unsigned long	 cp;

	if (utf8_decode((const unsigned char *)s + at, n - at, &cp) == 0)
		snprintf(why, whysz, "%s is not valid UTF-8 (byte %zu)", what,
		    at + 1);
	else
		snprintf(why, whysz, "%s holds U+%04lX, which XML 1.0 does "
		    "not allow (byte %zu)", what, cp, at + 1);
}

static int
payload_tree_ok(const struct el *el, char *why, size_t whysz)
{
	const struct el_attr	*a;
	const struct el		*c;
	char			 what[96];
	size_t			 at;

	for (a = el->attrs; a != NULL; a = a->next)
		if (!payload_text_ok(a->value, strlen(a->value), &at)) {
			snprintf(what, sizeof(what), "attribute %.32s of <%.32s/>",
			    a->name, el->name);
			payload_bad(what, a->value, strlen(a->value), at, why,
			    whysz);
			return -1;
		}
	for (c = el->children; c != NULL; c = c->next) {
		if (c->name != NULL) {
			if (payload_tree_ok(c, why, whysz) == -1)
				return -1;
		} else if (!payload_text_ok(c->text, c->len, &at)) {
			snprintf(what, sizeof(what), "<%.32s/>", el->name);
			payload_bad(what, c->text, c->len, at, why, whysz);
			return -1;
		}
	}
	return 0;
}

int
payload_check(const struct el *stanza, size_t max, char *why, size_t whysz)
{
	static const char *const jids[] = { "from", "to" };
	char		 prep[JID_MAX + 1];
	const char	*v, *errstr;
	size_t		 i, size;

	if (payload_tree_ok(stanza, why, whysz) == -1)
		return -1;
	for (i = 0; i < sizeof(jids) / sizeof(jids[0]); i++) {
		if ((v = el_attr(stanza, jids[i])) == NULL) {
			snprintf(why, whysz, "no %s address", jids[i]);
			return -1;
		}
		if (jid_prep(v, prep, sizeof(prep), &errstr) == -1) {
			snprintf(why, whysz, "%s address: %s", jids[i], errstr);
			return -1;
		}
		if (strcmp(prep, v) != 0) {
			snprintf(why, whysz, "%s address is not prepared",
			    jids[i]);
			return -1;
		}
	}
	if ((size = el_size(stanza, EL_NS_SERVER)) > max) {
		snprintf(why, whysz, "stanza of %zu bytes is larger than the "
		    "%zu a stream may carry", size, max);
		return -1;
	}
	return 0;
}
