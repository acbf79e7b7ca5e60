/*
 * server/presence.c: RFC 6121 presence and subscriptions for native users,
 * on behalf of the native system. The subscription state machine itself
 * is the store's (store_sub_inbound() for inbound stanzas, the outbox
 * triggers for the user's own actions); this file applies it, tells the
 * native system through the inbox, keeps the contacts' presence in
 * remote_presence and sends what the user's server owes its contacts.
 * Stanzas made here go out through router_send() without an outbox row:
 * when the peer is down they are dropped (logged), and the contact's
 * server gets the presence again by probing when its user logs in. Not
 * so what nobody would ask again: a deleted user's farewell and the
 * unavailable of a stopping xfed are `departed` rows until sent
 * (presence_owed_done()), retried, and sent by the next xfed if need be.
 *
 * Inbound, to a native user N from a contact R (resource stripped for the
 * subscription checks, S2S 11.10; to N's full JID = to N's bare JID):
 *   subscribe     new: pending_in with the request text, inbox event;
 *                 pre-approved or already approved: `subscribed` and N's
 *                 presence back (3.1.3, 3.4); N unknown or disabled:
 *                 ignored, as a request waiting for N looks (8.5.1)
 *   subscribed    answer to N's request: to/both, inbox event, probe R so
 *                 its presence arrives (3.1.6); unasked: ignored
 *   unsubscribe   R stops seeing N: inbox event, R gets N unavailable
 *                 (3.3.3)
 *   unsubscribed  N stops seeing R: inbox event, R's presence forgotten
 *                 (3.2.3)
 *   probe         R has from/both: N's presence now (unavailable when N
 *                 is disabled); otherwise, and for an unknown N,
 *                 `unsubscribed` (4.3.2)
 *   (none), unavailable   from R with to/both: kept in remote_presence per
 *                 full JID; from anyone else while N is online: kept too,
 *                 the newest PRESENCE_STRANGERS_MAX, until N goes
 *                 unavailable or xfed restarts (4.6.4); else ignored
 *                 (8.5.2.2.2)
 *   error         never answered (RFC 6120 8.3.1); R's presence forgotten
 *   other type    <bad-request/> (4.7.1)
 * A disabled N is an unknown N for all but probes.
 * Outbound: a change of N's presence goes to every R with from/both (4.4.2,
 * 4.5.2), one stanza per contact's bare JID, from N/PRESENCE_RESOURCE.
 * At start, contacts N has to/both with are probed, at most
 * PRESENCE_START_PROBES of them (4.3.1).
 * Several instances on one store: a broadcast goes to a contact only from
 * the instance holding the lease of (N's domain, the contact's domain)
 * (lease.c), so each contact gets it once; an instance that stops while
 * others run leaves the users online.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "block.h"
#include "caps.h"
#include "conf.h"
#include "disco.h"
#include "el.h"
#include "jid.h"
#include "lease.h"
#include "log.h"
#include "mgr.h"
#include "presence.h"
#include "quota.h"
#include "router.h"
#include "server.h"
#include "store.h"
#include "vcard.h"
#include "xmalloc.h"

enum presence_type {
	PRESENCE_AVAILABLE = 0,	/* no type attribute */
	PRESENCE_UNAVAILABLE,
	PRESENCE_SUBSCRIBE,
	PRESENCE_SUBSCRIBED,
	PRESENCE_UNSUBSCRIBE,
	PRESENCE_UNSUBSCRIBED,
	PRESENCE_PROBE,
	PRESENCE_ERROR,
};

static const char *const presence_types[] = {
	[PRESENCE_AVAILABLE] = "available",
	[PRESENCE_UNAVAILABLE] = "unavailable",
	[PRESENCE_SUBSCRIBE] = "subscribe",
	[PRESENCE_SUBSCRIBED] = "subscribed",
	[PRESENCE_UNSUBSCRIBE] = "unsubscribe",
	[PRESENCE_UNSUBSCRIBED] = "unsubscribed",
	[PRESENCE_PROBE] = "probe",
	[PRESENCE_ERROR] = "error",
};
#define PRESENCE_NTYPES	(sizeof(presence_types) / sizeof(presence_types[0]))

/* A list of owned strings. */
struct presence_list {
	char	**v;
	size_t	  n;
};

/* A subscription row, with the strings it owns. */
struct presence_sub {
	struct store_sub	 s;
	char			*request;
};

static struct event		*presence_ev;
static struct event		*presence_retry_ev;	/* owed rows again */
static int64_t			 presence_retry_at;
static int64_t			*presence_owed;		/* departed ids sent */
static size_t			 presence_nowed, presence_capowed;
static int64_t			*presence_pending;	/* users.id to do */
static size_t			 presence_npending, presence_cappending;
static int			 presence_started;
static int			 presence_departed;	/* users deleted */
static int64_t			 presence_departed_after; /* next pass from */

static void
presence_list_add(struct presence_list *l, const char *s)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

static void
presence_list_free(struct presence_list *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* The type attribute; -1 for one RFC 6121 does not define. */
static int
presence_type(const char *type)
{
	size_t	 i;

	if (type == NULL)
		return PRESENCE_AVAILABLE;
	for (i = 1; i < PRESENCE_NTYPES; i++)
		if (strcmp(type, presence_types[i]) == 0)
			return (int)i;
	return -1;
}

static int
presence_has_from(enum store_sub_state s)
{
	return s == STORE_SUB_FROM || s == STORE_SUB_BOTH;
}

static int
presence_has_to(enum store_sub_state s)
{
	return s == STORE_SUB_TO || s == STORE_SUB_BOTH;
}

static const char *
presence_child_text(const struct el *st, const char *name)
{
	struct el	*c = el_child(st, EL_NS_SERVER, name);

	return c != NULL ? el_text(c) : NULL;
}

#define PRESENCE_USER_NONE	0
#define PRESENCE_USER_OK	1
#define PRESENCE_USER_DISABLED	2

static int
presence_user_cb(void *arg, const struct store_user *u)
{
	*(int *)arg = u->disabled ? PRESENCE_USER_DISABLED : PRESENCE_USER_OK;
	return 0;
}

/* PRESENCE_USER_NONE, _OK or _DISABLED; -1 on a store error. */
static int
presence_user(const char *local, const char *domain)
{
	int	 state = PRESENCE_USER_NONE;

	if (store_user_get(server->store, local, domain, presence_user_cb,
	    &state) == -1) {
		if (store_errcode(server->store) == STORE_E_NOTFOUND)
			return PRESENCE_USER_NONE;
		log_warnx("presence: %s", store_errstr(server->store));
		return -1;
	}
	return state;
}

static int
presence_sub_cb(void *arg, const struct store_sub *s)
{
	struct presence_sub	*ps = arg;

	ps->s.state = s->state;
	ps->s.pending_out = s->pending_out;
	ps->s.pending_in = s->pending_in;
	ps->s.preapproved = s->preapproved;
	ps->s.updated = s->updated;
	free(ps->request);
	ps->request = s->request != NULL ? xstrdup(s->request) : NULL;
	return 0;
}

/*
 * The subscription of (local, domain) with the bare JID jid, which all
 * stay borrowed; state none when there is no row. -1 on a store error.
 * Free with presence_sub_free().
 */
static int
presence_sub_load(struct presence_sub *ps, const char *local,
    const char *domain, const char *jid)
{
	memset(ps, 0, sizeof(*ps));
	ps->s.local = local;
	ps->s.domain = domain;
	ps->s.jid = jid;
	ps->s.state = STORE_SUB_NONE;
	if (store_sub_get(server->store, local, domain, jid, presence_sub_cb,
	    ps) == -1 && store_errcode(server->store) != STORE_E_NOTFOUND) {
		log_warnx("presence: %s", store_errstr(server->store));
		return -1;
	}
	ps->s.request = ps->request;
	return 0;
}

static void
presence_sub_free(struct presence_sub *ps)
{
	free(ps->request);
	ps->request = NULL;
}

struct presence_see {
	const char	*full, *bare;
	int		 yes;
};

static int
presence_see_cb(void *arg, const char *jid)
{
	struct presence_see	*ps = arg;

	if (strcmp(jid, ps->full) == 0 || strcmp(jid, ps->bare) == 0) {
		ps->yes = 1;
		return 1;
	}
	return 0;
}

int
presence_may_see(const char *local, const char *domain,
    const struct jid *from)
{
	struct presence_sub	 sub;
	struct presence_see	 ps;
	char			 bare[JID_MAX + 1], full[JID_MAX + 1];
	int			 from_ok;

	if (jid_bare_str(from, bare, sizeof(bare)) == NULL ||
	    jid_full_str(from, full, sizeof(full)) == NULL)
		return 0;
	if (presence_sub_load(&sub, local, domain, bare) == -1)
		return -1;
	from_ok = presence_has_from(sub.s.state);
	presence_sub_free(&sub);
	if (from_ok)
		return 1;
	ps.full = full;
	ps.bare = bare;
	ps.yes = 0;
	if (store_directed_list(server->store, local, domain, presence_see_cb,
	    &ps) == -1) {
		log_warnx("presence: %s", store_errstr(server->store));
		return -1;
	}
	return ps.yes;
}

/*
 * A presence of type type (NULL: available) with no payload; oid is the
 * outbox id router_send() gets (negative: a departed row, 0: none).
 */
static void
presence_send_oid(const char *type, const char *from, const char *to,
    const char *id, int64_t oid)
{
	struct el	*e = el_new(EL_NS_SERVER, "presence");

	if (type != NULL)
		el_set_attr(e, "type", type);
	el_set_attr(e, "from", from);
	el_set_attr(e, "to", to);
	if (id != NULL)
		el_set_attr(e, "id", id);
	router_send(e, oid);
}

static void
presence_send(const char *type, const char *from, const char *to,
    const char *id)
{
	presence_send_oid(type, from, to, id, 0);
}

/* Departed rows whose stanzas are on their way (not to be sent twice). */
static int
presence_owed_remove(int64_t id)
{
	size_t	 i;

	for (i = 0; i < presence_nowed; i++)
		if (presence_owed[i] == id) {
			presence_owed[i] = presence_owed[--presence_nowed];
			return 1;
		}
	return 0;
}

static int
presence_owed_has(int64_t id)
{
	size_t	 i;

	for (i = 0; i < presence_nowed; i++)
		if (presence_owed[i] == id)
			return 1;
	return 0;
}

static void
presence_owed_add(int64_t id)
{
	if (presence_nowed == presence_capowed) {
		presence_capowed = presence_capowed ? presence_capowed * 2 : 16;
		presence_owed = xreallocarray(presence_owed, presence_capowed,
		    sizeof(*presence_owed));
	}
	presence_owed[presence_nowed++] = id;
}

/* What a presence stanza of the user shows besides the presence row. */
struct presence_profile {
	int	 state;			/* PRESENCE_USER_* */
	char	 photo[VCARD_HASH_LEN + 1];
	char	*nick;			/* nickname, else name, or NULL */
};

static int
presence_profile_cb(void *arg, const struct store_user *u)
{
	struct presence_profile	*pp = arg;

	pp->state = u->disabled ? PRESENCE_USER_DISABLED : PRESENCE_USER_OK;
	vcard_photo_hash(u, pp->photo);
	free(pp->nick);
	pp->nick = u->nickname != NULL ? xstrdup(u->nickname) :
	    u->name != NULL ? xstrdup(u->name) : NULL;
	return 0;
}

/* PRESENCE_USER_NONE, _OK or _DISABLED, with the profile; -1 on error. */
static int
presence_profile(const char *local, const char *domain,
    struct presence_profile *pp)
{
	memset(pp, 0, sizeof(*pp));
	if (store_user_get(server->store, local, domain, presence_profile_cb,
	    pp) == -1 && store_errcode(server->store) != STORE_E_NOTFOUND) {
		log_warnx("presence: %s", store_errstr(server->store));
		return -1;
	}
	return pp->state;
}

void
presence_add_nick(struct el *el, const char *local, const char *domain)
{
	struct presence_profile	 pp;

	if (presence_profile(local, domain, &pp) == PRESENCE_USER_OK)
		vcard_add_text(el, NS_NICK, "nick", pp.nick,
		    STORE_PROFILE_TEXT_MAX);
	free(pp.nick);
}

void
presence_add_first_nick(struct el *el, const char *local, const char *domain,
    const char *to, int64_t row_id)
{
	/*
	 * The last pair looked at: a later row of the same pair has an
	 * earlier one, so it gets no nick and costs no read (an outbox
	 * pass of many rows to one stranger reads the store once).
	 */
	static char		 last[3 * (JID_MAX + 1)];
	static int64_t		 last_row;
	struct presence_sub	 ps;
	char			 bare[JID_MAX + 1], key[sizeof(last)], *slash;
	int			 earlier = 1, none;

	if (el_child(el, NS_NICK, "nick") != NULL)
		return;
	snprintf(bare, sizeof(bare), "%s", to);
	if ((slash = strchr(bare, '/')) != NULL)
		*slash = '\0';
	snprintf(key, sizeof(key), "%s@%s %s", local, domain, bare);
	if (row_id > last_row && strcmp(key, last) == 0)
		return;
	memcpy(last, key, sizeof(last));
	last_row = row_id;
	if (presence_sub_load(&ps, local, domain, bare) == -1)
		return;
	none = ps.s.state == STORE_SUB_NONE;
	presence_sub_free(&ps);
	if (!none)
		return;
	if (store_outbox_earlier(server->store, local, domain, bare, row_id,
	    &earlier) == -1) {
		log_warnx("presence: %s", store_errstr(server->store));
		return;
	}
	if (!earlier)
		presence_add_nick(el, local, domain);
}

struct el *
presence_stanza(const char *local, const char *domain, const char *to)
{
	struct store_presence	 p;
	struct presence_profile	 pp;
	struct el		*el, *c;
	char			 from[JID_MAX + 1], prio[8];
	int			 ok;

	if ((ok = presence_profile(local, domain, &pp)) == -1)
		return NULL;
	free(pp.nick);
	memset(&p, 0, sizeof(p));
	p.show = STORE_SHOW_UNAVAILABLE;
	if (ok == PRESENCE_USER_OK && store_presence_get(server->store, local,
	    domain, &p) == -1) {
		log_warnx("presence: %s", store_errstr(server->store));
		return NULL;
	}
	snprintf(from, sizeof(from), "%s@%s/%s", local, domain,
	    PRESENCE_RESOURCE);
	el = el_new(EL_NS_SERVER, "presence");
	el_set_attr(el, "from", from);
	if (to != NULL)
		el_set_attr(el, "to", to);
	/* RFC 6121 4.7.2: unavailable carries neither show nor priority */
	if (p.show == STORE_SHOW_UNAVAILABLE)
		el_set_attr(el, "type", "unavailable");
	else if (p.show != STORE_SHOW_AVAILABLE)
		el_add_text_child(el, EL_NS_SERVER, "show",
		    store_show_name(p.show));
	vcard_add_text(el, EL_NS_SERVER, "status", p.status, STORE_STATUS_MAX);
	if (p.show != STORE_SHOW_UNAVAILABLE && p.priority != 0) {
		snprintf(prio, sizeof(prio), "%d", p.priority);
		el_add_text_child(el, EL_NS_SERVER, "priority", prio);
	}
	if (p.show != STORE_SHOW_UNAVAILABLE) {
		/* S2S 9.11, 9.18: the avatar's hash and what the resource is */
		vcard_add_update(el, pp.photo);
		c = el_add(el, NS_CAPS, "c");
		el_set_attr(c, "hash", "sha-1");
		el_set_attr(c, "node", DISCO_CAPS_NODE);
		el_set_attr(c, "ver", disco_caps_ver());
	}
	return el;
}

/* The user's presence to jid, unless the user is unavailable. */
static void
presence_send_available(const char *local, const char *domain,
    const char *jid)
{
	struct el	*el;

	if ((el = presence_stanza(local, domain, jid)) == NULL)
		return;
	if (el_attr(el, "type") != NULL) {
		el_free(el);
		return;
	}
	router_send(el, 0);
}

/* A subscription stanza for the native system (kind = the stanza's). */
static void
presence_inbox(const struct el *st, const struct jid *to,
    enum store_kind kind)
{
	struct store_inbox	 m;
	char			*xml, fromp[JID_MAX + 1], top[JID_MAX + 1];

	if (kind != STORE_KIND_SUBSCRIBE &&
	    !quota_inbox_take(to->local, to->domain)) {
		/* the subscription row has the change all the same */
		log_info("presence: %s@%s is at inbox_quota: %s from %s not "
		    "put in the inbox", to->local, to->domain,
		    store_kind_name(kind), el_attr(st, "from"));
		return;
	}
	memset(&m, 0, sizeof(m));
	m.local = to->local;
	m.domain = to->domain;
	m.kind = kind;
	/* stored prepared, as the router parsed them already */
	if (jid_prep(el_attr(st, "from"), fromp, sizeof(fromp), NULL) == -1 ||
	    jid_full_str(to, top, sizeof(top)) == NULL)
		return;
	m.from = fromp;
	m.to = top;
	m.type = el_attr(st, "type");
	m.stanza_id = el_attr(st, "id");
	m.body = presence_child_text(st, "status");
	xml = el_to_string(st, NULL, NULL);
	m.xml = xml;
	if (store_inbox_put(server->store, &m, NULL) == -1)
		log_warnx("presence: inbox: %s", store_errstr(server->store));
	free(xml);
}

static void
presence_sub_in(const struct el *st, const struct jid *to, const char *user,
    const char *bare, enum store_kind kind)
{
	struct presence_sub	 ps;
	enum store_sub_state	 was;
	int			 flags, pin;

	if (presence_sub_load(&ps, to->local, to->domain, bare) == -1)
		return;
	was = ps.s.state;
	pin = ps.s.pending_in;
	flags = store_sub_inbound(&ps.s, kind);
	if (kind == STORE_KIND_SUBSCRIBE && (flags & STORE_SUB_DELIVER) &&
	    !quota_inbox_take(to->local, to->domain)) {
		/*
		 * A request the user has no room to see is refused, not kept
		 * pending where nobody reads it (S2S 10.15, RFC 6121 3.1.3):
		 * the contact's server hears why and may ask again later.
		 */
		log_info("presence: %s@%s is at inbox_quota: subscribe from "
		    "%s refused", to->local, to->domain, bare);
		router_bounce(st, "wait", "resource-constraint", NULL);
		goto out;
	}
	if (kind == STORE_KIND_SUBSCRIBE && (flags & STORE_SUB_DELIVER))
		ps.s.request = presence_child_text(st, "status");
	if ((flags & STORE_SUB_CHANGED) &&
	    store_sub_put(server->store, &ps.s) == -1) {
		log_warnx("presence: %s", store_errstr(server->store));
		goto out;
	}
	if (flags & STORE_SUB_DELIVER)
		presence_inbox(st, to, kind);
	if (flags == 0)
		log_debug("presence: %s from %s to %s: %s, nothing to do",
		    store_kind_name(kind), bare, user,
		    store_sub_state_name(was));
	else
		log_info("presence: %s from %s to %s: %s%s -> %s%s%s%s",
		    store_kind_name(kind), bare, user,
		    store_sub_state_name(was), pin ? "+pending-in" : "",
		    store_sub_state_name(ps.s.state),
		    ps.s.pending_in ? "+pending-in" : "",
		    flags & STORE_SUB_DELIVER ? ", to the inbox" : "",
		    flags & STORE_SUB_AUTOREPLY ? ", approved" : "");
	if (flags & STORE_SUB_AUTOREPLY) {
		/* approved earlier (3.1.3) or in advance (3.4) */
		presence_send("subscribed", user, bare, NULL);
		presence_send_available(to->local, to->domain, bare);
	}
	if (!(flags & STORE_SUB_CHANGED))
		goto out;
	switch (kind) {
	case STORE_KIND_SUBSCRIBED:
		/* the contact's server sends it too; a probe is cheap */
		presence_send("probe", user, bare, NULL);
		break;
	case STORE_KIND_UNSUBSCRIBE:
		if (presence_has_from(was))
			presence_send("unavailable", user, bare, NULL);
		break;
	case STORE_KIND_UNSUBSCRIBED:
		if (store_rpres_del(server->store, to->local, to->domain,
		    bare) == -1)
			log_warnx("presence: %s", store_errstr(server->store));
		break;
	default:
		break;
	}
 out:
	presence_sub_free(&ps);
}

/* RFC 6121 4.3.2; answers go to the JID that asked (S2S 8.19). */
static void
presence_probe_in(const struct el *st, const struct jid *to,
    const char *user, const char *bare)
{
	struct presence_sub	 ps;
	struct el		*el;
	const char		*from = el_attr(st, "from");
	const char		*id = el_attr(st, "id");

	if (presence_sub_load(&ps, to->local, to->domain, bare) == -1)
		return;
	if (!presence_has_from(ps.s.state)) {
		log_debug("presence: probe from %s to %s: not subscribed",
		    from, user);
		presence_send("unsubscribed", user, from, id);
	} else if ((el = presence_stanza(to->local, to->domain,
	    from)) != NULL) {
		/* 4.3.2.1: an unavailable answer mirrors the probe's id */
		if (el_attr(el, "type") != NULL && id != NULL)
			el_set_attr(el, "id", id);
		log_debug("presence: probe from %s to %s: answered %s", from,
		    user, el_attr(el, "type") ? "unavailable" : "available");
		router_send(el, 0);
	}
	presence_sub_free(&ps);
}

/* 1 when the user's stored presence is not unavailable. */
static int
presence_online(const struct jid *to)
{
	struct store_presence	 p;

	return store_presence_get(server->store, to->local, to->domain,
	    &p) == 0 && p.show != STORE_SHOW_UNAVAILABLE;
}

/*
 * A contact's own presence, or directed presence from anyone while the
 * user is online (RFC 6121 4.6, 8.5.2.1.2): kept for the native system.
 */
static void
presence_avail_in(const struct el *st, const struct jid *to,
    const char *bare, const struct jid *from, int unavailable)
{
	struct presence_sub	 ps;
	struct store_rpres	 r;
	const char		*show, *prio;
	char			 full[JID_MAX + 1], *xml, *end;
	long			 p;

	if (presence_sub_load(&ps, to->local, to->domain, bare) == -1)
		return;
	if (!presence_has_to(ps.s.state) && !presence_online(to)) {
		/* RFC 6121 8.5.2.2.2: nobody online to give it to */
		log_debug("presence: from %s to %s@%s, not subscribed to and "
		    "the user is offline: ignored", el_attr(st, "from"),
		    to->local, to->domain);
		goto out;
	}
	if (jid_full_str(from, full, sizeof(full)) == NULL)
		goto out;
	memset(&r, 0, sizeof(r));
	r.local = to->local;
	r.domain = to->domain;
	r.jid = full;
	r.status = presence_child_text(st, "status");
	r.show = STORE_SHOW_AVAILABLE;
	if (unavailable) {
		r.show = STORE_SHOW_UNAVAILABLE;
		/* from the bare JID: every resource went (4.5.4) */
		if (from->resource == NULL && store_rpres_del(server->store,
		    to->local, to->domain, bare) == -1)
			log_warnx("presence: %s", store_errstr(server->store));
	} else {
		if ((show = presence_child_text(st, "show")) != NULL &&
		    (store_show_parse(show, &r.show) == -1 ||
		    r.show == STORE_SHOW_AVAILABLE ||
		    r.show == STORE_SHOW_UNAVAILABLE))
			r.show = STORE_SHOW_AVAILABLE;	/* 4.7.2.1 */
		if ((prio = presence_child_text(st, "priority")) != NULL) {
			p = strtol(prio, &end, 10);
			if (*prio != '\0' && *end == '\0' && p >= -128 &&
			    p <= 127)
				r.priority = (int)p;
		}
	}
	/* XEP-0115, XEP-0163: what the resource wants of the user's PEP */
	if (unavailable)
		caps_gone(to->local, to->domain, from->resource == NULL ? bare :
		    full);
	else if (presence_has_from(ps.s.state))
		caps_presence(to->local, to->domain, full, st);
	xml = el_to_string(st, NULL, NULL);
	r.xml = xml;
	if (store_rpres_put(server->store, &r) == -1)
		log_warnx("presence: %s", store_errstr(server->store));
	else
		log_debug("presence: %s is %s for %s@%s", full,
		    store_show_name(r.show), to->local, to->domain);
	/* a stranger's: the newest PRESENCE_STRANGERS_MAX stay */
	if (!presence_has_to(ps.s.state) && store_rpres_strangers(
	    server->store, to->local, to->domain, PRESENCE_STRANGERS_MAX) == -1)
		log_warnx("presence: %s", store_errstr(server->store));
	free(xml);
 out:
	presence_sub_free(&ps);
}

void
presence_in(const struct el *st, const struct jid *to, const struct jid *from)
{
	char		 user[JID_MAX + 1], bare[JID_MAX + 1];
	const char	*type = el_attr(st, "type");
	int		 t, ok;

	if ((t = presence_type(type)) == -1) {
		log_info("presence: from %s: unknown type: bad-request",
		    el_attr(st, "from"));
		router_bounce(st, "modify", "bad-request", NULL);
		return;
	}
	if (to->local == NULL) {
		/* the domain itself has no presence (S2S 8.44) */
		log_debug("presence: %s from %s to %s: ignored",
		    presence_types[t], el_attr(st, "from"), to->domain);
		return;
	}
	snprintf(user, sizeof(user), "%s@%s", to->local, to->domain);
	if (jid_bare_str(from, bare, sizeof(bare)) == NULL)
		return;
	if ((ok = presence_user(to->local, to->domain)) == -1)
		return;
	if (ok == PRESENCE_USER_DISABLED && t == PRESENCE_PROBE) {
		/* its subscribers see it unavailable, not unsubscribed */
		presence_probe_in(st, to, user, bare);
		return;
	}
	if (ok != PRESENCE_USER_OK) {
		/* RFC 6121 8.5.1: as for a user who has not approved */
		log_debug("presence: %s from %s to %s: no such user",
		    presence_types[t], el_attr(st, "from"), user);
		if (t == PRESENCE_PROBE)
			presence_send("unsubscribed", user,
			    el_attr(st, "from"), el_attr(st, "id"));
		return;
	}
	switch (t) {
	case PRESENCE_AVAILABLE:
	case PRESENCE_UNAVAILABLE:
		presence_avail_in(st, to, bare, from,
		    t == PRESENCE_UNAVAILABLE);
		break;
	case PRESENCE_SUBSCRIBE:
		presence_sub_in(st, to, user, bare, STORE_KIND_SUBSCRIBE);
		break;
	case PRESENCE_SUBSCRIBED:
		presence_sub_in(st, to, user, bare, STORE_KIND_SUBSCRIBED);
		break;
	case PRESENCE_UNSUBSCRIBE:
		presence_sub_in(st, to, user, bare, STORE_KIND_UNSUBSCRIBE);
		break;
	case PRESENCE_UNSUBSCRIBED:
		presence_sub_in(st, to, user, bare, STORE_KIND_UNSUBSCRIBED);
		break;
	case PRESENCE_PROBE:
		presence_probe_in(st, to, user, bare);
		break;
	case PRESENCE_ERROR:
		/* never answered; what we knew of the contact is stale */
		log_debug("presence: error from %s to %s", el_attr(st, "from"),
		    user);
		if (store_rpres_del(server->store, to->local, to->domain,
		    bare) == -1)
			log_warnx("presence: %s", store_errstr(server->store));
		break;
	}
}

void
presence_outbox_before(const char *local, const char *domain,
    const char *jid, enum store_kind kind)
{
	char	 from[JID_MAX + 1];

	if (kind != STORE_KIND_UNSUBSCRIBED)
		return;
	snprintf(from, sizeof(from), "%s@%s/%s", local, domain,
	    PRESENCE_RESOURCE);
	presence_send("unavailable", from, jid, NULL);
}

void
presence_outbox_after(const char *local, const char *domain,
    const char *jid, enum store_kind kind)
{
	struct presence_sub	 ps;
	struct store_presence	 p;

	if (kind == STORE_KIND_SUBSCRIBED)
		presence_send_available(local, domain, jid);
	if (kind != STORE_KIND_PRESENCE || presence_sub_load(&ps, local,
	    domain, jid) == -1)
		return;
	/* RFC 6121 4.6.3: a non-subscriber gets unavailable later too */
	if (!presence_has_from(ps.s.state) && store_presence_get(server->store,
	    local, domain, &p) == 0) {
		if ((p.show == STORE_SHOW_UNAVAILABLE ?
		    store_directed_del(server->store, local, domain, jid) :
		    store_directed_add(server->store, local, domain, jid)) == -1)
			log_warnx("presence: %s", store_errstr(server->store));
	}
	presence_sub_free(&ps);
}

/* Finding a user by id: the store looks users up by name only. */
struct presence_find {
	int64_t		 id;
	char		*local, *domain;
};

static int
presence_find_cb(void *arg, const struct store_user *u)
{
	struct presence_find	*f = arg;

	if (u->id != f->id)
		return 0;
	f->local = xstrdup(u->local);
	f->domain = xstrdup(u->domain);
	return 1;
}

static int
presence_from_cb(void *arg, const struct store_sub *s)
{
	if (presence_has_from(s->state))
		presence_list_add(arg, s->jid);
	return 0;
}

static int
presence_directed_cb(void *arg, const char *jid)
{
	presence_list_add(arg, jid);
	return 0;
}

/* 1 when the user blocks jid (XEP-0191). */
static int
presence_blocks(const char *local, const char *domain, const char *jid)
{
	struct jid	 j;
	char		 buf[JID_BUFSZ];
	const char	*errstr;

	return jid_parse_buf(jid, &j, buf, sizeof(buf), &errstr) == 0 &&
	    block_user_blocks(local, domain, &j);
}

void
presence_block_changed(const char *local, const char *domain,
    const char *item, int blocked)
{
	struct presence_list	 l = { NULL, 0 };
	struct jid		 it, c;
	char			 ib[JID_BUFSZ], cb[JID_BUFSZ];
	const char		*errstr, *to;
	struct el		*el, *off;
	size_t			 i, n = 0;

	if (jid_parse_buf(item, &it, ib, sizeof(ib), &errstr) == -1)
		return;
	if (store_sub_list(server->store, local, domain, presence_from_cb,
	    &l) == -1) {
		log_warnx("presence: %s", store_errstr(server->store));
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		/* the contacts the item covers (XEP-0191 matching) */
		if (jid_parse_buf(l.v[i], &c, cb, sizeof(cb), &errstr) == -1 ||
		    strcmp(c.domain, it.domain) != 0 || (it.local != NULL &&
		    (c.local == NULL || strcmp(c.local, it.local) != 0)))
			continue;
		/* a full JID (or domain/resource) item: that resource only */
		to = it.resource != NULL ? item : l.v[i];
		if ((el = presence_stanza(local, domain, to)) == NULL)
			continue;
		if (el_attr(el, "type") != NULL ||
		    (!blocked && presence_blocks(local, domain, to))) {
			/* unavailable anyway, or still blocked by another item */
			el_free(el);
			continue;
		}
		if (blocked) {
			/* 3.3.2: unavailable from the available resource */
			off = el_new(EL_NS_SERVER, "presence");
			el_set_attr(off, "from", el_attr(el, "from"));
			el_set_attr(off, "to", to);
			el_set_attr(off, "type", "unavailable");
			el_free(el);
			el = off;
		}
		router_send(el, 0);	/* 3.4.2: unblocked, the current one */
		n++;
	}
	if (n > 0)
		log_info("presence: %s@%s %sblocks %s: %s sent to %zu "
		    "contact%s", local, domain, blocked ? "" : "no longer ",
		    item, blocked ? "unavailable" : "current presence", n,
		    n == 1 ? "" : "s");
 out:
	presence_list_free(&l);
}

/*
 * A departed row for an unavailable owed to jid, kept until it is sent
 * (the next xfed sends what this one could not); the outbox id its
 * stanza goes with, 0 when the row could not be written.
 */
static int64_t
presence_owe(const char *local, const char *domain, const char *jid)
{
	int64_t	 id;

	if (store_departed_owe(server->store, local, domain, jid, &id) == -1) {
		log_warnx("presence: %s", store_errstr(server->store));
		return 0;
	}
	presence_owed_add(id);
	return -id;
}

/* 1 when this instance sends domain's stanzas to jid's (lease.c). */
static int
presence_lease(const char *domain, const char *jid)
{
	struct jid	 j;
	char		 buf[JID_BUFSZ];
	const char	*errstr;

	if (jid_parse_buf(jid, &j, buf, sizeof(buf), &errstr) == -1)
		return 1;	/* the router refuses it, once */
	return lease_holds(domain, j.domain);
}

/*
 * RFC 6121 4.4.2, 4.5.2: the user's presence (or, with type set, a presence
 * of that type) to whoever may see it; an unavailable one also to those
 * that got directed presence, which are then forgotten (4.6.3), and each
 * unavailable stanza is owed until it is sent (presence_owe()): a contact
 * whose stream is down gets it later (going offline, disabled, stopped).
 */
static void
presence_broadcast_user(const char *local, const char *domain,
    const char *type)
{
	struct presence_list	 l = { NULL, 0 };
	struct el		*tmpl, *el, *show;
	size_t			 i, j, nsubs, nheld;
	int			 off;

	if (store_sub_list(server->store, local, domain, presence_from_cb,
	    &l) == -1) {
		log_warnx("presence: %s", store_errstr(server->store));
		goto out;
	}
	nsubs = l.n;
	if ((tmpl = presence_stanza(local, domain, NULL)) == NULL)
		goto out;
	if (type != NULL) {
		/* the same full JID, none of the rest (RFC 6121 4.7.2) */
		el = el_new(EL_NS_SERVER, "presence");
		el_set_attr(el, "from", el_attr(tmpl, "from"));
		el_set_attr(el, "type", type);
		el_free(tmpl);
		tmpl = el;
	}
	off = el_attr(tmpl, "type") != NULL;
	if (off && store_directed_list(server->store, local, domain,
	    presence_directed_cb, &l) == -1)
		log_warnx("presence: %s", store_errstr(server->store));
	/* the instance holding a pair's lease sends to it: once */
	for (i = j = nheld = 0; i < l.n; i++) {
		if (!presence_lease(domain, l.v[i])) {
			free(l.v[i]);
			continue;
		}
		nheld += i < nsubs;
		l.v[j++] = l.v[i];
	}
	l.n = j;
	nsubs = nheld;
	if (l.n > 0) {
		show = el_child(tmpl, EL_NS_SERVER, "show");
		log_info("presence: %s@%s is %s: sent to %zu contact%s%s",
		    local, domain, off ? "unavailable" : show ? el_text(show) :
		    "available", nsubs, nsubs == 1 ? "" : "s",
		    l.n > nsubs ? " and directed presence's targets" : "");
	}
	for (i = 0; i < l.n; i++) {
		if (presence_blocks(local, domain, l.v[i]))
			continue;	/* XEP-0191 3.3.2: not to a blocked JID */
		el = el_copy(tmpl);
		el_set_attr(el, "to", l.v[i]);
		router_send(el, off ? presence_owe(local, domain, l.v[i]) : 0);
	}
	if (off && l.n > nsubs && store_directed_del(server->store, local,
	    domain, NULL) == -1)
		log_warnx("presence: %s", store_errstr(server->store));
	/* 4.6.4: strangers' presence was for the user online */
	if (off && store_rpres_strangers(server->store, local, domain, 0) == -1)
		log_warnx("presence: %s", store_errstr(server->store));
	/* XEP-0163 4.3.1: a new avatar or nickname to who asks for it */
	if (type == NULL)
		caps_profile(local, domain, l.v, nsubs);
	el_free(tmpl);
 out:
	presence_list_free(&l);
}

static void
presence_broadcast(int64_t id)
{
	struct presence_find	 f = { id, NULL, NULL };

	if (store_user_list(server->store, NULL, presence_find_cb, &f) == -1) {
		log_warnx("presence: %s", store_errstr(server->store));
		return;
	}
	if (f.local == NULL)
		log_debug("presence: user %lld is gone", (long long)id);
	else
		presence_broadcast_user(f.local, f.domain, NULL);
	free(f.local);
	free(f.domain);
}

/* Users whose stored presence is not unavailable (enabled ones only). */
static int
presence_online_cb(void *arg, const struct store_user *u)
{
	struct presence_list	*l = arg;
	struct store_presence	 p;
	char			 user[JID_MAX + 1];

	if (u->disabled)
		return 0;
	if (store_presence_get(server->store, u->local, u->domain, &p) == -1) {
		log_warnx("presence: %s", store_errstr(server->store));
		return 0;
	}
	if (p.show != STORE_SHOW_UNAVAILABLE) {
		snprintf(user, sizeof(user), "%s@%s", u->local, u->domain);
		presence_list_add(l, user);
	}
	return 0;
}

/*
 * Every user online now gets its presence (type NULL) or one of type
 * sent to its contacts: at start, what was set while xfed was stopped;
 * at shutdown, unavailable, owed until sent (RFC 6121 4.5.2: contacts
 * whose streams are down get it from the next xfed).
 */
static void
presence_broadcast_online(const char *type)
{
	struct presence_list	 l = { NULL, 0 };
	size_t			 i;
	char			*at;

	if (store_user_list(server->store, NULL, presence_online_cb, &l) == -1)
		log_warnx("presence: %s", store_errstr(server->store));
	for (i = 0; i < l.n; i++) {
		at = strchr(l.v[i], '@');
		*at = '\0';
		presence_broadcast_user(l.v[i], at + 1, type);
	}
	if (l.n > 0)
		log_info("presence: %s %zu user%s to their contacts",
		    type ? "unavailable for" : "announced", l.n,
		    l.n == 1 ? "" : "s");
	presence_list_free(&l);
}

void
presence_shutdown(void)
{
	/* the users stay online through the instances that go on */
	if (lease_others() > 0) {
		log_info("presence: other instances serve the users: no "
		    "unavailable sent");
		return;
	}
	presence_broadcast_online("unavailable");
}

/* A departed row, copied out of the store's callback. */
struct presence_drow {
	struct store_departed	 d;
	char			*local, *domain, *jid;
};

struct presence_drows {
	struct presence_drow	*v;
	size_t				 n;
	size_t				 nread;	/* rows read, */
	int64_t				 last;	/* the last one's id */
};

static int
presence_departed_cb(void *arg, const struct store_departed *d)
{
	struct presence_drows	*l = arg;
	struct presence_drow	*p;

	l->nread++;
	l->last = d->id;
	if (presence_owed_has(d->id))	/* on its way already */
		return 0;
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	p = &l->v[l->n++];
	p->d = *d;
	p->d.local = p->local = xstrdup(d->local);
	p->d.domain = p->domain = xstrdup(d->domain);
	p->d.jid = p->jid = xstrdup(d->jid);
	return 0;
}

/* 1 when the user exists, is enabled and its presence is not unavailable. */
static int
presence_user_online(const char *local, const char *domain)
{
	struct store_presence	 p;

	return presence_user(local, domain) == PRESENCE_USER_OK &&
	    store_presence_get(server->store, local, domain, &p) == 0 &&
	    p.show != STORE_SHOW_UNAVAILABLE;
}

/*
 * One departed row. A deleted user's farewell, as Prosody and ejabberd
 * say it when an account goes: unavailable and unsubscribed to whoever
 * saw the user, unsubscribe to whoever the user saw or asked to see,
 * unavailable to the targets of directed presence (RFC 6121 3.2.2, 3.3.2,
 * 4.6.3); an unavailable a stopped xfed owed (state directed) is void
 * once the user is online again (its presence went since). The last
 * stanza carries the row's id: the stream is in order, so when it is
 * sent, all are, and the row goes (presence_owed_done()).
 */
static void presence_retry_arm(int64_t);

static int
presence_departed_send(const struct store_departed *d)
{
	char		 user[JID_MAX + 1], jbuf[JID_BUFSZ];
	char		 full[JID_MAX + sizeof(PRESENCE_RESOURCE) + 1];
	const char	*type[3], *from[3], *errstr;
	struct jid	 to;
	int64_t		 until;
	size_t		 n = 0, i;

	snprintf(user, sizeof(user), "%s@%s", d->local, d->domain);
	snprintf(full, sizeof(full), "%s/%s", user, PRESENCE_RESOURCE);
	if ((int64_t)time(NULL) - d->created >
	    (int64_t)server->conf->outbound_retry_for) {
		/* as an outbox row would fail by now */
		log_info("presence: gave up telling %s that %s %s", d->jid,
		    user, d->state == STORE_DEPARTED_DIRECTED ?
		    "is unavailable" : "is gone");
		if (store_departed_del(server->store, d->id) == -1)
			log_warnx("presence: %s", store_errstr(server->store));
		return 0;
	}
	if (d->state == STORE_DEPARTED_DIRECTED &&
	    presence_user_online(d->local, d->domain)) {
		log_debug("presence: unavailable owed by %s to %s: online "
		    "again", user, d->jid);
		if (store_departed_del(server->store, d->id) == -1)
			log_warnx("presence: %s", store_errstr(server->store));
		return 0;
	}
	/* a domain backing off waits: its rows hold no one else up */
	if (jid_parse_buf(d->jid, &to, jbuf, sizeof(jbuf), &errstr) == 0 &&
	    s2s_mgr_backing_off(d->domain, to.domain, &until)) {
		presence_retry_arm(until);
		return 0;
	}
	if (d->state == STORE_DEPARTED_DIRECTED ||
	    presence_has_from(d->state)) {
		type[n] = "unavailable";
		from[n++] = full;
	}
	if (d->state != STORE_DEPARTED_DIRECTED &&
	    presence_has_from(d->state)) {
		type[n] = "unsubscribed";
		from[n++] = user;
	}
	if (d->state != STORE_DEPARTED_DIRECTED &&
	    (presence_has_to(d->state) || d->pending_out)) {
		type[n] = "unsubscribe";
		from[n++] = user;
	}
	if (n == 0) {
		if (store_departed_del(server->store, d->id) == -1)
			log_warnx("presence: %s", store_errstr(server->store));
		return 0;
	}
	presence_owed_add(d->id);
	for (i = 0; i < n; i++)
		presence_send_oid(type[i], from[i], d->jid, NULL,
		    i + 1 == n ? -d->id : 0);
	log_info("presence: %s %s: telling %s", user,
	    d->state == STORE_DEPARTED_DIRECTED ? "is unavailable" : "is gone",
	    d->jid);
	return 1;
}

/*
 * One pass over the departed rows, read PRESENCE_DEPARTED_BATCH at a
 * time, from where the last pass stopped round to it again: rows whose
 * domain backs off, or that are on their way, are passed over, so that
 * they hold no other contact up; after PRESENCE_DEPARTED_BATCH rows sent,
 * the pass stops and the next one (a second later) goes on from there.
 */
static void
presence_departed_run(void)
{
	struct presence_drows	 l;
	int64_t				 start = presence_departed_after;
	int64_t				 after = start;
	size_t				 i, sent = 0;
	int				 wrapped = start == 0, stop = 0;

	while (!stop) {
		memset(&l, 0, sizeof(l));
		if (store_departed_list(server->store, after,
		    PRESENCE_DEPARTED_BATCH, presence_departed_cb, &l) == -1) {
			log_warnx("presence: %s", store_errstr(server->store));
			stop = 1;
		}
		for (i = 0; i < l.n; i++) {
			if (!stop && wrapped && start != 0 &&
			    l.v[i].d.id > start)
				stop = 1;	/* round to where it began */
			if (!stop) {
				sent += presence_departed_send(&l.v[i].d);
				after = l.v[i].d.id;
				if (sent >= PRESENCE_DEPARTED_BATCH) {
					presence_departed_after = after;
					presence_retry_arm(
					    (int64_t)time(NULL) + 1);
					stop = 2;
				}
			}
			free(l.v[i].local);
			free(l.v[i].domain);
			free(l.v[i].jid);
		}
		free(l.v);
		if (stop)
			break;
		if (l.nread == PRESENCE_DEPARTED_BATCH)
			after = l.last;
		else if (!wrapped) {
			wrapped = 1;
			after = 0;
		} else
			stop = 1;
	}
	if (stop != 2)
		presence_departed_after = 0;
}

void
presence_owed_done(int64_t oid)
{
	presence_owed_remove(-oid);
	if (store_departed_del(server->store, -oid) == -1)
		log_warnx("presence: %s", store_errstr(server->store));
	else
		log_debug("presence: departed row %lld told",
		    (long long)-oid);
}

void
presence_owed_failed(int64_t oid, int64_t retry_at)
{
	presence_owed_remove(-oid);
	if (retry_at == 0) {
		/* never deliverable (address, blocked, too large) */
		log_info("presence: departed row %lld cannot be sent: dropped",
		    (long long)-oid);
		if (store_departed_del(server->store, -oid) == -1)
			log_warnx("presence: %s", store_errstr(server->store));
		return;
	}
	presence_retry_arm(retry_at);
}

/* A pass over the departed rows at retry_at, unless one comes sooner. */
static void
presence_retry_arm(int64_t retry_at)
{
	struct timeval	 tv = { 1, 0 };
	int64_t		 now = (int64_t)time(NULL);

	if (retry_at < now + 1)
		retry_at = now + 1;
	tv.tv_sec = (time_t)(retry_at - now);
	/* the earliest retry wins */
	if (presence_retry_ev != NULL && (!evtimer_pending(presence_retry_ev,
	    NULL) || retry_at < presence_retry_at)) {
		presence_retry_at = retry_at;
		evtimer_add(presence_retry_ev, &tv);
	}
}

void
presence_owed_wake(int64_t oid)
{
	presence_departed = 1;
	if (presence_ev != NULL && !server->stopping)
		event_active(presence_ev, EV_TIMEOUT, 0);
}

static void
presence_retry(evutil_socket_t fd, short what, void *arg)
{
	if (server->stopping)
		return;
	presence_departed_run();
}

/* Start probes: pairs (user's bare JID, contact), bounded. */
struct presence_probes {
	struct presence_list	 from, to;
	const char		*user;
};

static int
presence_probe_sub_cb(void *arg, const struct store_sub *s)
{
	struct presence_probes	*p = arg;

	if (p->to.n >= PRESENCE_START_PROBES)
		return 1;
	if (presence_has_to(s->state)) {
		presence_list_add(&p->from, p->user);
		presence_list_add(&p->to, s->jid);
	}
	return 0;
}

static int
presence_probe_user_cb(void *arg, const struct store_user *u)
{
	struct presence_probes	*p = arg;
	char			 user[JID_MAX + 1];

	if (p->to.n >= PRESENCE_START_PROBES)
		return 1;
	if (u->disabled)
		return 0;
	snprintf(user, sizeof(user), "%s@%s", u->local, u->domain);
	p->user = user;
	if (store_sub_list(server->store, u->local, u->domain,
	    presence_probe_sub_cb, p) == -1) {
		log_warnx("presence: %s", store_errstr(server->store));
		return 1;
	}
	return 0;
}

/*
 * RFC 6121 4.3.1: what the contacts did while xfed was stopped is
 * unknown; ask them. Contacts answer only when online, so rows of
 * contacts who went offline meanwhile stay until they send something.
 */
static void
presence_start_probes(void)
{
	struct presence_probes	 p;
	size_t			 i;

	memset(&p, 0, sizeof(p));
	if (store_user_list(server->store, NULL, presence_probe_user_cb,
	    &p) == -1)
		log_warnx("presence: %s", store_errstr(server->store));
	for (i = 0; i < p.to.n; i++)
		presence_send("probe", p.from.v[i], p.to.v[i], NULL);
	if (p.to.n > 0)
		log_info("presence: probed %zu contact%s%s", p.to.n,
		    p.to.n == 1 ? "" : "s", p.to.n >= PRESENCE_START_PROBES ?
		    " (the most at start)" : "");
	presence_list_free(&p.from);
	presence_list_free(&p.to);
}

static void
presence_run(evutil_socket_t fd, short what, void *arg)
{
	size_t	 i;

	if (server->stopping)
		return;
	if (!presence_started) {
		presence_started = 1;
		/* what strangers did while xfed was stopped is unknown */
		if (store_rpres_strangers(server->store, NULL, NULL, 0) == -1)
			log_warnx("presence: %s", store_errstr(server->store));
		presence_start_probes();
		presence_broadcast_online(NULL);	/* set while stopped */
		presence_departed = 1;
	}
	if (presence_departed) {
		presence_departed = 0;
		presence_departed_run();
	}
	for (i = 0; i < presence_npending; i++)
		presence_broadcast(presence_pending[i]);
	presence_npending = 0;
}

void
presence_changed(int64_t user_id)
{
	size_t	 i;

	for (i = 0; i < presence_npending; i++)
		if (presence_pending[i] == user_id)
			return;
	if (presence_npending == presence_cappending) {
		presence_cappending = presence_cappending ?
		    presence_cappending * 2 : 16;
		presence_pending = xreallocarray(presence_pending,
		    presence_cappending, sizeof(*presence_pending));
	}
	presence_pending[presence_npending++] = user_id;
	if (presence_ev != NULL)
		event_active(presence_ev, EV_TIMEOUT, 0);
}

void
presence_user_deleted(void)
{
	presence_departed = 1;
	if (presence_ev != NULL)
		event_active(presence_ev, EV_TIMEOUT, 0);
}

void
presence_init(void)
{
	if ((presence_ev = event_new(server->base, -1, 0, presence_run,
	    NULL)) == NULL || (presence_retry_ev = evtimer_new(server->base,
	    presence_retry, NULL)) == NULL)
		fatalx("presence: event_new failed");
	event_active(presence_ev, EV_TIMEOUT, 0);
}

void
presence_free(void)
{
	if (presence_ev != NULL)
		event_free(presence_ev);
	if (presence_retry_ev != NULL)
		event_free(presence_retry_ev);
	presence_ev = presence_retry_ev = NULL;
	free(presence_owed);
	presence_owed = NULL;
	caps_free();
	presence_nowed = presence_capowed = 0;
	free(presence_pending);
	presence_pending = NULL;
	presence_npending = presence_cappending = 0;
	presence_started = presence_departed = 0;
}
