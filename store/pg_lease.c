/*
 * store/pg_lease.c: instances and leases on PostgreSQL, where several
 * daemons share one database. Times are the database's clock
 * (PG_DBNOW), so hosts whose clocks differ agree on when a lease
 * expires.
 *
 * A claim inserts the leases of pairs that have none (ON CONFLICT DO
 * NOTHING: of two instances inserting one pair, the second waits for
 * the first's commit and then leaves it) and takes over the expired ones
 * with FOR UPDATE SKIP LOCKED, so that an instance never waits for
 * another's lock on a lease that instance is taking.
 *
 * A lease another instance held is taken over only PG_LEASE_GRACE after
 * its expiry: its holder stops sending at the expiry (server/lease.c),
 * and what it wrote before has that long to reach the peer, so that the
 * new holder's rows follow the old holder's (store.h).
 */
#include "config.h"

#ifdef HAVE_LIBPQ

#include <string.h>

#include <libpq-fe.h>

#include "pg_int.h"
#include "pg_store.h"
#include "store.h"

#define PG_LEASE_GRACE(ttl)	((ttl) / 2 > 0 ? (ttl) / 2 : 1)

/*
 * The (remote domain, local domain) pairs of the due queued rows; $1 is
 * now (the outbox's times are the writers' clocks). A loose index scan:
 * each step takes the next (remote domain, user) of index outbox_pair
 * after the last one, so a pass costs one index descent per pair of a
 * remote domain and a sending user, not a read of every queued row
 * (rows not due yet are skipped inside a step).
 */
#define PG_PAIR_NEXT(cond) \
	"(SELECT " PG_TO_DOMAIN_COL " AS remote, user_id AS uid " \
	"FROM outbox WHERE state = 'queued' AND next_attempt <= $1" cond \
	" ORDER BY " PG_TO_DOMAIN_COL ", user_id LIMIT 1)"
#define PG_DUE_PAIRS \
	"WITH RECURSIVE p (remote, uid) AS (" PG_PAIR_NEXT("") \
	" UNION ALL SELECT n.remote, n.uid FROM p, LATERAL " \
	PG_PAIR_NEXT(" AND (" PG_TO_DOMAIN_COL ", user_id) > " \
	"(p.remote, p.uid)") " n) " \
	"SELECT DISTINCT p.remote, u.domain AS local " \
	"FROM p JOIN users u ON u.id = p.uid"

int
pg_state_init(struct store *st, const char *key, const char *value,
    char **valuep)
{
	struct pg_params p = { 0 };

	pgp_text(&p, key);
	pgp_text(&p, value);
	pgp_int(&p, pg_now());
	if (pg_write(PG(st), PQ_STATE_INIT, "INSERT INTO s2s_state "
	    "(key, value, updated) VALUES ($1, $2, $3) ON CONFLICT (key) "
	    "DO NOTHING", &p, NULL, "state init") == -1)
		return -1;
	return pg_state_get(st, key, valuep);
}

int
pg_instance_beat(struct store *st, const char *name, int64_t started)
{
	struct pg_params p = { 0 };

	pgp_text(&p, name);
	pgp_int(&p, started);
	return pg_write(PG(st), PQ_INSTANCE_BEAT, "INSERT INTO instances "
	    "(name, started, heartbeat) VALUES ($1, $2, " PG_DBNOW ") "
	    "ON CONFLICT (name) DO UPDATE SET started = excluded.started, "
	    "heartbeat = excluded.heartbeat", &p, NULL, "instance beat");
}

int
pg_instance_del(struct store *st, const char *name)
{
	struct pg_params p = { 0 };

	pgp_text(&p, name);
	return pg_write(PG(st), PQ_INSTANCE_DEL,
	    "DELETE FROM instances WHERE name = $1", &p, NULL, "instance del");
}

struct pg_instance_ctx {
	store_instance_cb	 cb;
	void			*arg;
};

static int
pg_instance_one(PGresult *r, int i, void *arg)
{
	struct pg_instance_ctx	*cx = arg;
	struct store_instance	 in;

	in.name = pg_col(r, i, 0);
	in.started = pg_int(r, i, 1);
	in.heartbeat = pg_int(r, i, 2);
	return cx->cb(cx->arg, &in);
}

int
pg_instance_list(struct store *st, store_instance_cb cb, void *arg)
{
	struct pg_instance_ctx cx = { cb, arg };
	struct pg_params p = { 0 };
	PGresult	*r;

	if ((r = pg_read(PG(st), PQ_INSTANCE_LIST, "SELECT name, started, "
	    "heartbeat FROM instances ORDER BY name", &p, "instances")) == NULL)
		return -1;
	return pg_rows(PG(st), r, pg_instance_one, &cx, NULL);
}

int
pg_lease_claim(struct store *st, const char *holder, int ttl, int64_t *np)
{
	struct pg_params p = { 0 };
	int64_t		 wanted, n;

	if (np != NULL)
		*np = 0;
	pgp_int(&p, pg_now());
	pgp_text(&p, holder);
	pgp_int(&p, PG_LEASE_GRACE(ttl));
	/* a read first: no write, so no batch, when nothing is free */
	if (pg_value(PG(st), PQ_LEASE_WANTED, "SELECT EXISTS (SELECT 1 FROM ("
	    PG_DUE_PAIRS ") d WHERE NOT EXISTS (SELECT 1 FROM leases l WHERE "
	    "l.remote_domain = d.remote AND l.local_domain = d.local AND "
	    "(l.holder = $2 OR l.expiry >= " PG_DBNOW " - $3::bigint)))::int",
	    &p, &wanted, "lease claim") == -1)
		return -1;
	if (!wanted)
		return 0;
	pgp_int(&p, ttl);
	if (pg_write_id(PG(st), PQ_LEASE_CLAIM, "WITH due AS (" PG_DUE_PAIRS
	    "), "
	    "gone AS (SELECT l.remote_domain, l.local_domain FROM leases l "
	    "JOIN due ON l.remote_domain = due.remote AND "
	    "l.local_domain = due.local WHERE l.expiry < " PG_DBNOW " - "
	    "$3::bigint FOR UPDATE OF l SKIP LOCKED), "
	    "taken AS (UPDATE leases l SET holder = $2, expiry = " PG_DBNOW
	    " + $4 FROM gone WHERE l.remote_domain = gone.remote_domain AND "
	    "l.local_domain = gone.local_domain RETURNING 1), "
	    "added AS (INSERT INTO leases (remote_domain, local_domain, "
	    "holder, expiry) SELECT remote, local, $2, " PG_DBNOW " + $4 "
	    "FROM due ON CONFLICT DO NOTHING RETURNING 1) "
	    "SELECT (SELECT count(*) FROM taken) + (SELECT count(*) FROM added)",
	    &p, NULL, &n, "lease claim") == -1)
		return -1;
	if (np != NULL)
		*np = n;
	return 0;
}

int
pg_lease_take(struct store *st, const char *holder, const char *local,
    const char *remote, int ttl, int *heldp)
{
	struct pg_params p = { 0 };
	int64_t		 n;

	*heldp = 0;
	pgp_text(&p, holder);
	pgp_text(&p, local);
	pgp_text(&p, remote);
	pgp_int(&p, ttl);
	pgp_int(&p, PG_LEASE_GRACE(ttl));
	if (pg_write(PG(st), PQ_LEASE_TAKE, "INSERT INTO leases "
	    "(remote_domain, local_domain, holder, expiry) "
	    "VALUES ($3, $2, $1, " PG_DBNOW " + $4) "
	    "ON CONFLICT (remote_domain, local_domain) DO UPDATE SET "
	    "holder = excluded.holder, expiry = excluded.expiry "
	    "WHERE leases.holder = excluded.holder OR leases.expiry < "
	    PG_DBNOW " - $5::bigint", &p, &n, "lease take") == -1)
		return -1;
	*heldp = n > 0;
	return 0;
}

int
pg_lease_renew(struct store *st, const char *holder, int ttl, int64_t *np)
{
	struct pg_params p = { 0 };

	pgp_text(&p, holder);
	pgp_int(&p, ttl);
	return pg_write(PG(st), PQ_LEASE_RENEW, "UPDATE leases SET expiry = "
	    PG_DBNOW " + $2 WHERE holder = $1", &p, np, "lease renew");
}

int
pg_lease_release(struct store *st, const char *holder)
{
	struct pg_params p = { 0 };

	pgp_text(&p, holder);
	return pg_write(PG(st), PQ_LEASE_RELEASE,
	    "DELETE FROM leases WHERE holder = $1", &p, NULL, "lease release");
}

struct pg_lease_ctx {
	store_lease_cb	 cb;
	void		*arg;
};

static int
pg_lease_one(PGresult *r, int i, void *arg)
{
	struct pg_lease_ctx	*cx = arg;
	struct store_lease	 l;

	l.remote = pg_col(r, i, 0);
	l.local = pg_col(r, i, 1);
	l.holder = pg_col(r, i, 2);
	l.expiry = pg_int(r, i, 3);
	return cx->cb(cx->arg, &l);
}

int
pg_lease_list(struct store *st, const char *holder, store_lease_cb cb,
    void *arg)
{
	struct pg_lease_ctx cx = { cb, arg };
	struct pg_params p = { 0 };
	PGresult	*r;

	pgp_text(&p, holder);
	if ((r = pg_read(PG(st), PQ_LEASE_LIST, "SELECT remote_domain, "
	    "local_domain, holder, expiry FROM leases WHERE $1::text IS NULL "
	    "OR holder = $1 ORDER BY remote_domain, local_domain", &p,
	    "leases")) == NULL)
		return -1;
	return pg_rows(PG(st), r, pg_lease_one, &cx, NULL);
}

#endif /* HAVE_LIBPQ */
