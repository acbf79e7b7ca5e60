/*
 * store/sqlite_notify.c: noticing changes other processes commit (xfedctl,
 * the native system, the sqlite3 shell). Triggers (sqlite_schema.c)
 * journal them in the changes table; PRAGMA data_version tells, without
 * I/O, whether any other connection committed since the last look, so it
 * can be asked often and the journal is read only when something
 * happened. What tells when to ask is sqlite_watch_fd()'s descriptor;
 * acting on a change is the daemon's.
 */
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "sqlite_int.h"
#include "store.h"
#include "xmalloc.h"

int
sqlite_changed(struct store *st)
{
	sqlite3_stmt	*q;
	int64_t		 v;

	if ((q = sqlite_q(st, Q_DATA_VERSION, "PRAGMA data_version")) == NULL ||
	    sqlite_value(st, q, &v, "data_version") == -1)
		return -1;
	if (v == sqlite_st(st)->data_version)
		return 0;
	sqlite_st(st)->data_version = v;
	return 1;
}

/*
 * The watch: one epoll descriptor over a timer and, where it works, inotify
 * on the store's folder. Another process's commit writes the store's -wal
 * (without WAL, the file itself): inotify sees the write, and a poll
 * follows sqlite_watch_us[0] later, instead of up to SQLITE_WATCH_MS. Not
 * at once only: the write comes before the commit is visible (the -shm
 * index, which inotify does not see, is updated after it), so a poll that
 * finds no new commit is tried again, later each time, in case the writer
 * was descheduled in between. Our own commits write there too: while such
 * a series runs inotify is out of the epoll set (the kernel merges the
 * repeated events meanwhile), so a busy daemon costs one read and a few
 * polls per series, not a wakeup per commit. Between series the timer
 * ticks every SQLITE_WATCH_MS, for what inotify misses (a network file
 * system).
 */
#define SQLITE_WATCH_MS	50
static const long sqlite_watch_us[] = { 250, 1000, 3000, 8000, 20000 };
#define SQLITE_WATCH_TRIES (sizeof(sqlite_watch_us) / sizeof(sqlite_watch_us[0]))

struct sqlite_watch {
	int	 epfd, tfd, ifd;	/* ifd -1 without inotify */
	char	*name;			/* the store's file name */
	size_t	 try;			/* in a series: its poll; else TRIES */
};

static void
sqlite_watch_timer(struct sqlite_watch *w, long us, int repeat)
{
	struct itimerspec	 its;

	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = us / 1000000;
	its.it_value.tv_nsec = us % 1000000 * 1000;
	if (repeat)
		its.it_interval = its.it_value;
	timerfd_settime(w->tfd, 0, &its, NULL);
}

static int
sqlite_watch_add(struct sqlite_watch *w, int fd)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* inotify on the store's folder; without it the timer alone. */
static void
sqlite_watch_inotify(struct store *st, struct sqlite_watch *w)
{
	const char	*path = st->location, *slash = strrchr(path, '/');
	char		*dir;

	if ((w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		log_info("store: inotify: %s; outside changes polled every "
		    "%d ms", strerror(errno), SQLITE_WATCH_MS);
		return;
	}
	dir = slash == NULL ? xstrdup(".") : slash == path ? xstrdup("/") :
	    xstrndup(path, (size_t)(slash - path));
	w->name = xstrdup(slash == NULL ? path : slash + 1);
	if (inotify_add_watch(w->ifd, dir, IN_MODIFY | IN_CREATE |
	    IN_MOVED_TO) == -1 || sqlite_watch_add(w, w->ifd) == -1) {
		log_info("store: inotify on %s: %s; outside changes polled "
		    "every %d ms", dir, strerror(errno), SQLITE_WATCH_MS);
		close(w->ifd);
		w->ifd = -1;
	}
	free(dir);
}

/* The descriptor is made at the first call, kept until close. */
int
sqlite_watch_fd(struct store *st)
{
	struct sqlite_store	*sl = sqlite_st(st);
	struct sqlite_watch	*w;

	if (sl->watch != NULL)
		return sl->watch->epfd;
	if (sl->watch_failed)
		return -1;
	w = xcalloc(1, sizeof(*w));
	w->ifd = w->tfd = -1;
	w->try = SQLITE_WATCH_TRIES;
	sl->watch = w;
	if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
	    TFD_CLOEXEC)) == -1 || sqlite_watch_add(w, w->tfd) == -1) {
		log_info("store: change watch: %s; the caller polls",
		    strerror(errno));
		sqlite_watch_free(st);
		sl->watch_failed = 1;
		return -1;
	}
	sqlite_watch_timer(w, SQLITE_WATCH_MS * 1000L, 1);
	sqlite_watch_inotify(st, w);
	return w->epfd;
}

void
sqlite_watch_free(struct store *st)
{
	struct sqlite_watch	*w = sqlite_st(st)->watch;

	if (w == NULL)
		return;
	if (w->ifd != -1)
		close(w->ifd);
	if (w->tfd != -1)
		close(w->tfd);
	if (w->epfd != -1)
		close(w->epfd);
	free(w->name);
	free(w);
	sqlite_st(st)->watch = NULL;
}

/* Whether an inotify name is the store's file, its -wal or its -journal. */
static int
sqlite_watch_match(const struct sqlite_watch *w, const char *name)
{
	size_t	 n = strlen(w->name);

	return strncmp(name, w->name, n) == 0 && (name[n] == '\0' ||
	    strcmp(name + n, "-wal") == 0 || strcmp(name + n, "-journal") == 0);
}

/* What made the descriptor readable: bit 1 the timer, bit 2 a write to
 * the store's files (read only outside a series). */
static int
sqlite_watch_read(struct sqlite_watch *w)
{
	char			 buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ie;
	uint64_t		 ticks;
	ssize_t			 n, off;
	int			 what = 0;

	if (read(w->tfd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks))
		what |= 1;
	if (w->ifd == -1 || w->try < SQLITE_WATCH_TRIES)
		return what;
	while ((n = read(w->ifd, buf, sizeof(buf))) > 0)
		for (off = 0; off < n; off += sizeof(*ie) + ie->len) {
			ie = (const struct inotify_event *)(buf + off);
			if ((ie->mask & IN_Q_OVERFLOW) ||
			    (ie->len > 0 && sqlite_watch_match(w, ie->name)))
				what |= 2;
		}
	return what;
}

/* After a poll that did (changed) or did not see another's commit. */
static void
sqlite_watch_next(struct sqlite_watch *w, int what, int changed)
{
	if (w->try < SQLITE_WATCH_TRIES) {
		if (!(what & 1))	/* not the series' timer: a caller's */
			return;
		if (!changed && ++w->try < SQLITE_WATCH_TRIES) {
			sqlite_watch_timer(w, sqlite_watch_us[w->try], 0);
			return;
		}
		/* writes meanwhile make inotify readable: a new series */
		w->try = SQLITE_WATCH_TRIES;
		sqlite_watch_add(w, w->ifd);
		sqlite_watch_timer(w, SQLITE_WATCH_MS * 1000L, 1);
	} else if ((what & 2) && !changed) {
		w->try = 0;
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->ifd, NULL);
		sqlite_watch_timer(w, sqlite_watch_us[0], 0);
	}
}

/* At open: later polls report what happens from now on. */
int
sqlite_notify_init(struct store *st)
{
	sqlite3_stmt	*q;

	if (sqlite_changed(st) == -1 || (q = sqlite_q(st, Q_CHANGES_MAX,
	    "SELECT coalesce(max(seq), 0) FROM changes")) == NULL)
		return -1;
	return sqlite_value(st, q, &sqlite_st(st)->last_seq, "changes");
}

struct store_change_ctx {
	struct store	*st;
	store_change_cb	 cb;
	void		*arg;
};

static int
store_change_one(sqlite3_stmt *q, void *arg)
{
	struct store_change_ctx	*cx = arg;
	struct store_change	 c;
	const char		*tbl = STORE_COL_TEXT(q, 1);
	const char		*op = STORE_COL_TEXT(q, 3);

	memset(&c, 0, sizeof(c));
	c.seq = sqlite3_column_int64(q, 0);
	sqlite_st(cx->st)->last_seq = c.seq;
	if (tbl == NULL || op == NULL)
		return 0;
	if (strcmp(tbl, "users") == 0)
		c.table = STORE_T_USERS;
	else if (strcmp(tbl, "presence") == 0)
		c.table = STORE_T_PRESENCE;
	else if (strcmp(tbl, "outbox") == 0)
		c.table = STORE_T_OUTBOX;
	else if (strcmp(tbl, "domain_rules") == 0)
		c.table = STORE_T_DOMAIN_RULES;
	else if (strcmp(tbl, "blocks") == 0)
		c.table = STORE_T_BLOCKS;
	else
		return 0;
	c.row_id = sqlite3_column_int64(q, 2);
	c.deleted = strcmp(op, "delete") == 0;
	c.at = sqlite3_column_int64(q, 4);
	cx->cb(cx->arg, &c);
	return 0;
}

int
sqlite_changes_poll(struct store *st, store_change_cb cb, void *arg)
{
	struct store_change_ctx	 cx = { st, cb, arg };
	struct sqlite_watch	*w = sqlite_st(st)->watch;
	sqlite3_stmt		*q;
	int			 what = 0, rc, n;

	if (w != NULL)
		what = sqlite_watch_read(w);
	rc = sqlite_changed(st);
	if (w != NULL)
		sqlite_watch_next(w, what, rc != 0);
	if (rc <= 0)
		return rc;
	if ((q = sqlite_q(st, Q_CHANGES_AFTER, "SELECT seq, tbl, row_id, op, "
	    "at FROM changes WHERE seq > ?1 ORDER BY seq")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, sqlite_st(st)->last_seq);
	if (sqlite_rows(st, q, store_change_one, &cx, &n, "changes") == -1)
		return -1;
	return n;
}

int
sqlite_changes_prune(struct store *st, int64_t before, int limit, int64_t *np)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_CHANGES_PRUNE,
	    "DELETE FROM changes WHERE seq IN (SELECT seq FROM changes "
	    "WHERE seq <= ?1 AND at < ?2 ORDER BY seq LIMIT ?3)")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, sqlite_st(st)->last_seq);
	sqlite3_bind_int64(q, 2, before);
	sqlite3_bind_int(q, 3, limit);
	return sqlite_wcount(st, q, np, "changes prune");
}
