/*
 * server/payload.h: an outbox row as the stanza it becomes, and the checks
 * every such stanza passes before it may reach a stream. Reading rows is
 * the store's, sending them the outbox's and the router's.
 */
#ifndef PAYLOAD_H
#define PAYLOAD_H

#include <stddef.h>

struct el;
struct store_outbox;

#define PAYLOAD_WHY_MAX	160	/* a reason, one line */

/*
 * The stanza of a message or subscription row (not a presence row, which
 * needs the user's presence: presence.c), from o->local@o->domain to to,
 * with id. NULL for other kinds.
 */
struct el	*payload_stanza(const struct store_outbox *o, const char *to,
		    const char *id);
/*
 * The row's own fields before it becomes a stanza: a message row's type
 * is NULL (chat) or one a native user may send (RFC 6121 5.2.2: chat,
 * normal, headline; groupchat needs a room joined, error is the server's).
 * 0, or -1 with the reason (one line) in why.
 */
int		 payload_row_ok(const struct store_outbox *o, char *why,
		    size_t whysz);
/*
 * Checks the stanza as it will be written: every attribute value and
 * text in the tree well-formed UTF-8 holding only characters XML 1.0
 * allows, from and to prepared JIDs, and at most max bytes once
 * serialized. New payload parts are checked by being in the tree. 0, or
 * -1 with the reason (one line) in why.
 */
int		 payload_check(const struct el *stanza, size_t max, char *why,
		    size_t whysz);
/* 1 when s[0..n) is UTF-8 holding only XML 1.0 characters; else 0 with
 * the byte offset of the first bad one in *at. */
int		 payload_text_ok(const char *s, size_t n, size_t *at);

#endif
