/*
 * tools/cmd_user.c: xfedctl user add, del, set, list and show: the native
 * users of the hosted domains. A user's presence, subscriptions, inbox
 * and outbox go with them when they are deleted (ON DELETE CASCADE).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
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
	ctl->reader = 1;
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
	ctl->reader = 1;
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

/* user set: the fields given replace the row's; "" clears a text. */
struct cmd_user_set {
	const char	*text[5];	/* name, nickname, email, url, note */
	const char	*avatar;	/* a file; "" clears */
	int		 disabled;	/* -1: unchanged */
	char		*old[5];	/* the row's texts, kept */
	void		*image;
	size_t		 image_len;
	void		*old_image;
	size_t		 old_image_len;
	char		*old_type;
	int64_t		 id;
	int		 old_disabled;
};

static const char *const cmd_user_fields[] = {
	"name", "nick", "email", "url", "note",
};

static int
cmd_user_set_opt(struct ctl *ctl, int ch, const char *arg, void *p)
{
	struct cmd_user_set	*us = p;
	size_t			 max;

	switch (ch) {
	case 'a':
		us->avatar = arg;
		return CTL_OK;
	case 'd':
	case 'e':
		us->disabled = ch == 'd';
		return CTL_OK;
	}
	ch -= '0';
	max = ch == 4 ? STORE_PROFILE_NOTE_MAX : STORE_PROFILE_TEXT_MAX;
	if (strlen(arg) > max)
		return ctl_usage(ctl, "--%s: at most %zu bytes",
		    cmd_user_fields[ch], max);
	us->text[ch] = arg;
	return CTL_OK;
}

static char *
cmd_user_dup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static int
cmd_user_set_cb(void *arg, const struct store_user *u)
{
	struct cmd_user_set	*us = arg;

	us->id = u->id;
	us->old[0] = cmd_user_dup(u->name);
	us->old[1] = cmd_user_dup(u->nickname);
	us->old[2] = cmd_user_dup(u->email);
	us->old[3] = cmd_user_dup(u->url);
	us->old[4] = cmd_user_dup(u->note);
	us->old_type = cmd_user_dup(u->avatar_type);
	if (u->avatar != NULL && (us->old_image = malloc(u->avatar_len +
	    1)) != NULL) {
		memcpy(us->old_image, u->avatar, u->avatar_len);
		us->old_image_len = u->avatar_len;
	}
	us->old_disabled = u->disabled;
	return 0;
}

/* Reads the avatar file; CTL_OK or the exit status, said on stderr. */
static int
cmd_user_read_avatar(struct cmd_user_set *us)
{
	FILE	*f;
	size_t	 n;
	int	 rc = CTL_OK;

	if ((f = fopen(us->avatar, "rb")) == NULL)
		return ctl_fail("%s: %s", us->avatar, strerror(errno));
	us->image = malloc(STORE_AVATAR_MAX + 1);
	n = us->image != NULL ? fread(us->image, 1, STORE_AVATAR_MAX + 1, f) :
	    0;
	if (us->image == NULL || ferror(f))
		rc = ctl_fail("%s: cannot read it", us->avatar);
	else if (n > STORE_AVATAR_MAX)
		rc = ctl_fail("%s: larger than %d bytes", us->avatar,
		    STORE_AVATAR_MAX);
	else if (store_avatar_type(us->image, n) == NULL)
		rc = ctl_fail("%s: not a PNG, JPEG, GIF or WebP image",
		    us->avatar);
	us->image_len = n;
	fclose(f);
	return rc;
}

static int
cmd_user_set(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, '0' },
		{ "nick", required_argument, NULL, '1' },
		{ "email", required_argument, NULL, '2' },
		{ "url", required_argument, NULL, '3' },
		{ "note", required_argument, NULL, '4' },
		{ "avatar", required_argument, NULL, 'a' },
		{ "disable", no_argument, NULL, 'd' },
		{ "enable", no_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_user_set	 us;
	struct store_user	 nu;
	struct ctl_user		 u;
	const char		*t[5];
	int			 i, rc;

	memset(&us, 0, sizeof(us));
	us.disabled = -1;
	if ((i = ctl_getopt(ctl, argc, argv, "", opts, 0, cmd_user_set_opt,
	    &us, &rc)) == -1)
		return rc;
	if ((rc = cmd_user_operand(ctl, argc, argv, i, &u)) != CTL_OK)
		return rc;
	if (us.avatar != NULL && us.avatar[0] != '\0' &&
	    (rc = cmd_user_read_avatar(&us)) != CTL_OK)
		goto out;
	rc = CTL_FAIL;
	if (ctl_begin(ctl) == -1 || store_user_get(ctl->st, u.local,
	    u.domain, cmd_user_set_cb, &us) == -1) {
		rc = ctl_store_fail(ctl);
		goto out;
	}
	memset(&nu, 0, sizeof(nu));
	nu.id = us.id;
	for (i = 0; i < 5; i++) {
		t[i] = us.text[i] != NULL ? us.text[i] : us.old[i];
		if (t[i] != NULL && t[i][0] == '\0')
			t[i] = NULL;
	}
	nu.name = t[0];
	nu.nickname = t[1];
	nu.email = t[2];
	nu.url = t[3];
	nu.note = t[4];
	if (us.avatar == NULL) {
		nu.avatar = us.old_image;
		nu.avatar_len = us.old_image_len;
		nu.avatar_type = us.old_type;
	} else if (us.image != NULL) {
		nu.avatar = us.image;
		nu.avatar_len = us.image_len;
		nu.avatar_type = store_avatar_type(us.image, us.image_len);
	}
	nu.disabled = us.disabled == -1 ? us.old_disabled : us.disabled;
	if (store_user_update(ctl->st, &nu) == -1 || ctl_commit(ctl) == -1) {
		rc = ctl_store_fail(ctl);
		goto out;
	}
	printf("updated %s@%s\n", u.local, u.domain);
	rc = CTL_OK;
 out:
	for (i = 0; i < 5; i++)
		free(us.old[i]);
	free(us.old_type);
	free(us.old_image);
	free(us.image);
	return rc;
}

const struct ctl_cmd cmd_user_table[] = {
	{ "user add", "NAME [--name \"Display Name\"]",
	    "Adds a native user. NAME is a localpart, or NAME@DOMAIN for "
	    "another hosted domain.", cmd_user_add },
	{ "user del", "NAME",
	    "Deletes a user with their presence, subscriptions, inbox and "
	    "outbox.", cmd_user_del },
	{ "user set", "NAME [--name TEXT] [--nick TEXT] [--email TEXT] "
	    "[--url TEXT] [--note TEXT] [--avatar FILE] [--disable|--enable]",
	    "Changes a user's profile (the vCard fields; \"\" clears one), "
	    "avatar (PNG, JPEG, GIF or WebP, at most 64 KiB; \"\" removes "
	    "it) or disabled flag. The running xfed tells the user's contacts "
	    "within a second.", cmd_user_set },
	{ "user list", "[--json]",
	    "Lists the users of every hosted domain.", cmd_user_list },
	{ "user show", "NAME [--json]",
	    "Shows a user's details, vCard fields and presence.",
	    cmd_user_show },
	{ NULL, NULL, NULL, NULL },
};
