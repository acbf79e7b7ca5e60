/*
 * store/sqlite_schema.c: the SQLite schema, its versions and migrations,
 * and the checks made at open: is it a database, is it ours, is it intact,
 * is it from this version of xfed or an older one. store/CONTRACT.md
 * documents every table and column below; change both together.
 *
 * A version is PRAGMA user_version; PRAGMA application_id marks the file
 * as an xfed store. schema_steps[i] takes a file from version i to i + 1,
 * each in its own transaction, so a file at any earlier version (0 is an
 * empty file) reaches STORE_SCHEMA_VERSION. Never edit a released step:
 * add one.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "sqlite_int.h"
#include "store.h"

#define STORE_APPLICATION_ID	0x78666564	/* "xfed" */

#define NOW	"(CAST(strftime('%s', 'now') AS INTEGER))"
/*
 * Allowed values are checked as c = 'a' OR c = 'b' ..., never c IN ('a',
 * 'b', 'c' ...): in a CHECK, SQLite (3.40) builds a temporary index from
 * an IN list of more than two constants for every row it writes, which
 * halved the inbox's insert rate (make bench). Both forms accept the same
 * values.
 */
#define EQ(c, v)	c " = '" v "'"
#define ONE_OF3(c, a, b, d)	EQ(c, a) " OR " EQ(c, b) " OR " EQ(c, d)
#define ONE_OF4(c, a, b, d, e)	ONE_OF3(c, a, b, d) " OR " EQ(c, e)
#define ONE_OF6(c, a, b, d, e, f, g) \
	ONE_OF4(c, a, b, d, e) " OR " EQ(c, f) " OR " EQ(c, g)
#define SHOWS(c) \
	ONE_OF6(c, "available", "chat", "away", "xa", "dnd", "unavailable")
#define BOOL(c)	c " INTEGER NOT NULL DEFAULT 0 CHECK (" c " IN (0, 1))"
/* Where a subscription row of the outbox row NEW lives. */
#define SUB_ROW	"user_id = NEW.user_id AND jid = NEW.to_jid"
/* A row back at none with nothing pending says nothing: drop it. */
#define SUB_DROP_EMPTY \
	"DELETE FROM subscriptions WHERE " SUB_ROW " AND state = 'none' " \
	"AND pending_in = 0 AND pending_out = 0 AND preapproved = 0;"
#define SUB_ENSURE \
	"INSERT INTO subscriptions (user_id, jid, updated) " \
	"SELECT NEW.user_id, NEW.to_jid, NEW.created WHERE NOT EXISTS " \
	"(SELECT 1 FROM subscriptions WHERE " SUB_ROW ");"
#define OUT_DONE_UNLESS(cond) \
	"UPDATE outbox SET state = 'done', updated = NEW.created " \
	"WHERE id = NEW.id AND NOT EXISTS (SELECT 1 FROM subscriptions " \
	"WHERE " SUB_ROW " AND (" cond "));"

/*
 * The outbox table under name, with the CHECKs on state and error_stage
 * of its version.
 */
#define OUTBOX_TABLE(name, states, stages) \
	OUTBOX_TABLE_X(name, states, stages, "")
/* ... with more columns (extra, each ending in a comma). */
#define OUTBOX_TABLE_X(name, states, stages, extra) \
	"CREATE TABLE " name " (" \
	" id INTEGER PRIMARY KEY," \
	" user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE," \
	" kind TEXT NOT NULL DEFAULT 'message' CHECK (" ONE_OF6("kind", \
	"message", "subscribe", "subscribed", "unsubscribe", "unsubscribed", \
	"presence") ")," \
	" to_jid TEXT NOT NULL CHECK (length(to_jid) BETWEEN 3 AND 3071)," \
	" type TEXT," \
	" stanza_id TEXT," \
	" body TEXT," \
	" subject TEXT," \
	" thread TEXT," \
	" state TEXT NOT NULL DEFAULT 'queued'" \
	"  CHECK (" states ")," \
	" attempts INTEGER NOT NULL DEFAULT 0," \
	" next_attempt INTEGER NOT NULL DEFAULT 0," \
	" last_error TEXT," \
	" error_stage TEXT" stages "," \
	" error_xml TEXT," \
	" created INTEGER NOT NULL DEFAULT " NOW "," \
	" updated INTEGER NOT NULL DEFAULT " NOW "," \
	extra \
	" CHECK (kind IN ('message', 'presence') OR instr(to_jid, '/') = 0));"
/* Version 2's error stages: where a row failed (CONTRACT.md). */
#define OUTBOX_STAGES \
	" CHECK (error_stage IS NULL OR " ONE_OF6("error_stage", "dns", \
	"connect", "tls", "dialback", "stream", "timeout") " OR " \
	ONE_OF4("error_stage", "backoff", "remote", "address", "payload") \
	" OR " EQ("error_stage", "shutdown") ")"
/* Version 5 adds 'blocked' (the domain is refused, or the user blocks
 * the JID). */
#define OUTBOX_STAGES_V5 \
	" CHECK (error_stage IS NULL OR " ONE_OF6("error_stage", "dns", \
	"connect", "tls", "dialback", "stream", "timeout") " OR " \
	ONE_OF4("error_stage", "backoff", "remote", "address", "payload") \
	" OR " EQ("error_stage", "shutdown") " OR " EQ("error_stage", \
	"blocked") ")"
#define OUTBOX_STAGE_LIST \
	"'dns', 'connect', 'tls', 'dialback', 'stream', 'timeout', " \
	"'backoff', 'remote', 'address', 'payload', 'shutdown'"
/*
 * The outbox's triggers and indexes as version 1 made them; a step that
 * rebuilds the table (which drops them) makes them again from here, so
 * they stay the same text.
 */
/* The webhooks columns of step 3, after id, before created. */
#define WEBHOOK_COLUMNS \
	" url TEXT NOT NULL UNIQUE," \
	" cursor INTEGER NOT NULL DEFAULT 0," \
	" delivered INTEGER NOT NULL DEFAULT 0," \
	" failures INTEGER NOT NULL DEFAULT 0," \
	" last_status INTEGER," \
	" last_error TEXT," \
	" last_attempt INTEGER," \
	" next_attempt INTEGER NOT NULL DEFAULT 0,"

#define OUTBOX_INDEXES \
	"CREATE INDEX outbox_queue ON outbox (next_attempt, id)" \
	" WHERE state = 'queued';" \
	"CREATE INDEX outbox_user ON outbox (user_id, id);"
#define OUTBOX_JOURNAL \
	"CREATE TRIGGER outbox_ins AFTER INSERT ON outbox" \
	" WHEN NEW.state = 'queued' BEGIN" \
	" INSERT INTO changes (tbl, row_id, op) VALUES ('outbox', NEW.id," \
	" 'insert'); END;" \
	"CREATE TRIGGER outbox_requeue AFTER UPDATE OF state ON outbox" \
	" WHEN NEW.state = 'queued' AND OLD.state <> 'queued' BEGIN" \
	" INSERT INTO changes (tbl, row_id, op) VALUES ('outbox', NEW.id," \
	" 'update'); END;"
/*
 * Outbound subscription actions (RFC 6121): inserting the outbox row is
 * the action; these apply it to the subscription row, and mark the row
 * 'done' when nothing is to be sent. They are triggers because a native
 * system inserts outbox rows itself; what they do is the outbound half of
 * subscription.c's table (store_sub_outbound()), and store_test's
 * sub_transitions holds them to it.
 */
#define OUTBOX_SUB_TRIGGERS \
	/* 3.1.2: always routed; pending out unless already subscribed. */ \
	"CREATE TRIGGER outbox_subscribe AFTER INSERT ON outbox" \
	" WHEN NEW.kind = 'subscribe' BEGIN " SUB_ENSURE \
	" UPDATE subscriptions SET pending_out = CASE WHEN state IN" \
	" ('none', 'from') THEN 1 ELSE pending_out END," \
	" updated = NEW.created WHERE " SUB_ROW "; END;" \
	/* 3.1.5 approve a pending request; 3.4 else pre-approve. */ \
	"CREATE TRIGGER outbox_subscribed AFTER INSERT ON outbox" \
	" WHEN NEW.kind = 'subscribed' BEGIN " SUB_ENSURE \
	OUT_DONE_UNLESS("pending_in = 1") \
	" UPDATE subscriptions SET" \
	" preapproved = CASE WHEN pending_in = 0 AND state IN ('none', 'to')" \
	" THEN 1 ELSE 0 END," \
	" state = CASE WHEN pending_in = 0 THEN state WHEN state = 'none'" \
	" THEN 'from' WHEN state = 'to' THEN 'both' ELSE state END," \
	" pending_in = 0, request = NULL, updated = NEW.created" \
	" WHERE " SUB_ROW "; END;" \
	/* 3.2: deny a request or cancel their subscription. */ \
	"CREATE TRIGGER outbox_unsubscribed AFTER INSERT ON outbox" \
	" WHEN NEW.kind = 'unsubscribed' BEGIN " \
	OUT_DONE_UNLESS("pending_in = 1 OR state IN ('from', 'both')") \
	" UPDATE subscriptions SET state = CASE state WHEN 'from' THEN 'none'" \
	" WHEN 'both' THEN 'to' ELSE state END, pending_in = 0," \
	" preapproved = 0, request = NULL, updated = NEW.created" \
	" WHERE " SUB_ROW "; " SUB_DROP_EMPTY " END;" \
	/* 3.3.2: always routed; ends our subscription or our request. */ \
	"CREATE TRIGGER outbox_unsubscribe AFTER INSERT ON outbox" \
	" WHEN NEW.kind = 'unsubscribe' BEGIN" \
	" UPDATE subscriptions SET state = CASE state WHEN 'to' THEN 'none'" \
	" WHEN 'both' THEN 'from' ELSE state END, pending_out = 0," \
	" updated = NEW.created WHERE " SUB_ROW "; " SUB_DROP_EMPTY " END;"
/* A journal trigger: tbl_suffix AFTER event ON tbl, row id expr. */
#define JOURNAL(tbl, suffix, event, row, op) \
	"CREATE TRIGGER " tbl "_" suffix " AFTER " event " ON " tbl " BEGIN" \
	" INSERT INTO changes (tbl, row_id, op) VALUES ('" tbl "', " row \
	", '" op "'); END;"

/*
 * The events journal's triggers (step 3; steps 4 and 5 make some again
 * after rebuilding their tables). sqlite_events_journal() drops and
 * makes them again, by name: a later step that rebuilds one of these
 * tables must not assume its events trigger exists (DROP TRIGGER IF
 * EXISTS), and makes it again only if the journal is on.
 */
#define EVENTS_INBOX \
	"CREATE TRIGGER events_inbox AFTER INSERT ON inbox BEGIN" \
	" INSERT INTO events (type, user_id, ref_id, jid, state, at)" \
	" VALUES ('inbox', NEW.user_id, NEW.id, NEW.from_jid, NEW.kind," \
	" NEW.received); END;"
#define EVENTS_RPRES_INS \
	"CREATE TRIGGER events_rpres_ins AFTER INSERT ON remote_presence BEGIN" \
	" INSERT INTO events (type, user_id, jid, state, at) VALUES" \
	" ('presence', NEW.user_id, NEW.jid, NEW.show, NEW.updated); END;"
#define EVENTS_RPRES_UPD \
	"CREATE TRIGGER events_rpres_upd AFTER UPDATE ON remote_presence" \
	" WHEN NEW.show IS NOT OLD.show OR NEW.status IS NOT OLD.status" \
	" OR NEW.priority IS NOT OLD.priority BEGIN" \
	" INSERT INTO events (type, user_id, jid, state, at) VALUES" \
	" ('presence', NEW.user_id, NEW.jid, NEW.show, NEW.updated); END;"
#define EVENTS_RPRES_DEL \
	"CREATE TRIGGER events_rpres_del AFTER DELETE ON remote_presence BEGIN" \
	" INSERT INTO events (type, user_id, jid, state) VALUES" \
	" ('presence', OLD.user_id, OLD.jid, 'gone'); END;"
/* Step 3's events trigger of the outbox; step 5 makes it again. */
#define EVENTS_OUTBOX \
	"CREATE TRIGGER events_outbox AFTER UPDATE OF state ON outbox" \
	" WHEN NEW.state IS NOT OLD.state AND NEW.state IN ('sent', 'failed'," \
	" 'delivered') BEGIN" \
	" INSERT INTO events (type, user_id, ref_id, jid, state) VALUES" \
	" ('outbox', NEW.user_id, NEW.id, NEW.to_jid, NEW.state); END;"
#define EVENTS_USER_INS \
	"CREATE TRIGGER events_user_ins AFTER INSERT ON users BEGIN" \
	" INSERT INTO events (type, user_id, user, ref_id, state) VALUES" \
	" ('user', NEW.id, NEW.localpart || '@' || NEW.domain, NEW.id," \
	" 'created'); END;"
#define EVENTS_USER_UPD \
	"CREATE TRIGGER events_user_upd AFTER UPDATE ON users BEGIN" \
	" INSERT INTO events (type, user_id, user, ref_id, state) VALUES" \
	" ('user', NEW.id, NEW.localpart || '@' || NEW.domain, NEW.id," \
	" 'updated'); END;"
#define EVENTS_USER_DEL \
	"CREATE TRIGGER events_user_del AFTER DELETE ON users BEGIN" \
	" INSERT INTO events (type, user_id, user, ref_id, state) VALUES" \
	" ('user', OLD.id, OLD.localpart || '@' || OLD.domain, OLD.id," \
	" 'deleted'); END;"

static const char *const schema_steps[] = {
	/* 0 -> 1: the first schema. */
	"CREATE TABLE users ("
	" id INTEGER PRIMARY KEY,"
	" localpart TEXT NOT NULL CHECK (length(localpart) BETWEEN 1 AND 1023"
	"  AND instr(localpart, '@') = 0 AND instr(localpart, '/') = 0),"
	" domain TEXT NOT NULL CHECK (length(domain) BETWEEN 1 AND 1023),"
	" name TEXT,"
	" nickname TEXT,"
	" email TEXT,"
	" url TEXT,"
	" note TEXT,"
	" avatar BLOB,"
	" avatar_type TEXT CHECK (avatar IS NULL OR avatar_type IS NOT NULL),"
	" created INTEGER NOT NULL DEFAULT " NOW ","
	" " BOOL("disabled") ","
	" UNIQUE (domain, localpart));"

	"CREATE TABLE presence ("
	" user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,"
	" show TEXT NOT NULL DEFAULT 'available' CHECK (" SHOWS("show") "),"
	" status TEXT,"
	" priority INTEGER NOT NULL DEFAULT 0"
	"  CHECK (priority BETWEEN -128 AND 127),"
	" updated INTEGER NOT NULL DEFAULT " NOW ");"

	"CREATE TABLE subscriptions ("
	" user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	" jid TEXT NOT NULL CHECK (length(jid) BETWEEN 1 AND 2047"
	"  AND instr(jid, '/') = 0),"
	" state TEXT NOT NULL DEFAULT 'none'"
	"  CHECK (" ONE_OF4("state", "none", "to", "from", "both") "),"
	" " BOOL("pending_out") ","
	" " BOOL("pending_in") ","
	" " BOOL("preapproved") ","
	" request TEXT,"
	" updated INTEGER NOT NULL DEFAULT " NOW ","
	" PRIMARY KEY (user_id, jid));"

	"CREATE TABLE remote_presence ("
	" user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	" jid TEXT NOT NULL,"
	" bare TEXT NOT NULL,"
	" show TEXT NOT NULL CHECK (" SHOWS("show") "),"
	" status TEXT,"
	" priority INTEGER NOT NULL DEFAULT 0,"
	" xml TEXT,"
	" updated INTEGER NOT NULL DEFAULT " NOW ","
	" PRIMARY KEY (user_id, jid));"
	"CREATE INDEX remote_presence_bare ON remote_presence (user_id, bare);"

	"CREATE TABLE inbox ("
	" id INTEGER PRIMARY KEY,"
	" user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	" kind TEXT NOT NULL CHECK (" ONE_OF6("kind", "message", "subscribe",
	"subscribed", "unsubscribe", "unsubscribed", "error") "),"
	" from_jid TEXT NOT NULL,"
	" to_jid TEXT NOT NULL,"
	" type TEXT,"
	" stanza_id TEXT,"
	" body TEXT,"
	" subject TEXT,"
	" thread TEXT,"
	" xml TEXT NOT NULL DEFAULT '',"
	" received INTEGER NOT NULL DEFAULT " NOW ","
	" consumed INTEGER);"
	"CREATE INDEX inbox_user ON inbox (user_id, id);"

	OUTBOX_TABLE("outbox",
	    ONE_OF4("state", "queued", "sent", "failed", "done"), "")
	OUTBOX_INDEXES

	"CREATE TABLE s2s_state ("
	" key TEXT PRIMARY KEY,"
	" value TEXT NOT NULL,"
	" updated INTEGER NOT NULL DEFAULT " NOW ");"

	"CREATE TABLE changes ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" tbl TEXT NOT NULL CHECK (" ONE_OF3("tbl", "users", "presence",
	"outbox") "),"
	" row_id INTEGER NOT NULL,"
	" op TEXT NOT NULL CHECK (" ONE_OF3("op", "insert", "update",
	"delete") "),"
	" at INTEGER NOT NULL DEFAULT " NOW ");"

	/* The change journal: what the running daemon must notice. */
	"CREATE TRIGGER users_ins AFTER INSERT ON users BEGIN"
	" INSERT INTO changes (tbl, row_id, op) VALUES ('users', NEW.id,"
	" 'insert'); END;"
	"CREATE TRIGGER users_upd AFTER UPDATE ON users BEGIN"
	" INSERT INTO changes (tbl, row_id, op) VALUES ('users', NEW.id,"
	" 'update'); END;"
	"CREATE TRIGGER users_del AFTER DELETE ON users BEGIN"
	" INSERT INTO changes (tbl, row_id, op) VALUES ('users', OLD.id,"
	" 'delete'); END;"
	"CREATE TRIGGER presence_ins AFTER INSERT ON presence BEGIN"
	" INSERT INTO changes (tbl, row_id, op) VALUES ('presence',"
	" NEW.user_id, 'insert'); END;"
	"CREATE TRIGGER presence_upd AFTER UPDATE ON presence BEGIN"
	" INSERT INTO changes (tbl, row_id, op) VALUES ('presence',"
	" NEW.user_id, 'update'); END;"
	"CREATE TRIGGER presence_del AFTER DELETE ON presence BEGIN"
	" INSERT INTO changes (tbl, row_id, op) VALUES ('presence',"
	" OLD.user_id, 'delete'); END;"
	OUTBOX_JOURNAL
	OUTBOX_SUB_TRIGGERS,

	/*
	 * 1 -> 2: outbox rows the peer's server acknowledged (XEP-0198) are
	 * 'delivered', kept apart from 'sent'; error_stage becomes a checked
	 * vocabulary, with 'payload' for rows that cannot be sent as they
	 * are. SQLite changes a CHECK only by rebuilding the table: copy,
	 * drop, rename, then the indexes and triggers the drop took. A stage
	 * of an older xfed outside the list: 'xfed' (a row that could not
	 * become a stanza) is 'payload', any other is cleared (last_error
	 * keeps the text).
	 */
	OUTBOX_TABLE("outbox_v2", ONE_OF4("state", "queued", "sent",
	    "delivered", "failed") " OR " EQ("state", "done"), OUTBOX_STAGES)
	"INSERT INTO outbox_v2 (id, user_id, kind, to_jid, type, stanza_id,"
	" body, subject, thread, state, attempts, next_attempt, last_error,"
	" error_stage, error_xml, created, updated)"
	" SELECT id, user_id, kind, to_jid, type, stanza_id, body, subject,"
	" thread, state, attempts, next_attempt, last_error,"
	" CASE WHEN error_stage IN (" OUTBOX_STAGE_LIST ") THEN error_stage"
	" WHEN error_stage = 'xfed' THEN 'payload' END,"
	" error_xml, created, updated FROM outbox ORDER BY id;"
	"DROP TABLE outbox;"
	"ALTER TABLE outbox_v2 RENAME TO outbox;"
	OUTBOX_INDEXES
	OUTBOX_JOURNAL
	OUTBOX_SUB_TRIGGERS,

	/*
	 * 2 -> 3: the HTTP API. Bearer tokens (only their SHA-256 is kept),
	 * the events journal that /v1/events and webhooks read (triggers
	 * write it, whoever changes the rows), and each webhook's cursor.
	 */
	"CREATE TABLE api_tokens ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),"
	" hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),"
	" scope TEXT NOT NULL CHECK (" ONE_OF3("scope", "read", "write",
	"admin") "),"
	" created INTEGER NOT NULL DEFAULT " NOW ","
	" last_used INTEGER);"

	/* No AUTOINCREMENT (a second write per row on the inbox's hot
	 * path): pruning keeps the newest row, so ids are never reused. */
	"CREATE TABLE events ("
	" id INTEGER PRIMARY KEY,"
	" type TEXT NOT NULL CHECK (" ONE_OF4("type", "inbox", "presence",
	"outbox", "user") "),"
	" user_id INTEGER NOT NULL,"
	" user TEXT,"
	" ref_id INTEGER,"
	" jid TEXT,"
	" state TEXT,"
	" at INTEGER NOT NULL DEFAULT " NOW ");"

	"CREATE TABLE webhooks ("
	" id INTEGER PRIMARY KEY,"
	WEBHOOK_COLUMNS
	" created INTEGER NOT NULL DEFAULT " NOW ");"

	EVENTS_INBOX
	EVENTS_RPRES_INS
	EVENTS_RPRES_UPD
	EVENTS_RPRES_DEL
	EVENTS_OUTBOX
	EVENTS_USER_INS
	EVENTS_USER_UPD
	EVENTS_USER_DEL,

	/*
	 * 3 -> 4: native users as complete contacts. The inbox gets the
	 * kind `chatstate` (a chat state without a body, XEP-0085) and
	 * `receipt` (XEP-0184: owed when the row is consumed); the
	 * outbox an `xml` column of payload elements (receipts, chat states,
	 * markers, corrections, OOB); `directed` remembers who got a user's
	 * directed presence (RFC 6121 4.6.3); `departed` keeps, when a user
	 * is deleted, the contacts the daemon must still tell (the cascade
	 * deletes the subscriptions before the daemon can read them).
	 */
	"CREATE TABLE inbox_v2 ("
	" id INTEGER PRIMARY KEY,"
	" user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	" kind TEXT NOT NULL CHECK (" ONE_OF6("kind", "message", "subscribe",
	"subscribed", "unsubscribe", "unsubscribed", "error") " OR "
	EQ("kind", "chatstate") "),"
	" from_jid TEXT NOT NULL,"
	" to_jid TEXT NOT NULL,"
	" type TEXT,"
	" stanza_id TEXT,"
	" body TEXT,"
	" subject TEXT,"
	" thread TEXT,"
	" xml TEXT NOT NULL DEFAULT '',"
	" received INTEGER NOT NULL DEFAULT " NOW ","
	" consumed INTEGER,"
	" receipt TEXT CHECK (receipt IS NULL OR " EQ("receipt", "wanted")
	" OR " EQ("receipt", "sent") "));"
	"INSERT INTO inbox_v2 (id, user_id, kind, from_jid, to_jid, type,"
	" stanza_id, body, subject, thread, xml, received, consumed)"
	" SELECT id, user_id, kind, from_jid, to_jid, type, stanza_id, body,"
	" subject, thread, xml, received, consumed FROM inbox;"
	"DROP TABLE inbox;"
	"ALTER TABLE inbox_v2 RENAME TO inbox;"
	"CREATE INDEX inbox_user ON inbox (user_id, id);"
	"CREATE INDEX inbox_receipt ON inbox (id) WHERE receipt = 'wanted';"

	"ALTER TABLE outbox ADD COLUMN xml TEXT"
	" CHECK (xml IS NULL OR length(xml) <= 65536);"

	"CREATE TABLE directed ("
	" user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	" jid TEXT NOT NULL,"
	" sent INTEGER NOT NULL DEFAULT " NOW ","
	" PRIMARY KEY (user_id, jid));"

	"CREATE TABLE departed ("
	" id INTEGER PRIMARY KEY,"
	" localpart TEXT NOT NULL,"
	" domain TEXT NOT NULL,"
	" jid TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (" ONE_OF4("state", "none", "to", "from",
	"both") " OR " EQ("state", "directed") "),"
	" pending_out INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL DEFAULT " NOW ");"
	"CREATE TRIGGER users_departed BEFORE DELETE ON users BEGIN"
	" INSERT INTO departed (localpart, domain, jid, state, pending_out)"
	" SELECT OLD.localpart, OLD.domain, jid, state, pending_out"
	" FROM subscriptions WHERE user_id = OLD.id"
	" AND (state <> 'none' OR pending_out = 1);"
	" INSERT INTO departed (localpart, domain, jid, state)"
	" SELECT OLD.localpart, OLD.domain, jid, 'directed' FROM directed"
	" WHERE user_id = OLD.id; END;"
	/* the inbox's rebuild dropped the events trigger of step 3 */
	EVENTS_INBOX,

	/*
	 * 4 -> 5: hostile peers and retention. Domain block/allow rules and
	 * per-user blocks (XEP-0191), both journaled so that the daemon
	 * applies them at once; the journal is rebuilt to name them (its
	 * CHECK lists the tables), keeping its rows and sequence. The
	 * outbox's error_stage may be 'blocked'. Indexes that let retention
	 * find consumed inbox rows and finished outbox rows without a scan.
	 */
	"CREATE TABLE domain_rules ("
	" domain TEXT PRIMARY KEY CHECK (length(domain) BETWEEN 1 AND 1023),"
	" action TEXT NOT NULL CHECK (" EQ("action", "block") " OR "
	EQ("action", "allow") "),"
	" created INTEGER NOT NULL DEFAULT " NOW ");"
	"CREATE TABLE blocks ("
	" user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	" jid TEXT NOT NULL CHECK (length(jid) BETWEEN 1 AND 3071),"
	" created INTEGER NOT NULL DEFAULT " NOW ","
	" PRIMARY KEY (user_id, jid));"
	"CREATE INDEX inbox_consumed ON inbox (consumed)"
	" WHERE consumed IS NOT NULL;"
	/* error_stage 'blocked': the outbox is rebuilt (its CHECK), with
	 * step 4's xml column, and the indexes and triggers the drop took */
	OUTBOX_TABLE_X("outbox_v5", ONE_OF4("state", "queued", "sent",
	    "delivered", "failed") " OR " EQ("state", "done"), OUTBOX_STAGES_V5,
	    " xml TEXT CHECK (xml IS NULL OR length(xml) <= 65536),")
	"INSERT INTO outbox_v5 (id, user_id, kind, to_jid, type, stanza_id,"
	" body, subject, thread, state, attempts, next_attempt, last_error,"
	" error_stage, error_xml, created, updated, xml)"
	" SELECT id, user_id, kind, to_jid, type, stanza_id, body, subject,"
	" thread, state, attempts, next_attempt, last_error, error_stage,"
	" error_xml, created, updated, xml FROM outbox ORDER BY id;"
	"DROP TABLE outbox;"
	"ALTER TABLE outbox_v5 RENAME TO outbox;"
	OUTBOX_INDEXES
	OUTBOX_JOURNAL
	OUTBOX_SUB_TRIGGERS
	EVENTS_OUTBOX
	"CREATE INDEX outbox_finished ON outbox (updated)"
	" WHERE state <> 'queued';"
	/* triggers of other tables name the journal: leave them be */
	"PRAGMA legacy_alter_table = ON;"
	"CREATE TABLE changes_new ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" tbl TEXT NOT NULL CHECK (" ONE_OF3("tbl", "users", "presence",
	"outbox") " OR " EQ("tbl", "domain_rules") " OR " EQ("tbl", "blocks")
	"),"
	" row_id INTEGER NOT NULL,"
	" op TEXT NOT NULL CHECK (" ONE_OF3("op", "insert", "update",
	"delete") "),"
	" at INTEGER NOT NULL DEFAULT " NOW ");"
	"INSERT INTO changes_new SELECT seq, tbl, row_id, op, at FROM changes;"
	"DELETE FROM sqlite_sequence WHERE name = 'changes_new';"
	"INSERT INTO sqlite_sequence (name, seq) SELECT 'changes_new', seq"
	" FROM sqlite_sequence WHERE name = 'changes';"
	"DROP TABLE changes;"
	"ALTER TABLE changes_new RENAME TO changes;"
	"PRAGMA legacy_alter_table = OFF;"
	JOURNAL("domain_rules", "ins", "INSERT", "NEW.rowid", "insert")
	JOURNAL("domain_rules", "upd", "UPDATE", "NEW.rowid", "update")
	JOURNAL("domain_rules", "del", "DELETE", "OLD.rowid", "delete")
	JOURNAL("blocks", "ins", "INSERT", "NEW.user_id", "insert")
	JOURNAL("blocks", "upd", "UPDATE", "NEW.user_id", "update")
	JOURNAL("blocks", "del", "DELETE", "OLD.user_id", "delete"),

	/*
	 * 5 -> 6: webhooks made through the API or xfedctl, with a secret.
	 * The table is rebuilt with AUTOINCREMENT: a webhook's id is never
	 * given again, so a DELETE retried after a new webhook was made,
	 * or a daemon that still runs a deleted one, cannot take the new
	 * row for the old (rows are few, written once per delivery).
	 */
	"CREATE TABLE webhooks_v6 ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	WEBHOOK_COLUMNS
	" created INTEGER NOT NULL DEFAULT " NOW ","
	" secret TEXT,"
	" managed INTEGER NOT NULL DEFAULT 0 CHECK (managed IN (0, 1)));"
	"INSERT INTO webhooks_v6 (id, url, cursor, delivered, failures,"
	" last_status, last_error, last_attempt, next_attempt, created)"
	" SELECT id, url, cursor, delivered, failures, last_status,"
	" last_error, last_attempt, next_attempt, created FROM webhooks"
	" ORDER BY id;"
	"DROP TABLE webhooks;"
	"ALTER TABLE webhooks_v6 RENAME TO webhooks;",

	/* 6 -> 7: instances and the leases of remote domains */
	"CREATE TABLE instances ("
	" name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 255),"
	" started INTEGER NOT NULL,"
	" heartbeat INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE leases ("
	" remote_domain TEXT NOT NULL,"
	" local_domain TEXT NOT NULL,"
	" holder TEXT NOT NULL,"
	" expiry INTEGER NOT NULL,"
	" PRIMARY KEY (remote_domain, local_domain)) WITHOUT ROWID;",

	/* 7 -> 8: an index of PostgreSQL's only (one daemon holds every
	 * lease here) */
	"",
};
#define NSTEPS	((int)(sizeof(schema_steps) / sizeof(schema_steps[0])))
_Static_assert(sizeof(schema_steps) / sizeof(schema_steps[0]) ==
    STORE_SCHEMA_VERSION, "one migration step per schema version");

const char *
sqlite_schema_step(int i)
{
	return i >= 0 && i < NSTEPS ? schema_steps[i] : NULL;
}

/* Reads one integer; -1 with err set on failure. */
static int
schema_int(struct store *st, const char *sql, long long *v, char *err,
    size_t errsz)
{
	sqlite3_stmt	*q;
	int		 rc;

	if (sqlite3_prepare_v2(sqlite_db(st), sql, -1, &q, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "%s: %s", st->location,
		    sqlite3_errmsg(sqlite_db(st)));
		return -1;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(q, 0);
	else
		snprintf(err, errsz, "%s: %s", st->location,
		    sqlite3_errmsg(sqlite_db(st)));
	sqlite3_finalize(q);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int
schema_exec(struct store *st, const char *sql, const char *what, char *err,
    size_t errsz)
{
	char	*msg = NULL;

	if (sqlite3_exec(sqlite_db(st), sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errsz, "%s: %s: %s", st->location, what,
		    msg ? msg : sqlite3_errmsg(sqlite_db(st)));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* PRAGMA quick_check: the first problem it names, or 0. */
static int
schema_check(struct store *st, char *err, size_t errsz)
{
	sqlite3_stmt	*q;
	const char	*r;
	char		*p;
	int		 rc;

	if (sqlite3_prepare_v2(sqlite_db(st), "PRAGMA quick_check(1)", -1, &q,
	    NULL) != SQLITE_OK) {
		snprintf(err, errsz, "%s: integrity check failed: %s",
		    st->location, sqlite3_errmsg(sqlite_db(st)));
		return -1;
	}
	rc = sqlite3_step(q);
	r = rc == SQLITE_ROW ? STORE_COL_TEXT(q, 0) : NULL;
	if (r != NULL && strcmp(r, "ok") == 0)
		rc = 0;
	else {
		if (r == NULL)
			r = sqlite3_errmsg(sqlite_db(st));
		else if (strncmp(r, "*** in database main ***", 24) == 0)
			r += 24;
		r += strspn(r, " \n");
		snprintf(err, errsz, "%s: integrity check failed: %s; "
		    "restore a backup (sqlite3 .recover may save data)",
		    st->location, r);
		/* One line: the report may span several. */
		for (p = err; *p != '\0'; p++)
			if (*p == '\n')
				*p = ' ';
		rc = -1;
	}
	sqlite3_finalize(q);
	return rc;
}

static int
schema_migrate(struct store *st, char *err, size_t errsz)
{
	long long	 v;
	char		 sql[128];
	int		 i;

	for (;;) {
		if (schema_exec(st, "BEGIN IMMEDIATE", "migrate", err,
		    errsz) == -1)
			return -1;
		/* Read again under the lock: another process may have
		 * migrated the file meanwhile. */
		if (schema_int(st, "PRAGMA user_version", &v, err,
		    errsz) == -1)
			goto fail;
		if (v >= NSTEPS)
			break;
		i = (int)v;
		if (schema_exec(st, schema_steps[i], "migrate", err,
		    errsz) == -1)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d;"
		    "PRAGMA application_id = %d", i + 1,
		    STORE_APPLICATION_ID);
		if (schema_exec(st, sql, "migrate", err, errsz) == -1 ||
		    schema_exec(st, "COMMIT", "migrate", err, errsz) == -1)
			goto fail;
	}
	return schema_exec(st, "COMMIT", "migrate", err, errsz);
 fail:
	sqlite3_exec(sqlite_db(st), "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int
sqlite_schema_open(struct store *st, int flags, char *err, size_t errsz)
{
	long long	 app, ver, nobj;

	/* The first read: a file that is not a database fails here. */
	if (schema_int(st, "PRAGMA application_id", &app, err, errsz) == -1)
		return -1;
	if (!(flags & STORE_OPEN_NOCHECK) && schema_check(st, err, errsz) == -1)
		return -1;
	if (schema_int(st, "PRAGMA user_version", &ver, err, errsz) == -1 ||
	    schema_int(st, "SELECT count(*) FROM sqlite_master", &nobj, err,
	    errsz) == -1)
		return -1;
	if (app != STORE_APPLICATION_ID && (app != 0 || ver != 0 || nobj)) {
		snprintf(err, errsz, "%s: not an xfed store (a database of "
		    "another program)", st->location);
		return -1;
	}
	if (ver > NSTEPS) {
		snprintf(err, errsz, "%s: schema version %lld is newer than "
		    "this xfed's (%d); use a newer xfed", st->location, ver,
		    STORE_SCHEMA_VERSION);
		return -1;
	}
	if (flags & STORE_OPEN_READONLY) {
		if (ver < NSTEPS) {
			snprintf(err, errsz, "%s: schema version %lld is older "
			    "than this xfed's (%d) and a reader does not "
			    "migrate it: start xfed once", st->location, ver,
			    STORE_SCHEMA_VERSION);
			return -1;
		}
		return schema_exec(st, "PRAGMA foreign_keys = ON", "pragmas",
		    err, errsz);
	}
	if (schema_exec(st, "PRAGMA journal_mode = WAL", "journal mode", err,
	    errsz) == -1 ||
	    schema_exec(st, "PRAGMA synchronous = NORMAL;"
	    "PRAGMA foreign_keys = ON", "pragmas", err, errsz) == -1)
		return -1;
	return schema_migrate(st, err, errsz);
}

static const struct {
	const char	*name;
	const char	*sql;
} schema_events[] = {
	{ "events_inbox", EVENTS_INBOX },
	{ "events_rpres_ins", EVENTS_RPRES_INS },
	{ "events_rpres_upd", EVENTS_RPRES_UPD },
	{ "events_rpres_del", EVENTS_RPRES_DEL },
	{ "events_outbox", EVENTS_OUTBOX },
	{ "events_user_ins", EVENTS_USER_INS },
	{ "events_user_upd", EVENTS_USER_UPD },
	{ "events_user_del", EVENTS_USER_DEL },
};

/* 1 when the trigger name exists, 0 when not, -1 on error. */
static int
schema_has_trigger(struct store *st, const char *name)
{
	sqlite3_stmt	*q;
	int		 rc;

	if (sqlite3_prepare_v2(sqlite_db(st), "SELECT 1 FROM sqlite_master WHERE "
	    "type = 'trigger' AND name = ?1", -1, &q, NULL) != SQLITE_OK)
		return sqlite_dberr(st, "events journal");
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		sqlite_dberr(st, "events journal");
	sqlite3_finalize(q);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
sqlite_events_journal(struct store *st, int on)
{
	char		 err[256], sql[64];
	size_t		 i;
	int		 has, changed = 0;

	if (on == -1)	/* asked: all of them are made or dropped at once */
		return schema_has_trigger(st, schema_events[0].name);
	on = on != 0;
	if (sqlite_begin(st) == -1)
		return -1;
	for (i = 0; i < sizeof(schema_events) / sizeof(schema_events[0]);
	    i++) {
		if ((has = schema_has_trigger(st, schema_events[i].name)) == -1)
			goto fail;
		if (has == on)
			continue;
		if (!on)
			snprintf(sql, sizeof(sql), "DROP TRIGGER %s",
			    schema_events[i].name);
		if (schema_exec(st, on ? schema_events[i].sql : sql,
		    "events journal", err, sizeof(err)) == -1) {
			store_fail(st, STORE_E_DB, "%s", err);
			goto fail;
		}
		changed = 1;
	}
	if (sqlite_commit(st) == -1)
		return -1;
	return changed;
 fail:
	sqlite_rollback(st);
	return -1;
}

int
sqlite_version(struct store *st)
{
	char		 err[256];
	long long	 v;

	if (schema_int(st, "PRAGMA user_version", &v, err, sizeof(err)) == -1)
		return store_fail(st, STORE_E_DB, "%s", err);
	return (int)v;
}
