/*
 * tools/cmd_check.c: "xfedctl check [DOMAIN] [--peer DOMAIN]", the
 * deployment doctor: runs the parts of check.h for each hosted domain (or
 * the one named) or toward a peer, prints one OK/WARN/FAIL line per
 * result with what to change, and exits 0 (all OK), 1 (warnings) or 2
 * (failures). What each part checks is in its own file.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

#define CHECK_DNS	0x1
#define CHECK_CERT	0x2
#define CHECK_DIAL	0x4
#define CHECK_ALL	(CHECK_DNS | CHECK_CERT | CHECK_DIAL)

static const char *const chk_level_names[] = { "OK", "WARN", "FAIL" };

void
chk_report(struct chk *chk, enum chk_level level, const char *section,
    const char *subject, const char *fix, const char *fmt, ...)
{
	char	 reason[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	chk->n[level]++;
	if (chk->ctl->json) {
		out_json_begin(&chk->j, stdout);
		out_json_str(&chk->j, "status", chk_level_names[level]);
		out_json_str(&chk->j, "check", section);
		out_json_str(&chk->j, "subject", subject);
		out_json_str(&chk->j, "reason", reason);
		out_json_str(&chk->j, "fix", level == CHK_OK ? NULL : fix);
		out_json_end(&chk->j);
		return;
	}
	printf("%-4s %s %s: ", chk_level_names[level], section, subject);
	out_text(stdout, reason);
	putchar('\n');
	if (level != CHK_OK && fix != NULL) {
		fputs("     fix: ", stdout);
		out_text(stdout, fix);
		putchar('\n');
	}
	fflush(stdout);
}

struct cmd_check_opts {
	const char	*peer;
	int		 only;
	int		 private_ok;
};

static int
cmd_check_opt(struct ctl *ctl, int ch, const char *arg, void *p)
{
	struct cmd_check_opts	*o = p;

	switch (ch) {
	case 'p':
		o->peer = arg;
		return CTL_OK;
	case 'P':
		o->private_ok = 1;
		return CTL_OK;
	case 'o':
		if (strcmp(arg, "dns") == 0)
			o->only |= CHECK_DNS;
		else if (strcmp(arg, "cert") == 0)
			o->only |= CHECK_CERT;
		else if (strcmp(arg, "dial") == 0)
			o->only |= CHECK_DIAL;
		else
			return ctl_usage(ctl, "--only takes dns, cert or dial, "
			    "not \"%s\"", arg);
		return CTL_OK;
	}
	return CTL_USAGE;
}

/* A domain typed by the operator, prepared as the config's are. */
static int
cmd_check_domain(struct ctl *ctl, const char *arg, char *out, size_t outsz)
{
	const char	*errstr;

	if (jid_prep_domain(arg, out, outsz, &errstr) == -1)
		return ctl_usage(ctl, "\"%s\": %s", arg, errstr);
	return CTL_OK;
}

static int
cmd_check(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "peer", required_argument, NULL, 'p' },
		{ "only", required_argument, NULL, 'o' },
		{ "private", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_check_opts	 o = { NULL, 0, 0 };
	struct chk		 chk;
	char			 dom[JID_PART_MAX + 1], from[JID_PART_MAX + 1];
	size_t			 i;
	int			 rc, first;

	if ((first = ctl_getopt(ctl, argc, argv, "", opts, 1, cmd_check_opt,
	    &o, &rc)) == -1)
		return rc;
	if (argc - first > 1)
		return ctl_usage(ctl, "unexpected argument \"%s\"",
		    argv[first + 1]);
	if (o.only == 0)
		o.only = CHECK_ALL;
	memset(&chk, 0, sizeof(chk));
	chk.ctl = ctl;
	chk.private_ok = o.private_ok;

	/* DOMAIN is hosted: the one checked, or with --peer the one the
	 * dial speaks for */
	if (argc - first == 1) {
		if ((rc = cmd_check_domain(ctl, argv[first], from,
		    sizeof(from))) != CTL_OK)
			return rc;
		if (!conf_is_hosted(ctl->conf, from))
			return o.peer != NULL ? ctl_usage(ctl, "%s is not a "
			    "hosted domain: with --peer, DOMAIN names the one "
			    "the dial speaks for", from) : ctl_usage(ctl, "%s "
			    "is not a hosted domain; for a peer use --peer %s",
			    from, from);
	}
	if (o.peer != NULL) {
		if (argc - first == 1)
			chk.from = from;
		if ((rc = cmd_check_domain(ctl, o.peer, dom, sizeof(dom))) !=
		    CTL_OK)
			return rc;
		if (conf_is_hosted(ctl->conf, dom))
			return ctl_usage(ctl, "%s is hosted here; use xfedctl "
			    "check %s", dom, dom);
		if (o.only & CHECK_DNS)
			check_dns(&chk, dom, 0);
		if (o.only & CHECK_DIAL)
			check_dial(&chk, dom, 0);
	} else {
		for (i = 0; i < ctl->conf->domains.n; i++) {
			const char	*d = CONF_DOMAIN(ctl->conf, i);

			if (argc - first == 1 && strcmp(d, from) != 0)
				continue;
			if (o.only & CHECK_DNS)
				check_dns(&chk, d, 1);
			if (o.only & CHECK_CERT)
				check_cert(&chk, d);
			if (o.only & CHECK_DIAL)
				check_dial(&chk, d, 1);
		}
	}
	if (ctl->json) {
		out_json_begin(&chk.j, stdout);
		out_json_int(&chk.j, "ok", chk.n[CHK_OK]);
		out_json_int(&chk.j, "warn", chk.n[CHK_WARN]);
		out_json_int(&chk.j, "fail", chk.n[CHK_FAIL]);
		out_json_end(&chk.j);
	} else
		printf("%d OK, %d WARN, %d FAIL\n", chk.n[CHK_OK],
		    chk.n[CHK_WARN], chk.n[CHK_FAIL]);
	return chk.n[CHK_FAIL] ? 2 : chk.n[CHK_WARN] ? 1 : 0;
}

const struct ctl_cmd cmd_check_table[] = {
	{ "check", "[DOMAIN] [--peer PEER] [--only dns|cert|dial] [--private] "
	    "[--json]",
	    "Checks the deployment as peers see it: DNS (SRV records, their "
	    "targets and\naddresses), the certificate (chain, key, name, "
	    "expiry, key usage) and a\ndial to the domain that must reach "
	    "this xfed. --peer checks the way to a\nremote domain, speaking "
	    "for DOMAIN (default: the first hosted). Targets\non loopback or "
	    "private addresses are a WARN unless --private (a\nfederation "
	    "inside one network). One OK/WARN/FAIL line per result, with\n"
	    "what to change. Exit status: 0 all OK, 1 warnings, 2 failures "
	    "or errors.",
	    cmd_check },
	{ NULL, NULL, NULL, NULL },
};
