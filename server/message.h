/*
 * server/message.h: what becomes of an inbound message to a native user,
 * by its type, its payload and the user's presence (RFC 6121 8.5.2).
 * The router stores, drops or refuses it accordingly.
 */
#ifndef MESSAGE_H
#define MESSAGE_H

#include "store.h"

#define NS_CHATSTATES	"http://jabber.org/protocol/chatstates"

struct el;
struct jid;

enum message_verdict {
	MESSAGE_STORE,		/* into the inbox, of the kind given */
	MESSAGE_DROP,		/* ignored (logged) */
	MESSAGE_REFUSE,		/* <service-unavailable/> */
};

/*
 * The verdict for a message (not an error) to the user to; *kind is the
 * inbox kind to store it as. A store error stores (the inbox put reports).
 */
enum message_verdict message_check(const struct el *stanza,
	    const struct jid *to, enum store_kind *kind);
/*
 * 1 when the sender of the message to the user to asked for a receipt
 * that xfed will send once the native system consumes it (XEP-0184 5.1,
 * `receipts`): the message has a non-empty id, and the sender may see
 * the user's presence (XEP-0184 8: no receipts to strangers).
 */
int	 message_wants_receipt(const struct el *stanza, const struct jid *to,
	    const struct jid *from);
/* Sends the receipts owed for consumed inbox rows (from a timer). */
void	 message_receipts_run(void);

#endif
