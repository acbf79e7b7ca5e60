/*
 * tools/cmd_msg.c: xfedctl send, inbox and outbox: messages queued by
 * native users, stanzas delivered to them, and how delivery went.
 * inbox --follow streams new entries as xfed stores them: it asks SQLite
 * every 50 ms whether another connection committed (PRAGMA data_version,
 * no I/O) and reads the inbox only then. It ends cleanly on SIGINT,
 * SIGTERM and a closed pipe.
 */
#include <limits.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "el.h"
#include "message.h"
#include "payload.h"
#include "rowxml.h"
#include "stream.h"
#include "xfedctl.h"
#include "xmalloc.h"

#define CMD_MSG_FOLLOW_MS	50
#define CMD_MSG_MAX_BODY	(256 * 1024)

struct cmd_send_opts {
	const char	*type;
	const char	*subject;
	char		*xml;		/* payload elements, or NULL */
};

/* Appends text to the row's payload. */
static void
cmd_send_xml(struct cmd_send_opts *o, const char *text)
{
	size_t	 n = o->xml ? strlen(o->xml) : 0;

	o->xml = xreallocarray(o->xml, n + strlen(text) + 1, 1);
	strcpy(o->xml + n, text);
}

/* Appends <name xmlns=ns [id=id]>[<url>url</url>]</name>, escaped. */
static void
cmd_send_el(struct cmd_send_opts *o, const char *ns, const char *name,
    const char *id, const char *url)
{
	struct el	*e = el_new(ns, name);
	char		*x;

	if (id != NULL)
		el_set_attr(e, "id", id);
	el_add_text_child(e, NULL, "url", url);
	x = el_to_string(e, NULL, NULL);
	cmd_send_xml(o, x);
	free(x);
	el_free(e);
}

static int
cmd_send_opt(struct ctl *ctl, int ch, const char *arg, void *p)
{
	static const char *const states[] = {
		"active", "composing", "paused", "inactive", "gone",
	};
	struct cmd_send_opts	*o = p;
	size_t			 i;

	switch (ch) {
	case 't':
		if (strcmp(arg, "chat") != 0 && strcmp(arg, "normal") != 0 &&
		    strcmp(arg, "headline") != 0)
			return ctl_fail("invalid message type \"%s\": use "
			    "chat, normal or headline", arg);
		o->type = arg;
		break;
	case 's':
		o->subject = arg;
		break;
	case 'x':
		cmd_send_xml(o, arg);
		break;
	case 'c':
		for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
			if (strcmp(arg, states[i]) == 0)
				break;
		if (i == sizeof(states) / sizeof(states[0]))
			return ctl_fail("invalid chat state \"%s\": use "
			    "active, composing, paused, inactive or gone", arg);
		cmd_send_el(o, NS_CHATSTATES, arg, NULL, NULL);
		break;
	case 'R':
		cmd_send_el(o, NS_RECEIPTS, "request", NULL, NULL);
		break;
	case 'r':
		cmd_send_el(o, NS_RECEIPTS, "received", arg, NULL);
		break;
	case 'm':
		cmd_send_el(o, NS_MARKERS, "markable", NULL, NULL);
		break;
	case 'd':
		cmd_send_el(o, NS_MARKERS, "displayed", arg, NULL);
		break;
	case 'C':
		cmd_send_el(o, NS_CORRECT, "replace", arg, NULL);
		break;
	case 'o':
		cmd_send_el(o, NS_OOB, "x", NULL, arg);
		break;
	}
	return CTL_OK;
}

/* The body from stdin ("-"), at most CMD_MSG_MAX_BODY bytes, no NUL. */
static char *
cmd_send_stdin(void)
{
	char	*buf = xmalloc(CMD_MSG_MAX_BODY + 1);
	size_t	 n;

	n = fread(buf, 1, CMD_MSG_MAX_BODY + 1, stdin);
	if (ferror(stdin) || n > CMD_MSG_MAX_BODY ||
	    memchr(buf, '\0', n) != NULL) {
		free(buf);
		return NULL;
	}
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return buf;
}

/* The stanza m becomes passes the daemon's checks: CTL_OK or CTL_FAIL. */
static int
cmd_send_check(struct ctl *ctl, const struct store_outbox *m)
{
	struct el	*el = payload_stanza(m, m->to, "xfed-0");
	size_t		 max = (size_t)ctl->conf->max_stanza_size;
	char		 why[PAYLOAD_WHY_MAX];
	const char	*err;
	int		 rc;

	if (m->xml != NULL && rowxml_add(el, m->xml, &err) == -1) {
		el_free(el);
		return ctl_fail("invalid payload: %s", err);
	}

	if (max > S2S_OUT_MAX)
		max = S2S_OUT_MAX;
	rc = payload_check(el, max, why, sizeof(why));
	el_free(el);
	return rc == 0 ? CTL_OK : ctl_fail("cannot send this message: %s", why);
}

static int
cmd_send(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "subject", required_argument, NULL, 's' },
		{ "xml", required_argument, NULL, 'x' },
		{ "chatstate", required_argument, NULL, 'c' },
		{ "request-receipt", no_argument, NULL, 'R' },
		{ "received", required_argument, NULL, 'r' },
		{ "markable", no_argument, NULL, 'm' },
		{ "displayed", required_argument, NULL, 'd' },
		{ "correct", required_argument, NULL, 'C' },
		{ "oob", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_send_opts	 o = { NULL, NULL, NULL };
	struct store_outbox	 m;
	struct ctl_user		 u;
	const char		*err;
	char			 jid[JID_MAX + 1];
	char			*body;
	int64_t			 id = 0;
	int			 i, rc;

	if ((i = ctl_getopt(ctl, argc, argv, "t:s:", opts, 0, cmd_send_opt,
	    &o, &rc)) == -1) {
		free(o.xml);
		return rc;
	}
	/* with payload elements the text may be left out */
	if (argc - i < 3 - (o.xml != NULL)) {
		free(o.xml);
		return ctl_usage(ctl, argc - i < 1 ? "missing NAME" :
		    argc - i < 2 ? "missing JID" : "missing TEXT");
	}
	if (o.xml != NULL && rowxml_add(NULL, o.xml, &err) == -1) {
		free(o.xml);
		return ctl_fail("invalid payload: %s", err);
	}
	body = NULL;
	rc = CTL_FAIL;
	if (ctl_user_arg(ctl, argv[i], &u) != CTL_OK)
		goto out;
	if (ctl_jid_parse(argv[i + 1], 0, jid, sizeof(jid), &err) == -1) {
		rc = ctl_fail("invalid JID \"%s\": %s", argv[i + 1], err);
		goto out;
	}
	if (argc - i == 3 && strcmp(argv[i + 2], "-") == 0) {
		if ((body = cmd_send_stdin()) == NULL) {
			rc = ctl_fail("stdin: unreadable, longer than %d "
			    "bytes or holding a NUL byte", CMD_MSG_MAX_BODY);
			goto out;
		}
	} else
		body = ctl_join(argc - i - 2, argv + i + 2);
	if (body[0] == '\0' && o.subject == NULL && o.xml == NULL) {
		rc = ctl_fail("empty message");
		goto out;
	}
	memset(&m, 0, sizeof(m));
	m.local = u.local;
	m.domain = u.domain;
	m.kind = STORE_KIND_MESSAGE;
	m.to = jid;
	m.type = o.type ? o.type : "chat";
	m.subject = o.subject;
	m.body = body[0] != '\0' ? body : NULL;
	m.xml = o.xml;
	/* what the daemon would refuse to send is refused here (payload.c) */
	if (cmd_send_check(ctl, &m) != CTL_OK || ctl_open(ctl) == -1)
		goto out;
	if (ctl_begin(ctl) == -1)
		rc = ctl_store_fail(ctl);
	else if ((rc = ctl_user_usable(ctl, &u)) == CTL_OK &&
	    (store_outbox_add(ctl->st, &m, &id) == -1 ||
	    ctl_commit(ctl) == -1))
		rc = ctl_store_fail(ctl);
	if (rc == CTL_OK)
		printf("%lld\n", (long long)id);
 out:
	free(body);
	free(o.xml);
	return rc;
}

/*
 * The optional NAME operand of inbox and outbox: *upp is u, or NULL for
 * every user. Opens the store; CTL_OK or the exit status.
 */
static int
cmd_msg_user(struct ctl *ctl, int argc, char **argv, int i,
    struct ctl_user *u, struct ctl_user **upp)
{
	*upp = NULL;
	if (argc - i > 1)
		return ctl_usage(ctl, "too many arguments");
	if (argc - i == 1) {
		if (ctl_user_arg(ctl, argv[i], u) != CTL_OK)
			return CTL_FAIL;
		*upp = u;
	}
	return ctl_open_user(ctl, *upp);
}

/* inbox */

static volatile sig_atomic_t	 cmd_msg_stop;

static void
cmd_msg_signal(int sig)
{
	cmd_msg_stop = 1;
}

struct cmd_inbox {
	struct ctl	*ctl;
	int64_t		 last;		/* highest id printed */
	int		 consume;
	int64_t		*ids;		/* printed, to mark consumed */
	size_t		 nids;
	int		 ack;		/* --ack: consumed when stdin says */
	int64_t		*unacked;	/* printed, not acknowledged yet */
	size_t		 nunacked;
	int		 stdin_open;
	char		 line[64];	/* a partial acknowledgement line */
	size_t		 linelen;
};

static int
cmd_inbox_cb(void *arg, const struct store_inbox *m)
{
	struct cmd_inbox	*ib = arg;
	char			 user[2 * JID_PART_MAX + 2], t[32];

	snprintf(user, sizeof(user), "%s@%s", m->local, m->domain);
	if (ib->ctl->json) {
		out_json_print(stdout, json_of_inbox(m));
	} else {
		printf("#%lld %s %s <- ", (long long)m->id,
		    out_time(m->received, t, sizeof(t)), user);
		out_text(stdout, m->from);
		printf(" %s", store_kind_name(m->kind));
		if (m->type != NULL) {
			putchar('/');
			out_text(stdout, m->type);
		}
		if (m->subject != NULL) {
			fputs(" [", stdout);
			out_text(stdout, m->subject);
			putchar(']');
		}
		if (m->body != NULL) {
			fputs(": ", stdout);
			out_text(stdout, m->body);
		}
		if (m->consumed)
			fputs(" (consumed)", stdout);
		putchar('\n');
	}
	if (m->id > ib->last)
		ib->last = m->id;
	if (ib->consume && !m->consumed) {
		ib->ids = xreallocarray(ib->ids, ib->nids + 1,
		    sizeof(*ib->ids));
		ib->ids[ib->nids++] = m->id;
	}
	if (ib->ack && !m->consumed) {
		ib->unacked = xreallocarray(ib->unacked, ib->nunacked + 1,
		    sizeof(*ib->unacked));
		ib->unacked[ib->nunacked++] = m->id;
	}
	return 0;
}

/* "ID" or "ack ID" from stdin: the entries printed up to ID are
 * consumed, in one transaction. -1 (said) on a bad line or store error. */
static int
cmd_inbox_ack_line(struct cmd_inbox *ib, char *line)
{
	struct ctl	*ctl = ib->ctl;
	char		*p = line, *end;
	long long	 upto = 0;
	size_t		 i, kept = 0;

	p += strspn(p, " \t");
	if (strncmp(p, "ack", 3) == 0)
		p += 3 + strspn(p + 3, " \t");
	if (*p == '\0')
		return 0;
	end = p + strcspn(p, " \t\r");
	if (*(end + strspn(end, " \t\r")) != '\0')
		end = p;		/* something after the id */
	else
		*end = '\0';
	if (end == p || ctl_parse_id(p, 1, &upto) == -1) {
		ctl_fail("inbox: invalid acknowledgement \"%s\": write an "
		    "inbox id (or \"ack ID\") a line", line);
		return -1;
	}
	if (ctl_begin(ctl) == -1)
		goto fail;
	for (i = 0; i < ib->nunacked; i++) {
		if (ib->unacked[i] > upto)
			ib->unacked[kept++] = ib->unacked[i];
		else if (store_inbox_consume(ctl->st, ib->unacked[i]) == -1)
			goto fail;
	}
	if (ctl_commit(ctl) == -1)
		goto fail;
	ib->nunacked = kept;
	return 0;
 fail:
	ctl_store_fail(ctl);
	store_rollback(ctl->st);
	return -1;
}

/*
 * Waits up to ms for acknowledgements on stdin (--ack) and handles the
 * whole lines that came. 0, or -1 (said) on a bad line.
 */
static int
cmd_inbox_acks(struct cmd_inbox *ib, int ms)
{
	struct pollfd	 pfd = { 0, POLLIN, 0 };
	char		 c;
	ssize_t		 n;

	if (!ib->ack || !ib->stdin_open) {
		if (ms > 0)
			poll(NULL, 0, ms);
		return 0;
	}
	if (poll(&pfd, 1, ms) <= 0)
		return 0;
	/* Byte by byte: no acknowledgement is read past the line end. */
	while ((n = read(0, &c, 1)) == 1) {
		if (c == '\n') {
			ib->line[ib->linelen] = '\0';
			ib->linelen = 0;
			if (cmd_inbox_ack_line(ib, ib->line) == -1)
				return -1;
			if (poll(&pfd, 1, 0) <= 0)
				return 0;
			continue;
		}
		if (ib->linelen + 1 >= sizeof(ib->line)) {
			ctl_fail("inbox: acknowledgement line too long");
			return -1;
		}
		ib->line[ib->linelen++] = c;
	}
	if (n == 0)
		ib->stdin_open = 0;
	return 0;
}

/*
 * Prints the entries after ib->last; with --consume, marks them consumed
 * once they are out (so a reader that dies loses nothing). -1 on a store
 * error (said), -2 when stdout is gone.
 */
static int
cmd_inbox_batch(struct cmd_inbox *ib, const struct ctl_user *u, int flags)
{
	struct ctl	*ctl = ib->ctl;
	size_t		 i;

	ib->nids = 0;
	if (store_inbox_list(ctl->st, u ? u->local : NULL,
	    u ? u->domain : NULL, ib->last, flags, 0, cmd_inbox_cb,
	    ib) == -1) {
		ctl_store_fail(ctl);
		return -1;
	}
	if (fflush(stdout) == EOF || ferror(stdout))
		return -2;
	if (ib->nids == 0)
		return 0;
	if (ctl_begin(ctl) == -1)
		goto fail;
	for (i = 0; i < ib->nids; i++)
		if (store_inbox_consume(ctl->st, ib->ids[i]) == -1)
			goto fail;
	if (ctl_commit(ctl) == -1)
		goto fail;
	return 0;
 fail:
	ctl_store_fail(ctl);
	store_rollback(ctl->st);
	return -1;
}

struct cmd_inbox_opts {
	int		 flags;
	long long	 after;
};

static int
cmd_inbox_opt(struct ctl *ctl, int ch, const char *arg, void *p)
{
	struct cmd_inbox_opts	*o = p;

	switch (ch) {
	case 'A':
		if (ctl_parse_id(arg, 0, &o->after) == -1)
			return ctl_usage(ctl, "invalid id \"%s\" for --after "
			    "(digits, at most %lld)", arg, LLONG_MAX);
		break;
	case 'k':
		o->flags |= 0x400;
		break;
	default:
		o->flags |= ch == 'f' ? 0x100 : ch == 'a' ? STORE_INBOX_ALL :
		    0x200;
	}
	return CTL_OK;
}

static int
cmd_inbox(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "all", no_argument, NULL, 'a' },
		{ "consume", no_argument, NULL, 'C' },
		{ "after", required_argument, NULL, 'A' },
		{ "ack", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_inbox_opts	 o = { 0, 0 };
	struct cmd_inbox	 ib;
	struct ctl_user		 u, *up;
	struct sigaction	 sa;
	int			 i, rc, r, opt, follow;

	if ((i = ctl_getopt(ctl, argc, argv, "", opts, 1, cmd_inbox_opt,
	    &o, &rc)) == -1)
		return rc;
	opt = o.flags;
	follow = (opt & 0x100) != 0;
	if ((opt & 0x200) && (opt & 0x400))
		return ctl_usage(ctl, "--consume and --ack do not go together");
	ctl->reader = !(opt & (0x200 | 0x400));
	if ((rc = cmd_msg_user(ctl, argc, argv, i, &u, &up)) != CTL_OK)
		return rc;

	memset(&ib, 0, sizeof(ib));
	ib.ctl = ctl;
	ib.consume = (opt & 0x200) != 0;
	ib.ack = (opt & 0x400) != 0;
	ib.stdin_open = 1;
	ib.last = o.after;
	if (follow || ib.ack) {
		/* Interrupt the sleep, end the loop, exit 0. */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = cmd_msg_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		store_changed(ctl->st);		/* the baseline */
	}
	rc = CTL_OK;
	r = cmd_inbox_batch(&ib, up, opt & STORE_INBOX_ALL);
	/* --ack without --follow: acknowledgements until stdin ends. */
	while (!follow && ib.ack && r == 0 && ib.stdin_open && !cmd_msg_stop)
		r = cmd_inbox_acks(&ib, 1000);
	while (follow && r == 0 && !cmd_msg_stop) {
		if ((r = cmd_inbox_acks(&ib, CMD_MSG_FOLLOW_MS)) == -1 ||
		    cmd_msg_stop)
			break;
		if ((r = store_changed(ctl->st)) == 1)
			r = cmd_inbox_batch(&ib, up, opt & STORE_INBOX_ALL);
		else if (r == -1)
			ctl_store_fail(ctl);
	}
	if (r == -1)
		rc = CTL_FAIL;
	free(ib.ids);
	free(ib.unacked);
	return rc;
}

/* outbox */

static int
cmd_outbox_limit(struct ctl *ctl, int ch, const char *arg, void *p)
{
	char	*end;
	long	 v;

	v = strtol(arg, &end, 10);
	if (arg[0] == '\0' || *end != '\0' || v < 1 || v > 1000000)
		return ctl_fail("invalid limit \"%s\"", arg);
	*(size_t *)p = (size_t)v;
	return CTL_OK;
}

static int
cmd_outbox_cb(void *arg, const struct store_outbox *m)
{
	struct ctl	*ctl = arg;
	char		 user[2 * JID_PART_MAX + 2], t[32];

	snprintf(user, sizeof(user), "%s@%s", m->local, m->domain);
	if (ctl->json) {
		out_json_print(stdout, json_of_outbox(m));
		return 0;
	}
	printf("#%lld %s %s -> ", (long long)m->id,
	    out_time(m->created, t, sizeof(t)), user);
	out_text(stdout, m->to);
	printf(" %s %s", store_kind_name(m->kind),
	    store_out_state_name(m->state));
	if (m->attempts > 0)
		printf(" attempts=%d", m->attempts);
	if (m->last_error != NULL) {
		fputs(" error=", stdout);
		if (m->error_stage != NULL) {
			out_text(stdout, m->error_stage);
			putchar(':');
		}
		out_text(stdout, m->last_error);
	}
	if (m->body != NULL) {
		fputs(": ", stdout);
		out_text(stdout, m->body);
	}
	putchar('\n');
	return 0;
}

static int
cmd_outbox(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_user	 u, *up;
	size_t		 limit = 0;
	int		 i, rc;

	if ((i = ctl_getopt(ctl, argc, argv, "", opts, 1, cmd_outbox_limit,
	    &limit, &rc)) == -1)
		return rc;
	ctl->reader = 1;
	if ((rc = cmd_msg_user(ctl, argc, argv, i, &u, &up)) != CTL_OK)
		return rc;
	if (store_outbox_list(ctl->st, up ? u.local : NULL,
	    up ? u.domain : NULL, limit, cmd_outbox_cb, ctl) == -1)
		return ctl_store_fail(ctl);
	return CTL_OK;
}

const struct ctl_cmd cmd_msg_table[] = {
	{ "send", "NAME JID [TEXT...] [--type chat|normal|headline] "
	    "[--subject S] [--chatstate STATE] [--request-receipt] "
	    "[--received ID] [--markable] [--displayed ID] [--correct ID] "
	    "[--oob URL] [--xml XML]",
	    "Queues a message from NAME to JID and prints its outbox id; "
	    "TEXT \"-\"\nreads the body from stdin. The other options add "
	    "payload elements (XEP-0085\nchat state, XEP-0184 receipts, "
	    "XEP-0333 markers, XEP-0308 correction of\nthe message with stanza "
	    "id ID, XEP-0066 link, any XML); with one the TEXT\nmay be left "
	    "out.", cmd_send },
	{ "inbox", "[NAME] [--follow] [--json] [--all] [--after ID] "
	    "[--consume | --ack]",
	    "Lists what was delivered to NAME (or to every user) and not yet "
	    "consumed;\n--all includes consumed entries, --after ID only "
	    "those after ID, --consume\nmarks the ones printed, --ack marks "
	    "them when an id comes back on stdin\n(\"ID\" or \"ack ID\" a "
	    "line: everything printed up to ID), --follow keeps\nprinting new "
	    "entries as they arrive (one JSON object per line with --json)\n"
	    "until SIGINT, SIGTERM or a closed pipe.", cmd_inbox },
	{ "outbox", "[NAME] [--json] [--limit N]",
	    "Lists queued and past outgoing stanzas, newest first, with "
	    "their state\n(queued, sent, delivered, failed, done), attempts and last "
	    "error.", cmd_outbox },
	{ NULL, NULL, NULL, NULL },
};
