/*
 * tools/cmd_user.c: xfedctl user add, del, list and show: the native
 * users of the hosted domains. A user's presence, subscriptions, inbox
 * and outbox go with them when they are deleted (ON DELETE CASCADE).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "xfedctl.h"

static int
cmd_user_name_opt(struct ctl *ctl, int ch, const char *arg, void *p)
{
	*(const char **)p = arg;
	return CTL_OK;
}

/* Checks the one NAME operand and opens the store; CTL_OK or the exit
 * status. */
static int
cmd_user_operand(struct ctl *ctl, int argc, char **argv, int i,
    struct ctl_user *u)
{
	if (argc - i < 1)
		return ctl_usage(ctl, "missing NAME");
	if (argc - i > 1)
		return ctl_usage(ctl, "unexpected argument \"%s\"",
		    argv[i + 1]);
	if (ctl_user_arg(ctl, argv[i], u) != CTL_OK || ctl_open(ctl) == -1)
		return CTL_FAIL;
	return CTL_OK;
}

static int
cmd_user_add(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_user	 u;
	const char	*name = NULL;
	int		 i, rc;

	if ((i = ctl_getopt(ctl, argc, argv, "n:", opts, 0, cmd_user_name_opt,
	    &name, &rc)) == -1)
		return rc;
	if ((rc = cmd_user_operand(ctl, argc, argv, i, &u)) != CTL_OK)
		return rc;
	if (ctl_begin(ctl) == -1 ||
	    store_user_add(ctl->st, u.local, u.domain, name, NULL) == -1 ||
	    ctl_commit(ctl) == -1)
		return ctl_store_fail(ctl);
	printf("added %s@%s\n", u.local, u.domain);
	return CTL_OK;
}

static int
cmd_user_del(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_user	 u;
	int		 i, rc;

	if ((i = ctl_getopt(ctl, argc, argv, "", NULL, 0, NULL, NULL,
	    &rc)) == -1)
		return rc;
	if ((rc = cmd_user_operand(ctl, argc, argv, i, &u)) != CTL_OK)
		return rc;
	if (ctl_begin(ctl) == -1 ||
	    store_user_del(ctl->st, u.local, u.domain) == -1 ||
	    ctl_commit(ctl) == -1)
		return ctl_store_fail(ctl);
	printf("deleted %s@%s with their presence, subscriptions, inbox "
	    "and outbox\n", u.local, u.domain);
	return CTL_OK;
}

/* The user's fields, as the HTTP API shows them (server/json.c). */
static void
cmd_user_json(struct out_json *j, const struct store_user *u)
{
	json_t	*o = json_of_user(u, 0);

	json_object_update(j->stack[j->depth], o);
	json_decref(o);
}

static int
cmd_user_list_cb(void *arg, const struct store_user *u)
{
	struct ctl	*ctl = arg;
	struct out_json	 j;

	if (ctl->json) {
		out_json_begin(&j, stdout);
		cmd_user_json(&j, u);
		out_json_end(&j);
		return 0;
	}
	printf("%s@%s", u->local, u->domain);
	if (u->name != NULL) {
		putchar('\t');
		out_text(stdout, u->name);
	}
	if (u->disabled)
		fputs("\t(disabled)", stdout);
	putchar('\n');
	return 0;
}

static int
cmd_user_list(struct ctl *ctl, int argc, char **argv)
{
	int	 i, rc;

	if ((i = ctl_getopt(ctl, argc, argv, "", NULL, 1, NULL, NULL,
	    &rc)) == -1)
		return rc;
	if (argc - i > 0)
		return ctl_usage(ctl, "unexpected argument \"%s\"", argv[i]);
	if (ctl_open(ctl) == -1)
		return CTL_FAIL;
	if (store_user_list(ctl->st, NULL, cmd_user_list_cb, ctl) == -1)
		return ctl_store_fail(ctl);
	return CTL_OK;
}

struct cmd_user_show {
	struct ctl		*ctl;
	struct store_presence	 p;
};

static int
cmd_user_show_cb(void *arg, const struct store_user *u)
{
	struct cmd_user_show	*us = arg;
	struct out_json		 j;
	char			 t[32];

	if (us->ctl->json) {
		out_json_begin(&j, stdout);
		cmd_user_json(&j, u);
		out_json_obj(&j, "presence");
		out_json_str(&j, "show", store_show_name(us->p.show));
		out_json_str(&j, "status", us->p.status);
		out_json_int(&j, "priority", us->p.priority);
		out_json_time(&j, "updated", us->p.updated);
		out_json_obj_end(&j);
		out_json_end(&j);
		return 0;
	}
	printf("user:      %s@%s\n", u->local, u->domain);
#define FIELD(label, v) do {						\
	if ((v) != NULL) {						\
		fputs(label, stdout);					\
		out_text(stdout, (v));					\
		putchar('\n');						\
	}								\
} while (0)
	FIELD("name:      ", u->name);
	FIELD("nickname:  ", u->nickname);
	FIELD("email:     ", u->email);
	FIELD("url:       ", u->url);
	FIELD("note:      ", u->note);
#undef FIELD
	if (u->avatar != NULL) {
		printf("avatar:    %zu bytes, ", u->avatar_len);
		out_text(stdout, u->avatar_type);
		putchar('\n');
	}
	printf("created:   %s\n", out_time(u->created, t, sizeof(t)));
	printf("disabled:  %s\n", u->disabled ? "yes" : "no");
	printf("presence:  %s", store_show_name(us->p.show));
	if (us->p.status != NULL) {
		fputs(" \"", stdout);
		out_text(stdout, us->p.status);
		putchar('"');
	}
	printf(" (priority %d, updated %s)\n", us->p.priority,
	    out_time(us->p.updated, t, sizeof(t)));
	return 0;
}

static int
cmd_user_show(struct ctl *ctl, int argc, char **argv)
{
	struct cmd_user_show	 us;
	struct ctl_user		 u;
	int			 i, rc;

	if ((i = ctl_getopt(ctl, argc, argv, "", NULL, 1, NULL, NULL,
	    &rc)) == -1)
		return rc;
	if ((rc = cmd_user_operand(ctl, argc, argv, i, &u)) != CTL_OK)
		return rc;
	memset(&us, 0, sizeof(us));
	us.ctl = ctl;
	if (store_presence_get(ctl->st, u.local, u.domain, &us.p) == -1 ||
	    store_user_get(ctl->st, u.local, u.domain, cmd_user_show_cb,
	    &us) == -1)
		return ctl_store_fail(ctl);
	return CTL_OK;
}

const struct ctl_cmd cmd_user_table[] = {
	{ "user add", "NAME [--name \"Display Name\"]",
	    "Adds a native user. NAME is a localpart, or NAME@DOMAIN for "
	    "another hosted domain.", cmd_user_add },
	{ "user del", "NAME",
	    "Deletes a user with their presence, subscriptions, inbox and "
	    "outbox.", cmd_user_del },
	{ "user list", "[--json]",
	    "Lists the users of every hosted domain.", cmd_user_list },
	{ "user show", "NAME [--json]",
	    "Shows a user's details, vCard fields and presence.",
	    cmd_user_show },
	{ NULL, NULL, NULL, NULL },
};
