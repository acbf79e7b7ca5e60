/*
 * store/sqlite_block.c: domain rules (remote domains blocked or allowed)
 * and per-user blocks (XEP-0191), on SQLite. Both tables are journaled
 * by triggers (schema.c), so the daemon learns of every change; what a
 * rule or a block means for a stanza is server/block.c's business.
 */
#include <string.h>

#include <sqlite3.h>

#include "sqlite_int.h"
#include "store.h"

int
sqlite_domain_rule_set(struct store *st, const char *domain,
    enum store_rule action)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_RULE_SET,
	    "INSERT INTO domain_rules (domain, action, created) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT (domain) DO UPDATE SET "
	    "action = excluded.action WHERE action <> excluded.action")) ==
	    NULL)
		return -1;
	sqlite3_bind_text(q, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, store_rule_name(action), -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, store_now());
	return sqlite_wstep(st, q, "domain rule set");
}

int
sqlite_domain_rule_del(struct store *st, const char *domain)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_RULE_DEL,
	    "DELETE FROM domain_rules WHERE domain = ?1")) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, domain, -1, SQLITE_STATIC);
	return sqlite_wchange(st, q, NULL, "domain rule del",
	    "no rule for %s", domain);
}

struct store_rule_ctx {
	store_domain_rule_cb	 cb;
	void			*arg;
};

static int
store_rule_one(sqlite3_stmt *q, void *arg)
{
	struct store_rule_ctx		*cx = arg;
	struct store_domain_rule	 r;

	memset(&r, 0, sizeof(r));
	r.domain = STORE_COL_TEXT(q, 0);
	if (r.domain == NULL ||
	    store_rule_parse(STORE_COL_TEXT(q, 1), &r.action) == -1)
		return 0;
	r.created = sqlite3_column_int64(q, 2);
	return cx->cb(cx->arg, &r);
}

int
sqlite_domain_rule_list(struct store *st, store_domain_rule_cb cb, void *arg)
{
	struct store_rule_ctx	 cx = { cb, arg };
	sqlite3_stmt		*q;

	if ((q = sqlite_q(st, Q_RULE_LIST, "SELECT domain, action, created "
	    "FROM domain_rules ORDER BY domain")) == NULL)
		return -1;
	return sqlite_rows(st, q, store_rule_one, &cx, NULL, "domain rules");
}

int
sqlite_block_add(struct store *st, const char *local, const char *domain,
    const char *jid)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_BLOCK_ADD,
	    "INSERT INTO blocks (user_id, jid, created) SELECT id, ?3, ?4 "
	    "FROM users WHERE domain = ?2 AND localpart = ?1")) == NULL)
		return -1;
	sqlite_bind_user(q, local, domain);
	sqlite3_bind_text(q, 3, jid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, store_now());
	return sqlite_wchange(st, q, NULL, "block add", "no user %s@%s", local,
	    domain);
}

int
sqlite_block_del(struct store *st, const char *local, const char *domain,
    const char *jid)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_BLOCK_DEL,
	    "DELETE FROM blocks WHERE jid = ?3 AND user_id = (SELECT id "
	    "FROM users WHERE domain = ?2 AND localpart = ?1)")) == NULL)
		return -1;
	sqlite_bind_user(q, local, domain);
	sqlite3_bind_text(q, 3, jid, -1, SQLITE_STATIC);
	return sqlite_wchange(st, q, NULL, "block del",
	    "%s@%s does not block %s", local, domain, jid);
}

struct store_block_ctx {
	store_block_cb	 cb;
	void		*arg;
};

static int
store_block_one(sqlite3_stmt *q, void *arg)
{
	struct store_block_ctx	*cx = arg;
	struct store_block	 b;

	memset(&b, 0, sizeof(b));
	b.local = STORE_COL_TEXT(q, 0);
	b.domain = STORE_COL_TEXT(q, 1);
	b.jid = STORE_COL_TEXT(q, 2);
	b.created = sqlite3_column_int64(q, 3);
	if (b.local == NULL || b.domain == NULL || b.jid == NULL)
		return 0;
	return cx->cb(cx->arg, &b);
}

#define BLOCK_SELECT \
	"SELECT u.localpart, u.domain, b.jid, b.created FROM blocks b " \
	"JOIN users u ON u.id = b.user_id "

int
sqlite_block_list(struct store *st, const char *local, const char *domain,
    store_block_cb cb, void *arg)
{
	struct store_block_ctx	 cx = { cb, arg };
	sqlite3_stmt		*q;

	if (local != NULL)
		q = sqlite_q(st, Q_BLOCK_LIST_USER, BLOCK_SELECT
		    "WHERE u.domain = ?2 AND u.localpart = ?1 ORDER BY b.jid");
	else
		q = sqlite_q(st, Q_BLOCK_LIST, BLOCK_SELECT
		    "ORDER BY u.domain, u.localpart, b.jid");
	if (q == NULL)
		return -1;
	if (local != NULL)
		sqlite_bind_user(q, local, domain);
	return sqlite_rows(st, q, store_block_one, &cx, NULL, "blocks");
}
