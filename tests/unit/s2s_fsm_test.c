/*
 * tests/unit/s2s_fsm_test.c: the inbound and outbound state machines
 * (s2s/in.c, s2s/out.c) driven by events, without sockets: each case makes
 * a stream on no file descriptor, feeds it S2S_EV_* with elements parsed
 * from text, and checks the state it reaches and what it wrote (its output
 * buffer, which nothing sends). RFC 6120 4.3-4.9, S2S 1.x and 4.x;
 * XEP-0198 on both sides (S2S 7.5, 7.6).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "conf.h"
#include "dialback.h"
#include "el.h"
#include "in.h"
#include "jid.h"
#include "log.h"
#include "mgr.h"
#include "out.h"
#include "pairs.h"
#include "rate.h"
#include "s2s.h"
#include "server.h"
#include "sm.h"
#include "sources.h"
#include "stream.h"
#include "verify.h"
#include "xml.h"
#include "../t.h"

#define HDR_NS	"xmlns='jabber:server' " \
		"xmlns:stream='http://etherx.jabber.org/streams' " \
		"xmlns:db='jabber:server:dialback'"
#define SECRET	"0123456789abcdef0123456789abcdef"

static struct server	 srv;
/* how much of each stream's output a case has looked at already */
static struct {
	struct s2s_stream	*st;
	size_t			 seen;
} marks[16];

static int		 ndelivered;
static char		 last_to[256];
static uint64_t		 deliver_batch;	/* what the deliver hook returns */
static int64_t		 acked[8], retried[8];	/* delivered, failed hooks */
static int		 nacked, nretried;

static uint64_t
hook_deliver(struct el *stanza, const struct jid *to, const struct jid *from)
{
	ndelivered++;
	snprintf(last_to, sizeof(last_to), "%s@%s", to->local ? to->local : "",
	    to->domain);
	el_free(stanza);
	return deliver_batch;
}

static void
hook_sent(int64_t id)
{
}

static void
hook_delivered(int64_t id)
{
	if (nacked < 8)
		acked[nacked] = id;
	nacked++;
}

static void
hook_failed(int64_t id, int64_t retry_at, const struct s2s_failure *f)
{
	if (retry_at == 0)
		return;
	if (nretried < 8)
		retried[nretried] = id;
	nretried++;
}

static const char	*refused;	/* domain_ok() refuses it */
static int		 rate_ms;	/* stanza_rate() answers it */

static int
hook_domain_ok(const char *remote)
{
	return refused == NULL || strcmp(remote, refused) != 0;
}

static int
hook_stanza_rate(const char *remote)
{
	return rate_ms;
}

static void
setup(void)
{
	struct s2s_hooks	 h;
	struct s2s_mgr_conf	 mc;
	char			 path[512];
	FILE			*f;

	memset(&srv, 0, sizeof(srv));
	server = &srv;
	srv.base = event_base_new();
	snprintf(path, sizeof(path), "%s/xfed.conf", t_tmpdir());
	f = fopen(path, "w");
	fprintf(f, "domain b.test\nrequire_encryption no\n"
	    "store %s/x.db\ncontrol_socket %s/x.sock\n", t_tmpdir(),
	    t_tmpdir());
	fclose(f);
	srv.conf = conf_load(path, NULL);
	log_init(1, LOG_L_WARN);
	db_set_secret(SECRET);
	memset(&h, 0, sizeof(h));
	h.deliver = hook_deliver;
	h.sent = hook_sent;
	h.delivered = hook_delivered;
	h.failed = hook_failed;
	h.domain_ok = hook_domain_ok;
	h.stanza_rate = hook_stanza_rate;
	s2s_init(&h);
	refused = NULL;
	rate_ms = 0;
	memset(&mc, 0, sizeof(mc));
	mc.backoff_min_secs = mc.backoff_max_secs = 60;
	s2s_mgr_init(&mc);	/* dialback verifications go through it */
	ndelivered = 0;
	last_to[0] = '\0';
	deliver_batch = 0;
	nacked = nretried = 0;
	memset(marks, 0, sizeof(marks));
}

static void
teardown(void)
{
	s2s_mgr_shutdown();
	s2s_stream_free_all();
	s2s_in_refusals_free();	/* and the timers on srv.base */
	sources_free();		/* no failure remembered for the next case */
	conf_free(srv.conf);
	event_base_free(srv.base);
	server = NULL;
}

/* Parses text (a header's attributes, or one element) the way the stream
 * parser would hand it over. */
struct cap {
	struct el	*hdr, *el;
};

static int
cap_open(void *arg, struct el *hdr)
{
	((struct cap *)arg)->hdr = hdr;
	return 0;
}

static int
cap_elem(void *arg, struct el *el)
{
	struct cap	*c = arg;

	if (c->el == NULL)
		c->el = el;
	else
		el_free(el);
	return 0;
}

static const struct xml_cb cap_cb = { cap_open, cap_elem, NULL };

static struct cap
parse(const char *hdr_attrs, const char *elem)
{
	struct xml_limits	 lim;
	struct xml_parser	*x;
	struct cap		 c = { NULL, NULL };
	char			 buf[4096];

	memset(&lim, 0, sizeof(lim));
	x = xml_new(&lim, &cap_cb, &c);
	snprintf(buf, sizeof(buf), "<stream:stream %s>%s", hdr_attrs,
	    elem ? elem : "");
	xml_feed(x, buf, strlen(buf));
	xml_free(x);
	return c;
}

static struct el *
header(const char *attrs)
{
	struct cap	 c = parse(attrs, NULL);

	return c.hdr;
}

static struct el *
element(const char *xml)
{
	struct cap	 c = parse(HDR_NS, xml);

	el_free(c.hdr);
	return c.el;
}

/*
 * What the stream wrote since the last call. Its output buffer cannot be
 * drained from outside (only the socket side drains it): remember how much
 * was seen, per stream.
 */
static char *
output(struct s2s_stream *st)
{
	struct evbuffer	*out = s2s_stream_output(st);
	size_t		 n = evbuffer_get_length(out), i;
	char		*all = malloc(n + 1), *s;

	/* the start of a bufferevent's output is frozen: no copyout */
	if (n > 0)
		memcpy(all, evbuffer_pullup(out, -1), n);
	all[n] = '\0';
	for (i = 0; i < 16 && marks[i].st != NULL && marks[i].st != st; i++)
		;
	if (i == 16)
		i = 0;
	if (marks[i].st != st) {
		marks[i].st = st;
		marks[i].seen = 0;
	}
	s = strdup(all + marks[i].seen);
	marks[i].seen = n;
	free(all);
	return s;
}

static int
wrote(struct s2s_stream *st, const char *what)
{
	char	*s = output(st);
	int	 ok = strstr(s, what) != NULL;

	if (!ok)
		fprintf(stderr, "# output has no \"%s\": %s\n", what, s);
	free(s);
	return ok;
}

static struct s2s_stream *
inbound(void)
{
	struct sockaddr_in	 sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(40000);
	return s2s_in_accept(-1, (struct sockaddr *)&sin, sizeof(sin), 0);
}

/* An inbound stream whose header from a.test to b.test is answered. */
static struct s2s_stream *
inbound_open(void)
{
	struct s2s_stream	*st = inbound();

	s2s_stream_input(st, S2S_EV_OPENED, header(HDR_NS " to='b.test' "
	    "from='a.test' version='1.0'"));
	free(output(st));
	return st;
}

/*
 * An open inbound stream where a.test claimed a pair with db:result; the
 * verification is queued in mgr.c, which connects nowhere once the
 * outbound streams are stopped. verdict: 1 valid, 0 invalid (s2s_in_verified).
 */
static struct s2s_stream *
inbound_dialback(int verdict)
{
	struct s2s_stream	*st = inbound_open();

	s2s_stream_shutdown(S2S_DIR_OUT);	/* mgr.c connects nowhere */
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<db:result "
	    "from='a.test' to='b.test'>abcd</db:result>"));
	CHECK_STR(st->state_name, "open");
	s2s_in_verified(st->id, "b.test", "a.test", verdict, NULL, 0);
	return st;
}

/*
 * Inbound.
 */

/* A claim of a.test on a new stream while the outbound streams are
 * stopped (mgr.c sends nothing): 1 when it was refused at once with
 * resource-constraint. */
static int
claim_refused(struct s2s_stream **stp)
{
	struct s2s_stream	*st = inbound_open();
	char			*s;
	int			 no;

	s2s_stream_shutdown(S2S_DIR_OUT);
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<db:result "
	    "from='a.test' to='b.test'>abcd</db:result>"));
	s = output(st);
	no = strstr(s, "resource-constraint") != NULL;
	free(s);
	*stp = st;
	return no;
}

/*
 * Issue 12: verify_rate_per_domain counts failures, not the claims xfed
 * itself refuses (a local limit: a verdict marked ours) nor those it
 * never sent because it stopped; a failure of the peer's keeps its token.
 */
static void
in_dialback_rate_refund(void)
{
	struct s2s_stream	*st;
	char			*s;
	int			 i;

	setup();
	srv.conf->verify_rate_per_domain = 1;	/* 2 s of burst: 2 */
	srv.conf->verify_rate_per_source = 0;
	srv.conf->verify_failure_cache = 0;
	for (i = 0; i < 4; i++) {
		CHECK(!claim_refused(&st));
		s2s_in_verified(st->id, "b.test", "a.test", -1,
		    "resource-constraint", 1);
		s = output(st);
		CHECK(strstr(s, "type='error'") != NULL &&
		    strstr(s, "resource-constraint") != NULL);
		free(s);
	}
	/* not sent before xfed stopped: back when the streams go */
	for (i = 0; i < 2; i++)
		CHECK(!claim_refused(&st));
	/* the bucket empty: the next claim waits its turn, and while it
	 * waits another from the same network is refused at once */
	CHECK(!claim_refused(&st));
	CHECK(sources_waiting() == 1);
	CHECK(claim_refused(&st));
	srv.stopping = 1;
	s2s_stream_free_all();
	srv.stopping = 0;
	CHECK(sources_waiting() == 0);
	CHECK(!claim_refused(&st));
	/* the peer's failures use the budget up */
	s2s_in_verified(st->id, "b.test", "a.test", -1,
	    "remote-server-timeout", 0);
	CHECK(!claim_refused(&st));
	s2s_in_verified(st->id, "b.test", "a.test", 0, NULL, 0);
	CHECK(!claim_refused(&st));		/* it waits */
	CHECK(sources_waiting() == 1);
	teardown();
}

/* Issue 12: a claim refused because 1024 verifications wait in all
 * (DB_VERIFY_MAX) gives its rate token back. */
static void
in_dialback_rate_refund_global(void)
{
	struct s2s_stream	*st;
	struct sockaddr_in	 sin;
	struct source		 src;
	const char		*why;
	char			 el[128];
	int			 i, j;

	setup();
	srv.conf->verify_rate_per_domain = 1;	/* 2 s of burst: 2 */
	srv.conf->max_pending_per_ip = 0;
	srv.conf->max_pending_per_domain = 0;
	srv.conf->max_unauth_per_ip = 0;
	srv.conf->max_unauth_streams = 0;
	for (i = 0; i < DB_VERIFY_MAX / DB_PAIRS_MAX; i++) {
		st = inbound_open();
		s2s_stream_shutdown(S2S_DIR_OUT);
		for (j = 0; j < DB_PAIRS_MAX; j++) {
			snprintf(el, sizeof(el), "<db:result from='x%d.test' "
			    "to='b.test'>abcd</db:result>", i * DB_PAIRS_MAX + j);
			s2s_stream_input(st, S2S_EV_ELEMENT, element(el));
		}
	}
	for (i = 0; i < 3; i++)
		CHECK(claim_refused(&st));	/* the global cap */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	source_of((struct sockaddr *)&sin, &src);
	CHECK(sources_domain_rate_take(&src, "a.test", &why) == 1);
	CHECK(sources_domain_rate_take(&src, "a.test", &why) == 1);
	CHECK(sources_domain_rate_take(&src, "a.test", &why) == -2);
	teardown();
}

/*
 * Issue 12: a claim that finds a.test's bucket empty waits its turn: not
 * answered yet (dialback answers later), then refused with
 * resource-constraint once SOURCES_WAIT_MS is over; given a token in time
 * its verification is asked (queued, not refused).
 */
static void
in_dialback_rate_wait(void)
{
	struct s2s_stream	*st, *w;
	char			*s;
	int			 i;

	setup();
	srv.conf->verify_rate_per_domain = 1;	/* 2 s of burst: 2 */
	srv.conf->verify_rate_per_source = 0;
	srv.conf->verify_failure_cache = 0;
	for (i = 0; i < 2; i++) {
		CHECK(!claim_refused(&st));
		/* the peer's failures keep their tokens */
		s2s_in_verified(st->id, "b.test", "a.test", 0, NULL, 0);
		free(output(st));
	}
	CHECK(!claim_refused(&w));
	CHECK(sources_waiting() == 1);
	s2s_in_waits_run(rate_now_ms());	/* nothing refilled yet */
	s = output(w);
	CHECK(strstr(s, "db:result") == NULL);
	free(s);
	CHECK_STR(w->state_name, "open");
	s2s_in_waits_run(rate_now_ms() + SOURCES_WAIT_MS);
	s = output(w);
	CHECK(strstr(s, "type='error'") != NULL &&
	    strstr(s, "resource-constraint") != NULL);
	free(s);
	CHECK(sources_waiting() == 0);
	/* its turn comes: the verification is asked */
	CHECK(!claim_refused(&w));
	CHECK(sources_waiting() == 1);
	s2s_in_waits_run(rate_now_ms() + SOURCES_WAIT_MS / 2);
	CHECK(sources_waiting() == 0);
	s = output(w);
	CHECK(strstr(s, "resource-constraint") == NULL);
	free(s);
	teardown();
}

static void
in_header_features(void)
{
	struct s2s_stream	*st;
	char			*s;

	setup();
	st = inbound();
	CHECK_STR(st->state_name, "header");
	s2s_stream_input(st, S2S_EV_OPENED, header(HDR_NS " to='b.test' "
	    "from='a.test' version='1.0'"));
	CHECK_STR(st->state_name, "open");
	s = output(st);
	/* S2S 1.5, 1.13, 1.15: response header with an id, then features
	 * with dialback (no TLS configured here) */
	CHECK(strstr(s, "<stream:stream") != NULL);
	CHECK(strstr(s, "from='b.test'") != NULL);
	CHECK(strstr(s, "to='a.test'") != NULL);
	CHECK(strstr(s, " id='") != NULL);
	CHECK(strstr(s, "urn:xmpp:features:dialback") != NULL);
	CHECK(strstr(s, "starttls") == NULL);
	free(s);
	CHECK(!s2s_stream_dead(st));
	teardown();
}

static void
in_header_unknown_host(void)
{
	struct s2s_stream	*st;

	setup();
	st = inbound();
	s2s_stream_input(st, S2S_EV_OPENED, header(HDR_NS " to='c.test' "
	    "from='a.test' version='1.0'"));
	CHECK(wrote(st, "<host-unknown"));
	CHECK(s2s_stream_dead(st));
	teardown();
}

static void
in_header_bad_namespace(void)
{
	struct s2s_stream	*st;

	setup();
	st = inbound();
	s2s_stream_input(st, S2S_EV_OPENED, header("xmlns='jabber:client' "
	    "xmlns:stream='http://etherx.jabber.org/streams' to='b.test' "
	    "version='1.0'"));
	CHECK(wrote(st, "<invalid-namespace"));
	CHECK(s2s_stream_dead(st));
	teardown();
}

static void
in_header_bad_version(void)
{
	struct s2s_stream	*st;

	setup();
	st = inbound();
	s2s_stream_input(st, S2S_EV_OPENED, header(HDR_NS " to='b.test' "
	    "version='2.0'"));
	CHECK(wrote(st, "<unsupported-version"));	/* S2S 1.9 */
	CHECK(s2s_stream_dead(st));
	teardown();
}

static void
in_stanza_before_auth(void)
{
	struct s2s_stream	*st;

	setup();
	st = inbound_open();
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<message "
	    "from='x@a.test' to='bob@b.test'><body>hi</body></message>"));
	CHECK(wrote(st, "<not-authorized"));		/* S2S 1.18 */
	CHECK(s2s_stream_dead(st));
	CHECK(ndelivered == 0);
	teardown();
}

static void
in_verify_authoritative(void)
{
	struct s2s_stream	*st;
	char			 key[DB_KEY_LEN + 1], xml[512];

	setup();
	st = inbound_open();
	/* S2S 4.27: answered on any stream, even unauthenticated */
	db_make_key("a.test", "b.test", "streamid0123456789abcdef", key);
	snprintf(xml, sizeof(xml), "<db:verify from='a.test' to='b.test' "
	    "id='streamid0123456789abcdef'>%s</db:verify>", key);
	s2s_stream_input(st, S2S_EV_ELEMENT, element(xml));
	CHECK(wrote(st, "type='valid'"));
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<db:verify "
	    "from='a.test' to='b.test' id='streamid0123456789abcdef'>"
	    "0000</db:verify>"));
	CHECK(wrote(st, "type='invalid'"));
	CHECK_STR(st->state_name, "open");
	CHECK(!s2s_stream_dead(st));
	teardown();
}

static void
in_second_header(void)
{
	struct s2s_stream	*st;

	setup();
	st = inbound_open();
	s2s_stream_input(st, S2S_EV_OPENED, header(HDR_NS " to='b.test'"));
	CHECK(wrote(st, "<not-well-formed"));
	CHECK(s2s_stream_dead(st));
	teardown();
}

static void
in_timeout_unauthenticated(void)
{
	struct s2s_stream	*st;

	setup();
	st = inbound_open();
	s2s_stream_input(st, S2S_EV_TIMEOUT, NULL);
	CHECK(wrote(st, "<connection-timeout"));	/* S2S 10.11 */
	CHECK(s2s_stream_dead(st));
	teardown();
}

static void
in_peer_close(void)
{
	struct s2s_stream	*st;

	setup();
	st = inbound_open();
	s2s_stream_input(st, S2S_EV_CLOSED, NULL);
	CHECK(wrote(st, "</stream:stream>"));		/* S2S 1.24 */
	CHECK(s2s_stream_dead(st));
	teardown();
}

static void
in_shutdown_unauthenticated(void)
{
	struct s2s_stream	*st;

	setup();
	st = inbound_open();
	s2s_stream_input(st, S2S_EV_SHUTDOWN, NULL);
	CHECK(wrote(st, "<system-shutdown"));
	CHECK(s2s_stream_dead(st));
	teardown();
}

/*
 * A verified pair: db:result, the authoritative verdict (through mgr.c,
 * which makes no connection once the outbound streams are stopped),
 * stanzas delivered;
 * then the clean stop: our </stream>, stanzas still delivered, their
 * </stream> closes (S2S 1.23, 4.20-4.22).
 */
static void
in_authenticated_then_closing(void)
{
	struct s2s_stream	*st;

	setup();
	st = inbound_dialback(1);
	CHECK_STR(st->state_name, "authenticated");
	CHECK(wrote(st, "type='valid'"));
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<message "
	    "from='x@a.test' to='bob@b.test'><body>1</body></message>"));
	CHECK(ndelivered == 1);
	CHECK_STR(last_to, "bob@b.test");
	s2s_stream_input(st, S2S_EV_SHUTDOWN, NULL);
	CHECK_STR(st->state_name, "closing");
	CHECK(wrote(st, "</stream:stream>"));
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<message "
	    "from='x@a.test' to='bob@b.test'><body>2</body></message>"));
	CHECK(ndelivered == 2);
	CHECK(!s2s_stream_dead(st));
	s2s_stream_input(st, S2S_EV_CLOSED, NULL);
	CHECK(s2s_stream_dead(st));
	teardown();
}

/*
 * A stream accepted while xfed stops: its db:verify is answered (the
 * peer checks our last outbound streams' keys, S2S 4.27), its db:result
 * is not, and no pair gets verified.
 */
static void
in_accepted_while_stopping(void)
{
	struct s2s_stream	*st;
	char			 key[DB_KEY_LEN + 1], xml[512], *out;

	setup();
	st = inbound_open();
	srv.stopping = 1;
	free(output(st));
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<db:result "
	    "from='a.test' to='b.test'>abcd</db:result>"));
	out = output(st);
	CHECK_STR(out, "");
	free(out);
	CHECK_STR(st->state_name, "open");
	db_make_key("a.test", "b.test", "streamid0123456789abcdef", key);
	snprintf(xml, sizeof(xml), "<db:verify from='a.test' to='b.test' "
	    "id='streamid0123456789abcdef'>%s</db:verify>", key);
	s2s_stream_input(st, S2S_EV_ELEMENT, element(xml));
	CHECK(wrote(st, "type='valid'"));
	CHECK(!s2s_stream_dead(st));
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<message "
	    "from='x@a.test' to='bob@b.test'/>"));
	CHECK(wrote(st, "<not-authorized"));		/* S2S 1.18 */
	CHECK(ndelivered == 0);
	teardown();
}

static void
in_invalid_from(void)
{
	struct s2s_stream	*st;

	setup();
	st = inbound_dialback(1);
	free(output(st));
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<message "
	    "from='x@evil.test' to='bob@b.test'/>"));
	CHECK(wrote(st, "<invalid-from"));		/* S2S 4.36 */
	CHECK(s2s_stream_dead(st));
	CHECK(ndelivered == 0);
	teardown();
}

static void
in_dialback_refused(void)
{
	struct s2s_stream	*st;

	setup();
	st = inbound_dialback(0);
	CHECK(wrote(st, "type='invalid'"));		/* S2S 4.22 */
	CHECK(s2s_stream_dead(st));
	teardown();
}

/* S2S 7.5: <enable/> after authentication, acks once committed. */
static void
in_sm_acks_after_commit(void)
{
	struct s2s_stream	*st;

	setup();
	st = inbound_dialback(1);
	free(output(st));
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<enable "
	    "xmlns='urn:xmpp:sm:3'/>"));
	CHECK(wrote(st, "<enabled xmlns='urn:xmpp:sm:3'/>"));
	deliver_batch = 5;	/* the message waits for store batch 5 */
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<message "
	    "from='x@a.test' to='bob@b.test'><body>1</body></message>"));
	CHECK(ndelivered == 1);
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<r "
	    "xmlns='urn:xmpp:sm:3'/>"));
	CHECK(!wrote(st, "<a "));
	s2s_in_settled(4);
	CHECK(!wrote(st, "<a "));
	s2s_in_settled(5);
	CHECK(wrote(st, "<a xmlns='urn:xmpp:sm:3' h='1'/>"));
	/* nothing waits: answered at once */
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<r "
	    "xmlns='urn:xmpp:sm:3'/>"));
	CHECK(wrote(st, "h='1'"));
	/* a second <enable/> is a stream error */
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<enable "
	    "xmlns='urn:xmpp:sm:3'/>"));
	CHECK(wrote(st, "<undefined-condition"));
	CHECK(s2s_stream_dead(st));
	teardown();
}

/*
 * XEP-0198 3, S2S 7.5: <enable/> while the only pair's dialback is still
 * being verified is refused with <failed/> and unexpected-request, the
 * stream stays; once the pair is verified, <enable/> is accepted.
 */
static void
in_sm_enable_dialback_pending(void)
{
	struct s2s_stream	*st;

	setup();
	st = inbound_open();
	s2s_stream_shutdown(S2S_DIR_OUT);	/* the verification goes nowhere */
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<db:result "
	    "from='a.test' to='b.test'>abcd</db:result>"));
	free(output(st));
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<enable "
	    "xmlns='urn:xmpp:sm:3'/>"));
	CHECK(wrote(st, "<failed xmlns='urn:xmpp:sm:3'><unexpected-request "
	    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>"));
	CHECK(!s2s_stream_dead(st));
	CHECK_STR(st->state_name, "open");
	s2s_in_verified(st->id, "b.test", "a.test", 1, NULL, 0);
	CHECK_STR(st->state_name, "authenticated");
	free(output(st));
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<enable "
	    "xmlns='urn:xmpp:sm:3'/>"));
	CHECK(wrote(st, "<enabled xmlns='urn:xmpp:sm:3'/>"));
	teardown();
}

/* setup(), an inbound stream verified by dialback, XEP-0198 enabled, its
 * output so far taken */
static struct s2s_stream *
inbound_sm(void)
{
	struct s2s_stream	*st;

	setup();
	st = inbound_dialback(1);
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<enable "
	    "xmlns='urn:xmpp:sm:3'/>"));
	free(output(st));
	return st;
}

/*
 * XEP-0198 4, S2S 1.23: xfed stopping sends a last <a/> covering what is
 * committed, then its </stream>; a stanza of a batch still open is not
 * covered (the peer sends it again). The stream is read on until theirs;
 * what comes meanwhile is delivered but not acknowledged.
 */
static void
in_sm_last_ack_at_shutdown(void)
{
	struct s2s_stream	*st;

	st = inbound_sm();
	deliver_batch = 5;
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<message "
	    "from='x@a.test' to='bob@b.test'><body>1</body></message>"));
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<message "
	    "from='x@a.test' to='bob@b.test'><body>2</body></message>"));
	s2s_in_settled(5);		/* committed: h 2, sent unasked */
	CHECK(wrote(st, "<a xmlns='urn:xmpp:sm:3' h='2'/>"));
	deliver_batch = 6;
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<message "
	    "from='x@a.test' to='bob@b.test'><body>3</body></message>"));
	CHECK(!wrote(st, "<a "));	/* batch 6 is not committed */
	s2s_stream_input(st, S2S_EV_SHUTDOWN, NULL);
	/* h 2 was said already: the close alone */
	CHECK(!wrote(st, "<a "));
	CHECK_STR(st->state_name, "closing");
	CHECK(!s2s_stream_dead(st));
	/* after our close: delivered (nothing lost with a peer that does
	 * not resend), never acknowledged (one that does resends it, S2S
	 * 7.6, and it is stored twice) */
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<message "
	    "from='x@a.test' to='bob@b.test'><body>4</body></message>"));
	CHECK(ndelivered == 4);
	CHECK(!s2s_stream_dead(st));
	s2s_in_settled(6);
	CHECK(!wrote(st, "<a "));
	teardown();
}

/* A stanza that wrote nothing waiting is covered without a commit, so
 * without an <a/>: the last one at shutdown says it, before the close. */
static void
in_sm_last_ack_uncommitted_cover(void)
{
	struct s2s_stream	*st;

	st = inbound_sm();
	deliver_batch = 0;
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<message "
	    "from='x@a.test' to='bob@b.test'><body>1</body></message>"));
	CHECK(!wrote(st, "<a "));
	s2s_stream_input(st, S2S_EV_SHUTDOWN, NULL);
	CHECK(wrote(st, "<a xmlns='urn:xmpp:sm:3' h='1'/></stream:stream>"));
	teardown();
}

/* Without XEP-0198 enabled, no <a/> at shutdown: the close tag alone. */
static void
in_no_sm_no_last_ack(void)
{
	struct s2s_stream	*st;
	char			*s;

	setup();
	st = inbound_dialback(1);
	free(output(st));
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<message "
	    "from='x@a.test' to='bob@b.test'><body>1</body></message>"));
	s2s_stream_input(st, S2S_EV_SHUTDOWN, NULL);
	s = output(st);
	CHECK_STR(s, "</stream:stream>");
	free(s);
	teardown();
}

static void
in_sm_before_auth(void)
{
	struct s2s_stream	*st;

	setup();
	st = inbound_open();
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<enable "
	    "xmlns='urn:xmpp:sm:3'/>"));
	CHECK(wrote(st, "<failed xmlns='urn:xmpp:sm:3'><unexpected-request"));
	CHECK(!s2s_stream_dead(st));
	teardown();
}

/*
 * Outbound.
 */

static struct s2s_stream *
outbound_features(void)
{
	struct s2s_stream	*st = s2s_out_new(NULL, "b.test", "a.test");

	s2s_stream_input(st, S2S_EV_CONNECTED, NULL);
	s2s_stream_input(st, S2S_EV_OPENED, header(HDR_NS " from='a.test' "
	    "to='b.test' id='peerstreamid0123' version='1.0'"));
	free(output(st));
	return st;
}

static void
out_connect_header(void)
{
	struct s2s_stream	*st;
	char			*s;

	setup();
	st = s2s_out_new(NULL, "b.test", "a.test");
	CHECK_STR(st->state_name, "connect");
	s2s_stream_input(st, S2S_EV_CONNECTED, NULL);
	CHECK_STR(st->state_name, "header");
	s = output(st);
	/* S2S 1.3, 1.4 */
	CHECK(strstr(s, "to='a.test'") != NULL);
	CHECK(strstr(s, "from='b.test'") != NULL);
	CHECK(strstr(s, "xmlns:db='jabber:server:dialback'") != NULL);
	free(s);
	s2s_stream_input(st, S2S_EV_OPENED, header(HDR_NS " from='a.test' "
	    "id='peerstreamid0123' version='1.0'"));
	CHECK_STR(st->state_name, "features");
	teardown();
}

static void
out_dialback_ready(void)
{
	struct s2s_stream	*st;
	char			 key[DB_KEY_LEN + 1];

	setup();
	st = outbound_features();
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<stream:features/>"));
	CHECK_STR(st->state_name, "auth");
	/* S2S 4.2, 4.13: the key for (a.test, b.test, the peer's id) */
	db_make_key("a.test", "b.test", "peerstreamid0123", key);
	CHECK(wrote(st, key));
	/* S2S 4.15: an answer for another pair is not ours */
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<db:result "
	    "from='c.test' to='b.test' type='valid'/>"));
	CHECK_STR(st->state_name, "auth");
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<db:result "
	    "from='a.test' to='b.test' type='valid'/>"));
	CHECK_STR(st->state_name, "ready");
	/* S2S 1.20: the keepalive when the timer runs out while in use */
	s2s_stream_input(st, S2S_EV_TIMEOUT, NULL);
	CHECK(wrote(st, " "));
	CHECK_STR(st->state_name, "ready");
	s2s_stream_input(st, S2S_EV_CLOSED, NULL);
	CHECK(s2s_stream_dead(st));
	teardown();
}

static void
out_dialback_invalid(void)
{
	struct s2s_stream	*st;

	setup();
	st = outbound_features();
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<stream:features/>"));
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<db:result "
	    "from='a.test' to='b.test' type='invalid'/>"));
	CHECK(s2s_stream_dead(st));			/* S2S 4.16 */
	teardown();
}

static void
out_stream_error(void)
{
	struct s2s_stream	*st;

	setup();
	st = outbound_features();
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<stream:error>"
	    "<host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
	    "</stream:error>"));
	CHECK(s2s_stream_dead(st));			/* S2S 1.28 */
	teardown();
}

static void
out_eof_and_timeouts(void)
{
	struct s2s_stream	*st;

	setup();
	st = outbound_features();
	st->eof_why = "connection closed by peer";
	s2s_stream_input(st, S2S_EV_EOF, NULL);
	CHECK(s2s_stream_dead(st));
	/* a connect that times out with no target left fails the attempt */
	st = s2s_out_new(NULL, "b.test", "a.test");
	s2s_stream_input(st, S2S_EV_TIMEOUT, NULL);
	CHECK(s2s_stream_dead(st));
	/* no answer during the handshake */
	st = outbound_features();
	s2s_stream_input(st, S2S_EV_TIMEOUT, NULL);
	CHECK(s2s_stream_dead(st));
	teardown();
}

static void
out_shutdown(void)
{
	struct s2s_stream	*st;

	setup();
	st = outbound_features();
	s2s_stream_input(st, S2S_EV_SHUTDOWN, NULL);
	CHECK(wrote(st, "<system-shutdown"));
	CHECK(s2s_stream_dead(st));
	/* events after the close are dropped, their elements freed */
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<stream:features/>"));
	teardown();
}

/* An outbound stream at the features after the SASL restart. */
static struct s2s_stream *
outbound_sasl_features(const char *features)
{
	struct s2s_stream	*st = outbound_features();

	st->flags |= S2S_F_TLS | S2S_F_SASL;
	s2s_stream_input(st, S2S_EV_ELEMENT, element(features));
	return st;
}

static void
out_write(struct s2s_stream *st, int64_t id, int want)
{
	struct el	*m = element("<message from='x@b.test' to='y@a.test'>"
	    "<body>hi</body></message>");

	CHECK(s2s_out_write(st, m, id) == want);
	el_free(m);
}

/* An outbound stream with XEP-0198 enabled and outbox row 7 written. */
static struct s2s_stream *
outbound_sm_row7(void)
{
	struct s2s_stream	*st;

	st = outbound_sasl_features("<stream:features><sm "
	    "xmlns='urn:xmpp:sm:3'/></stream:features>");
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<enabled "
	    "xmlns='urn:xmpp:sm:3'/>"));
	out_write(st, 7, 1);
	free(output(st));
	return st;
}

/* S2S 7.5, 7.6: rows are delivered when the peer's <a/> covers them. */
static void
out_sm_enable_ack(void)
{
	struct s2s_stream	*st;

	setup();
	st = outbound_sasl_features("<stream:features><sm "
	    "xmlns='urn:xmpp:sm:3'/></stream:features>");
	CHECK_STR(st->state_name, "enabling");
	CHECK(wrote(st, "<enable xmlns='urn:xmpp:sm:3'/>"));
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<enabled "
	    "xmlns='urn:xmpp:sm:3'/>"));
	CHECK_STR(st->state_name, "ready");
	out_write(st, 7, 1);
	out_write(st, 0, 1);		/* one of xfed's own */
	out_write(st, 8, 1);
	s2s_stream_input(st, S2S_EV_DRAINED, NULL);
	CHECK(wrote(st, "<r xmlns='urn:xmpp:sm:3'/>"));
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<a "
	    "xmlns='urn:xmpp:sm:3' h='2'/>"));
	CHECK(nacked == 1 && acked[0] == 7);
	/* the peer closes: what it did not ack goes again */
	s2s_stream_input(st, S2S_EV_CLOSED, NULL);
	CHECK(s2s_stream_dead(st));
	CHECK(nretried == 1 && retried[0] == 8);
	CHECK(nacked == 1);
	teardown();
}

static void
out_sm_refused_or_absent(void)
{
	struct s2s_stream	*st;

	setup();
	st = outbound_sasl_features("<stream:features><sm "
	    "xmlns='urn:xmpp:sm:3'/></stream:features>");
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<failed "
	    "xmlns='urn:xmpp:sm:3'/>"));
	CHECK_STR(st->state_name, "ready");
	out_write(st, 7, 0);		/* sent on flush, as without SM */
	st = outbound_sasl_features("<stream:features/>");
	CHECK_STR(st->state_name, "ready");
	CHECK(!wrote(st, "<enable"));
	out_write(st, 9, 0);
	teardown();
}

static void
out_sm_ack_too_high(void)
{
	struct s2s_stream	*st;

	setup();
	st = outbound_sm_row7();
	/* XEP-0198 4: h beyond what was sent */
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<a "
	    "xmlns='urn:xmpp:sm:3' h='3'/>"));
	/* the defined condition, its text, then the application's */
	CHECK(wrote(st, "<undefined-condition xmlns='urn:ietf:params:xml:ns:"
	    "xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams' "
	    "xml:lang='en'>h 3 acknowledges more stanzas than the 1 sent</text>"
	    "<handled-count-too-high xmlns='urn:xmpp:sm:3' h='3' "
	    "send-count='1'/></stream:error>"));
	CHECK(s2s_stream_dead(st));
	CHECK(nacked == 0);
	CHECK(nretried == 1 && retried[0] == 7);
	teardown();
}

/* XEP-0198 4: an h that is not a plain count (leading zero, sign, over
 * 2^32-1) ends the stream with bad-format; nothing counts as acked. */
static void
out_sm_ack_bad_h(void)
{
	static const char *const bad[] = { "01", "+1", "4294967296", "1x" };
	struct s2s_stream	*st;
	char			 a[96];
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setup();
		st = outbound_sm_row7();
		snprintf(a, sizeof(a), "<a xmlns='urn:xmpp:sm:3' h='%s'/>",
		    bad[i]);
		s2s_stream_input(st, S2S_EV_ELEMENT, element(a));
		CHECK(wrote(st, "<bad-format xmlns='urn:ietf:params:xml:ns:"
		    "xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:"
		    "xmpp-streams' xml:lang='en'>&lt;a/&gt; without a valid "
		    "'h' (digits, no leading zeros, at most 4294967295)"
		    "</text></stream:error>"));
		CHECK(s2s_stream_dead(st));
		CHECK(nacked == 0);
		CHECK(nretried == 1 && retried[0] == 7);
		teardown();
	}
}

/*
 * One lifecycle: a send never closes nor frees; past the output cap it
 * marks the stream, and the end of the event that sent closes it. A
 * stanza larger than the cap is refused whole, the stream untouched.
 */
static void
stream_overflow_marks(void)
{
	struct s2s_stream	*st;
	struct el		*big;
	char			*chunk;
	size_t			 n = 256 * 1024;
	int			 i;

	setup();
	st = outbound_features();
	big = el_new(EL_NS_SERVER, "message");
	chunk = malloc(S2S_OUT_MAX + 1);
	memset(chunk, 'x', S2S_OUT_MAX);
	chunk[S2S_OUT_MAX] = '\0';
	el_add_text(el_add(big, EL_NS_SERVER, "body"), chunk, S2S_OUT_MAX);
	CHECK(s2s_stream_send(st, big) == -1);
	CHECK(!s2s_stream_failing(st));
	el_free(big);
	for (i = 0; i <= S2S_OUT_MAX / (int)n + 1; i++)
		s2s_stream_send_raw(st, chunk, n);
	free(chunk);
	CHECK(s2s_stream_failing(st));
	CHECK(!s2s_stream_dead(st));		/* marked, not closed */
	CHECK(s2s_stream_queued(st) <= S2S_OUT_MAX + n);
	s2s_stream_input(st, S2S_EV_DRAINED, NULL);
	CHECK(s2s_stream_dead(st));		/* closed after the event */
	teardown();
}

/* A db:result for a domain the server refuses: policy-violation, and
 * no verification asked for (issue 12). */
static void
in_dialback_blocked(void)
{
	struct s2s_stream	*st;

	setup();
	refused = "a.test";
	st = inbound();
	s2s_stream_input(st, S2S_EV_OPENED, header(HDR_NS " to='b.test' "
	    "version='1.0'"));
	free(output(st));
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<db:result "
	    "from='a.test' to='b.test'>abcd</db:result>"));
	CHECK(wrote(st, "<policy-violation"));
	CHECK(s2s_stream_dead(st));
	teardown();
}

/*
 * S2S 10.9 with 7.5: a stanza over the domain's rate is counted for
 * XEP-0198 and then pauses the stream's reading; the store's global
 * pause ending does not resume a stream its own pause still holds.
 */
static void
in_rate_pause_after_sm(void)
{
	struct s2s_stream	*st;

	setup();
	st = inbound_dialback(1);
	free(output(st));
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<enable "
	    "xmlns='urn:xmpp:sm:3'/>"));
	CHECK(wrote(st, "<enabled"));
	rate_ms = 60000;
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<message "
	    "from='x@a.test' to='bob@b.test'><body>1</body></message>"));
	CHECK(ndelivered == 1);
	CHECK(st->flags & S2S_F_PAUSED);
	CHECK(!(bufferevent_get_enabled(st->bev) & EV_READ));
	s2s_stream_input(st, S2S_EV_ELEMENT, element("<r "
	    "xmlns='urn:xmpp:sm:3'/>"));
	CHECK(wrote(st, "<a xmlns='urn:xmpp:sm:3' h='1'/>"));
	s2s_stream_pause_reading(1);
	s2s_stream_pause_reading(0);
	CHECK(!(bufferevent_get_enabled(st->bev) & EV_READ));
	CHECK(st->flags & S2S_F_PAUSED);
	teardown();
}

static const struct t_case cases[] = {
	{ "in_header_features", in_header_features },
	{ "in_dialback_rate_refund", in_dialback_rate_refund },
	{ "in_dialback_rate_refund_global", in_dialback_rate_refund_global },
	{ "in_dialback_rate_wait", in_dialback_rate_wait },
	{ "in_header_unknown_host", in_header_unknown_host },
	{ "in_header_bad_namespace", in_header_bad_namespace },
	{ "in_header_bad_version", in_header_bad_version },
	{ "in_stanza_before_auth", in_stanza_before_auth },
	{ "in_verify_authoritative", in_verify_authoritative },
	{ "in_second_header", in_second_header },
	{ "in_timeout_unauthenticated", in_timeout_unauthenticated },
	{ "in_peer_close", in_peer_close },
	{ "in_shutdown_unauthenticated", in_shutdown_unauthenticated },
	{ "in_authenticated_then_closing", in_authenticated_then_closing },
	{ "in_accepted_while_stopping", in_accepted_while_stopping },
	{ "in_invalid_from", in_invalid_from },
	{ "in_dialback_refused", in_dialback_refused },
	{ "in_sm_acks_after_commit", in_sm_acks_after_commit },
	{ "in_dialback_blocked", in_dialback_blocked },
	{ "in_rate_pause_after_sm", in_rate_pause_after_sm },
	{ "in_sm_before_auth", in_sm_before_auth },
	{ "out_connect_header", out_connect_header },
	{ "out_dialback_ready", out_dialback_ready },
	{ "out_dialback_invalid", out_dialback_invalid },
	{ "out_stream_error", out_stream_error },
	{ "out_eof_and_timeouts", out_eof_and_timeouts },
	{ "out_shutdown", out_shutdown },
	{ "out_sm_enable_ack", out_sm_enable_ack },
	{ "in_sm_enable_dialback_pending", in_sm_enable_dialback_pending },
	{ "in_sm_last_ack_at_shutdown", in_sm_last_ack_at_shutdown },
	{ "in_sm_last_ack_uncommitted_cover",
	    in_sm_last_ack_uncommitted_cover },
	{ "in_no_sm_no_last_ack", in_no_sm_no_last_ack },
	{ "out_sm_ack_bad_h", out_sm_ack_bad_h },
	{ "out_sm_refused_or_absent", out_sm_refused_or_absent },
	{ "out_sm_ack_too_high", out_sm_ack_too_high },
	{ "stream_overflow_marks", stream_overflow_marks },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}
