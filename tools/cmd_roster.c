/*
 * tools/cmd_roster.c: xfedctl roster, subscribe, unsubscribe, approve and
 * deny. An action is one outbox row of the matching kind; the schema
 * applies the RFC 6121 state change to the subscription in the same
 * transaction and marks the row 'done' when there is nothing to send
 * (a pre-approval, or nothing to deny), and the running xfed sends the
 * rest.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xfedctl.h"
#include "xmalloc.h"

struct cmd_roster_item {
	char			*jid;		/* bare */
	int			 has_sub;
	enum store_sub_state	 state;
	int			 out, in, pre;
	char			*request;
	int64_t			 updated;
};

struct cmd_roster_pres {
	char		*jid;		/* full */
	char		*bare;
	enum store_show	 show;
	char		*status;
	int		 priority;
	int64_t		 updated;
};

struct cmd_roster {
	struct cmd_roster_item	*items;
	size_t			 nitems;
	struct cmd_roster_pres	*pres;
	size_t			 npres;
};

static struct cmd_roster_item *
cmd_roster_item(struct cmd_roster *r, const char *bare)
{
	struct cmd_roster_item	*it;
	size_t			 i;

	for (i = 0; i < r->nitems; i++)
		if (strcmp(r->items[i].jid, bare) == 0)
			return &r->items[i];
	r->items = xreallocarray(r->items, r->nitems + 1, sizeof(*it));
	it = &r->items[r->nitems++];
	memset(it, 0, sizeof(*it));
	it->jid = xstrdup(bare);
	return it;
}

static int
cmd_roster_sub_cb(void *arg, const struct store_sub *s)
{
	struct cmd_roster_item	*it = cmd_roster_item(arg, s->jid);

	it->has_sub = 1;
	it->state = s->state;
	it->out = s->pending_out;
	it->in = s->pending_in;
	it->pre = s->preapproved;
	it->request = s->request ? xstrdup(s->request) : NULL;
	it->updated = s->updated;
	return 0;
}

static int
cmd_roster_pres_cb(void *arg, const struct store_rpres *p)
{
	struct cmd_roster	*r = arg;
	struct cmd_roster_pres	*rp;
	const char		*slash = strchr(p->jid, '/');

	r->pres = xreallocarray(r->pres, r->npres + 1, sizeof(*rp));
	rp = &r->pres[r->npres++];
	rp->jid = xstrdup(p->jid);
	rp->bare = slash ? xstrndup(p->jid, slash - p->jid) : xstrdup(p->jid);
	rp->show = p->show;
	rp->status = p->status ? xstrdup(p->status) : NULL;
	rp->priority = p->priority;
	rp->updated = p->updated;
	/* A presence without a subscription row still gets a line. */
	cmd_roster_item(r, rp->bare);
	return 0;
}

static void
cmd_roster_free(struct cmd_roster *r)
{
	size_t	 i;

	for (i = 0; i < r->nitems; i++) {
		free(r->items[i].jid);
		free(r->items[i].request);
	}
	for (i = 0; i < r->npres; i++) {
		free(r->pres[i].jid);
		free(r->pres[i].bare);
		free(r->pres[i].status);
	}
	free(r->items);
	free(r->pres);
}

static void
cmd_roster_print(struct ctl *ctl, struct cmd_roster *r)
{
	struct cmd_roster_item	*it;
	struct cmd_roster_pres	*p;
	struct out_json		 j;
	size_t			 i, k;

	for (i = 0; i < r->nitems; i++) {
		it = &r->items[i];
		if (ctl->json) {
			out_json_begin(&j, stdout);
			out_json_str(&j, "jid", it->jid);
			out_json_str(&j, "subscription",
			    store_sub_state_name(it->state));
			out_json_bool(&j, "pending_out", it->out);
			out_json_bool(&j, "pending_in", it->in);
			out_json_bool(&j, "preapproved", it->pre);
			out_json_str(&j, "request", it->request);
			out_json_time(&j, "updated", it->updated);
			out_json_array(&j, "presence");
		} else {
			printf("%s\t%s", it->jid,
			    store_sub_state_name(it->state));
			if (it->out)
				fputs(" +pending-out", stdout);
			if (it->in)
				fputs(" +pending-in", stdout);
			if (it->pre)
				fputs(" +preapproved", stdout);
			if (it->request != NULL) {
				fputs(" \"", stdout);
				out_text(stdout, it->request);
				putchar('"');
			}
			putchar('\n');
		}
		for (k = 0; k < r->npres; k++) {
			p = &r->pres[k];
			if (strcmp(p->bare, it->jid) != 0)
				continue;
			if (ctl->json) {
				out_json_obj(&j, NULL);
				out_json_str(&j, "jid", p->jid);
				out_json_str(&j, "show",
				    store_show_name(p->show));
				out_json_str(&j, "status", p->status);
				out_json_int(&j, "priority", p->priority);
				out_json_time(&j, "updated", p->updated);
				out_json_obj_end(&j);
				continue;
			}
			fputs("  ", stdout);
			out_text(stdout, p->jid);
			printf("\t%s", store_show_name(p->show));
			if (p->status != NULL) {
				fputs(" \"", stdout);
				out_text(stdout, p->status);
				putchar('"');
			}
			printf(" (priority %d)\n", p->priority);
		}
		if (ctl->json) {
			out_json_array_end(&j);
			out_json_end(&j);
		}
	}
}

static int
cmd_roster(struct ctl *ctl, int argc, char **argv)
{
	struct cmd_roster	 r;
	struct ctl_user		 u;
	int			 i, rc;

	if ((i = ctl_getopt(ctl, argc, argv, "", NULL, 1, NULL, NULL,
	    &rc)) == -1)
		return rc;
	if ((rc = ctl_user_operand(ctl, argc, argv, i, &u)) != CTL_OK)
		return rc;
	ctl->reader = 1;
	if ((rc = ctl_open_user(ctl, &u)) != CTL_OK)
		return rc;
	memset(&r, 0, sizeof(r));
	rc = CTL_OK;
	if (store_sub_list(ctl->st, u.local, u.domain, cmd_roster_sub_cb,
	    &r) == -1 || store_rpres_list(ctl->st, u.local, u.domain,
	    cmd_roster_pres_cb, &r) == -1)
		rc = ctl_store_fail(ctl);
	else
		cmd_roster_print(ctl, &r);
	cmd_roster_free(&r);
	return rc;
}

struct cmd_roster_after {
	enum store_out_state	 state;
	int			 found;
	struct cmd_roster_item	 it;
};

static int
cmd_roster_state_cb(void *arg, const struct store_outbox *m)
{
	((struct cmd_roster_after *)arg)->state = m->state;
	return 0;
}

static int
cmd_roster_after_cb(void *arg, const struct store_sub *s)
{
	struct cmd_roster_after	*a = arg;

	a->found = 1;
	a->it.state = s->state;
	a->it.out = s->pending_out;
	a->it.in = s->pending_in;
	a->it.pre = s->preapproved;
	return 0;
}

/* subscribe, unsubscribe, approve, deny: one outbox row of kind. */
static int
cmd_roster_act(struct ctl *ctl, int argc, char **argv, enum store_kind kind)
{
	struct store_outbox	 m;
	struct cmd_roster_after	 a;
	struct ctl_user		 u;
	const char		*err;
	char			 jid[JID_MAX + 1];
	char			*text = NULL;
	int64_t			 id = 0;
	int			 i, rc, maxargs;

	if ((i = ctl_getopt(ctl, argc, argv, "", NULL, 0, NULL, NULL,
	    &rc)) == -1)
		return rc;
	/* A subscription request may carry a text (RFC 6121 3.1.1). */
	maxargs = kind == STORE_KIND_SUBSCRIBE ? argc - i : 2;
	if (argc - i < 2 || argc - i > maxargs)
		return ctl_usage(ctl, argc - i < 1 ? "missing NAME" :
		    argc - i < 2 ? "missing JID" : "too many arguments");
	if (ctl_user_arg(ctl, argv[i], &u) != CTL_OK)
		return CTL_FAIL;
	if (ctl_jid_parse(argv[i + 1], CTL_JID_BARE, jid, sizeof(jid),
	    &err) == -1)
		return ctl_fail("invalid JID \"%s\": %s", argv[i + 1], err);
	if (ctl_open(ctl) == -1)
		return CTL_FAIL;
	if (ctl_begin(ctl) == -1)
		return ctl_store_fail(ctl);
	if ((rc = ctl_user_usable(ctl, &u)) != CTL_OK)
		return rc;
	if (argc - i > 2)
		text = ctl_join(argc - i - 2, argv + i + 2);
	memset(&m, 0, sizeof(m));
	m.local = u.local;
	m.domain = u.domain;
	m.kind = kind;
	m.to = jid;
	m.body = text;
	memset(&a, 0, sizeof(a));
	rc = CTL_OK;
	if (store_outbox_add(ctl->st, &m, &id) == -1 ||
	    store_outbox_get(ctl->st, id, cmd_roster_state_cb, &a) == -1 ||
	    (store_sub_get(ctl->st, u.local, u.domain, jid,
	    cmd_roster_after_cb, &a) == -1 &&
	    store_errcode(ctl->st) != STORE_E_NOTFOUND) ||
	    ctl_commit(ctl) == -1)
		rc = ctl_store_fail(ctl);
	free(text);
	if (rc != CTL_OK)
		return rc;

	if (a.state == STORE_OUT_DONE)
		printf("%s: nothing sent (%s)", jid,
		    kind == STORE_KIND_SUBSCRIBED && a.it.pre ?
		    "pre-approved: their request will be approved" :
		    kind == STORE_KIND_SUBSCRIBED ? "already approved" :
		    "no request or subscription to deny");
	else
		printf("%s: queued %s #%lld", jid, store_kind_name(kind),
		    (long long)id);
	printf("; subscription %s%s%s%s\n", store_sub_state_name(a.it.state),
	    a.it.out ? " +pending-out" : "", a.it.in ? " +pending-in" : "",
	    a.it.pre ? " +preapproved" : "");
	return CTL_OK;
}

static int
cmd_subscribe(struct ctl *ctl, int argc, char **argv)
{
	return cmd_roster_act(ctl, argc, argv, STORE_KIND_SUBSCRIBE);
}

static int
cmd_unsubscribe(struct ctl *ctl, int argc, char **argv)
{
	return cmd_roster_act(ctl, argc, argv, STORE_KIND_UNSUBSCRIBE);
}

static int
cmd_approve(struct ctl *ctl, int argc, char **argv)
{
	return cmd_roster_act(ctl, argc, argv, STORE_KIND_SUBSCRIBED);
}

static int
cmd_deny(struct ctl *ctl, int argc, char **argv)
{
	return cmd_roster_act(ctl, argc, argv, STORE_KIND_UNSUBSCRIBED);
}

const struct ctl_cmd cmd_roster_table[] = {
	{ "roster", "NAME [--json]",
	    "Lists a user's subscriptions (none, to, from, both; pending "
	    "requests;\npre-approvals) with each contact's last presence "
	    "per resource.", cmd_roster },
	{ "subscribe", "NAME JID [TEXT]",
	    "Asks JID for their presence (queues <presence type='subscribe'/>"
	    ").", cmd_subscribe },
	{ "unsubscribe", "NAME JID",
	    "Stops receiving JID's presence (queues type='unsubscribe').",
	    cmd_unsubscribe },
	{ "approve", "NAME JID",
	    "Approves JID's pending request (queues type='subscribed'); "
	    "with no\nrequest pending, pre-approves one (nothing is sent).",
	    cmd_approve },
	{ "deny", "NAME JID",
	    "Denies JID's pending request or cancels their subscription "
	    "(queues\ntype='unsubscribed'); also cancels a pre-approval.",
	    cmd_deny },
	{ NULL, NULL, NULL, NULL },
};
