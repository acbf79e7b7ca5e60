# tests/sh/store_migrate.sh: a version 1 store (tests/store/v1.sql: outbox
# rows in every state, error stages of the old vocabulary, subscriptions)
# is migrated to the current version (8) when xfedctl opens it: every row
# kept as it was (an old 'xfed' stage becomes 'payload'), the indexes and
# triggers of the rebuilt outbox back and working, 'delivered' and
# 'payload' accepted and values outside the lists refused.
. "$(dirname "$0")/lib.sh"
t_init
cli_init a.localhost

sqlite3 -batch "$DB" < "$XFED_SRC/tests/store/v1.sql"
check v1_loaded [ "$(sql 'PRAGMA user_version')" = 1 ]
cols="id, user_id, kind, to_jid, type, stanza_id, body, subject, thread, state,
    attempts, next_attempt, last_error, error_xml, created, updated"
sql "SELECT $cols, error_stage FROM outbox ORDER BY id" > "$T/rows.v1"
sql "SELECT * FROM subscriptions ORDER BY user_id, jid" > "$T/subs.v1"

ctl outbox --json
expect migrated_opened 0
check version_current [ "$(sql 'PRAGMA user_version')" = 8 ]
check application_id [ "$(sql 'PRAGMA application_id')" = 2019976548 ]
sed 's/|xfed$/|payload/' "$T/rows.v1" > "$T/rows.want"
sql "SELECT $cols, error_stage FROM outbox ORDER BY id" > "$T/rows.v2"
if cmp -s "$T/rows.want" "$T/rows.v2"; then ok rows_kept
else fail rows_kept "$(diff "$T/rows.want" "$T/rows.v2" | head -5)"; fi
check every_state_kept [ "$(sql "SELECT group_concat(DISTINCT state) FROM
    (SELECT state FROM outbox ORDER BY state)")" = "done,failed,queued,sent" ]
sql "SELECT * FROM subscriptions ORDER BY user_id, jid" > "$T/subs.v2"
check subscriptions_kept cmp -s "$T/subs.v1" "$T/subs.v2"
objs=$(sql "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master
    WHERE tbl_name = 'outbox' ORDER BY name)")
check outbox_objects [ "$objs" = "events_outbox outbox outbox_finished outbox_ins outbox_queue outbox_requeue outbox_subscribe outbox_subscribed outbox_unsubscribe outbox_unsubscribed outbox_user" ]
check no_leftover_table [ "$(sql "SELECT count(*) FROM sqlite_master WHERE name LIKE 'outbox_v%' OR name = 'changes_new'")" = 0 ]
check integrity [ "$(sql 'PRAGMA integrity_check')" = ok ]
check foreign_keys [ -z "$(sql 'PRAGMA foreign_key_check')" ]

# the triggers still act: a queued row is journalled, a subscribe applied
before=$(sql "SELECT count(*) FROM changes WHERE tbl = 'outbox'")
ctl send alice juliet@example.org 'after the migration'
expect send_after_migration 0 '^9$'
check insert_journalled [ "$(sql "SELECT count(*) FROM changes WHERE tbl = 'outbox'")" = $((before + 1)) ]
sql "INSERT INTO outbox (user_id, kind, to_jid) VALUES (1, 'subscribe', 'tybalt@example.org')"
check subscribe_trigger [ "$(sql "SELECT pending_out FROM subscriptions WHERE jid = 'tybalt@example.org'")" = 1 ]
sql "UPDATE outbox SET state = 'queued' WHERE id = 4"
check requeue_journalled [ "$(sql "SELECT count(*) FROM changes WHERE tbl = 'outbox' AND row_id = 4 AND op = 'update'")" = 1 ]

# the new values go in, others are refused by the CHECKs
sql "UPDATE outbox SET state = 'delivered' WHERE id = 3"
check delivered_accepted [ "$(sql 'SELECT state FROM outbox WHERE id = 3')" = delivered ]
sql "UPDATE outbox SET state = 'failed', error_stage = 'payload' WHERE id = 1"
check payload_accepted [ "$(sql 'SELECT error_stage FROM outbox WHERE id = 1')" = payload ]
check bad_state_refused sh -c "! sqlite3 '$DB' \"UPDATE outbox SET state = 'lost' WHERE id = 2\" 2>/dev/null"
check bad_stage_refused sh -c "! sqlite3 '$DB' \"UPDATE outbox SET error_stage = 'xfed' WHERE id = 2\" 2>/dev/null"
ctl outbox --json
json_ok outbox_json_after
check delivered_listed grep -q '"state":"delivered"' "$OUT"

# opening again changes nothing
sum=$(sql "SELECT group_concat(sql) FROM sqlite_master")
ctl user list
expect reopened 0
check schema_stable [ "$(sql "SELECT group_concat(sql) FROM sqlite_master")" = "$sum" ]
t_exit
