/*
 * server/message.c: the RFC 6121 8.5.2 rules for a message to a native
 * user, which depend on its type and the user's presence; storing it is
 * the router's, answering errors too.
 *
 *   user online    every type reaches the inbox; a chat state without a
 *                  body (XEP-0085) as kind `chatstate`
 *   user offline   normal, chat: kept in the inbox for later (8.5.2.2.1);
 *                  groupchat: <service-unavailable/>; headline: ignored;
 *                  a chat state without a body: ignored (XEP-0085 5.5)
 *   no such user, or disabled: headline ignored, as for an offline user
 *                  (S2S 8.36); the rest is refused by the inbox put
 * A message with a non-empty id that asks for a receipt (XEP-0184), not
 * groupchat, from a sender who may see the user's presence (from/both or
 * directed presence, XEP-0184 8), gets one when the native system
 * consumes its inbox row.
 */
#define MESSAGE_RECEIPTS_BATCH	256
#include <string.h>

#include <stdio.h>
#include <stdlib.h>

#include "conf.h"
#include "el.h"
#include "jid.h"
#include "log.h"
#include "message.h"
#include "presence.h"
#include "rowxml.h"
#include "router.h"
#include "server.h"
#include "store.h"
#include "xmalloc.h"

/* A chat state and no body: a notification, not a message. */
static int
message_is_chatstate(const struct el *st)
{
	struct el	*c;

	if (el_child(st, EL_NS_SERVER, "body") != NULL)
		return 0;
	EL_FOREACH(c, st)
		if (strcmp(c->ns, NS_CHATSTATES) == 0)
			return 1;
	return 0;
}

static int
message_user_cb(void *arg, const struct store_user *u)
{
	*(int *)arg = !u->disabled;
	return 0;
}

/* 1 online, 0 offline, absent or disabled, -1 store error. */
static int
message_user_online(const struct jid *to)
{
	struct store_presence	 p;
	int			 enabled = 0;

	if (store_user_get(server->store, to->local, to->domain,
	    message_user_cb, &enabled) == -1)
		return store_errcode(server->store) == STORE_E_NOTFOUND ? 0 : -1;
	if (!enabled)
		return 0;
	if (store_presence_get(server->store, to->local, to->domain, &p) == -1)
		return -1;
	return p.show != STORE_SHOW_UNAVAILABLE;
}

enum message_verdict
message_check(const struct el *st, const struct jid *to,
    enum store_kind *kind)
{
	const char	*type = el_attr(st, "type");
	int		 chatstate = message_is_chatstate(st);
	int		 groupchat = type != NULL && strcmp(type, "groupchat") == 0;
	int		 headline = type != NULL && strcmp(type, "headline") == 0;
	int		 online;

	*kind = chatstate ? STORE_KIND_CHATSTATE : STORE_KIND_MESSAGE;
	/* normal and chat with a body: stored whatever the presence */
	if (!chatstate && !groupchat && !headline)
		return MESSAGE_STORE;
	if ((online = message_user_online(to)) == -1) {
		log_warnx("message: %s", store_errstr(server->store));
		return MESSAGE_STORE;
	}
	if (online)
		return MESSAGE_STORE;
	log_debug("message: %s from %s to %s@%s, who is offline: %s",
	    chatstate ? "chat state" : type, el_attr(st, "from"), to->local,
	    to->domain, groupchat ? "service-unavailable" : "ignored");
	return groupchat ? MESSAGE_REFUSE : MESSAGE_DROP;
}

int
message_wants_receipt(const struct el *st, const struct jid *to,
    const struct jid *from)
{
	const char	*type = el_attr(st, "type");
	const char	*id = el_attr(st, "id");

	/* XEP-0184 5.3: not for groupchat; an id to refer to */
	if (!server->conf->receipts || id == NULL || id[0] == '\0' ||
	    (type != NULL && strcmp(type, "groupchat") == 0) ||
	    el_child(st, NS_RECEIPTS, "request") == NULL)
		return 0;
	/* XEP-0184 8: a receipt tells a stranger the user is there */
	if (presence_may_see(to->local, to->domain, from) != 1) {
		log_debug("message: no receipt for %s: may not see %s@%s",
		    el_attr(st, "from"), to->local, to->domain);
		return 0;
	}
	return 1;
}

struct message_receipt {
	int64_t		 id;
	struct el	*el;
};

struct message_receipts {
	struct message_receipt	*v;
	size_t			 n;
};

static int
message_receipt_cb(void *arg, const struct store_inbox *m)
{
	struct message_receipts	*rs = arg;
	struct message_receipt	*r;
	struct el		*e, *c;

	rs->v = xreallocarray(rs->v, rs->n + 1, sizeof(*rs->v));
	r = &rs->v[rs->n++];
	r->id = m->id;
	/* from the address the message was sent to (XEP-0184 5.1) */
	e = el_new(EL_NS_SERVER, "message");
	el_set_attr(e, "from", m->to);
	el_set_attr(e, "to", m->from);
	if (m->type != NULL && strcmp(m->type, "chat") == 0)
		el_set_attr(e, "type", "chat");
	c = el_add(e, NS_RECEIPTS, "received");
	el_set_attr(c, "id", m->stanza_id);
	r->el = e;
	return 0;
}

void
message_receipts_run(void)
{
	struct message_receipts	 rs = { NULL, 0 };
	size_t			 i;

	if (!server->conf->receipts)
		return;
	if (store_receipts_due(server->store, MESSAGE_RECEIPTS_BATCH,
	    message_receipt_cb, &rs) == -1)
		log_warnx("message: %s", store_errstr(server->store));
	for (i = 0; i < rs.n; i++) {
		if (store_receipt_sent(server->store, rs.v[i].id) == -1) {
			log_warnx("message: %s", store_errstr(server->store));
			el_free(rs.v[i].el);
			continue;
		}
		log_debug("message: receipt for inbox row %lld to %s",
		    (long long)rs.v[i].id, el_attr(rs.v[i].el, "to"));
		router_send(rs.v[i].el, 0);
	}
	free(rs.v);
}
