/*
 * tools/cmd_presence.c: xfedctl presence set and show: a native user's
 * own presence. Setting it is a change the running xfed notices through
 * the change journal and broadcasts to the user's subscribers.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xfedctl.h"
#include "xmalloc.h"

static int
cmd_presence_opt(struct ctl *ctl, int ch, const char *arg, void *p)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (arg[0] == '\0' || *end != '\0' || errno != 0 || v < -128 ||
	    v > 127)
		return ctl_fail("invalid priority \"%s\": a number from -128 "
		    "to 127", arg);
	*(int *)p = (int)v;
	return CTL_OK;
}

static int
cmd_presence_set(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "priority", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_user	 u;
	enum store_show	 show;
	char		*status = NULL;
	int		 i, rc, prio = 0;

	if ((i = ctl_getopt(ctl, argc, argv, "p:", opts, 0, cmd_presence_opt,
	    &prio, &rc)) == -1)
		return rc;
	if (argc - i < 2)
		return ctl_usage(ctl, argc - i < 1 ? "missing NAME" :
		    "missing SHOW");
	if (ctl_user_arg(ctl, argv[i], &u) != CTL_OK)
		return CTL_FAIL;
	if (store_show_parse(argv[i + 1], &show) == -1)
		return ctl_fail("invalid presence \"%s\": use available, chat, "
		    "away, xa, dnd or unavailable", argv[i + 1]);
	if (argc - i > 2)
		status = ctl_join(argc - i - 2, argv + i + 2);
	if (ctl_open(ctl) == -1) {
		free(status);
		return CTL_FAIL;
	}
	rc = CTL_OK;
	if (ctl_begin(ctl) == -1 ||
	    store_presence_set(ctl->st, u.local, u.domain, show, status,
	    prio) == -1 || ctl_commit(ctl) == -1)
		rc = ctl_store_fail(ctl);
	else
		printf("%s@%s is %s\n", u.local, u.domain,
		    store_show_name(show));
	free(status);
	return rc;
}

static int
cmd_presence_show(struct ctl *ctl, int argc, char **argv)
{
	struct store_presence	 p;
	struct ctl_user		 u;
	struct out_json		 j;
	char			 t[32];
	int			 i, rc;

	if ((i = ctl_getopt(ctl, argc, argv, "", NULL, 1, NULL, NULL,
	    &rc)) == -1)
		return rc;
	if ((rc = ctl_user_operand(ctl, argc, argv, i, &u)) != CTL_OK)
		return rc;
	ctl->reader = 1;
	if (ctl_open(ctl) == -1)
		return CTL_FAIL;
	if (store_presence_get(ctl->st, u.local, u.domain, &p) == -1)
		return ctl_store_fail(ctl);
	if (ctl->json) {
		out_json_begin(&j, stdout);
		out_json_str(&j, "show", store_show_name(p.show));
		out_json_str(&j, "status", p.status);
		out_json_int(&j, "priority", p.priority);
		out_json_time(&j, "updated", p.updated);
		out_json_end(&j);
		return CTL_OK;
	}
	printf("%s", store_show_name(p.show));
	if (p.status != NULL) {
		fputs(" \"", stdout);
		out_text(stdout, p.status);
		putchar('"');
	}
	printf(" (priority %d, updated %s)\n", p.priority,
	    out_time(p.updated, t, sizeof(t)));
	return CTL_OK;
}

const struct ctl_cmd cmd_presence_table[] = {
	{ "presence set", "NAME available|chat|away|xa|dnd|unavailable "
	    "[STATUS TEXT] [--priority N]",
	    "Sets a user's presence; the rest of the line is the status "
	    "text.\nThe running xfed sends it to the user's subscribers.",
	    cmd_presence_set },
	{ "presence show", "NAME [--json]",
	    "Shows a user's presence (unavailable when never set).",
	    cmd_presence_show },
	{ NULL, NULL, NULL, NULL },
};
