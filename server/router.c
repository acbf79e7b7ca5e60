/*
 * server/router.c: where each stanza goes. Inbound, for a hosted domain:
 * messages for native users into the inbox, presence to presence.c,
 * IQs to iq.c, error stanzas for rows we sent
 * recorded on the outbox row, everything else for an unknown user or an
 * unhandled payload answered with service-unavailable (never an error for
 * an error, RFC 6120 8.3.1; the same error for unknown and unauthorised,
 * S2S 10.12); a stanza whose writes fail to commit is kept and handled
 * again once the store works (batch.c), never answered at once. Outbound:
 * to the outbound manager, or back in here when the target is hosted too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "batch.h"
#include "block.h"
#include "conf.h"
#include "el.h"
#include "iq.h"
#include "jid.h"
#include "log.h"
#include "in.h"
#include "metrics.h"
#include "message.h"
#include "mgr.h"
#include "outbox.h"
#include "presence.h"
#include "quota.h"
#include "router.h"
#include "server.h"
#include "store.h"
#include "xmalloc.h"

#define NS_STANZAS	"urn:ietf:params:xml:ns:xmpp-stanzas"

/*
 * Stanzas whose handling wrote to the store, kept until the batch that
 * holds their writes commits (kept), and stanzas waiting for a store that
 * fails (held): when a commit fails the kept ones join the held ones, and
 * all are handled again, in order, once the store works (batch.c). Only a
 * stanza held longer than store_wait is answered, with resource-constraint
 * (RFC 6120 8.3.3.18, type wait). The arrays grow and stay: no allocation
 * per stanza on the way in.
 */
static void	router_route_in_since(struct el *, int64_t);
static void	router_deliver_since(struct el *, const struct jid *,
		    const struct jid *, int64_t);
static void	router_dispatch(struct el *, const struct jid *,
		    const struct jid *);

struct router_entry {
	struct el	*stanza;
	int64_t		 since;		/* when it came */
};
struct router_list {
	struct router_entry	*v;
	size_t			 n, cap;
};
static struct router_list	 router_kept, router_held;
static int			 router_depth;	/* router_deliver() nesting */
/*
 * The number of the store batch open now, or of the next one to open. A
 * batch that fails keeps its number: what it held is handled again in
 * the retry, and the commit that succeeds settles them all.
 */
static uint64_t			 router_batch = 1;
/* The first router_kept_sent of router_kept are the commit in flight's,
 * numbered router_sent; the others are the open batch's. */
static size_t			 router_kept_sent;
static uint64_t			 router_sent;

#define ROUTER_HELD_MAX	200000	/* stanzas held at most; then answered */

static void
router_list_add(struct router_list *l, struct el *stanza, int64_t since)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n].stanza = stanza;
	l->v[l->n].since = since;
	l->n++;
}

/*
 * Takes stanza: it waits for the store, or is answered when too many do
 * or when xfed stops (batch_stop()).
 */
static void
router_hold(struct el *stanza, int64_t since)
{
	if (router_held.n >= ROUTER_HELD_MAX || batch_refusing()) {
		router_bounce(stanza, "wait", "resource-constraint", NULL);
		el_free(stanza);
		return;
	}
	router_list_add(&router_held, stanza, since);
}

void
router_batch_sent(void)
{
	router_kept_sent = router_kept.n;
	router_sent = router_batch++;
}

void
router_batch_done(int committed)
{
	size_t	 i, n = committed ? router_kept_sent : router_kept.n;

	for (i = 0; i < n; i++)
		if (committed)
			el_free(router_kept.v[i].stanza);
		else
			router_hold(router_kept.v[i].stanza,
			    router_kept.v[i].since);
	/* committed: the open batch's stay, in order */
	if (router_kept.n > n)
		memmove(router_kept.v, router_kept.v + n, (router_kept.n - n) *
		    sizeof(*router_kept.v));
	router_kept.n -= n;
	router_kept_sent = 0;
	if (committed)	/* the streams that carried them may ack them */
		s2s_in_settled(router_sent);
}

size_t
router_held_count(void)
{
	return router_held.n;
}

void
router_replay(void)
{
	struct router_list	 l = router_held;
	size_t			 i;

	memset(&router_held, 0, sizeof(router_held));
	for (i = 0; i < l.n; i++) {
		if (batch_failing())	/* failed again: the rest wait */
			router_hold(l.v[i].stanza, l.v[i].since);
		else
			router_route_in_since(l.v[i].stanza, l.v[i].since);
	}
	free(l.v);
}

size_t
router_expire(int64_t before)
{
	size_t	 i, j, n = 0;

	for (i = j = 0; i < router_held.n; i++) {
		if (router_held.v[i].since < before) {
			router_bounce(router_held.v[i].stanza, "wait",
			    "resource-constraint", NULL);
			el_free(router_held.v[i].stanza);
			n++;
		} else
			router_held.v[j++] = router_held.v[i];
	}
	router_held.n = j;
	return n;
}

void
router_free(void)
{
	size_t	 i;

	router_batch_sent();
	router_batch_done(1);
	for (i = 0; i < router_held.n; i++)
		el_free(router_held.v[i].stanza);
	free(router_held.v);
	free(router_kept.v);
	memset(&router_held, 0, sizeof(router_held));
	memset(&router_kept, 0, sizeof(router_kept));
}

/* Text of the first child named name in the stanza's own namespace. */
static const char *
router_child_text(const struct el *st, const char *name)
{
	struct el	*c = el_child(st, EL_NS_SERVER, name);

	return c != NULL ? el_text(c) : NULL;
}

struct el *
router_error_stanza(const struct el *stanza, const char *etype,
    const char *cond, const char *text)
{
	const char	*type = el_attr(stanza, "type");
	const char	*from = el_attr(stanza, "from"), *to = el_attr(stanza, "to");
	const char	*id = el_attr(stanza, "id");
	struct el	*e, *err, *t;

	if ((type != NULL && strcmp(type, "error") == 0) || from == NULL ||
	    to == NULL)
		return NULL;
	if (el_is(stanza, EL_NS_SERVER, "iq") && type != NULL &&
	    strcmp(type, "result") == 0)
		return NULL;
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
	return e;
}

void
router_bounce(const struct el *stanza, const char *etype, const char *cond,
    const char *text)
{
	struct el	*e;

	if ((e = router_error_stanza(stanza, etype, cond, text)) != NULL)
		router_send(e, 0);
}

/*
 * An error stanza about a row of our outbox: record it on the row. 1 when
 * the row goes again later (an error of type wait): the error is no news
 * for the user then.
 */
static int
router_error_in(const struct el *stanza, const struct jid *from)
{
	const char	*id = el_attr(stanza, "id"), *etype = NULL;
	char		*xml, cond[64] = "undefined-condition";
	struct el	*err, *c;
	int		 again;

	if ((err = el_child(stanza, EL_NS_SERVER, "error")) != NULL) {
		etype = el_attr(err, "type");
		EL_FOREACH(c, err)
			if (strcmp(c->ns, NS_STANZAS) == 0 &&
			    strcmp(c->name, "text") != 0) {
				snprintf(cond, sizeof(cond), "%s", c->name);
				break;
			}
	}
	xml = el_to_string(stanza, NULL, NULL);
	again = outbox_peer_error(id, from->domain, etype, cond, xml);
	free(xml);
	return again;
}

/* A row store_inbox_put_later() could not store: the user is gone. */
static void
router_inbox_refused(void *arg, enum store_err code, const char *why)
{
	if (code == STORE_E_NOTFOUND)
		router_bounce(arg, "cancel", "service-unavailable", NULL);
	else
		log_debug("inbox: %s", why);
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

	if (iserr && router_error_in(stanza, from))
		return;		/* its row goes again */
	if (to->local == NULL) {
		router_bounce(stanza, "cancel", "service-unavailable", NULL);
		return;
	}
	memset(&m, 0, sizeof(m));
	m.local = to->local;
	m.domain = to->domain;
	m.kind = STORE_KIND_ERROR;
	if (!iserr)
		switch (message_check(stanza, to, &m.kind)) {
		case MESSAGE_STORE:
			break;
		case MESSAGE_DROP:
			return;
		case MESSAGE_REFUSE:
			router_bounce(stanza, "cancel", "service-unavailable",
			    NULL);
			return;
		}
	if (!quota_inbox_take(to->local, to->domain)) {
		log_info("inbox: %s@%s is at inbox_quota: message from %s "
		    "refused", to->local, to->domain, from->domain);
		router_bounce(stanza, "wait", "resource-constraint", NULL);
		return;
	}
	/* stored prepared: "a@example.org." is "a@example.org" */
	m.from = jid_full_str(from, fromp, sizeof(fromp));
	m.to = jid_full_str(to, top, sizeof(top));
	m.type = type;
	m.stanza_id = el_attr(stanza, "id");
	m.body = router_child_text(stanza, "body");
	m.receipt = !iserr && message_wants_receipt(stanza, to, from);
	m.subject = router_child_text(stanza, "subject");
	m.thread = router_child_text(stanza, "thread");
	xml = el_to_string(stanza, NULL, &len);
	m.xml = xml;
	/*
	 * A failing store is router_deliver()'s to handle: no answer. At
	 * the outermost delivery the stanza is kept until the commit
	 * (router_kept), so the backend may tell a refusal then.
	 */
	if (router_depth == 1)
		store_inbox_put_later(server->store, &m, router_inbox_refused,
		    stanza);
	else if (store_inbox_put(server->store, &m, NULL) == -1 &&
	    store_errcode(server->store) == STORE_E_NOTFOUND)
		router_bounce(stanza, "cancel", "service-unavailable", NULL);
	free(xml);
}

void
router_route_in(struct el *stanza)
{
	router_route_in_since(stanza, (int64_t)time(NULL));
}

/* router_route_in() for a stanza that came at since (a held one). */
static void
router_route_in_since(struct el *stanza, int64_t since)
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
	router_deliver_since(stanza, &tj, &fj, since);
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

uint64_t
router_deliver(struct el *stanza, const struct jid *to, const struct jid *from)
{
	router_deliver_since(stanza, to, from, (int64_t)time(NULL));
	/* kept or held, or behind what is: the next commit covers it */
	return batch_failing() || store_pending(server->store) ?
	    router_batch : 0;
}

/*
 * Handles the stanza, and keeps it while its writes wait for the commit.
 * Stanzas this one gives rise to (an answer to a hosted user) are part of
 * its handling: handled again with it, never kept on their own.
 */
static void
router_deliver_since(struct el *stanza, const struct jid *to,
    const struct jid *from, int64_t since)
{
	uint64_t	 w0, e0, w1, e1;

	if (router_depth > 0) {
		if (!batch_failing())
			router_dispatch(stanza, to, from);
		el_free(stanza);
		return;
	}
	if (batch_refusing()) {
		/* xfed stops and the store fails: its sender tries again
		 * later (batch_stop()) */
		router_bounce(stanza, "wait", "resource-constraint", NULL);
		el_free(stanza);
		return;
	}
	if (batch_failing()) {
		router_hold(stanza, since);
		return;
	}
	store_counts(server->store, &w0, &e0);
	router_depth++;
	router_dispatch(stanza, to, from);
	router_depth--;
	store_counts(server->store, &w1, &e1);
	if (e1 != e0) {
		/* the store failed under it: the batch is void, and this
		 * stanza waits with the others */
		batch_failed(store_errstr(server->store));
		router_hold(stanza, since);
	} else if (w1 != w0)
		router_list_add(&router_kept, stanza, since);
	else
		el_free(stanza);
}

static void
router_dispatch(struct el *stanza, const struct jid *to,
    const struct jid *from)
{
	const char	*type;

	metrics_stanza(METRICS_IN, stanza);
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
		iq_in(stanza, to, from);
	else if (el_is(stanza, EL_NS_SERVER, "presence")) {
		type = el_attr(stanza, "type");
		if (type != NULL && strcmp(type, "error") == 0)
			(void)router_error_in(stanza, from); /* a subscribe row */
		presence_in(stanza, to, from);
	}
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
	metrics_stanza(METRICS_OUT, stanza);
	s2s_mgr_send(fj.domain, tod, stanza, outbox_id);
}
