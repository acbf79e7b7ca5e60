/*
 * server/rowxml.h: the payload elements a native user's outbox row adds
 * to its stanza (the `xml` column): receipts, chat states, markers,
 * corrections, OOB links or any other extension, checked as strictly as
 * what peers send and never able to change who sends or receives.
 */
#ifndef ROWXML_H
#define ROWXML_H

#define ROWXML_MAX_BYTES	65536	/* as the schema's CHECK */
#define ROWXML_MAX_ELEMENTS	32

#define NS_RECEIPTS	"urn:xmpp:receipts"
#define NS_MARKERS	"urn:xmpp:chat-markers:0"
#define NS_CORRECT	"urn:xmpp:message-correct:0"
#define NS_OOB		"jabber:x:oob"

struct el;

/*
 * Parses xml, a sequence of elements, and appends a copy of each to
 * stanza (NULL: only checks). 0, or -1 with *errstr saying why (static):
 * not well-formed or restricted XML, too large, text between elements,
 * or an element of the stanza's own, stream or dialback namespace.
 */
int	 rowxml_add(struct el *stanza, const char *xml, const char **errstr);

#endif
