/*
 * server/presence.h: RFC 6121 presence and subscriptions for native users.
 * Inbound presence stanzas (subscriptions, probes, contacts' presence) are
 * applied to the store and answered; a native user's presence, when it
 * changes, goes to every contact allowed to see it. Stanzas made here go
 * through router_send() without an outbox row: they are not retried, but
 * for what is owed (presence_owed_done() below).
 */
#ifndef PRESENCE_H
#define PRESENCE_H

#include <stdint.h>

#include "store.h"

struct el;
struct jid;

/*
 * The resource a native user's available presence comes from (RFC 6121
 * 4.2.2 wants a full JID; S2S 8.24: one stable resource per user). Its
 * unavailable presence comes from the same full JID, so that a remote
 * client that saw it online sees the same resource go offline.
 */
#define PRESENCE_RESOURCE	"xfed"
/*
 * Directed presence from strangers kept per user, at most (the newest);
 * dropped when the user goes unavailable and at start (RFC 6121 4.6.4).
 */
#define PRESENCE_STRANGERS_MAX	100
/* Contacts probed at start, at most (to/both subscriptions). */
#define PRESENCE_START_PROBES	1000
/* Departed rows read at a time, and sent at most in one pass. */
#define PRESENCE_DEPARTED_BATCH	1000

/*
 * Schedules what is owed at start: probes, the presence of users online
 * (set while xfed was stopped), deleted users' farewells. Needs
 * server->base and server->store.
 */
void	 presence_init(void);
void	 presence_free(void);
/*
 * Shutdown, before the streams close: every online user's contacts (and
 * directed presence's targets) get unavailable.
 */
void	 presence_shutdown(void);
/* A users row was deleted: its contacts are told, later in this pass. */
void	 presence_user_deleted(void);

/*
 * What is owed to contacts and must reach them (a deleted user's farewell,
 * the unavailable of a stopping xfed) is a `departed` row, kept until its
 * stanzas are sent: they go with the outbox id -(row id), and the S2S
 * layer's verdicts on negative ids come here (outbox.c passes them on).
 * Done: written on an authenticated stream or acknowledged: the row goes.
 * Failed: tried again at retry_at (wake: now), or never when it is 0.
 */
void	 presence_owed_done(int64_t outbox_id);
void	 presence_owed_failed(int64_t outbox_id, int64_t retry_at);
void	 presence_owed_wake(int64_t outbox_id);

/*
 * Takes nothing: an inbound presence stanza (borrowed) for a hosted
 * domain, with its parsed to and from.
 */
void	 presence_in(const struct el *stanza, const struct jid *to,
	    const struct jid *from);

/*
 * The presence row of users.id changed (or went): its subscribers get the
 * new presence, later in this loop pass.
 */
void	 presence_changed(int64_t user_id);
/*
 * The user local@domain blocked (1) or unblocked (0) the JID item: the
 * contacts it covers that may see the user's presence get unavailable
 * presence, or the current presence (XEP-0191 3.3.2, 3.4.2).
 */
void	 presence_block_changed(const char *local, const char *domain,
	    const char *item, int blocked);

/*
 * The user's current presence as a stanza from its full JID to to, or
 * NULL on a store error. A disabled user reads as unavailable. Available
 * presence carries the XEP-0153 avatar hash and XEP-0115 caps.
 */
struct el *presence_stanza(const char *local, const char *domain,
	    const char *to);

/*
 * 1 when from may see the user's presence: a contact with from/both, or
 * a target (full JID, or its bare JID) of the user's directed presence
 * (RFC 6121 4.6.3); 0 otherwise; -1 on a store error (logged).
 */
int	 presence_may_see(const char *local, const char *domain,
	    const struct jid *from);

/* XEP-0172: the user's nickname (else name), if any, as <nick/> in el. */
#define NS_NICK		"http://jabber.org/protocol/nick"
void	 presence_add_nick(struct el *el, const char *local,
	    const char *domain);
/*
 * XEP-0172 4.2: the same in message el of outbox row row_id to the
 * prepared JID to, when it is the user's first message to it (no earlier
 * message row to its bare JID) and there is no subscription either way;
 * nothing when el has a <nick/> already.
 */
void	 presence_add_first_nick(struct el *el, const char *local,
	    const char *domain, const char *to, int64_t row_id);

/*
 * An outbox row of the user to jid is being routed: before an
 * `unsubscribed` the contact gets unavailable (RFC 6121 3.2.2); after a
 * `subscribed` the user's current presence (3.1.5). Other kinds: nothing.
 */
void	 presence_outbox_before(const char *local, const char *domain,
	    const char *jid, enum store_kind);
void	 presence_outbox_after(const char *local, const char *domain,
	    const char *jid, enum store_kind);

#endif
