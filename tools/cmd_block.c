/*
 * tools/cmd_block.c: xfedctl block add, del and list: remote domains
 * blocked (or, with --allow, the only ones allowed) for the whole server,
 * and remote JIDs a user blocks (XEP-0191). Both live in the store; the
 * running xfed applies them within 100 ms, with no restart.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "xfedctl.h"

/* The operands: DOMAIN, or NAME JID. */
struct cmd_block {
	int		 user;		/* NAME JID */
	struct ctl_user	 u;
	char		 jid[JID_MAX + 1];
};

static int
cmd_block_operands(struct ctl *ctl, int argc, char **argv, int i,
    struct cmd_block *b)
{
	const char	*errstr;

	if (argc - i < 1)
		return ctl_usage(ctl, "missing DOMAIN, or NAME JID");
	if (argc - i > 2)
		return ctl_usage(ctl, "unexpected argument \"%s\"",
		    argv[i + 2]);
	b->user = argc - i == 2;
	if (b->user) {
		if (ctl_user_arg(ctl, argv[i], &b->u) != CTL_OK)
			return CTL_FAIL;
		if (ctl_jid_parse(argv[i + 1], 0, b->jid, sizeof(b->jid),
		    &errstr) == -1)
			return ctl_fail("invalid JID \"%s\": %s", argv[i + 1],
			    errstr);
	} else {
		if (strchr(argv[i], '@') != NULL ||
		    strchr(argv[i], '/') != NULL)
			return ctl_fail("invalid domain \"%s\": a domain has "
			    "no @ or /", argv[i]);
		if (ctl_jid_parse(argv[i], CTL_JID_BARE, b->jid,
		    sizeof(b->jid), &errstr) == -1)
			return ctl_fail("invalid domain \"%s\": %s", argv[i],
			    errstr);
		if (conf_is_hosted(ctl->conf, b->jid))
			return ctl_fail("%s is hosted here", b->jid);
	}
	if (ctl_open(ctl) == -1)
		return CTL_FAIL;
	return CTL_OK;
}

static int
cmd_block_allow_opt(struct ctl *ctl, int ch, const char *arg, void *p)
{
	*(int *)p = 1;
	return CTL_OK;
}

static int
cmd_block_add(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "allow", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_block b;
	int		 i, rc, allow = 0;

	if ((i = ctl_getopt(ctl, argc, argv, "a", opts, 0, cmd_block_allow_opt,
	    &allow, &rc)) == -1)
		return rc;
	if ((rc = cmd_block_operands(ctl, argc, argv, i, &b)) != CTL_OK)
		return rc;
	if (b.user && allow)
		return ctl_usage(ctl, "--allow is for domains");
	if (ctl_begin(ctl) == -1 || (b.user ?
	    store_block_add(ctl->st, b.u.local, b.u.domain, b.jid) :
	    store_domain_rule_set(ctl->st, b.jid, allow ? STORE_RULE_ALLOW :
	    STORE_RULE_BLOCK)) == -1 || ctl_commit(ctl) == -1) {
		if (b.user && store_errcode(ctl->st) == STORE_E_EXISTS)
			return ctl_fail("%s@%s blocks %s already", b.u.local,
			    b.u.domain, b.jid);
		return ctl_store_fail(ctl);
	}
	if (b.user)
		printf("%s@%s blocks %s\n", b.u.local, b.u.domain, b.jid);
	else
		printf("%s %s\n", allow ? "allowed" : "blocked", b.jid);
	return CTL_OK;
}

static int
cmd_block_del(struct ctl *ctl, int argc, char **argv)
{
	struct cmd_block b;
	int		 i, rc;

	if ((i = ctl_getopt(ctl, argc, argv, "", NULL, 0, NULL, NULL,
	    &rc)) == -1)
		return rc;
	if ((rc = cmd_block_operands(ctl, argc, argv, i, &b)) != CTL_OK)
		return rc;
	if (ctl_begin(ctl) == -1 || (b.user ?
	    store_block_del(ctl->st, b.u.local, b.u.domain, b.jid) :
	    store_domain_rule_del(ctl->st, b.jid)) == -1 ||
	    ctl_commit(ctl) == -1)
		return ctl_store_fail(ctl);
	if (b.user)
		printf("%s@%s no longer blocks %s\n", b.u.local, b.u.domain,
		    b.jid);
	else
		printf("removed the rule for %s\n", b.jid);
	return CTL_OK;
}

static int
cmd_block_rule_cb(void *arg, const struct store_domain_rule *r)
{
	struct ctl	*ctl = arg;
	struct out_json	 j;

	if (ctl->json) {
		out_json_begin(&j, stdout);
		out_json_str(&j, "domain", r->domain);
		out_json_str(&j, "action", store_rule_name(r->action));
		out_json_time(&j, "created", r->created);
		out_json_end(&j);
	} else
		printf("%s\t%s\n", store_rule_name(r->action), r->domain);
	return 0;
}

static int
cmd_block_user_cb(void *arg, const struct store_block *b)
{
	struct ctl	*ctl = arg;
	struct out_json	 j;
	char		 user[2 * JID_PART_MAX + 2];

	snprintf(user, sizeof(user), "%s@%s", b->local, b->domain);
	if (ctl->json) {
		out_json_begin(&j, stdout);
		out_json_str(&j, "user", user);
		out_json_str(&j, "jid", b->jid);
		out_json_time(&j, "created", b->created);
		out_json_end(&j);
	} else {
		printf("%s\t", user);
		out_text(stdout, b->jid);
		putchar('\n');
	}
	return 0;
}

static int
cmd_block_list(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_user	 u;
	int		 i, rc;

	if ((i = ctl_getopt(ctl, argc, argv, "", NULL, 1, NULL, NULL,
	    &rc)) == -1)
		return rc;
	if (argc - i > 1)
		return ctl_usage(ctl, "unexpected argument \"%s\"",
		    argv[i + 1]);
	ctl->reader = 1;
	if (argc - i == 1) {
		if ((rc = ctl_user_operand(ctl, argc, argv, i, &u)) !=
		    CTL_OK || (rc = ctl_open_user(ctl, &u)) != CTL_OK)
			return rc;
		if (store_block_list(ctl->st, u.local, u.domain,
		    cmd_block_user_cb, ctl) == -1)
			return ctl_store_fail(ctl);
		return CTL_OK;
	}
	if (ctl_open(ctl) == -1)
		return CTL_FAIL;
	if (store_domain_rule_list(ctl->st, cmd_block_rule_cb, ctl) == -1)
		return ctl_store_fail(ctl);
	return CTL_OK;
}

const struct ctl_cmd cmd_block_table[] = {
	{ "block add", "DOMAIN [--allow] | NAME JID",
	    "Blocks a remote DOMAIN (and its subdomains) for the whole server;"
	    " with --allow,\nallows it instead (once any domain is allowed, "
	    "all others are refused).\nWith NAME JID, the user blocks JID "
	    "(a domain, bare or full JID; XEP-0191).", cmd_block_add },
	{ "block del", "DOMAIN | NAME JID",
	    "Removes the rule for DOMAIN, or the user's block of JID.",
	    cmd_block_del },
	{ "block list", "[NAME] [--json]",
	    "Lists the domain rules (rules in xfed.conf are not listed), or "
	    "the JIDs\nNAME blocks.", cmd_block_list },
	{ NULL, NULL, NULL, NULL },
};
