/*
 * server/pep.h: a native user's bare JID as a read-only PEP service
 * (XEP-0163) with the nodes clients read a contact's avatar and nickname
 * from: XEP-0084 urn:xmpp:avatar:data and urn:xmpp:avatar:metadata, and
 * XEP-0172 http://jabber.org/protocol/nick, all made from the users row.
 * Who may ask is iq.c's decision.
 */
#ifndef PEP_H
#define PEP_H

#include "store.h"

#define NS_PUBSUB		"http://jabber.org/protocol/pubsub"
#define NS_PUBSUB_ERRORS	"http://jabber.org/protocol/pubsub#errors"
#define NS_AVATAR_DATA		"urn:xmpp:avatar:data"
#define NS_AVATAR_METADATA	"urn:xmpp:avatar:metadata"
#define NS_PUBSUB_EVENT		"http://jabber.org/protocol/pubsub#event"

struct el;

/*
 * The answer to the <pubsub/> get q for user u: a new <pubsub> element
 * with the items, or NULL with *cond the stanza error condition
 * (item-not-found for a node the user does not have,
 * feature-not-implemented for anything but an items request).
 */
struct el	*pep_items(const struct store_user *u, const struct el *q,
		    const char **cond);
/*
 * A notification of the node's current item (XEP-0163 4.3, XEP-0060
 * 7.1.2.1): <message type='headline'><event><items node='...'><item/>,
 * without from and to; NULL when the node holds no item (no nickname),
 * unless retract: then the nick node's <retract id='current'/> (a change
 * to no nickname).
 */
struct el	*pep_event(const struct store_user *u, const char *node,
		    int retract);

#endif
