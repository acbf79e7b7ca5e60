/*
 * tools/cmd_events.c: xfedctl events, the store's events journal (every
 * kind: inbox entries, contacts' presence, outbox outcomes, user changes)
 * as GET /v1/events and webhooks show it. --follow prints new events as
 * they are committed, asking SQLite every 50 ms whether another connection
 * committed (PRAGMA data_version) and reading only then; --after ID is the
 * cursor to resume from.
 */
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "xfedctl.h"

#define CMD_EVENTS_FOLLOW_MS	50
#define CMD_EVENTS_BATCH	1000

static volatile sig_atomic_t	 cmd_events_stop;

static void
cmd_events_signal(int sig)
{
	cmd_events_stop = 1;
}

struct cmd_events {
	struct ctl	*ctl;
	int64_t		 last;
};

static int
cmd_events_cb(void *arg, const struct store_event *e)
{
	struct cmd_events	*ev = arg;
	char			 t[32];

	ev->last = e->id;
	if (ev->ctl->json) {
		out_json_print(stdout, json_of_event(ev->ctl->st, e));
		return 0;
	}
	printf("#%lld %s %s ", (long long)e->id, out_time(e->at, t, sizeof(t)),
	    e->type);
	out_text(stdout, e->user ? e->user : "-");
	printf(" %s", e->state ? e->state : "-");
	if (e->jid != NULL) {
		putchar(' ');
		out_text(stdout, e->jid);
	}
	putchar('\n');
	return 0;
}

/* Every event after ev->last; -1 (said) on a store error, -2 when stdout
 * is gone. */
static int
cmd_events_batch(struct cmd_events *ev)
{
	int64_t	 before;

	do {
		before = ev->last;
		if (store_event_list(ev->ctl->st, ev->last, CMD_EVENTS_BATCH,
		    cmd_events_cb, ev) == -1) {
			ctl_store_fail(ev->ctl);
			return -1;
		}
		if (fflush(stdout) == EOF || ferror(stdout))
			return -2;
	} while (ev->last != before && !cmd_events_stop);
	return 0;
}

/*
 * A cursor behind the journal's retention (events_keep) would skip the
 * pruned events without a word (the API answers 410): said on stderr, the
 * rest printed, and the exit status CTL_GAP. 0, 1 (gap) or -1 (said).
 */
static int
cmd_events_behind(struct ctl *ctl, int64_t after)
{
	int64_t	 oldest = 0;

	if (after == 0)
		return 0;
	if (store_event_first(ctl->st, &oldest) == -1) {
		ctl_store_fail(ctl);
		return -1;
	}
	if (oldest == 0 || oldest <= after + 1)
		return 0;
	fprintf(stderr, "xfedctl: the events after %lld up to %lld were "
	    "pruned (events_keep); printing from %lld\n", (long long)after,
	    (long long)oldest - 1, (long long)oldest);
	return 1;
}

/*
 * The journal is written only when something reads it (CONTRACT.md): with
 * its triggers absent nothing new will show, which is said on stderr
 * rather than left to look like a quiet server. 0, or -1 (said).
 */
static int
cmd_events_off(struct ctl *ctl)
{
	switch (store_events_journal_on(ctl->st)) {
	case -1:
		ctl_store_fail(ctl);
		return -1;
	case 0:
		fprintf(stderr, "xfedctl: the events journal is off: nothing "
		    "new is recorded until xfed runs with events_journal yes, "
		    "http_listen, http_socket or a webhook\n");
		break;
	}
	return 0;
}

static int
cmd_events_opt(struct ctl *ctl, int ch, const char *arg, void *p)
{
	long long	*after = p;

	if (ch == 'f') {
		after[1] = 1;
		return CTL_OK;
	}
	if (ctl_parse_id(arg, 0, &after[0]) == -1)
		return ctl_usage(ctl, "invalid id \"%s\" for --after (digits, "
		    "at most %lld)", arg, LLONG_MAX);
	after[2] = 1;
	return CTL_OK;
}

static int
cmd_events(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "after", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_events	 ev;
	struct sigaction	 sa;
	long long		 o[3] = { 0, 0, 0 };	/* after, follow, set */
	int64_t			 last;
	int			 i, rc, r, gap = 0;

	if ((i = ctl_getopt(ctl, argc, argv, "", opts, 1, cmd_events_opt, o,
	    &rc)) == -1)
		return rc;
	if (argc - i > 0)
		return ctl_usage(ctl, "too many arguments");
	ctl->reader = 1;
	if (ctl_open(ctl) == -1)
		return CTL_FAIL;
	if ((r = cmd_events_off(ctl)) == -1)
		return CTL_FAIL;
	memset(&ev, 0, sizeof(ev));
	ev.ctl = ctl;
	ev.last = o[0];
	if (o[1]) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = cmd_events_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		store_changed(ctl->st);
		/* Following without a cursor: what comes from now on. */
		if (!o[2]) {
			if (store_event_last(ctl->st, &last) == -1)
				return ctl_store_fail(ctl);
			ev.last = last;
		}
	}
	if (o[2] && (gap = cmd_events_behind(ctl, ev.last)) == -1)
		return CTL_FAIL;
	r = cmd_events_batch(&ev);
	while (o[1] && r == 0 && !cmd_events_stop) {
		poll(NULL, 0, CMD_EVENTS_FOLLOW_MS);
		if (cmd_events_stop)
			break;
		if ((r = store_changed(ctl->st)) == 1)
			r = cmd_events_batch(&ev);
		else if (r == -1)
			ctl_store_fail(ctl);
	}
	return r == -1 ? CTL_FAIL : gap ? CTL_GAP : CTL_OK;
}

/*
 * Turns the events journal on or off for every instance sharing the store:
 * on a shared store an instance only ever turns it on by itself, so
 * turning it off is said here (CONTRACT.md).
 */
static int
cmd_journal(struct ctl *ctl, int argc, char **argv)
{
	int	 on;

	if (argc != 2)
		return ctl_usage(ctl, argc < 2 ? "on or off?" :
		    "too many arguments");
	if (strcmp(argv[1], "on") == 0)
		on = 1;
	else if (strcmp(argv[1], "off") == 0)
		on = 0;
	else
		return ctl_usage(ctl, "on or off?");
	if (ctl_open(ctl) == -1)
		return CTL_FAIL;
	if (store_events_journal(ctl->st, on) == -1)
		return ctl_store_fail(ctl);
	printf("events journal %s\n", on ? "on" : "off");
	return CTL_OK;
}

const struct ctl_cmd cmd_events_table[] = {
	{ "events", "[--after ID] [--follow] [--json]",
	    "Lists the events journal (inbox entries, contacts' presence, "
	    "outbox\noutcomes, user changes) after ID; --follow keeps "
	    "printing new ones (from\nnow on, without --after) until SIGINT, "
	    "SIGTERM or a closed pipe. Exit status 3\nwhen events after ID "
	    "were already pruned (events_keep): said on stderr,\nthe rest "
	    "printed.", cmd_events },
	{ "journal", "on|off",
	    "Turns the events journal on or off for every instance of the "
	    "store. On a\nshared store (PostgreSQL) xfed turns it on when it "
	    "needs it but never off:\nthat is done here, once nothing reads "
	    "the journal.", cmd_journal },
	{ NULL, NULL, NULL, NULL },
};
