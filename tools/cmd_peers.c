/*
 * tools/cmd_peers.c: "xfedctl peers [DOMAIN]", per remote domain: its
 * streams in each direction (state, TLS, authentication, the peer's
 * certificate), what waits for it (queued outbox rows and the oldest's
 * age, from the store; stanzas in the daemon's memory), its backoff and
 * how its last attempts ended, by stage and with the peer's own text,
 * and its inbound attempts that we refused (stage, what it was told).
 * Live data comes from the running daemon's status answer (server/ctl.h),
 * queued rows and the instance holding each pair's lease (the one that
 * sends to it, when several share the store) from the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xfedctl.h"
#include "xmalloc.h"

#define PEERS_HISTORY	8

struct peers_stream {
	uint64_t	 id, age, nin, nout, expiry;
	char		 dir[8], local[256], remote[256], addr[80];
	char		 state[32], auth[32], tls[128], subject[256];
};

struct peers_attempt {
	uint64_t	 when;
	char		 result[16], stage[16], text[256];
};

struct peers_route {
	char		 local[256], remote[256], last[256];
	uint64_t	 queue, backoff, failures;
	struct peers_attempt h[PEERS_HISTORY];
	size_t		 nh;
};

/* An inbound attempt of the remote that we refused. */
struct peers_refused {
	char		 local[256], remote[256];
	struct peers_attempt a;
};

struct peers_queued {
	char		 domain[256];
	int64_t		 rows, oldest;
};

struct peers_lease {
	char		 local[256], remote[256], holder[256];
	int64_t		 expiry;
};

struct peers {
	struct ctl		*ctl;
	struct peers_stream	*s;
	struct peers_route	*r;
	struct peers_queued	*q;
	struct peers_refused	*in;
	struct peers_lease	*l;
	size_t			 ns, nr, nq, nin, nl;
	char			**doms;		/* remote domains, sorted */
	size_t			 nd;
	int			 noq;		/* the store unreadable */
};

static void *
peers_grow(void *v, size_t n, size_t size)
{
	/* one more slot, zeroed */
	v = xreallocarray(v, n + 1, size);
	memset((char *)v + n * size, 0, size);
	return v;
}

static int
peers_lease(void *arg, const struct store_lease *sl)
{
	struct peers		*ps = arg;
	struct peers_lease	*l;
	const char		*errstr;

	ps->l = peers_grow(ps->l, ps->nl, sizeof(*ps->l));
	l = &ps->l[ps->nl++];
	snprintf(l->local, sizeof(l->local), "%s", sl->local);
	if (jid_prep_domain(sl->remote, l->remote, sizeof(l->remote),
	    &errstr) == -1)
		snprintf(l->remote, sizeof(l->remote), "%s", sl->remote);
	snprintf(l->holder, sizeof(l->holder), "%s", sl->holder);
	l->expiry = sl->expiry;
	return 0;
}

/* Which instance sends local's stanzas to its remote, and until when. */
static void
peers_print_leases(struct peers *ps, struct out_json *j, const char *d)
{
	const struct peers_lease *l;
	char			 t[32];
	size_t			 i;

	if (ps->ctl->json)
		out_json_array(j, "leases");
	for (i = 0; i < ps->nl; i++) {
		l = &ps->l[i];
		if (strcmp(l->remote, d) != 0)
			continue;
		if (ps->ctl->json) {
			out_json_obj(j, NULL);
			out_json_str(j, "local", l->local);
			out_json_str(j, "holder", l->holder);
			out_json_time(j, "expiry", l->expiry);
			out_json_obj_end(j);
			continue;
		}
		printf("  sent from %s by instance ", l->local);
		out_text(stdout, l->holder);
		printf(", lease until %s\n", out_time(l->expiry, t,
		    sizeof(t)));
	}
	if (ps->ctl->json)
		out_json_array_end(j);
}

static int
peers_answer(void *arg, int type, const uint8_t *p, size_t len)
{
	struct peers		*ps = arg;
	struct peers_stream	*s;
	struct peers_route	*r;
	struct peers_attempt	*a;
	struct peers_refused	*f;
	char			 local[256], remote[256], dir[8];

	if (type == CTL_T_ATTEMPT && ctl_get_str(p, len, CTL_F_DIR, dir,
	    sizeof(dir)) == 0 && strcmp(dir, "in") == 0) {
		ps->in = peers_grow(ps->in, ps->nin, sizeof(*ps->in));
		f = &ps->in[ps->nin++];
		ctl_get_str(p, len, CTL_F_LOCAL, f->local, sizeof(f->local));
		ctl_get_str(p, len, CTL_F_REMOTE, f->remote, sizeof(f->remote));
		ctl_get_u64(p, len, CTL_F_TIME, &f->a.when);
		ctl_get_str(p, len, CTL_F_RESULT, f->a.result,
		    sizeof(f->a.result));
		ctl_get_str(p, len, CTL_F_STAGE, f->a.stage,
		    sizeof(f->a.stage));
		ctl_get_str(p, len, CTL_F_TEXT, f->a.text, sizeof(f->a.text));
		return 0;
	}
	switch (type) {
	case CTL_T_STREAM:
		ps->s = peers_grow(ps->s, ps->ns, sizeof(*ps->s));
		s = &ps->s[ps->ns++];
		ctl_get_u64(p, len, CTL_F_ID, &s->id);
		ctl_get_u64(p, len, CTL_F_AGE, &s->age);
		ctl_get_u64(p, len, CTL_F_STANZAS_IN, &s->nin);
		ctl_get_u64(p, len, CTL_F_STANZAS_OUT, &s->nout);
		ctl_get_u64(p, len, CTL_F_CERT_EXPIRY, &s->expiry);
		ctl_get_str(p, len, CTL_F_DIR, s->dir, sizeof(s->dir));
		ctl_get_str(p, len, CTL_F_LOCAL, s->local, sizeof(s->local));
		ctl_get_str(p, len, CTL_F_REMOTE, s->remote, sizeof(s->remote));
		ctl_get_str(p, len, CTL_F_ADDR, s->addr, sizeof(s->addr));
		ctl_get_str(p, len, CTL_F_STATE, s->state, sizeof(s->state));
		ctl_get_str(p, len, CTL_F_AUTH, s->auth, sizeof(s->auth));
		ctl_get_str(p, len, CTL_F_TLS, s->tls, sizeof(s->tls));
		ctl_get_str(p, len, CTL_F_CERT_SUBJECT, s->subject,
		    sizeof(s->subject));
		break;
	case CTL_T_ROUTE:
		ps->r = peers_grow(ps->r, ps->nr, sizeof(*ps->r));
		r = &ps->r[ps->nr++];
		ctl_get_str(p, len, CTL_F_LOCAL, r->local, sizeof(r->local));
		ctl_get_str(p, len, CTL_F_REMOTE, r->remote, sizeof(r->remote));
		ctl_get_str(p, len, CTL_F_TEXT, r->last, sizeof(r->last));
		ctl_get_u64(p, len, CTL_F_QUEUE, &r->queue);
		ctl_get_u64(p, len, CTL_F_BACKOFF, &r->backoff);
		ctl_get_u64(p, len, CTL_F_FAILURES, &r->failures);
		break;
	case CTL_T_ATTEMPT:
		/* the daemon sends a route's attempts right after it */
		if (ps->nr == 0)
			break;
		r = &ps->r[ps->nr - 1];
		if (ctl_get_str(p, len, CTL_F_LOCAL, local, sizeof(local)) ==
		    -1 || ctl_get_str(p, len, CTL_F_REMOTE, remote,
		    sizeof(remote)) == -1 || strcmp(local, r->local) != 0 ||
		    strcmp(remote, r->remote) != 0 || r->nh >= PEERS_HISTORY)
			break;
		a = &r->h[r->nh++];
		ctl_get_u64(p, len, CTL_F_TIME, &a->when);
		ctl_get_str(p, len, CTL_F_RESULT, a->result, sizeof(a->result));
		ctl_get_str(p, len, CTL_F_STAGE, a->stage, sizeof(a->stage));
		ctl_get_str(p, len, CTL_F_TEXT, a->text, sizeof(a->text));
		break;
	}
	return 0;
}

static int
peers_queued(void *arg, const char *domain, int64_t rows, int64_t oldest)
{
	struct peers		*ps = arg;
	struct peers_queued	*q;
	const char		*errstr;
	char			 dom[sizeof(q->domain)];
	size_t			 i;

	/* the store groups to_jid as written (bob@Y.TEST, y.test.): one
	 * remote domain is its prepared form, as the daemon's routes name
	 * it */
	if (domain == NULL)
		domain = "";
	if (jid_prep_domain(domain, dom, sizeof(dom), &errstr) == -1)
		snprintf(dom, sizeof(dom), "%s", domain);
	for (i = 0; i < ps->nq; i++)
		if (strcmp(ps->q[i].domain, dom) == 0) {
			q = &ps->q[i];
			q->rows += rows;
			if (oldest < q->oldest)
				q->oldest = oldest;
			return 0;
		}
	ps->q = peers_grow(ps->q, ps->nq, sizeof(*ps->q));
	q = &ps->q[ps->nq++];
	memcpy(q->domain, dom, sizeof(q->domain));
	q->rows = rows;
	q->oldest = oldest;
	return 0;
}

static void
peers_add_domain(struct peers *ps, const char *d, const char *only)
{
	size_t	 i;

	if (d[0] == '\0' || strcmp(d, "-") == 0 ||
	    (only != NULL && strcmp(d, only) != 0))
		return;
	for (i = 0; i < ps->nd; i++)
		if (strcmp(ps->doms[i], d) == 0)
			return;
	ps->doms = xreallocarray(ps->doms, ps->nd + 1, sizeof(*ps->doms));
	ps->doms[ps->nd++] = xstrdup(d);
}

static int
peers_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
peers_print_stream(struct peers *ps, struct out_json *j,
    const struct peers_stream *s)
{
	char	 t[32], d[32];

	if (ps->ctl->json) {
		out_json_obj(j, NULL);
		out_json_int(j, "id", (int64_t)s->id);
		out_json_str(j, "direction", s->dir);
		out_json_str(j, "local", s->local);
		out_json_str(j, "address", s->addr);
		out_json_str(j, "state", s->state);
		out_json_str(j, "auth", s->auth);
		out_json_str(j, "tls", s->tls[0] ? s->tls : NULL);
		out_json_str(j, "cert_subject", s->subject[0] ? s->subject :
		    NULL);
		out_json_time(j, "cert_expiry", (int64_t)s->expiry);
		out_json_int(j, "age", (int64_t)s->age);
		out_json_int(j, "stanzas_in", (int64_t)s->nin);
		out_json_int(j, "stanzas_out", (int64_t)s->nout);
		out_json_obj_end(j);
		return;
	}
	printf("  %-3s #%llu %s %s %s [%s] %s, auth %s, %s, open %s, "
	    "stanzas in %llu out %llu\n", s->dir, (unsigned long long)s->id,
	    s->local, strcmp(s->dir, "in") == 0 ? "<-" : "->", s->remote,
	    s->addr, s->state, s->auth, s->tls[0] ? s->tls : "no TLS",
	    out_duration(s->age, d, sizeof(d)), (unsigned long long)s->nin,
	    (unsigned long long)s->nout);
	if (s->subject[0] != '\0') {
		fputs("      peer certificate: ", stdout);
		out_text(stdout, s->subject);
		printf(", expires %s\n", out_time((int64_t)s->expiry, t,
		    sizeof(t)));
	}
}

static void
peers_print_route(struct peers *ps, struct out_json *j,
    const struct peers_route *r)
{
	const struct peers_attempt	*a;
	char				 t[32], d[32];
	size_t				 i;

	if (ps->ctl->json) {
		out_json_obj(j, NULL);
		out_json_str(j, "local", r->local);
		out_json_int(j, "in_memory", (int64_t)r->queue);
		out_json_int(j, "failures", (int64_t)r->failures);
		out_json_int(j, "retry_in", (int64_t)r->backoff);
		out_json_str(j, "last_error", r->last[0] ? r->last : NULL);
		out_json_array(j, "attempts");
		for (i = 0; i < r->nh; i++) {
			a = &r->h[i];
			out_json_obj(j, NULL);
			out_json_time(j, "time", (int64_t)a->when);
			out_json_str(j, "result", a->result);
			out_json_str(j, "stage", a->stage[0] ? a->stage : NULL);
			out_json_str(j, "text", a->text[0] ? a->text : NULL);
			out_json_obj_end(j);
		}
		out_json_array_end(j);
		out_json_obj_end(j);
		return;
	}
	printf("  route %s -> %s: %llu waiting in memory, ", r->local,
	    r->remote, (unsigned long long)r->queue);
	if (r->backoff > 0)
		printf("backing off after %llu failure%s, retry in %s\n",
		    (unsigned long long)r->failures, r->failures == 1 ? "" : "s",
		    out_duration(r->backoff, d, sizeof(d)));
	else
		printf("no backoff\n");
	for (i = 0; i < r->nh; i++) {
		a = &r->h[i];
		printf("    %s ", out_time((int64_t)a->when, t, sizeof(t)));
		if (strcmp(a->result, "ok") == 0) {
			printf("ok: authenticated\n");
			continue;
		}
		printf("failed at %s: ", a->stage);
		out_text(stdout, a->text);
		putchar('\n');
	}
}

/* An inbound attempt we refused, with the stage and what the peer was
 * told: its operator's side of a failed dial. */
static void
peers_print_refused(struct peers *ps, struct out_json *j,
    const struct peers_refused *f)
{
	char	 t[32];

	if (ps->ctl->json) {
		out_json_obj(j, NULL);
		out_json_str(j, "local", f->local);
		out_json_time(j, "time", (int64_t)f->a.when);
		out_json_str(j, "stage", f->a.stage);
		out_json_str(j, "text", f->a.text[0] ? f->a.text : NULL);
		out_json_obj_end(j);
		return;
	}
	printf("  in %s <- %s: %s refused at %s: ", f->local, f->remote,
	    out_time((int64_t)f->a.when, t, sizeof(t)), f->a.stage);
	out_text(stdout, f->a.text);
	putchar('\n');
}

static void
peers_print(struct peers *ps, const char *d)
{
	struct out_json	 j;
	const struct peers_queued *q = NULL;
	char		 t[32];
	size_t		 i;
	int64_t		 now = (int64_t)time(NULL);

	for (i = 0; i < ps->nq; i++)
		if (strcmp(ps->q[i].domain, d) == 0)
			q = &ps->q[i];
	if (ps->ctl->json) {
		out_json_begin(&j, stdout);
		out_json_str(&j, "domain", d);
		if (!ps->noq) {
			out_json_int(&j, "queued", q ? q->rows : 0);
			out_json_int(&j, "oldest_queued_age", q ? now -
			    q->oldest : 0);
		}
	} else {
		out_text(stdout, d);
		putchar('\n');
		if (ps->noq)
			printf("  queued in the store: unavailable\n");
		else if (q != NULL)
			printf("  queued in the store: %lld row%s, the oldest "
			    "for %s\n", (long long)q->rows, q->rows == 1 ? "" :
			    "s", out_duration((uint64_t)(now > q->oldest ?
			    now - q->oldest : 0), t, sizeof(t)));
		else
			printf("  queued in the store: none\n");
	}
	peers_print_leases(ps, &j, d);
	if (ps->ctl->json)
		out_json_array(&j, "streams");
	for (i = 0; i < ps->ns; i++)
		if (strcmp(ps->s[i].remote, d) == 0)
			peers_print_stream(ps, &j, &ps->s[i]);
	if (ps->ctl->json) {
		out_json_array_end(&j);
		out_json_array(&j, "routes");
	}
	for (i = 0; i < ps->nr; i++)
		if (strcmp(ps->r[i].remote, d) == 0)
			peers_print_route(ps, &j, &ps->r[i]);
	if (ps->ctl->json) {
		out_json_array_end(&j);
		out_json_array(&j, "refused_in");
	}
	for (i = 0; i < ps->nin; i++)
		if (strcmp(ps->in[i].remote, d) == 0)
			peers_print_refused(ps, &j, &ps->in[i]);
	if (ps->ctl->json) {
		out_json_array_end(&j);
		out_json_end(&j);
	}
}

static int
cmd_peers(struct ctl *ctl, int argc, char **argv)
{
	struct peers	 ps;
	struct ctl_msg	 m;
	const char	*errstr, *only = NULL;
	char		 dom[JID_PART_MAX + 1], noq[1200] = "";
	size_t		 i;
	int		 fd, first, rc = CTL_FAIL;

	if ((first = ctl_getopt(ctl, argc, argv, "", NULL, 1, NULL, NULL,
	    &rc)) == -1)
		return rc;
	if (argc - first > 1)
		return ctl_usage(ctl, "unexpected argument \"%s\"",
		    argv[first + 1]);
	if (argc - first == 1) {
		if (jid_prep_domain(argv[first], dom, sizeof(dom),
		    &errstr) == -1)
			return ctl_usage(ctl, "\"%s\": %s", argv[first], errstr);
		only = dom;
	}
	memset(&ps, 0, sizeof(ps));
	ps.ctl = ctl;
	if ((fd = ctl_sock_open(ctl)) == -1)
		return CTL_FAIL;
	ctl_msg_begin(&m, CTL_T_STATUS);
	rc = ctl_sock_request(ctl, fd, &m, peers_answer, &ps);
	close(fd);
	/* the store only for the queued rows: without it, the live part
	 * still shows, and the exit status says something is missing */
	if (rc == CTL_OK && ctl_open_existing(ctl, &errstr) != 0)
		snprintf(noq, sizeof(noq), "%s", errstr);
	else if (rc == CTL_OK && (store_outbox_queued(ctl->st, peers_queued,
	    &ps) == -1 || store_lease_list(ctl->st, NULL, peers_lease,
	    &ps) == -1))
		snprintf(noq, sizeof(noq), "%s", store_errstr(ctl->st));
	ps.noq = noq[0] != '\0';
	if (rc == CTL_OK) {
		for (i = 0; i < ps.ns; i++)
			peers_add_domain(&ps, ps.s[i].remote, only);
		for (i = 0; i < ps.nr; i++)
			peers_add_domain(&ps, ps.r[i].remote, only);
		for (i = 0; i < ps.nq; i++)
			peers_add_domain(&ps, ps.q[i].domain, only);
		for (i = 0; i < ps.nin; i++)
			peers_add_domain(&ps, ps.in[i].remote, only);
		for (i = 0; i < ps.nl; i++)
			peers_add_domain(&ps, ps.l[i].remote, only);
		if (ps.nd > 1)
			qsort(ps.doms, ps.nd, sizeof(*ps.doms), peers_cmp);
		for (i = 0; i < ps.nd; i++)
			peers_print(&ps, ps.doms[i]);
		if (ps.nd == 0 && !ctl->json && only != NULL)
			printf("%s: nothing known about it\n", only);
		else if (ps.nd == 0 && !ctl->json)
			printf("no remote domain known\n");
		if (ps.noq)
			rc = ctl_fail("queued rows unavailable: %s", noq);
	}
	for (i = 0; i < ps.nd; i++)
		free(ps.doms[i]);
	free(ps.doms);
	free(ps.s);
	free(ps.r);
	free(ps.q);
	free(ps.in);
	free(ps.l);
	return rc;
}

const struct ctl_cmd cmd_peers_table[] = {
	{ "peers", "[DOMAIN] [--json]",
	    "Per remote domain (or the one named): its streams in each "
	    "direction with\nstate, TLS, authentication and the peer's "
	    "certificate; outbox rows queued\nfor it and the oldest's age; "
	    "backoff; how the last 8 attempts ended,\nwith the stage "
	    "(dns, connect, tls, dialback, stream...) and the peer's own\n"
	    "text; the peer's own attempts we refused lately (inbound: "
	    "stage and\nwhat it was told); the instance holding the lease of "
	    "each local domain's\nstream to it. Needs xfed running.",
	    cmd_peers },
	{ NULL, NULL, NULL, NULL },
};
