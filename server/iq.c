/*
 * server/iq.c: IQs xfed answers for its domains and their users. The
 * lists of what each target supports are disco.c's; the vCard is
 * vcard.c's; this file decides who gets what.
 *
 *   type result, error      never answered (RFC 6120 8.2.3, 8.3.1)
 *   type missing or other   <bad-request/> (8.2.3)
 *   not one child           <bad-request/> (S2S 5.10)
 *   to the domain           disco#info (server/im), disco#items (empty),
 *                           ping, version (unless version_reply no),
 *                           time, last (seconds since start) (S2S 9.2,
 *                           9.5-9.9, 8.43)
 *   to N's bare JID, R with from/both: disco#info (account/registered),
 *                           disco#items (empty), ping, vCard (get; set:
 *                           <not-allowed/>), last, PEP items of the avatar
 *                           and nick nodes (pep.c) (S2S 8.40, 9.4, 9.9,
 *                           9.10, 9.13-9.15)
 *   to N's full JID         N/PRESENCE_RESOURCE while N is available and R
 *                           has from/both or got N's directed presence
 *                           (RFC 6121 4.6.3): disco#info (the caps node
 *                           too), ping; else <service-unavailable/> (S2S
 *                           8.42, 9.19)
 *   a stranger, N unknown or disabled: what R gets depends on the
 *                           namespace only, never on N (RFC 6121 8.5.1,
 *                           S2S 8.36, 8.41, 10.12): disco#items its empty
 *                           result (9.5), last <forbidden/> (XEP-0012 4,
 *                           9.9), PEP <not-authorized/> with
 *                           presence-subscription-required (9.15),
 *                           everything else <service-unavailable/>
 * A known namespace with an operation it does not have (a set, another
 * element) gets <feature-not-implemented/> (S2S 9.1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/utsname.h>

#include "caps.h"
#include "config.h"
#include "conf.h"
#include "disco.h"
#include "el.h"
#include "iq.h"
#include "jid.h"
#include "log.h"
#include "pep.h"
#include "presence.h"
#include "router.h"
#include "server.h"
#include "store.h"
#include "utf8.h"
#include "vcard.h"
#include "xmalloc.h"

/* What the store says of the user an IQ is for, and of the sender. */
struct iq_user {
	int		 found;		/* exists and is not disabled */
	int		 want_vcard;	/* build the vCard while the row is read */
	struct el	*vcard;		/* NULL: no profile data */
	const struct el	*pubsub;	/* a PEP request: answer it from the row */
	struct el	*pep;		/* its answer, or NULL with pep_cond */
	const char	*pep_cond;
	int64_t		 created;
	int		 available;	/* its presence is not unavailable */
	int64_t		 since;		/* when its presence was set */
	char		*status;
	int		 trusted;	/* the sender has from/both */
	int		 directed;	/* the sender got directed presence */
};

static int
iq_user_cb(void *arg, const struct store_user *u)
{
	struct iq_user	*iu = arg;

	if (u->disabled)
		return 0;
	iu->found = 1;
	iu->created = u->created;
	if (iu->want_vcard)
		iu->vcard = vcard_new(u);
	if (iu->pubsub != NULL)
		iu->pep = pep_items(u, iu->pubsub, &iu->pep_cond);
	return 0;
}

static int
iq_sub_cb(void *arg, const struct store_sub *s)
{
	struct iq_user	*iu = arg;

	iu->trusted = s->state == STORE_SUB_FROM || s->state == STORE_SUB_BOTH;
	return 0;
}

/* Loads what the IQ needs; -1 on a store error (logged). */
static int
iq_user_load(struct iq_user *iu, const struct jid *to, const struct jid *from)
{
	struct store_presence	 p;
	char			 bare[JID_MAX + 1];

	if (store_user_get(server->store, to->local, to->domain, iq_user_cb,
	    iu) == -1) {
		if (store_errcode(server->store) == STORE_E_NOTFOUND)
			return 0;
		goto fail;
	}
	if (!iu->found)
		return 0;
	if (store_presence_get(server->store, to->local, to->domain,
	    &p) == -1)
		goto fail;
	iu->available = p.show != STORE_SHOW_UNAVAILABLE;
	iu->since = p.updated != 0 ? p.updated : iu->created;
	iu->status = p.status != NULL ? xstrdup(p.status) : NULL;
	if (jid_bare_str(from, bare, sizeof(bare)) != NULL &&
	    store_sub_get(server->store, to->local, to->domain, bare,
	    iq_sub_cb, iu) == -1 &&
	    store_errcode(server->store) != STORE_E_NOTFOUND)
		goto fail;
	if (to->resource != NULL && !iu->trusted &&
	    (iu->directed = presence_may_see(to->local, to->domain,
	    from)) == -1)
		return -1;
	return 0;
 fail:
	log_warnx("iq: %s", store_errstr(server->store));
	return -1;
}

static void
iq_user_free(struct iq_user *iu)
{
	el_free(iu->vcard);
	el_free(iu->pep);
	free(iu->status);
}

/* An empty result to st; the caller adds the payload. */
static struct el *
iq_result(const struct el *st)
{
	struct el	*r = el_new(EL_NS_SERVER, "iq");
	const char	*id = el_attr(st, "id");

	el_set_attr(r, "from", el_attr(st, "to"));
	el_set_attr(r, "to", el_attr(st, "from"));
	el_set_attr(r, "type", "result");
	el_set_attr(r, "id", id != NULL ? id : "");
	return r;
}

static struct el *
iq_error(const struct el *st, const char *etype, const char *cond)
{
	return router_error_stanza(st, etype, cond, NULL);
}

static struct el *
iq_unavailable(const struct el *st)
{
	return iq_error(st, "cancel", "service-unavailable");
}

/* XEP-0092: name, version and, when the operator allows, os. */
static struct el *
iq_version(const struct el *st)
{
	struct el	*r = iq_result(st), *q;
	struct utsname	 u;

	q = el_add(r, NS_VERSION, "query");
	el_add_text_child(q, NULL, "name", "xfed");
	el_add_text_child(q, NULL, "version", XFED_VERSION);
	if (server->conf->version_os && uname(&u) == 0)
		el_add_text_child(q, NULL, "os", u.sysname);
	return r;
}

/* XEP-0202: the server's offset from UTC and the time in UTC. */
static struct el *
iq_time(const struct el *st)
{
	struct el	*r = iq_result(st), *q;
	time_t		 now = time(NULL);
	struct tm	 tm;
	char		 buf[32];
	long		 off;

	q = el_add(r, NS_TIME, "time");
	localtime_r(&now, &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(buf, sizeof(buf), "%c%02ld:%02ld", off < 0 ? '-' : '+',
	    labs(off) / 60, labs(off) % 60);
	el_add_text_child(q, NULL, "tzo", buf);
	gmtime_r(&now, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	el_add_text_child(q, NULL, "utc", buf);
	return r;
}

/* XEP-0012: seconds since then, with an optional status text. */
static struct el *
iq_last(const struct el *st, int64_t then, const char *status)
{
	struct el	*r = iq_result(st), *q;
	char		 buf[24];
	int64_t		 secs = (int64_t)time(NULL) - then;

	q = el_add(r, NS_LAST, "query");
	snprintf(buf, sizeof(buf), "%lld", (long long)(secs > 0 ? secs : 0));
	el_set_attr(q, "seconds", buf);
	if (status != NULL)
		el_add_text(q, status, utf8_prefix(status, STORE_STATUS_MAX));
	return r;
}

/*
 * disco#info or #items for target: a node the target does not have is
 * item-not-found (XEP-0030 7, S2S 9.3); the resource has the caps node.
 */
static struct el *
iq_disco(const struct el *st, const struct el *q, enum disco_target t)
{
	const char	*node = el_attr(q, "node");
	char		 caps[sizeof(DISCO_CAPS_NODE) + DISCO_VER_LEN + 2];
	struct el	*r;

	if (node != NULL) {
		snprintf(caps, sizeof(caps), "%s#%s", DISCO_CAPS_NODE,
		    disco_caps_ver());
		if (t != DISCO_RESOURCE || strcmp(node, caps) != 0 ||
		    !el_is(q, NS_DISCO_INFO, "query"))
			return iq_error(st, "cancel", "item-not-found");
	}
	r = iq_result(st);
	if (el_is(q, NS_DISCO_INFO, "query"))
		disco_info_add(r, t, node, server->conf->version_reply);
	else
		el_add(r, NS_DISCO_ITEMS, "query");
	return r;
}

static int
iq_is(const struct el *q, const char *ns, const char *name)
{
	return el_is(q, ns, name);
}

/* A get or set to a hosted domain itself. */
static struct el *
iq_domain(const struct el *st, const struct el *q, int get)
{
	int	 version = server->conf->version_reply;

	if (!disco_has(DISCO_DOMAIN, q->ns, version))
		return iq_unavailable(st);
	if (!get)
		return iq_error(st, "cancel", "feature-not-implemented");
	if (iq_is(q, NS_DISCO_INFO, "query") || iq_is(q, NS_DISCO_ITEMS,
	    "query"))
		return iq_disco(st, q, DISCO_DOMAIN);
	if (iq_is(q, NS_PING, "ping"))
		return iq_result(st);
	if (iq_is(q, NS_VERSION, "query"))
		return iq_version(st);
	if (iq_is(q, NS_TIME, "time"))
		return iq_time(st);
	if (iq_is(q, NS_LAST, "query"))
		return iq_last(st, (int64_t)server->started, NULL);
	return iq_error(st, "cancel", "feature-not-implemented");
}

/*
 * XEP-0163 access model "presence": contacts with from/both read the
 * nodes (others get iq_stranger()'s not-authorized, S2S 9.15); nobody
 * publishes from outside.
 */
static struct el *
iq_pep(const struct el *st, int get, struct iq_user *iu)
{
	struct el	*r;

	if (!get)
		return iq_error(st, "auth", "forbidden");
	if (iu->pep == NULL)
		return iq_error(st, "cancel", iu->pep_cond);
	r = iq_result(st);
	el_add_copy(r, iu->pep);
	return r;
}

/*
 * A stranger, or a user that does not exist or is disabled: the answer
 * tells nothing of the user (RFC 6121 8.5.1), only of the namespace.
 */
static struct el *
iq_stranger(const struct el *st, const struct el *q, int get)
{
	struct el	*r;

	if (!get)
		return iq_unavailable(st);
	/* S2S 9.5: never an error */
	if (iq_is(q, NS_DISCO_ITEMS, "query"))
		return iq_disco(st, q, DISCO_ACCOUNT);
	if (iq_is(q, NS_LAST, "query"))	/* XEP-0012 4, S2S 9.9 */
		return iq_error(st, "auth", "forbidden");
	if (iq_is(q, NS_PUBSUB, "pubsub")) {	/* XEP-0060 6.5.9.6 */
		if ((r = iq_error(st, "auth", "not-authorized")) != NULL)
			el_add(el_child(r, EL_NS_SERVER, "error"),
			    NS_PUBSUB_ERRORS, "presence-subscription-required");
		return r;
	}
	return iq_unavailable(st);
}

/* A get or set to a user's bare JID; iu is loaded. */
static struct el *
iq_account(const struct el *st, const struct el *q, int get,
    struct iq_user *iu)
{
	struct el	*r;

	if (!iu->found || !iu->trusted)
		return iq_stranger(st, q, get);
	if (get && iq_is(q, NS_DISCO_ITEMS, "query"))
		return iq_disco(st, q, DISCO_ACCOUNT);
	if (!disco_has(DISCO_ACCOUNT, q->ns, 0))
		return iq_unavailable(st);
	if (iq_is(q, NS_VCARD, "vCard")) {
		if (!get)	/* only the native system edits profiles */
			return iq_error(st, "cancel", "not-allowed");
		if (iu->vcard == NULL)	/* XEP-0054 3.3, S2S 9.10 */
			return iq_unavailable(st);
		r = iq_result(st);
		el_add_copy(r, iu->vcard);
		return r;
	}
	if (iq_is(q, NS_PUBSUB, "pubsub"))
		return iq_pep(st, get, iu);
	if (!get)
		return iq_error(st, "cancel", "feature-not-implemented");
	if (iq_is(q, NS_DISCO_INFO, "query"))
		return iq_disco(st, q, DISCO_ACCOUNT);
	if (iq_is(q, NS_PING, "ping"))
		return iq_result(st);
	if (iq_is(q, NS_LAST, "query")) {
		if (iu->available)
			return iq_last(st, (int64_t)time(NULL), NULL);
		return iq_last(st, iu->since, iu->status);
	}
	return iq_error(st, "cancel", "feature-not-implemented");
}

/* A get or set to a user's full JID; iu is loaded. */
static struct el *
iq_resource(const struct el *st, const struct el *q, int get,
    const struct jid *to, struct iq_user *iu)
{
	/* offline, someone else's resource, or a stranger: the same */
	if (!iu->found || !iu->available || (!iu->trusted && !iu->directed) ||
	    strcmp(to->resource, PRESENCE_RESOURCE) != 0 ||
	    !disco_has(DISCO_RESOURCE, q->ns, 0))
		return iq_unavailable(st);
	if (!get)
		return iq_error(st, "cancel", "feature-not-implemented");
	if (iq_is(q, NS_DISCO_INFO, "query"))
		return iq_disco(st, q, DISCO_RESOURCE);
	if (iq_is(q, NS_PING, "ping"))
		return iq_result(st);
	return iq_error(st, "cancel", "feature-not-implemented");
}

struct el *
iq_answer(const struct el *st, const struct jid *to, const struct jid *from)
{
	const char	*type = el_attr(st, "type");
	struct el	*q = el_first(st), *r;
	struct iq_user	 iu;
	int		 get;

	if (type != NULL && (strcmp(type, "result") == 0 ||
	    strcmp(type, "error") == 0))
		return NULL;
	if (type == NULL || (strcmp(type, "get") != 0 &&
	    strcmp(type, "set") != 0))
		return iq_error(st, "modify", "bad-request");
	if (q == NULL || el_next(q) != NULL)
		return iq_error(st, "modify", "bad-request");
	get = strcmp(type, "get") == 0;
	if (to->local == NULL)
		return to->resource == NULL ? iq_domain(st, q, get) :
		    iq_unavailable(st);
	memset(&iu, 0, sizeof(iu));
	iu.want_vcard = to->resource == NULL && iq_is(q, NS_VCARD, "vCard");
	if (to->resource == NULL && get && iq_is(q, NS_PUBSUB, "pubsub"))
		iu.pubsub = q;
	if (iq_user_load(&iu, to, from) == -1) {
		iq_user_free(&iu);
		return iq_error(st, "wait", "internal-server-error");
	}
	if (to->resource == NULL)
		r = iq_account(st, q, get, &iu);
	else
		r = iq_resource(st, q, get, to, &iu);
	iq_user_free(&iu);
	return r;
}

void
iq_in(const struct el *st, const struct jid *to, const struct jid *from)
{
	struct el	*r;
	struct el	*q = el_first(st);

	if (caps_answer(st, from))	/* a contact's caps (XEP-0115) */
		return;
	if ((r = iq_answer(st, to, from)) == NULL)
		return;
	log_debug("iq: %s %s from %s to %s: %s", el_attr(st, "type") ?
	    el_attr(st, "type") : "(no type)", q != NULL ? q->ns : "-",
	    el_attr(st, "from"), el_attr(st, "to"),
	    strcmp(el_attr(r, "type"), "result") == 0 ? "result" : "error");
	router_send(r, 0);
}
