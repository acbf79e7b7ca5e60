/*
 * server/router.c: where each stanza goes. Inbound, for a hosted domain:
 * messages for native users into the inbox, presence to presence.c,
 * XEP-0199 pings to the domain answered, error stanzas for rows we sent
 * recorded on the outbox row, everything else for an unknown user or an
 * unhandled payload answered with service-unavailable (never an error for
 * an error, RFC 6120 8.3.1; the same error for unknown and unauthorised,
 * S2S 10.12); a message whose batch fails to commit is answered with
 * internal-server-error. Outbound:
 * to the outbound manager, or back in here when the target is hosted too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "block.h"
#include "conf.h"
#include "el.h"
#include "jid.h"
#include "log.h"
#include "mgr.h"
#include "outbox.h"
#include "presence.h"
#include "quota.h"
#include "router.h"
#include "server.h"
#include "store.h"
#include "xmalloc.h"

#define NS_STANZAS	"urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_PING		"urn:xmpp:ping"

/*
 * Messages put in the inbox in the open batch. Until the batch commits
 * they are not kept: when the commit fails (a full disk), their senders
 * get internal-server-error, type wait (RFC 6120 8.3.3.8), instead of
 * nothing. Only what an answer needs is kept.
 */
struct router_unsaved {
	TAILQ_ENTRY(router_unsaved)	 entry;
	struct el			*stub;
};
static TAILQ_HEAD(, router_unsaved)	 router_unsaved =
    TAILQ_HEAD_INITIALIZER(router_unsaved);

static void
router_unsaved_add(const struct el *stanza)
{
	static const char *const attrs[] = { "from", "to", "id", "type" };
	struct router_unsaved	*u;
	size_t			 i;

	u = xcalloc(1, sizeof(*u));
	u->stub = el_new(EL_NS_SERVER, stanza->name);
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (el_attr(stanza, attrs[i]) != NULL)
			el_set_attr(u->stub, attrs[i], el_attr(stanza, attrs[i]));
	TAILQ_INSERT_TAIL(&router_unsaved, u, entry);
}

void
router_batch_done(int committed)
{
	struct router_unsaved	*u;
	size_t			 n = 0;

	while ((u = TAILQ_FIRST(&router_unsaved)) != NULL) {
		TAILQ_REMOVE(&router_unsaved, u, entry);
		if (!committed) {
			router_bounce(u->stub, "wait", "internal-server-error",
			    NULL);
			n++;
		}
		el_free(u->stub);
		free(u);
	}
	if (n > 0)
		log_warnx("inbox: %zu message%s not stored, answered with "
		    "internal-server-error", n, n == 1 ? "" : "s");
}

/* Text of the first child named name in the stanza's own namespace. */
static const char *
router_child_text(const struct el *st, const char *name)
{
	struct el	*c = el_child(st, EL_NS_SERVER, name);

	return c != NULL ? el_text(c) : NULL;
}

void
router_bounce(const struct el *stanza, const char *etype, const char *cond,
    const char *text)
{
	const char	*type = el_attr(stanza, "type");
	const char	*from = el_attr(stanza, "from"), *to = el_attr(stanza, "to");
	const char	*id = el_attr(stanza, "id");
	struct el	*e, *err, *t;

	if ((type != NULL && strcmp(type, "error") == 0) || from == NULL ||
	    to == NULL)
		return;
	if (el_is(stanza, EL_NS_SERVER, "iq") && type != NULL &&
	    strcmp(type, "result") == 0)
		return;
	e = el_new(EL_NS_SERVER, stanza->name);
	el_set_attr(e, "from", to);
	el_set_attr(e, "to", from);
	el_set_attr(e, "type", "error");
	el_set_attr(e, "id", id != NULL ? id : "");
	err = el_add(e, EL_NS_SERVER, "error");
	el_set_attr(err, "type", etype);
	el_add(err, NS_STANZAS, cond);
	if (text != NULL) {
		t = el_add(err, NS_STANZAS, "text");
		el_add_text(t, text, strlen(text));
	}
	router_send(e, 0);
}

/* An error stanza about a row of our outbox: record it on the row. */
static void
router_error_in(const struct el *stanza, const struct jid *from)
{
	const char	*id = el_attr(stanza, "id");
	char		*xml, cond[64] = "undefined-condition";
	struct el	*err, *c;

	if ((err = el_child(stanza, EL_NS_SERVER, "error")) != NULL)
		EL_FOREACH(c, err)
			if (strcmp(c->ns, NS_STANZAS) == 0 &&
			    strcmp(c->name, "text") != 0) {
				snprintf(cond, sizeof(cond), "%s", c->name);
				break;
			}
	xml = el_to_string(stanza, NULL, NULL);
	outbox_peer_error(id, from->domain, cond, xml);
	free(xml);
}

static void
router_message_in(struct el *stanza, const struct jid *to,
    const struct jid *from)
{
	struct store_inbox	 m;
	const char		*type = el_attr(stanza, "type");
	char			*xml, fromp[JID_MAX + 1], top[JID_MAX + 1];
	size_t			 len;
	int			 iserr = type != NULL && strcmp(type, "error") == 0;

	if (iserr)
		router_error_in(stanza, from);
	if (to->local == NULL) {
		router_bounce(stanza, "cancel", "service-unavailable", NULL);
		return;
	}
	if (!quota_inbox_take(to->local, to->domain)) {
		log_info("inbox: %s@%s is at inbox_quota: message from %s "
		    "refused", to->local, to->domain, from->domain);
		router_bounce(stanza, "wait", "resource-constraint", NULL);
		return;
	}
	memset(&m, 0, sizeof(m));
	m.local = to->local;
	m.domain = to->domain;
	m.kind = iserr ? STORE_KIND_ERROR : STORE_KIND_MESSAGE;
	/* stored prepared: "a@example.org." is "a@example.org" */
	m.from = jid_full_str(from, fromp, sizeof(fromp));
	m.to = jid_full_str(to, top, sizeof(top));
	m.type = type;
	m.stanza_id = el_attr(stanza, "id");
	m.body = router_child_text(stanza, "body");
	m.subject = router_child_text(stanza, "subject");
	m.thread = router_child_text(stanza, "thread");
	xml = el_to_string(stanza, NULL, &len);
	m.xml = xml;
	if (store_inbox_put(server->store, &m, NULL) == -1) {
		if (store_errcode(server->store) == STORE_E_NOTFOUND)
			router_bounce(stanza, "cancel", "service-unavailable",
			    NULL);
		else {
			log_warnx("inbox: %s", store_errstr(server->store));
			router_bounce(stanza, "wait", "internal-server-error",
			    NULL);
		}
	} else if (!iserr)
		router_unsaved_add(stanza);
	free(xml);
}

static void
router_iq_in(struct el *stanza, const struct jid *to)
{
	const char	*type = el_attr(stanza, "type");
	struct el	*r;

	if (type == NULL || (strcmp(type, "get") != 0 &&
	    strcmp(type, "set") != 0))
		return;		/* results and errors are never answered */
	if (el_first(stanza) == NULL || el_next(el_first(stanza)) != NULL) {
		/* S2S 5.10: exactly one child */
		router_bounce(stanza, "modify", "bad-request", NULL);
		return;
	}
	if (to->local == NULL && to->resource == NULL &&
	    strcmp(type, "get") == 0 &&
	    el_is(el_first(stanza), NS_PING, "ping")) {
		r = el_new(EL_NS_SERVER, "iq");
		el_set_attr(r, "from", el_attr(stanza, "to"));
		el_set_attr(r, "to", el_attr(stanza, "from"));
		el_set_attr(r, "type", "result");
		el_set_attr(r, "id", el_attr(stanza, "id") ?
		    el_attr(stanza, "id") : "");
		router_send(r, 0);
		return;
	}
	router_bounce(stanza, "cancel", "service-unavailable", NULL);
}

void
router_route_in(struct el *stanza)
{
	struct jid	 tj, fj;
	char		 tbuf[JID_BUFSZ], fbuf[JID_BUFSZ];
	const char	*errstr;

	/* on the stack: no allocation per stanza */
	if (el_attr(stanza, "to") == NULL || el_attr(stanza, "from") == NULL ||
	    jid_parse_buf(el_attr(stanza, "to"), &tj, tbuf, sizeof(tbuf),
	    &errstr) == -1 || jid_parse_buf(el_attr(stanza, "from"), &fj,
	    fbuf, sizeof(fbuf), &errstr) == -1) {
		router_bounce(stanza, "modify", "jid-malformed", NULL);
		el_free(stanza);
		return;
	}
	router_deliver(stanza, &tj, &fj);
}

/*
 * XEP-0191 3.4: a stanza from a JID the user blocks. Presence of any type
 * goes unanswered; messages and IQ get and set are answered with
 * service-unavailable, as if there were no such user (S2S 10.12).
 */
static void
router_blocked_in(const struct el *stanza, const struct jid *to)
{
	log_debug("router: %s from %s to %s@%s: blocked by the user",
	    stanza->name, el_attr(stanza, "from"), to->local, to->domain);
	if (!el_is(stanza, EL_NS_SERVER, "presence"))
		router_bounce(stanza, "cancel", "service-unavailable", NULL);
}

void
router_deliver(struct el *stanza, const struct jid *to, const struct jid *from)
{
	const char	*type;

	if (!conf_is_hosted(server->conf, to->domain))
		/* S2S 5.4: never relay */
		router_bounce(stanza, "cancel", "not-allowed", NULL);
	else if (!block_domain_ok(from->domain))
		/* a stream opened before the domain was blocked */
		log_info("router: %s from %s dropped: domain blocked",
		    stanza->name, from->domain);
	else if (to->local != NULL && block_user_blocks(to->local, to->domain,
	    from))
		router_blocked_in(stanza, to);
	else if (el_is(stanza, EL_NS_SERVER, "message"))
		router_message_in(stanza, to, from);
	else if (el_is(stanza, EL_NS_SERVER, "iq"))
		router_iq_in(stanza, to);
	else if (el_is(stanza, EL_NS_SERVER, "presence")) {
		type = el_attr(stanza, "type");
		if (type != NULL && strcmp(type, "error") == 0)
			router_error_in(stanza, from);	/* a subscribe row */
		presence_in(stanza, to, from);
	}
	el_free(stanza);
}

void
router_send(struct el *stanza, int64_t outbox_id)
{
	struct jid	 fj, tj;
	char		 fbuf[JID_BUFSZ], tbuf[JID_BUFSZ];
	const char	*errstr, *to = el_attr(stanza, "to");
	const char	*from = el_attr(stanza, "from"), *tod;

	if (to == NULL || from == NULL ||
	    jid_parse_buf(from, &fj, fbuf, sizeof(fbuf), &errstr) == -1) {
		log_warnx("router: dropped a stanza without valid from/to");
		el_free(stanza);
		return;
	}
	if (jid_parse_buf(to, &tj, tbuf, sizeof(tbuf), &errstr) == -1) {
		if (outbox_id != 0)
			outbox_invalid(outbox_id, "jid-malformed", errstr);
		el_free(stanza);
		return;
	}
	tod = tj.domain;
	if (outbox_id != 0 && (!block_domain_ok(tod) || (fj.local != NULL &&
	    block_user_blocks(fj.local, fj.domain, &tj)))) {
		/* XEP-0191 3.5: not sent to what is blocked */
		outbox_blocked(outbox_id, block_domain_ok(tod) ?
		    "the user blocks this JID" : "the domain is blocked here");
		el_free(stanza);
		return;
	}
	if (!block_domain_ok(tod)) {
		log_info("router: %s to %s dropped: domain blocked",
		    stanza->name, tod);
		el_free(stanza);
		return;
	}
	if (conf_is_hosted(server->conf, tod)) {
		/* between two hosted domains: no S2S hop */
		if (outbox_id != 0)
			outbox_delivered(outbox_id);
		router_route_in(stanza);
		return;
	}
	s2s_mgr_send(fj.domain, tod, stanza, outbox_id);
}
