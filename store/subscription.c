/*
 * store/subscription.c: RFC 6121 subscription state changes caused by an
 * inbound subscription stanza, as a pure function on a struct store_sub.
 * Outbound changes are the schema's (triggers on the outbox, sqlite_schema.c),
 * so a native system gets them by inserting an outbox row.
 */
#include <stddef.h>

#include "store.h"

int
store_sub_inbound(struct store_sub *s, enum store_kind kind)
{
	int	 to = s->state == STORE_SUB_TO || s->state == STORE_SUB_BOTH;
	int	 from = s->state == STORE_SUB_FROM || s->state == STORE_SUB_BOTH;

	switch (kind) {
	case STORE_KIND_SUBSCRIBE:		/* 3.1.3 */
		if (from)		/* already approved: answer again */
			return STORE_SUB_AUTOREPLY;
		if (s->preapproved) {	/* 3.4: approved in advance */
			s->state = to ? STORE_SUB_BOTH : STORE_SUB_FROM;
			s->preapproved = 0;
			s->pending_in = 0;
			s->request = NULL;
			return STORE_SUB_CHANGED | STORE_SUB_AUTOREPLY;
		}
		if (s->pending_in)	/* the user was told already */
			return 0;
		s->pending_in = 1;
		return STORE_SUB_CHANGED | STORE_SUB_DELIVER;
	case STORE_KIND_SUBSCRIBED:		/* 3.1.6 */
		if (!s->pending_out)	/* we did not ask: ignore */
			return 0;
		s->pending_out = 0;
		s->state = from ? STORE_SUB_BOTH : STORE_SUB_TO;
		return STORE_SUB_CHANGED | STORE_SUB_DELIVER;
	case STORE_KIND_UNSUBSCRIBE:		/* 3.3.3 */
		if (!from && !s->pending_in)
			return 0;
		s->state = to ? STORE_SUB_TO : STORE_SUB_NONE;
		s->pending_in = 0;
		s->request = NULL;
		return STORE_SUB_CHANGED | STORE_SUB_DELIVER;
	case STORE_KIND_UNSUBSCRIBED:		/* 3.2.3 */
		if (!to && !s->pending_out)
			return 0;
		s->state = from ? STORE_SUB_FROM : STORE_SUB_NONE;
		s->pending_out = 0;
		return STORE_SUB_CHANGED | STORE_SUB_DELIVER;
	default:
		return 0;
	}
}
