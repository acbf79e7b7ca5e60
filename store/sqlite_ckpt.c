/*
 * store/sqlite_ckpt.c: WAL checkpoints off the event loop. In WAL mode with
 * synchronous=NORMAL a commit is an append without fsync; the fsyncs all
 * happen when a checkpoint copies the WAL back into the database. SQLite
 * runs those inside the commit that crosses wal_autocheckpoint, which would
 * stall the daemon's loop for tens of milliseconds at a time. Here the
 * daemon's connection stops checkpointing, its WAL hook wakes a thread, and
 * the thread checkpoints (PASSIVE: never waiting for the writer) on a
 * connection of its own. xfedctl and other processes keep SQLite's default.
 */
#include <pthread.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "log.h"
#include "sqlite_int.h"
#include "store.h"
#include "xmalloc.h"

#define CKPT_PAGES	1000	/* wake the thread past this many WAL pages */
#define CKPT_HARD_PAGES	262144	/* ~1 GiB: the thread cannot keep up */

struct store_ckpt {
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 wake;
	sqlite3		*db;		/* the thread's own connection */
	int		 pending;	/* a checkpoint is asked for */
	int		 stop;
};

static void *
store_ckpt_main(void *arg)
{
	struct store_ckpt	*c = arg;
	int			 rc, nlog, nckpt;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->pending && !c->stop)
			pthread_cond_wait(&c->wake, &c->lock);
		if (c->stop)
			break;
		c->pending = 0;
		pthread_mutex_unlock(&c->lock);
		rc = sqlite3_wal_checkpoint_v2(c->db, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, &nlog, &nckpt);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			log_warnx("store: checkpoint: %s", sqlite3_errmsg(c->db));
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* Runs in the daemon's thread after each commit (sqlite3_wal_hook). */
static int
store_ckpt_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store_ckpt	*c = arg;

	if (pages >= CKPT_HARD_PAGES) {
		/* the writer outruns the thread: pay for it here, once */
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
		    NULL, NULL);
		return SQLITE_OK;
	}
	if (pages >= CKPT_PAGES) {
		pthread_mutex_lock(&c->lock);
		c->pending = 1;
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->lock);
	}
	return SQLITE_OK;
}

int
sqlite_checkpoint_start(struct store *st)
{
	struct store_ckpt	*c;

	if (sqlite_st(st)->ckpt != NULL)
		return 0;
	c = xcalloc(1, sizeof(*c));
	if (sqlite3_open_v2(st->location, &c->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		store_fail(st, STORE_E_DB, "%s: checkpoint connection: %s",
		    st->location, sqlite3_errmsg(c->db));
		sqlite3_close(c->db);
		free(c);
		return -1;
	}
	sqlite3_busy_timeout(c->db, STORE_BUSY_TIMEOUT_MS);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	if (pthread_create(&c->thread, NULL, store_ckpt_main, c) != 0) {
		sqlite3_close(c->db);
		pthread_mutex_destroy(&c->lock);
		pthread_cond_destroy(&c->wake);
		free(c);
		return store_fail(st, STORE_E_DB, "cannot start the checkpoint "
		    "thread");
	}
	sqlite_st(st)->ckpt = c;
	/* the hook replaces SQLite's automatic checkpoints on this connection */
	sqlite3_wal_hook(sqlite_db(st), store_ckpt_hook, c);
	return 0;
}

void
sqlite_checkpoint_stop(struct store *st)
{
	struct store_ckpt	*c = sqlite_st(st)->ckpt;

	if (c == NULL)
		return;
	sqlite3_wal_hook(sqlite_db(st), NULL, NULL);
	sqlite3_wal_autocheckpoint(sqlite_db(st), 1000);
	pthread_mutex_lock(&c->lock);
	c->stop = 1;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	sqlite3_close(c->db);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->wake);
	free(c);
	sqlite_st(st)->ckpt = NULL;
}
