/*
 * server/xfed.c: main(). Options, config, the one event base, signals and
 * listeners. Streams are s2s/'s, storage is store/'s.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "config.h"
#include "batch.h"
#include "block.h"
#include "conf.h"
#include "control.h"
#include "dialback.h"
#include "dns.h"
#include "http.h"
#include "in.h"
#include "jid.h"
#include "lease.h"
#include "log.h"
#include "metrics.h"
#include "message.h"
#include "mgr.h"
#include "out.h"
#include "outbox.h"
#include "presence.h"
#include "probe.h"
#include "quota.h"
#include "rate.h"
#include "retention.h"
#include "router.h"
#include "s2s.h"
#include "sdnotify.h"
#include "server.h"
#include "store.h"
#include "stream.h"
#include "tls.h"
#include "webhook.h"
#include "xmalloc.h"

#define XFED_POLL_MS	50	/* outside changes, when the store has no fd */
#define XFED_DUE_SECS	1	/* outbox rows whose retry time came */
#define XFED_STOP_SECS	(S2S_CLOSE_SECS + 1)	/* each direction closing */
#define XFED_STOP_POLL_MS 20

static struct server		 xfed_server;
static struct event_base	*xfed_base;
static struct conf		*xfed_conf;
static const char		*xfed_conf_path = CONF_DEFAULT_PATH;
static struct evconnlistener	**xfed_listeners;
static int			 xfed_up;	/* ready: listeners, store */
static int			 xfed_store_new; /* this start made the store */
static size_t			 xfed_nlisteners;
static struct event		*xfed_poll_ev, *xfed_due_ev;
static int			 xfed_poll_fd = -2;	/* xfed_poll_ev's */
static struct dns		*xfed_dns;
static struct event		*xfed_stop_ev;
static time_t			 xfed_stop_deadline;
static int			 xfed_stop_out;	/* outbound streams stopped */

/* Store events name users: "alice@example.org", not a row id. */
static int
xfed_change_user(void *arg, const struct store_user *u)
{
	snprintf(arg, JID_BUFSZ, "%s@%s", u->local, u->domain);
	return 0;
}

/* Events were committed: whoever waits for them reads them now. */
static void
xfed_committed(void)
{
	webhook_kick();
	http_events_kick();
}

static int
xfed_change_outbox(void *arg, const struct store_outbox *o)
{
	char	 to[JID_BUFSZ];

	log_info("store: outbox row %lld queued: %s from %s@%s to %s",
	    (long long)o->id, store_kind_name(o->kind), o->local, o->domain,
	    log_vis(to, sizeof(to), o->to, strlen(o->to)));
	return 0;
}

#define XFED_KICK		0x1	/* outbox rows to send */
#define XFED_RELOAD_RULES	0x2	/* domain rules changed */
#define XFED_RELOAD_BLOCKS	0x4	/* user blocks changed */

static void
xfed_change(void *arg, const struct store_change *c)
{
	char	 who[JID_BUFSZ];
	int	*todo = arg;

	if (log_getlevel() >= LOG_L_INFO && c->table != STORE_T_OUTBOX &&
	    (c->deleted || store_user_get_id(server->store, c->row_id,
	    xfed_change_user, who) == -1))
		snprintf(who, sizeof(who), "id %lld (deleted)",
		    (long long)c->row_id);
	switch (c->table) {
	case STORE_T_OUTBOX:
		if (!c->deleted) {
			if (log_getlevel() >= LOG_L_INFO &&
			    store_outbox_get(server->store, c->row_id,
			    xfed_change_outbox, NULL) == -1)
				log_info("store: outbox row %lld queued",
				    (long long)c->row_id);
			*todo |= XFED_KICK;
		}
		break;
	case STORE_T_PRESENCE:
		log_info("store: presence of user %s changed", who);
		presence_changed(c->row_id);
		break;
	case STORE_T_USERS:
		log_info("store: user %s %s", who, c->deleted ? "deleted" :
		    "changed");
		/* a new profile, avatar, or disabled flag: tell the contacts;
		 * a deleted user says goodbye */
		if (!c->deleted)
			presence_changed(c->row_id);
		else
			presence_user_deleted();
		break;
	case STORE_T_DOMAIN_RULES:
		*todo |= XFED_RELOAD_RULES;
		break;
	case STORE_T_BLOCKS:
		*todo |= XFED_RELOAD_BLOCKS;
		break;
	}
}

static void	xfed_poll(evutil_socket_t, short, void *);

/*
 * What tells of outside changes: the store's fd when it has one (read
 * when it becomes readable), else a timer of XFED_POLL_MS. Asked again
 * after each poll, as a backend's fd changes when it reconnects.
 */
static void
xfed_watch(void)
{
	struct timeval	 tv = { 0, XFED_POLL_MS * 1000 };
	int		 fd = store_watch_fd(server->store);

	if (fd == xfed_poll_fd)
		return;
	if (xfed_poll_ev != NULL)
		event_free(xfed_poll_ev);
	xfed_poll_fd = fd;
	if (fd == -1) {
		xfed_poll_ev = event_new(xfed_base, -1, EV_PERSIST, xfed_poll,
		    NULL);
		evtimer_add(xfed_poll_ev, &tv);
	} else {
		xfed_poll_ev = event_new(xfed_base, fd, EV_READ | EV_PERSIST,
		    xfed_poll, NULL);
		event_add(xfed_poll_ev, NULL);
	}
}

/* Changes from other processes (xfedctl, the native system). */
static void
xfed_poll(evutil_socket_t fd, short what, void *arg)
{
	int	 todo = 0, n;

	if ((n = store_changes_poll(server->store, xfed_change, &todo)) == -1)
		log_warnx("store: %s", store_errstr(server->store));
	xfed_watch();
	if (todo & XFED_RELOAD_RULES)
		block_load_rules();
	if (todo & XFED_RELOAD_BLOCKS)
		block_load_users(presence_block_changed);
	if (todo & XFED_KICK)
		outbox_kick();
	if (n > 0)
		xfed_committed();
}

/* Events every webhook has, older than events_keep, go. */
static void
xfed_events_prune(void)
{
	int64_t	 upto = webhook_min_cursor(), last;

	if (store_event_last(server->store, &last) == -1)
		return;
	if (upto > last)
		upto = last;
	if (store_event_prune(server->store, upto,
	    (int64_t)time(NULL) - xfed_conf->events_keep) == -1)
		log_warnx("store: %s", store_errstr(server->store));
}

static void
xfed_due(evutil_socket_t fd, short what, void *arg)
{
	static unsigned int	 n;

	outbox_kick();
	xfed_committed();	/* webhooks whose receivers came back */
	message_receipts_run();		/* rows consumed meanwhile */
	/* webhooks xfedctl added or deleted */
	if (n % 5 == 0)
		(void)webhook_sync(xfed_conf);	/* it logs what failed */
	/* routes idle for a minute go within ten seconds more */
	if (++n % 10 == 0)
		s2s_mgr_reap();
	if (n % 60 == 0)
		xfed_events_prune();
}

/* The dialback secret: configured, else made once and kept (S2S 4.5). */
static void
xfed_secret(void)
{
	char	*v = NULL, gen[DB_SECRET_LEN + 1];

	if (xfed_conf->dialback_secret != NULL) {
		db_set_secret(xfed_conf->dialback_secret);
		return;
	}
	if (store_state_get(server->store, "dialback_secret", &v) == 0) {
		db_set_secret(v);
		free(v);
		return;
	}
	if (db_secret_generate(gen, sizeof(gen)) == -1)
		fatalx("cannot generate a dialback secret");
	/* of instances starting at once on one store, the first one's
	 * secret is every one's: each verifies the others' keys */
	if (store_state_init(server->store, "dialback_secret", gen, &v) == -1 ||
	    store_flush(server->store) == -1)
		fatalx("store: cannot keep the dialback secret: %s",
		    store_errstr(server->store));
	db_set_secret(v);
	if (strcmp(v, gen) == 0)
		log_info("generated a dialback secret and kept it in the store");
	free(v);
}

static void
xfed_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	s2s_in_accept(fd, sa, salen, arg != NULL);
}

static void
xfed_tls_warn(const char *domain, const char *msg, void *arg)
{
	log_warnx("tls_certificate: %s: %s", domain, msg);
}

/* The TLS contexts from tls_certificate/tls_key; NULL without them. */
/*
 * Descriptors for what the settings let in at once: every unauthenticated
 * stream, every HTTP connection (with an HTTP listener), and a margin for
 * the store, listeners, authenticated and outbound streams and DNS. At or
 * below it accepts fail with EMFILE under load: say so at start, and which
 * settings to change.
 */
#define XFED_FD_MARGIN	64

static void
xfed_fd_limit(const struct conf *c)
{
	struct rlimit	 rl;
	long long	 need = c->max_unauth_streams + XFED_FD_MARGIN;
	int		 http = c->http_listens.n > 0 ||
			    c->http_listens_tls.n > 0 || c->http_socket != NULL;
	char		 hs[64] = "";

	if (http) {
		need += c->http_max_conns;
		snprintf(hs, sizeof(hs), " + http_max_connections %lld",
		    c->http_max_conns);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur == RLIM_INFINITY || (long long)rl.rlim_cur > need)
		return;
	log_warnx("open file limit %llu (RLIMIT_NOFILE) is not above "
	    "max_unauth_streams %lld%s + %d for the store, listeners and "
	    "other streams: raise it (LimitNOFILE= in xfed.service, ulimit "
	    "-n) above %lld, or lower max_unauth_streams%s",
	    (unsigned long long)rl.rlim_cur, c->max_unauth_streams, hs,
	    XFED_FD_MARGIN, need, http ? " or http_max_connections" : "");
}

static struct tls_ctx *
xfed_tls(const struct conf *c)
{
	struct tls_ctx		*t;
	struct conf_tlsdom	*d;
	const char		*errstr;
	size_t			 i;

	if (c->tls_certificate == NULL && c->tls_domains.n == 0)
		return NULL;
	if ((t = tls_ctx_new(c->tls_ca_file)) == NULL)
		fatalx("TLS: cannot create a context (tls_ca_file %s?)",
		    c->tls_ca_file ? c->tls_ca_file : "-");
	if (c->tls_certificate != NULL && tls_ctx_add_cert(t, NULL,
	    c->tls_certificate, c->tls_key, &errstr) == -1) {
		log_warnx("%s", errstr);
		tls_ctx_free(t);
		return NULL;
	}
	for (i = 0; i < c->tls_domains.n; i++) {
		d = CONF_TLSDOM(c, i);
		if (tls_ctx_add_cert(t, d->domain, d->cert, d->key,
		    &errstr) == -1) {
			log_warnx("%s", errstr);
			tls_ctx_free(t);
			return NULL;
		}
	}
	tls_ctx_check_names(t, (const char *const *)c->domains.v, c->domains.n,
	    xfed_tls_warn, NULL);
	return t;
}

/* Listeners paused for running out of descriptors come back after 1 s. */
static struct event	*xfed_accept_ev;
static time_t		 xfed_accept_logged;
static unsigned long	 xfed_accept_quiet;

static void
xfed_accept_resume(evutil_socket_t fd, short what, void *arg)
{
	size_t	 i;

	for (i = 0; i < xfed_nlisteners; i++)
		evconnlistener_enable(xfed_listeners[i]);
}

/*
 * accept() failed: out of descriptors or memory (a flood, on this port or
 * another), the listener pauses for a second instead of spinning, and the
 * log says so once every 10 s at most, with how many it did not write.
 */
static void
xfed_accept_error(struct evconnlistener *lev, void *arg)
{
	struct timeval	 tv = { 1, 0 };
	int		 e = evutil_socket_geterror(evconnlistener_get_fd(lev));
	int		 pause = e == EMFILE || e == ENFILE || e == ENOBUFS ||
			    e == ENOMEM;
	time_t		 now = time(NULL);

	if (pause) {
		evconnlistener_disable(lev);
		if (xfed_accept_ev == NULL)
			xfed_accept_ev = evtimer_new(xfed_base,
			    xfed_accept_resume, NULL);
		evtimer_add(xfed_accept_ev, &tv);
	}
	if (now - xfed_accept_logged < 10) {
		xfed_accept_quiet++;
		return;
	}
	log_warnx("accept on a S2S listener: %s%s (%lu more like it not "
	    "logged)", evutil_socket_error_to_string(e), pause ?
	    "; listeners paused for 1 s" : "", xfed_accept_quiet);
	xfed_accept_logged = now;
	xfed_accept_quiet = 0;
}

/* Binds every listen address; an address in use is fatal at start. */
static void
xfed_listen(void)
{
	struct conf_addr	*a;
	struct evconnlistener	*lev;
	size_t			 i, n = xfed_conf->listens.n;
	int			 fd, on = 1, direct;

	xfed_listeners = xcalloc(n + xfed_conf->listens_tls.n,
	    sizeof(*xfed_listeners));
	for (i = 0; i < n + xfed_conf->listens_tls.n; i++) {
		direct = i >= n;
		a = direct ? CONF_LISTEN_TLS(xfed_conf, i - n) :
		    CONF_LISTEN(xfed_conf, i);
		fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1)
			fatal("listen %s: socket", a->text);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (a->ss.ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
		if (bind(fd, (struct sockaddr *)&a->ss, a->len) == -1)
			fatal("listen %s: bind", a->text);
		lev = evconnlistener_new(xfed_base, xfed_accept,
		    direct ? (void *)1 : NULL, LEV_OPT_CLOSE_ON_FREE, 128, fd);
		if (lev == NULL)
			fatal("listen %s", a->text);
		evconnlistener_set_error_cb(lev, xfed_accept_error);
		xfed_listeners[xfed_nlisteners++] = lev;
		log_info("listening on %s%s", a->text, direct ?
		    " (direct TLS)" : "");
	}
}

static void
xfed_count(void *arg, const struct s2s_stream_info *si)
{
	(*(uint64_t *)arg)++;
}

static void
xfed_status_webhook(void *arg, const struct webhook_info *w)
{
	struct ctl_msg	 m;

	ctl_msg_begin(&m, CTL_T_WEBHOOK);
	ctl_put_str(&m, CTL_F_URL, w->url);
	ctl_put_u64(&m, CTL_F_CURSOR, (uint64_t)w->cursor);
	ctl_put_u64(&m, CTL_F_BACKLOG, (uint64_t)(w->backlog < 0 ? 0 :
	    w->backlog));
	ctl_put_u64(&m, CTL_F_FAILURES, (uint64_t)w->failures);
	ctl_put_u64(&m, CTL_F_STATUS, (uint64_t)(w->last_status < 0 ? 0 :
	    w->last_status));
	if (w->last_error[0] != '\0')
		ctl_put_str(&m, CTL_F_TEXT, w->last_error);
	control_emit(arg, &m);
}

static void
xfed_status(void *arg, struct evbuffer *out)
{
	struct ctl_msg		 m;
	uint64_t		 n = 0;
	size_t			 i;

	s2s_stream_foreach(xfed_count, &n);
	ctl_msg_begin(&m, CTL_T_INFO);
	ctl_put_str(&m, CTL_F_VERSION, XFED_VERSION);
	ctl_put_u64(&m, CTL_F_PID, (uint64_t)getpid());
	ctl_put_u64(&m, CTL_F_UPTIME, (uint64_t)(time(NULL) - server->started));
	for (i = 0; i < xfed_conf->domains.n; i++)
		ctl_put_str(&m, CTL_F_DOMAIN, CONF_DOMAIN(xfed_conf, i));
	ctl_put_u64(&m, CTL_F_STREAMS, n);
	ctl_put_u64(&m, CTL_F_OUTBOX_QUEUED, outbox_inflight());
	if (batch_failing_since() != 0)
		ctl_put_u64(&m, CTL_F_STORE_FAILING,
		    (uint64_t)batch_failing_since());
	control_emit(out, &m);
	control_s2s_status(out);
	webhook_foreach(xfed_status_webhook, out);
}

static void
xfed_metrics_dns(uint64_t *lookups, uint64_t *failures)
{
	dns_stats(xfed_dns, lookups, failures);
}

struct xfed_metrics_walk {
	metrics_stream_cb	 cb;
	void			*arg;
};

static void
xfed_metrics_stream(void *arg, const struct s2s_stream_info *si)
{
	struct xfed_metrics_walk	*w = arg;

	w->cb(w->arg, si->dir, si->auth, si->tls[0] != '\0');
}

static void
xfed_metrics_streams(metrics_stream_cb cb, void *arg)
{
	struct xfed_metrics_walk	 w = { cb, arg };

	s2s_stream_foreach(xfed_metrics_stream, &w);
}

/* The S2S layer's hooks: stanzas to the router, row verdicts to the
 * outbox (STYLE 14: s2s/ never calls up). */
static void
xfed_s2s_init(void)
{
	struct s2s_hooks	 h;
	struct s2s_mgr_conf	 mc;

	memset(&h, 0, sizeof(h));
	h.deliver = router_deliver;
	h.sent = outbox_sent;
	h.delivered = outbox_delivered;
	h.failed = outbox_failed;
	h.wake = outbox_wake;
	h.header_id = probe_seen;
	h.domain_ok = block_domain_ok;
	h.stanza_rate = rate_stanza;
	h.may_write = outbox_may_write;
	s2s_init(&h);
	memset(&mc, 0, sizeof(mc));
	mc.backoff_min_secs = (int)xfed_conf->outbound_backoff_min;
	mc.backoff_max_secs = 3600;
	s2s_mgr_init(&mc);
}

static void	xfed_usage(FILE *, int) __attribute__((noreturn));

static void
xfed_usage(FILE *f, int status)
{
	fprintf(f, "usage: xfed [-dfhptV] [-c file]\n"
	    "  -c file  the configuration (default %s)\n"
	    "  -d       debug: foreground, log_level debug\n"
	    "  -f       foreground, log to stderr\n"
	    "  -h       this help (also --help)\n"
	    "  -p       print a sample configuration with every key\n"
	    "  -t       check the configuration, certificates and store path, "
	    "then exit\n"
	    "  -V       print the version\n", CONF_DEFAULT_PATH);
	exit(status);
}

static int
xfed_store_flags(const struct conf *c)
{
	return STORE_OPEN_CREATE |
	    (c->store_group_write ? STORE_OPEN_GROUP_WRITE : 0);
}

/* PATH with its directory resolved ("a/./x.db", "a/x.db": one name). */
static void
xfed_path_norm(char *out, size_t n, const char *path)
{
	char		 dir[PATH_MAX], real[PATH_MAX];
	const char	*base = strrchr(path, '/');

	snprintf(dir, sizeof(dir), "%.*s", base == NULL ? 1 :
	    base == path ? 1 : (int)(base - path), base == NULL ? "." : path);
	if (realpath(dir, real) == NULL || (size_t)snprintf(out, n, "%s/%s",
	    real, base == NULL ? path : base + 1) >= n)
		snprintf(out, n, "%s", path);
}

/*
 * xfed -t: a socket path (control_socket, http_socket) that a start would
 * refuse: one that names the store or its -wal/-shm/-journal, or a file
 * there that is not a socket (a start never unlinks one).
 */
static int
xfed_test_socket(const char *key, const char *path, const char *store)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char		 f[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
	struct stat	 sb;
	size_t		 i;

	if (path == NULL)
		return 0;
	xfed_path_norm(a, sizeof(a), path);
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(f, sizeof(f), "%s%s", store, sfx[i]);
		xfed_path_norm(b, sizeof(b), f);
		if (strcmp(a, b) == 0) {
			fprintf(stderr, "%s: %s %s: is the store's path\n",
			    xfed_conf_path, key, path);
			return -1;
		}
	}
	if (lstat(path, &sb) == 0 && !S_ISSOCK(sb.st_mode)) {
		fprintf(stderr, "%s: %s %s: exists and is not a socket\n",
		    xfed_conf_path, key, path);
		return -1;
	}
	return 0;
}

/*
 * xfed -t: what a start would refuse, found without changing anything on
 * disk: the config, the certificates and keys (loaded, matching), and that
 * the store can be opened for writing or made, and socket paths that are
 * no store and no other file.
 */
static int
xfed_test(void)
{
	struct tls_ctx	*t;
	const char	*errstr;
	size_t		 i;
	int		 rc = 0;

	log_init(1, LOG_L_WARN);
	if (xfed_conf->tls_certificate != NULL || xfed_conf->tls_domains.n) {
		if ((t = xfed_tls(xfed_conf)) == NULL) {
			fprintf(stderr, "%s: the TLS certificates do not load\n",
			    xfed_conf_path);
			rc = 1;
		} else
			tls_ctx_free(t);
	}
	if (xfed_test_socket("control_socket", xfed_conf->control_socket,
	    xfed_conf->store) == -1)
		rc = 1;
	if (xfed_test_socket("http_socket", xfed_conf->http_socket,
	    xfed_conf->store) == -1)
		rc = 1;
	if (xfed_conf->http_socket != NULL && xfed_conf->control_socket != NULL) {
		char	 a[PATH_MAX], b[PATH_MAX];

		xfed_path_norm(a, sizeof(a), xfed_conf->http_socket);
		xfed_path_norm(b, sizeof(b), xfed_conf->control_socket);
		if (strcmp(a, b) == 0) {
			fprintf(stderr, "%s: http_socket %s: is the "
			    "control_socket's path\n", xfed_conf_path,
			    xfed_conf->http_socket);
			rc = 1;
		}
	}
	for (i = 0; i < xfed_conf->webhooks.n; i++)
		if (!webhook_url_ok(CONF_WEBHOOK(xfed_conf, i)->url)) {
			fprintf(stderr, "%s: webhook %s: not an http or https "
			    "URL with a host\n", xfed_conf_path,
			    CONF_WEBHOOK(xfed_conf, i)->url);
			rc = 1;
		}
	if (store_path_check(xfed_conf->store, xfed_store_flags(xfed_conf),
	    &errstr) == -1) {
		fprintf(stderr, "%s\n", errstr);
		rc = 1;
	}
	if (rc == 0)
		printf("%s: configuration OK\n", xfed_conf_path);
	conf_free(xfed_conf);
	return rc;
}

/*
 * The events journal is written only when something reads it: the HTTP
 * API, webhooks, or events_journal for a native system (CONTRACT.md).
 * On a store several instances share, it is on when any of them needs it:
 * an instance turns it on, never off (xfedctl journal off does), so that
 * instances with different settings, or starting at once, never undo each
 * other (webhooks are rows of the store, the same for all).
 */
static void
xfed_webhook_count(void *arg, const struct webhook_info *w)
{
	(*(size_t *)arg)++;
}

static void
xfed_events_journal(const struct conf *c)
{
	size_t	 hooks = 0;
	int	 on;

	/* webhooks include those made with xfedctl or the API */
	webhook_foreach(xfed_webhook_count, &hooks);
	on = c->http_listens.n > 0 || c->http_listens_tls.n > 0 ||
	    c->http_socket != NULL || hooks > 0 || c->events_journal;

	/* an instance's view of the others (heartbeats) can be late, and
	 * another may be turning it on at this moment: never off here */
	if (!on && store_shared(server->store)) {
		if (store_events_journal_on(server->store) == 1)
			log_info("store: events journal left on: the store is "
			    "shared (xfedctl journal off turns it off)");
		return;
	}
	switch (store_events_journal(server->store, on)) {
	case -1:
		/* another writer holding the file past the busy timeout,
		 * an I/O error: xfed starts all the same, the next start
		 * tries again */
		log_warnx("store: events journal not turned %s, it stays as "
		    "it was: %s", on ? "on" : "off",
		    store_errstr(server->store));
		break;
	case 1:
		log_info("store: events journal %s", on ? "on" :
		    "off (no http_listen, http_socket, webhook or "
		    "events_journal)");
		break;
	}
}

static void
xfed_report(const char *line)
{
	log_warnx("%s", line);
}

/*
 * While stopping, in two steps of at most XFED_STOP_SECS each: first
 * every authenticated inbound stream closes at both ends (what the peers
 * wrote until then is delivered and committed like any other stanza, or
 * answered when the store fails, batch_stop()); then every outbound
 * stream writes (and, with stream management, has acked) what it has:
 * the unavailable presence xfed owes and the answers to what the inbound
 * streams read last (S2S 1.19: stanza errors go back on our own stream),
 * a stream still being set up for them included. Then the loop ends.
 */
static void
xfed_stop_wait(evutil_socket_t fd, short what, void *arg)
{
	time_t	 now = time(NULL);

	if (!xfed_stop_out && (s2s_stream_count(S2S_DIR_IN, S2S_F_AUTHED) ==
	    0 || now >= xfed_stop_deadline)) {
		xfed_stop_out = 1;
		xfed_stop_deadline = now + XFED_STOP_SECS;
		s2s_stream_shutdown(S2S_DIR_OUT);
	}
	if (xfed_stop_out && (s2s_stream_count(S2S_DIR_OUT, 0) == 0 ||
	    now >= xfed_stop_deadline))
		event_base_loopexit(xfed_base, NULL);
}

/*
 * SIGTERM: end the inbound streams, then the outbound ones. The
 * listeners stay open until the loop ends, for peers checking the
 * dialback keys of our last outbound streams (S2S 4.27); no stream
 * accepted now gets a pair verified (in.c).
 */
static void
xfed_stop(void)
{
	struct timeval	 tv = { 0, XFED_STOP_POLL_MS * 1000 };

	server->stopping = 1;
	/* what was read so far is committed first: the streams' last <a/>
	 * (XEP-0198) covers it; a failing store gets a last try, and
	 * what it still cannot keep is answered (batch.c) */
	batch_stop();
	s2s_stream_shutdown(S2S_DIR_IN);
	xfed_stop_deadline = time(NULL) + XFED_STOP_SECS;
	xfed_stop_ev = event_new(xfed_base, -1, EV_PERSIST, xfed_stop_wait,
	    NULL);
	evtimer_add(xfed_stop_ev, &tv);
}

static void
xfed_signal(evutil_socket_t sig, short what, void *arg)
{
	struct conf	*c;

	switch (sig) {
	case SIGINT:
	case SIGTERM:
		if (server->stopping) {
			log_info("received %s again, stopping now",
			    strsignal(sig));
			event_base_loopexit(xfed_base, NULL);
			break;
		}
		log_info("received %s, shutting down", strsignal(sig));
		sdnotify("STOPPING=1");
		presence_shutdown();	/* before the streams close */
		xfed_stop();
		break;
	case SIGHUP:
		log_info("received SIGHUP, reloading %s", xfed_conf_path);
		sdnotify("RELOADING=1");
		if ((c = conf_load(xfed_conf_path, xfed_report)) == NULL) {
			log_warnx("config not reloaded: errors above");
	sdnotify("READY=1");
			break;
		}
		if (c->dialback_secret != NULL)
			db_set_secret(c->dialback_secret);
		/* S2S issue: new certificates, established streams untouched */
		if (server->tls != NULL && (c->tls_certificate != NULL ||
		    c->tls_domains.n > 0)) {
			struct tls_ctx	*t = xfed_tls(c);

			if (t != NULL) {
				tls_ctx_replace(server->tls, t);
				log_info("TLS certificates reloaded");
			} else
				log_warnx("TLS certificates not reloaded");
		}
		/* listeners, store and control socket stay as they were */
		conf_free(xfed_conf);
		xfed_conf = server->conf = c;
		log_setlevel(c->log_level);
		log_set_stanzas(c->log_stanzas);
		block_load_rules();
		http_reload(c);
		(void)webhook_sync(c);		/* it logs what failed */
		xfed_events_journal(c);
		log_info("config reloaded");
		sdnotify("READY=1");
		break;
	}
}

/*
 * Without -f: the parent stays until the child is ready (listeners, store
 * and control socket up) and exits 0 then; a child that fails before sends
 * its error lines down the pipe (log_set_startup) and the parent prints
 * them on its stderr and exits 1, as a start under -f would. Ready is one
 * NUL byte at the end of what the child wrote. Without syslog the child
 * keeps stderr for its log.
 */
static int
xfed_daemonize(int to_stderr)
{
	char	 buf[4096];
	size_t	 len = 0;
	ssize_t	 n;
	pid_t	 pid;
	int	 p[2], fd, cut = 0;

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0) {
		close(p[1]);
		/* to the end of the pipe, whatever the child says before:
		 * the ready byte is its last, the cause of a failure near
		 * the end; a full buffer keeps its newer half */
		for (;;) {
			if (len == sizeof(buf)) {
				memmove(buf, buf + sizeof(buf) / 2,
				    sizeof(buf) / 2);
				len = sizeof(buf) / 2;
				cut = 1;
			}
			n = read(p[0], buf + len, sizeof(buf) - len);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			len += n;
		}
		if (len > 0 && buf[len - 1] == '\0')
			_exit(0);
		if (cut)
			fprintf(stderr, "xfed: (earlier start-up lines in its "
			    "log)\n");
		if (len > 0)
			fwrite(buf, 1, len, stderr);
		else
			fprintf(stderr, "xfed: stopped before it was ready%s\n",
			    to_stderr ? "" : "; see its log (syslog)");
		_exit(1);
	}
	close(p[0]);
	if (setsid() == -1)
		fatal("setsid");
	if (chdir("/") == -1)
		fatal("chdir /");
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (!to_stderr)
			dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	log_set_startup(p[1]);
	return p[1];
}

/* The child is ready: the parent exits 0, errors go to the log only. */
static void
xfed_ready(int fd)
{
	if (fd == -1)
		return;
	log_set_startup(-1);
	(void)!write(fd, "", 1);
	close(fd);
}

/*
 * At exit before ready: a failed start changes nothing on disk. The
 * store this start made goes (with its -wal, -shm and -journal), and so
 * do the sockets it bound.
 */
static void
xfed_unstart(void)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char		 path[PATH_MAX];
	size_t		 i;

	if (xfed_up)
		return;
	control_close();
	http_unlink();
	if (!xfed_store_new)
		return;
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
		if ((size_t)snprintf(path, sizeof(path), "%s%s",
		    xfed_conf->store, sfx[i]) < sizeof(path))
			unlink(path);
}

int
main(int argc, char **argv)
{
	struct event		*ev_int, *ev_term, *ev_hup;
	struct control_hooks	 hooks = { xfed_status, NULL };
	struct http_hooks	 hhooks = { batch_flush_sync, xfed_committed,
				    metrics_write };
	struct metrics_hooks	 mhooks = { xfed_metrics_streams,
				    xfed_metrics_dns };
	struct timeval		 due_tv = { XFED_DUE_SECS, 0 };
	struct stat		 sb;
	const char		*errstr;
	size_t			 i;
	int			 ch, foreground = 0, debug = 0, test = 0;
	int			 to_stderr, ready_fd = -1;

	for (i = 1; i < (size_t)argc; i++)
		if (strcmp(argv[i], "--help") == 0)
			xfed_usage(stdout, 0);
	while ((ch = getopt(argc, argv, "c:dfhptV")) != -1) {
		switch (ch) {
		case 'c':
			xfed_conf_path = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'h':
			xfed_usage(stdout, 0);
		case 'p':
			conf_print_sample(stdout);
			return 0;
		case 't':
			test = 1;
			break;
		case 'V':
			printf("xfed %s\n", XFED_VERSION);
			return 0;
		default:
			xfed_usage(stderr, 2);
		}
	}
	if (optind != argc)
		xfed_usage(stderr, 2);

	if ((xfed_conf = conf_load(xfed_conf_path, NULL)) == NULL)
		return 1;
	/* the store, its -wal/-shm and the control socket: no access for others */
	umask(xfed_conf->store_group_write ? 007 : 027);
	if (test)
		return xfed_test();
	to_stderr = log_init(foreground || debug, debug ? LOG_L_DEBUG :
	    xfed_conf->log_level);
	log_set_stanzas(xfed_conf->log_stanzas);
	signal(SIGPIPE, SIG_IGN);
	if (!foreground && !debug)
		ready_fd = xfed_daemonize(to_stderr);
	atexit(xfed_unstart);

	if ((xfed_base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	ev_int = evsignal_new(xfed_base, SIGINT, xfed_signal, NULL);
	ev_term = evsignal_new(xfed_base, SIGTERM, xfed_signal, NULL);
	ev_hup = evsignal_new(xfed_base, SIGHUP, xfed_signal, NULL);
	evsignal_add(ev_int, NULL);
	evsignal_add(ev_term, NULL);
	evsignal_add(ev_hup, NULL);

	server = &xfed_server;
	server->base = xfed_base;
	server->conf = xfed_conf;
	server->started = time(NULL);
	log_info("xfed %s starting for %s%s", XFED_VERSION,
	    CONF_DOMAIN(xfed_conf, 0), xfed_conf->domains.n > 1 ? " and more" : "");
	xfed_fd_limit(xfed_conf);
	/* what can fail without touching the disk comes before the store */
	server->tls = xfed_tls(xfed_conf);
	if ((xfed_conf->tls_certificate != NULL || xfed_conf->tls_domains.n) &&
	    server->tls == NULL)
		fatalx("cannot load the TLS certificates");
	if ((xfed_dns = dns_new(xfed_base, xfed_conf->resolvers.v,
	    xfed_conf->resolvers.n, &errstr)) == NULL)
		fatalx("resolver: %s", errstr);
	xfed_listen();
	/* the control socket first: it finds another xfed already running */
	if (control_listen(xfed_base, xfed_conf->control_socket, &hooks) == -1)
		fatalx("cannot open the control socket");
	if (http_init(xfed_base, xfed_conf, server->tls, &hhooks) == -1)
		fatalx("cannot open the HTTP API's listeners");
	/* every socket is bound; what fails from here on removes a store
	 * this start made (xfed_unstart); a symbolic link there, even to
	 * nothing, is not this start's (store_open refuses a dangling one) */
	xfed_store_new = lstat(xfed_conf->store, &sb) == -1 &&
	    errno == ENOENT;
	if ((server->store = store_open(xfed_conf->store,
	    xfed_store_flags(xfed_conf) | STORE_OPEN_LOCK, &errstr)) == NULL)
		fatalx("%s", errstr);
	batch_init(xfed_committed);
	if (store_checkpoint_start(server->store) == -1)
		log_warnx("store: %s; checkpoints stay in the event loop",
		    store_errstr(server->store));
	xfed_secret();
	lease_init();
	s2s_out_set_dns(xfed_dns);
	xfed_s2s_init();
	outbox_init();
	presence_init();
	metrics_init(&mhooks);
	if (webhook_init(xfed_base, xfed_conf) == -1)
		fatalx("cannot start the webhooks");
	xfed_events_journal(xfed_conf);	/* after webhooks: their readers */
	/* retention of the journal at start too, then every minute */
	xfed_events_prune();
	if (store_flush(server->store) == -1)
		log_warnx("store: %s", store_errstr(server->store));
	block_load_rules();
	block_load_users(NULL);
	retention_init();
	xfed_due_ev = event_new(xfed_base, -1, EV_PERSIST, xfed_due, NULL);
	evtimer_add(xfed_due_ev, &due_tv);
	xfed_poll(-1, 0, NULL);		/* and xfed_watch() */
	outbox_kick();
	/* listeners, store and control socket are up (Type=notify) */
	xfed_up = 1;
	log_info("xfed ready: listeners, store and control socket up");
	sdnotify("READY=1");
	xfed_ready(ready_fd);
	event_base_dispatch(xfed_base);

	/* let the streams' goodbyes out, bounded, then stop */
	event_free(xfed_poll_ev);
	event_free(xfed_due_ev);
	if (xfed_stop_ev != NULL)
		event_free(xfed_stop_ev);
	if (xfed_accept_ev != NULL)
		event_free(xfed_accept_ev);
	for (i = 0; i < xfed_nlisteners; i++)
		evconnlistener_free(xfed_listeners[i]);
	free(xfed_listeners);
	s2s_mgr_shutdown();
	http_free();
	control_close();
	if (!TAILQ_EMPTY(&s2s_streams)) {
		struct timeval	 tv = { 1, 0 };

		event_base_loopexit(xfed_base, &tv);
		event_base_dispatch(xfed_base);
	}
	/* what is still open (accepted while stopping) closes; one more pass
	 * runs the TLS bufferevents' deferred callbacks, which hold them */
	s2s_stream_close_all("shutdown");
	event_base_loop(xfed_base, EVLOOP_NONBLOCK);
	s2s_stream_free_all();
	lease_free();
	webhook_free();
	dns_free(xfed_dns);
	batch_free();
	outbox_free();
	router_free();
	presence_free();
	block_free();
	quota_free();
	rate_free();
	retention_free();
	s2s_in_refusals_free();
	if (server->tls != NULL)
		tls_ctx_free(server->tls);
	/* nothing accepted is lost on a clean stop: the last batch commits */
	store_close(server->store);
	event_free(ev_int);
	event_free(ev_term);
	event_free(ev_hup);
	event_base_free(xfed_base);
	conf_free(xfed_conf);
	log_info("xfed stopped");
	return 0;
}
