/*
 * tools/xfedctl.c: main() of xfedctl, the command table and what every
 * command shares: the config, the store, option parsing, --help, exit
 * status (0 done, 1 failed, 2 usage) and one-line errors. The commands
 * live one noun per file (cmd_user.c, cmd_presence.c, cmd_roster.c,
 * cmd_msg.c); store commands open the SQLite file themselves and work
 * whether or not xfed runs.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "xfedctl.h"
#include "xmalloc.h"

static const struct ctl_cmd *const ctl_tables[] = {
	cmd_user_table,
	cmd_presence_table,
	cmd_roster_table,
	cmd_msg_table,
	cmd_status_table,
	cmd_check_table,
	cmd_peers_table,
	cmd_token_table,
	cmd_events_table,
	cmd_webhook_table,
	cmd_block_table,
};
#define NTABLES	(sizeof(ctl_tables) / sizeof(ctl_tables[0]))

int
ctl_fail(const char *fmt, ...)
{
	va_list	 ap;

	fputs("xfedctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_FAIL;
}

int
ctl_usage(struct ctl *ctl, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "xfedctl: %s: ", ctl->cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; usage: xfedctl %s%s%s\n", ctl->cmd->name,
	    ctl->cmd->args[0] ? " " : "", ctl->cmd->args);
	return CTL_USAGE;
}

int
ctl_parse_id(const char *s, long long min, long long *out)
{
	char		*end;
	long long	 v;

	/* strtoll takes leading blanks and a sign; an id has neither. */
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || errno == ERANGE || v < min)
		return -1;
	*out = v;
	return 0;
}

int
ctl_store_fail(struct ctl *ctl)
{
	return ctl_fail("%s", store_errstr(ctl->st));
}

static void
ctl_cmd_help(FILE *f, const struct ctl_cmd *cmd)
{
	fprintf(f, "usage: xfedctl [-c file] %s%s%s\n%s\n", cmd->name,
	    cmd->args[0] ? " " : "", cmd->args, cmd->help);
}

int
ctl_getopt(struct ctl *ctl, int argc, char **argv, const char *shortopts,
    const struct option *longopts, int json_ok,
    int (*opt)(struct ctl *, int, const char *, void *), void *arg, int *rc)
{
	struct option	 all[16];
	char		 so[32];
	size_t		 n = 0;
	int		 ch;

	memset(all, 0, sizeof(all));
	all[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	if (json_ok)
		all[n++] = (struct option){ "json", no_argument, NULL, 'j' };
	for (; longopts != NULL && longopts->name != NULL && n + 1 <
	    sizeof(all) / sizeof(all[0]); longopts++)
		all[n++] = *longopts;
	/* Leading ':' for our own messages; operands may follow options. */
	snprintf(so, sizeof(so), ":h%s", shortopts ? shortopts : "");
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, so, all, NULL)) != -1) {
		switch (ch) {
		case 'h':
			ctl_cmd_help(stdout, ctl->cmd);
			*rc = CTL_OK;
			return -1;
		case 'j':
			ctl->json = 1;
			break;
		case ':':
			*rc = ctl_usage(ctl, "%s needs a value",
			    argv[optind - 1]);
			return -1;
		case '?':
			*rc = ctl_usage(ctl, "unknown option %s",
			    argv[optind - 1]);
			return -1;
		default:
			if (opt == NULL ||
			    (*rc = opt(ctl, ch, optarg, arg)) != CTL_OK)
				return -1;
		}
	}
	return optind;
}

char *
ctl_join(int argc, char **argv)
{
	size_t	 len = 1;
	char	*s;
	int	 i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = xmalloc(len);
	s[0] = '\0';
	for (i = 0; i < argc; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* An existing store this user may read but not write. */
static int
ctl_read_only(const char *path)
{
	return access(path, F_OK) == 0 && eaccess(path, W_OK) == -1 &&
	    (errno == EACCES || errno == EROFS) && eaccess(path, R_OK) == 0;
}

int
ctl_open(struct ctl *ctl)
{
	const char	*err;
	int		 flags = STORE_OPEN_CREATE;

	if (ctl->reader && ctl_read_only(ctl->conf->store))
		flags = STORE_OPEN_READONLY;
	if (ctl->conf->store_group_write)
		flags |= STORE_OPEN_GROUP_WRITE;
	if ((ctl->st = store_open(ctl->conf->store, flags, &err)) == NULL) {
		ctl_fail("%s", err);
		return -1;
	}
	return 0;
}

int
ctl_list(struct ctl *ctl, int argc, char **argv, int (*list)(struct ctl *))
{
	int	 i, rc;

	if ((i = ctl_getopt(ctl, argc, argv, "", NULL, 1, NULL, NULL,
	    &rc)) == -1)
		return rc;
	if (argc - i != 0)
		return ctl_usage(ctl, "too many arguments");
	ctl->reader = 1;
	if (ctl_open(ctl) == -1)
		return CTL_FAIL;
	if (list(ctl) == -1)
		return ctl_store_fail(ctl);
	return CTL_OK;
}

int
ctl_open_existing(struct ctl *ctl, const char **errstr)
{
	static char	 buf[1200];
	const char	*path = ctl->conf->store;

	if (store_missing(path)) {
		snprintf(buf, sizeof(buf), "%s: no store yet (xfed makes it "
		    "when it first starts)", path);
		*errstr = buf;
		return -2;
	}
	if ((ctl->st = store_open(path, ctl_read_only(path) ?
	    STORE_OPEN_READONLY : 0, errstr)) == NULL)
		return -1;
	return 0;
}

int
ctl_begin(struct ctl *ctl)
{
	return store_begin(ctl->st) == -1 ? -1 : 0;
}

int
ctl_commit(struct ctl *ctl)
{
	return store_commit(ctl->st) == -1 ? -1 : 0;
}

static void
ctl_help(FILE *f)
{
	const struct ctl_cmd	*cmd;
	size_t			 i;

	fprintf(f, "usage: xfedctl [-c file] command [args] [--help]\n"
	    "Commands (the store is opened directly; xfed need not run):\n");
	for (i = 0; i < NTABLES; i++)
		for (cmd = ctl_tables[i]; cmd->name != NULL; cmd++)
			fprintf(f, "  %s%s%s\n", cmd->name,
			    cmd->args[0] ? " " : "", cmd->args);
	fprintf(f, "A NAME is a user's localpart, or NAME@DOMAIN when the "
	    "config has several\ndomains (the first is the default). "
	    "See xfedctl(8).\n");
}

/* Finds the command named by argv[0] (and argv[1] for two words);
 * *nwords says how many words its name took. */
static const struct ctl_cmd *
ctl_find(int argc, char **argv, int *nwords, int *noun)
{
	const struct ctl_cmd	*cmd;
	size_t			 i, len;

	*noun = 0;
	for (i = 0; i < NTABLES; i++)
		for (cmd = ctl_tables[i]; cmd->name != NULL; cmd++) {
			len = strlen(argv[0]);
			if (strncmp(cmd->name, argv[0], len) != 0)
				continue;
			if (cmd->name[len] == '\0') {
				*nwords = 1;
				return cmd;
			}
			if (cmd->name[len] != ' ')
				continue;
			*noun = 1;
			if (argc > 1 && strcmp(cmd->name + len + 1,
			    argv[1]) == 0) {
				*nwords = 2;
				return cmd;
			}
		}
	return NULL;
}

/* --help of a noun: every verb's; without: one line naming them. */
static void
ctl_noun_help(FILE *f, const char *noun, int full)
{
	const struct ctl_cmd	*cmd;
	size_t			 i, len = strlen(noun);
	int			 n = 0;

	if (!full)
		fprintf(f, "xfedctl: %s: missing command (", noun);
	for (i = 0; i < NTABLES; i++)
		for (cmd = ctl_tables[i]; cmd->name != NULL; cmd++) {
			if (strncmp(cmd->name, noun, len) != 0 ||
			    cmd->name[len] != ' ')
				continue;
			if (full)
				ctl_cmd_help(f, cmd);
			else
				fprintf(f, "%s%s", n++ ? ", " : "",
				    cmd->name + len + 1);
		}
	if (!full)
		fprintf(f, "); try xfedctl %s --help\n", noun);
}

static void
ctl_conf_report(const char *line)
{
	fprintf(stderr, "xfedctl: %s\n", line);
}

int
main(int argc, char **argv)
{
	struct ctl		 ctl;
	const struct ctl_cmd	*cmd;
	int			 ch, nwords, noun, rc;

	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	memset(&ctl, 0, sizeof(ctl));
	ctl.conf_path = CONF_DEFAULT_PATH;
	log_init(1, LOG_L_WARN);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			ctl.conf_path = optarg;
			break;
		case 'h':
			ctl_help(stdout);
			return CTL_OK;
		default:
			if (optopt == 'c')
				fprintf(stderr, "xfedctl: -c needs a file");
			else
				fprintf(stderr, "xfedctl: unknown option %s",
				    argv[optind - 1]);
			fprintf(stderr, "; usage: xfedctl [-c file] command "
			    "[args], or xfedctl --help\n");
			return CTL_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		fprintf(stderr, "xfedctl: no command; try xfedctl --help\n");
		return CTL_USAGE;
	}
	if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "help") == 0) {
		ctl_help(stdout);
		return CTL_OK;
	}
	if ((cmd = ctl_find(argc, argv, &nwords, &noun)) == NULL) {
		if (noun && (argc == 1 || strcmp(argv[1], "--help") == 0)) {
			ctl_noun_help(argc == 1 ? stderr : stdout, argv[0],
			    argc > 1);
			return argc == 1 ? CTL_USAGE : CTL_OK;
		}
		fprintf(stderr, "xfedctl: unknown command \"%s%s%s\"; "
		    "try xfedctl --help\n", argv[0], noun ? " " : "",
		    noun ? argv[1] : "");
		return CTL_USAGE;
	}
	ctl.cmd = cmd;
	argc -= nwords - 1;
	argv += nwords - 1;

	/* --help never needs the config or the store. */
	for (ch = 1; ch < argc && strcmp(argv[ch], "--") != 0; ch++)
		if (strcmp(argv[ch], "--help") == 0 ||
		    strcmp(argv[ch], "-h") == 0) {
			ctl_cmd_help(stdout, cmd);
			return CTL_OK;
		}

	if ((ctl.conf = conf_load(ctl.conf_path, ctl_conf_report)) == NULL)
		/* check's 1 means warnings: its errors exit 2 */
		return cmd == cmd_check_table ? CTL_USAGE : CTL_FAIL;
	/* as xfed: what this run creates is no one else's to read */
	umask(ctl.conf->store_group_write ? 007 : 027);
	rc = cmd->fn(&ctl, argc, argv);
	store_close(ctl.st);
	conf_free(ctl.conf);
	if (fflush(stdout) == EOF && errno != EPIPE && rc == CTL_OK)
		rc = ctl_fail("stdout: %s", strerror(errno));
	return rc;
}
