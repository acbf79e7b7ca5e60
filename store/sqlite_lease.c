/*
 * store/sqlite_lease.c: instances and leases on SQLite. A SQLite store
 * has one daemon (sqlite_lock.c), so that daemon holds every lease: a
 * claim takes each pair with due rows whoever held it before (an earlier
 * run under another name), and the rows are written only so that
 * `xfedctl peers` and `status` show the same as on PostgreSQL.
 */
#include <string.h>

#include <sqlite3.h>

#include "sqlite_int.h"
#include "store.h"

/*
 * The (remote domain, local domain) pairs of the due queued rows: the
 * domain of to_jid is what lies before any '/' and after any '@', in
 * lower case without a trailing dot (as lease.c names it). ?1 is now.
 */
#define DUE_PAIRS \
	"SELECT DISTINCT lower(rtrim(substr(j, instr(j, '@') + 1), '.')) " \
	"AS remote, " \
	"u.domain AS local FROM (SELECT user_id, CASE WHEN " \
	"instr(to_jid, '/') > 0 THEN substr(to_jid, 1, instr(to_jid, '/') - 1) " \
	"ELSE to_jid END AS j FROM outbox WHERE state = 'queued' AND " \
	"next_attempt <= ?1) b JOIN users u ON u.id = b.user_id"

int
sqlite_state_init(struct store *st, const char *key, const char *value,
    char **valuep)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_STATE_INIT,
	    "INSERT INTO s2s_state (key, value, updated) VALUES (?1, ?2, ?3) "
	    "ON CONFLICT (key) DO NOTHING")) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, store_now());
	if (sqlite_wstep(st, q, "state init") == -1)
		return -1;
	return sqlite_state_get(st, key, valuep);
}

int
sqlite_instance_beat(struct store *st, const char *name, int64_t started)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_INSTANCE_BEAT,
	    "INSERT INTO instances (name, started, heartbeat) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE SET "
	    "started = excluded.started, heartbeat = excluded.heartbeat")) ==
	    NULL)
		return -1;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, started);
	sqlite3_bind_int64(q, 3, store_now());
	return sqlite_wstep(st, q, "instance beat");
}

int
sqlite_instance_del(struct store *st, const char *name)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_INSTANCE_DEL,
	    "DELETE FROM instances WHERE name = ?1")) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	return sqlite_wstep(st, q, "instance del");
}

struct instance_ctx {
	store_instance_cb	 cb;
	void			*arg;
};

static int
instance_one(sqlite3_stmt *q, void *arg)
{
	struct instance_ctx	*cx = arg;
	struct store_instance	 i;

	i.name = STORE_COL_TEXT(q, 0);
	i.started = sqlite3_column_int64(q, 1);
	i.heartbeat = sqlite3_column_int64(q, 2);
	return cx->cb(cx->arg, &i);
}

int
sqlite_instance_list(struct store *st, store_instance_cb cb, void *arg)
{
	struct instance_ctx	 cx = { cb, arg };
	sqlite3_stmt		*q;

	if ((q = sqlite_q(st, Q_INSTANCE_LIST, "SELECT name, started, "
	    "heartbeat FROM instances ORDER BY name")) == NULL)
		return -1;
	return sqlite_rows(st, q, instance_one, &cx, NULL, "instances");
}

int
sqlite_lease_claim(struct store *st, const char *holder, int ttl,
    int64_t *np)
{
	sqlite3_stmt	*q;
	int64_t		 now = store_now(), wanted;

	if (np != NULL)
		*np = 0;
	/* a read first: no write, so no batch, when all are held */
	if ((q = sqlite_q(st, Q_LEASE_WANTED, "SELECT EXISTS (SELECT 1 FROM ("
	    DUE_PAIRS ") p WHERE NOT EXISTS (SELECT 1 FROM leases l WHERE "
	    "l.remote_domain = p.remote AND l.local_domain = p.local AND "
	    "l.holder = ?2))")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_text(q, 2, holder, -1, SQLITE_STATIC);
	if (sqlite_value(st, q, &wanted, "lease claim") == -1)
		return -1;
	if (!wanted)
		return 0;
	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_LEASE_CLAIM,
	    "INSERT INTO leases (remote_domain, local_domain, holder, expiry) "
	    "SELECT remote, local, ?2, ?1 + ?3 FROM (" DUE_PAIRS ") WHERE 1 "
	    "ON CONFLICT (remote_domain, local_domain) DO UPDATE SET "
	    "holder = excluded.holder, expiry = excluded.expiry "
	    "WHERE holder <> excluded.holder")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_text(q, 2, holder, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, ttl);
	return sqlite_wcount(st, q, np, "lease claim");
}

int
sqlite_lease_take(struct store *st, const char *holder, const char *local,
    const char *remote, int ttl, int *heldp)
{
	sqlite3_stmt	*q;

	/*
	 * One daemon per SQLite store (STORE_OPEN_LOCK): it holds every
	 * lease, whether or not its row can be written now (another writer
	 * holding the file, a full disk); the row only tells xfedctl peers,
	 * and lease_claim() writes it again later.
	 */
	*heldp = 1;
	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_LEASE_TAKE,
	    "INSERT INTO leases (remote_domain, local_domain, holder, expiry) "
	    "VALUES (?3, ?2, ?1, ?4) "
	    "ON CONFLICT (remote_domain, local_domain) DO UPDATE SET "
	    "holder = excluded.holder, expiry = excluded.expiry "
	    "WHERE holder <> excluded.holder")) == NULL)
		return 0;
	sqlite3_bind_text(q, 1, holder, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, local, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, remote, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, store_now() + ttl);
	(void)sqlite_wstep(st, q, "lease take");
	return 0;
}

int
sqlite_lease_renew(struct store *st, const char *holder, int ttl,
    int64_t *np)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_LEASE_RENEW,
	    "UPDATE leases SET expiry = ?2 WHERE holder = ?1")) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, holder, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, store_now() + ttl);
	return sqlite_wcount(st, q, np, "lease renew");
}

int
sqlite_lease_release(struct store *st, const char *holder)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_LEASE_RELEASE,
	    "DELETE FROM leases WHERE holder = ?1")) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, holder, -1, SQLITE_STATIC);
	return sqlite_wstep(st, q, "lease release");
}

struct lease_ctx {
	store_lease_cb	 cb;
	void		*arg;
};

static int
lease_one(sqlite3_stmt *q, void *arg)
{
	struct lease_ctx	*cx = arg;
	struct store_lease	 l;

	l.remote = STORE_COL_TEXT(q, 0);
	l.local = STORE_COL_TEXT(q, 1);
	l.holder = STORE_COL_TEXT(q, 2);
	l.expiry = sqlite3_column_int64(q, 3);
	return cx->cb(cx->arg, &l);
}

int
sqlite_lease_list(struct store *st, const char *holder, store_lease_cb cb,
    void *arg)
{
	struct lease_ctx	 cx = { cb, arg };
	sqlite3_stmt		*q;

	if ((q = sqlite_q(st, Q_LEASE_LIST, "SELECT remote_domain, "
	    "local_domain, holder, expiry FROM leases WHERE ?1 IS NULL OR "
	    "holder = ?1 ORDER BY remote_domain, local_domain")) == NULL)
		return -1;
	if (holder != NULL)
		sqlite3_bind_text(q, 1, holder, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 1);
	return sqlite_rows(st, q, lease_one, &cx, NULL, "leases");
}

/* The only daemon holds every lease: every due row is its own. */
int
sqlite_outbox_due_held(struct store *st, const char *holder, int64_t now,
    size_t limit, store_outbox_cb cb, void *arg)
{
	return sqlite_outbox_due(st, now, limit, cb, arg);
}
