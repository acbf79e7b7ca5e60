# tests/sh/store_pg.sh: the store unit tests on a PostgreSQL 15 this test
# starts (tests/sh/pg.sh), then xfed on that PostgreSQL federating with a
# second xfed on SQLite:
# xfedctl against PostgreSQL, messages both ways (S2S 4.1), a message to
# no user among stored ones refused alone (service-unavailable), a row a native
# system inserts with psql reaching the peer through LISTEN/NOTIFY (the
# time from its commit to xfed reading it is printed, not asserted), and
# PostgreSQL restarted while the peer sends: xfed pauses its inbound
# streams (store-failure back-pressure), reconnects, and every message is
# stored once.
. "$XFED_SRC/tests/sh/lib.sh"
. "$XFED_SRC/tests/sh/pg.sh"
t_init
trap 'pg_stop "$T/pg"; t_cleanup' EXIT

if ! pg_start "$T/pg"; then
	fail pg_start "no PostgreSQL"
	exit 1
fi
ok pg_started

# the store unit tests (tests/unit/store_test.c) on this PostgreSQL: each
# case in a schema of its own (made by the store, STORE_OPEN_CREATE);
# SQLite-only cases say "skipped"
XFED_TEST_STORE="$PG_URI&options=-csearch_path%3D%s" \
    "$XFED_BUILD/tests/unit/store_test" > "$T/store_test.out" 2>&1
rc=$?
sed -e 's/^ok /ok store_test_pg_/' -e 's/^FAIL /FAIL store_test_pg_/' \
    "$T/store_test.out" | grep -E '^(ok|FAIL) '
if [ "$rc" != 0 ] && ! grep -q '^FAIL ' "$T/store_test.out"; then
	fail store_test_pg "exit $rc: $(tail -5 "$T/store_test.out")"
fi

PA=$(free_port)
PB=$(free_port)
pair_conf "$T/a" a.localhost "$PA" b.localhost "$PB"
pair_conf "$T/b" b.localhost "$PB" a.localhost "$PA"
grep -v '^store ' "$T/a/xfed.conf" > "$T/a.conf"
echo "store $PG_URI" >> "$T/a.conf"
mv "$T/a.conf" "$T/a/xfed.conf"
echo "dialback_secret 0123456789abcdef0123456789abcdef" >> "$T/a/xfed.conf"

# xfedctl on PostgreSQL: the first command makes the schema
actl user add alice > /dev/null && bctl user add bob > /dev/null
check users_added [ $? = 0 ]
check schema_made [ "$(pg_psql -c 'SELECT max(version) FROM xfed_schema')" = 8 ]
check user_row [ "$(pg_psql -c "SELECT localpart FROM users")" = alice ]
actl user add alice > /dev/null 2> "$T/err"
check user_dup_refused [ $? != 0 ]
check user_dup_message grep -q "alice@a.localhost already exists" "$T/err"
check no_sqlite_file [ ! -e "$T/a/xfed.db" ]

# a database that does not exist: one line naming it, a failure status,
# and the daemon refuses to start the same way
mkdir -p "$T/n"
grep -v '^store ' "$T/a/xfed.conf" > "$T/n/xfed.conf"
echo "store postgresql:///nodb?host=$PG_DIR&port=5432&user=xfed" >> "$T/n/xfed.conf"
"$XFED_BUILD/xfedctl" -c "$T/n/xfed.conf" user list > /dev/null 2> "$T/err"
rc=$?
check nodb_ctl_fails [ "$rc" != 0 ]
check nodb_ctl_one_line [ "$(wc -l < "$T/err")" = 1 ]
check nodb_ctl_names_it grep -q 'database "nodb" does not exist' "$T/err"
"$XFED_BUILD/xfed" -d -c "$T/n/xfed.conf" > /dev/null 2> "$T/err"
check nodb_daemon_refused [ $? != 0 ]
check nodb_daemon_says grep -q 'database "nodb" does not exist' "$T/err"

start_xfed "$T/a" || { fail start_a "xfed A (PostgreSQL) did not start"; exit 1; }
PIDA=$XFED_PID
start_xfed "$T/b" || { fail start_b "xfed B did not start"; exit 1; }
PIDB=$XFED_PID

inbox_has() {	# CONF TEXT
	"$XFED_BUILD/xfedctl" -c "$1" inbox --json | grep -qF "$2"
}
actl send alice bob@b.localhost 'hello from postgres' > /dev/null
check a_to_b wait_for 20 inbox_has "$T/b/xfed.conf" 'hello from postgres'
bctl send bob alice@a.localhost 'hello to postgres' > /dev/null
check b_to_a wait_for 20 inbox_has "$T/a/xfed.conf" 'hello to postgres'
check b_to_a_row [ "$(pg_psql -c "SELECT count(*) FROM inbox WHERE body = 'hello to postgres'")" = 1 ]

# a row the store refuses fails alone, told by the commit of its batch
# (store_inbox_put_later(): the batch's rows go in one statement, then one
# by one): B's message to a user A does not have is answered
# service-unavailable (S2S-CHECKLIST 5.15, 8.34); those around it are stored
bctl send bob alice@a.localhost 'before nobody' > /dev/null
nid=$(bctl send bob nobody@a.localhost 'to nobody')
bctl send bob alice@a.localhost 'after nobody' > /dev/null
b_refused() {
	bctl outbox --json | $PY -c 'import json, sys
sys.exit(0 if any(str(r["id"]) == sys.argv[1] and r["state"] == "failed" and
    "service-unavailable" in (r.get("last_error") or "")
    for r in map(json.loads, sys.stdin)) else 1)' "$nid"
}
check nobody_refused wait_for 20 b_refused
check after_nobody_stored wait_for 20 inbox_has "$T/a/xfed.conf" 'after nobody'
check before_nobody_stored inbox_has "$T/a/xfed.conf" 'before nobody'
check nobody_no_row [ "$(pg_psql -c "SELECT count(*) FROM inbox WHERE body = 'to nobody'")" = 0 ]

# a native system's row, committed with psql, reaches the peer; A logs
# when it reads the row, and the delay from a time taken just before the
# COMMIT (so at least the true delay) is printed
t0=$(pg_psql -c "BEGIN; INSERT INTO outbox (user_id, to_jid, body)
    SELECT id, 'bob@b.localhost', 'from psql' FROM users
    WHERE localpart = 'alice';
    SELECT extract(epoch FROM clock_timestamp()); COMMIT" | tail -1)
check psql_row_delivered wait_for 20 inbox_has "$T/b/xfed.conf" 'from psql'
sent=$(pg_psql -c "SELECT state FROM outbox WHERE body = 'from psql'")
check psql_row_sent [ "$sent" = sent ] || [ "$sent" = delivered ]
rid=$(pg_psql -c "SELECT id FROM outbox WHERE body = 'from psql'")
at=$(grep -m1 "store: outbox row $rid queued" "$T/a/xfed.log" | cut -d' ' -f1)
if [ -n "$at" ]; then
	echo "# from psql's commit to xfed reading the row: $($PY -c \
	    'import sys; print("%.3f" % (float(sys.argv[1]) - float(sys.argv[2])))' \
	    "$(date -d "$at" +%s.%N)" "$t0") s (log time, ms resolution)"
fi
check psql_row_noticed [ -n "$at" ]

# PostgreSQL restarted while B sends 200 messages: A pauses, reconnects,
# stores each once (none lost, none twice)
for i in $(seq 1 200); do
	bctl send bob alice@a.localhost "load $i" > /dev/null
done &
LOADPID=$!
sleep 0.3
pg_stop "$T/pg"
check pg_stopped [ $? = 0 ]
check a_paused wait_for 20 grep -q "store: failing" "$T/a/xfed.log"
sleep 1
pg_up "$T/pg"
check pg_restarted [ $? = 0 ]
wait "$LOADPID"
check a_recovered wait_for 30 grep -q "store: working again" "$T/a/xfed.log"
loaded() {
	[ "$(pg_psql -c "SELECT count(DISTINCT body) FROM inbox WHERE body LIKE 'load %'")" = 200 ]
}
if wait_for 60 loaded; then ok load_all_stored
else fail load_all_stored "$(pg_psql -c "SELECT count(DISTINCT body) FROM inbox WHERE body LIKE 'load %'") of 200; $(bctl outbox | tail -3)"; fi
check load_once [ "$(pg_psql -c "SELECT count(*) FROM inbox WHERE body LIKE 'load %'")" = 200 ]
check a_alive kill -0 "$PIDA"

# after the restart the journal still reaches the daemon
pg_psql -c "INSERT INTO outbox (user_id, to_jid, body) SELECT id,
    'bob@b.localhost', 'after restart' FROM users WHERE localpart = 'alice'"
check psql_after_restart wait_for 20 inbox_has "$T/b/xfed.conf" 'after restart'

XFED_PID=$PIDA; stop_xfed; check a_stopped [ $? = 0 ]
XFED_PID=$PIDB; stop_xfed; check b_stopped [ $? = 0 ]
t_exit
