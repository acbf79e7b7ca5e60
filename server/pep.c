/*
 * server/pep.c: the items of a native user's three PEP nodes (XEP-0060
 * 6.5), made from the users row each time they are asked for:
 *   urn:xmpp:avatar:data      one item, id = SHA-1 of the image, its
 *                             bytes in base64 (XEP-0084 4.1)
 *   urn:xmpp:avatar:metadata  one item, same id, <info/> with bytes, type
 *                             and, for a PNG, width and height (4.2);
 *                             without an avatar an empty <metadata/> (4.5)
 *   http://jabber.org/protocol/nick   the nickname, else the name
 * An item asked for by an id the node does not hold: an empty <items/>
 * (XEP-0060 6.5.9.12 lets a service answer so for a missing item). The
 * same items make the notifications caps.c sends (pep_event()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "el.h"
#include "pep.h"
#include "presence.h"
#include "vcard.h"

/* Width and height of a PNG (its IHDR), or 0 when not a PNG. */
static void
pep_png_size(const unsigned char *p, size_t len, unsigned long *w,
    unsigned long *h)
{
	*w = *h = 0;
	if (len < 24 || memcmp(p + 12, "IHDR", 4) != 0)
		return;
	*w = (unsigned long)p[16] << 24 | p[17] << 16 | p[18] << 8 | p[19];
	*h = (unsigned long)p[20] << 24 | p[21] << 16 | p[22] << 8 | p[23];
}

static void
pep_set_num(struct el *el, const char *name, unsigned long v)
{
	char	 buf[24];

	snprintf(buf, sizeof(buf), "%lu", v);
	el_set_attr(el, name, buf);
}

/* The items of node (the one with id wid, else the current) into out. */
static void
pep_fill(struct el *out, const struct store_user *u, const char *node,
    const char *wid)
{
	struct el	*it, *c;
	const char	*type;
	char		 hash[VCARD_HASH_LEN + 1], *b64;
	unsigned long	 w, h;

	vcard_photo_hash(u, hash);
	type = store_avatar_type(u->avatar, u->avatar_len);
	if (strcmp(node, NS_NICK) == 0) {
		if ((u->nickname || u->name) && (wid == NULL ||
		    strcmp(wid, "current") == 0)) {
			it = el_add(out, NULL, "item");
			el_set_attr(it, "id", "current");
			vcard_add_text(it, NS_NICK, "nick", u->nickname ?
			    u->nickname : u->name, STORE_PROFILE_TEXT_MAX);
		}
		return;
	}
	if (hash[0] == '\0') {
		/* no avatar: the metadata says so, there is no data */
		if (strcmp(node, NS_AVATAR_METADATA) == 0 && wid == NULL) {
			it = el_add(out, NULL, "item");
			el_set_attr(it, "id", "current");
			el_add(it, NS_AVATAR_METADATA, "metadata");
		}
		return;
	}
	if (wid != NULL && strcmp(wid, hash) != 0)
		return;
	it = el_add(out, NULL, "item");
	el_set_attr(it, "id", hash);
	if (strcmp(node, NS_AVATAR_DATA) == 0) {
		b64 = vcard_photo_base64(u);
		el_add_text_child(it, NS_AVATAR_DATA, "data", b64);
		free(b64);
		return;
	}
	c = el_add(el_add(it, NS_AVATAR_METADATA, "metadata"), NULL, "info");
	el_set_attr(c, "id", hash);
	pep_set_num(c, "bytes", u->avatar_len);
	el_set_attr(c, "type", type);
	pep_png_size(u->avatar, u->avatar_len, &w, &h);
	if (w > 0 && h > 0) {
		pep_set_num(c, "width", w);
		pep_set_num(c, "height", h);
	}
	return;
}

struct el *
pep_items(const struct store_user *u, const struct el *q, const char **cond)
{
	struct el	*items = el_first(q), *want, *r, *out;
	const char	*node, *wid;

	if (items == NULL || el_next(items) != NULL ||
	    !el_is(items, NS_PUBSUB, "items")) {
		*cond = "feature-not-implemented";
		return NULL;
	}
	node = el_attr(items, "node") ? el_attr(items, "node") : "";
	if (strcmp(node, NS_AVATAR_DATA) != 0 &&
	    strcmp(node, NS_AVATAR_METADATA) != 0 &&
	    strcmp(node, NS_NICK) != 0) {
		*cond = "item-not-found";
		return NULL;
	}
	want = el_child(items, NS_PUBSUB, "item");
	wid = want != NULL ? el_attr(want, "id") : NULL;
	r = el_new(NS_PUBSUB, "pubsub");
	out = el_add(r, NULL, "items");
	el_set_attr(out, "node", node);
	pep_fill(out, u, node, wid);
	return r;
}

struct el *
pep_event(const struct store_user *u, const char *node, int retract)
{
	struct el	*m, *out;

	m = el_new(EL_NS_SERVER, "message");
	el_set_attr(m, "type", "headline");
	out = el_add(el_add(m, NS_PUBSUB_EVENT, "event"), NULL, "items");
	el_set_attr(out, "node", node);
	pep_fill(out, u, node, NULL);
	if (out->children == NULL && retract &&
	    strcmp(node, NS_NICK) == 0)
		/* no nickname (nor name) any more: contacts drop the old
		 * one (XEP-0060 7.2.2.1) */
		el_set_attr(el_add(out, NULL, "retract"), "id", "current");
	if (out->children == NULL) {
		el_free(m);
		return NULL;
	}
	return m;
}
