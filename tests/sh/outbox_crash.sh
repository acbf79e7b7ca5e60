# tests/sh/outbox_crash.sh: bounded duplicates (issue 9 item 4). 5,000 rows
# go from xfed A to xfed B; A is killed with SIGKILL mid-stream and
# started again. Nothing is lost (every row reaches B's inbox), and B
# receives at most one window of rows twice: a row's sent mark is committed
# in the same short batches as everything else, and A never has more than
# 256 rows (OUTBOX_BATCH in server/outbox.c) between being read and their
# committed mark (CONTRACT.md "Durability").
. "$XFED_SRC/tests/sh/lib.sh"
t_init

N=${CRASH_N:-5000}
WINDOW=256
pair_init
# nothing lost is measured here, not the abuse limits (5,000 rows unread)
printf 'inbox_quota 0\nremote_stanza_rate 0\n' >> "$T/b/xfed.conf"
$PY -c 'import sys
print("BEGIN;")
for i in range(1, int(sys.argv[1]) + 1):
    print("INSERT INTO outbox (user_id, to_jid, body) VALUES (1, '"'"'bob@b.localhost'"'"', '"'"'crash %d'"'"');" % i)
print("COMMIT;")' "$N" | sqlite3 -batch "$T/a/xfed.db"
check rows_queued [ "$(sqlite3 "$T/a/xfed.db" 'SELECT count(*) FROM outbox')" = "$N" ]

qb() { sqlite3 -batch -cmd '.timeout 5000' "$T/b/xfed.db" "$1"; }
got() { qb "SELECT count(*) FROM inbox"; }
got_at_least() { [ "$(got)" -ge "$1" ]; }

start_xfed "$T/b" || { fail start_b "xfed B did not start"; exit 1; }
PIDB=$XFED_PID
start_xfed "$T/a" || { fail start_a "xfed A did not start"; exit 1; }
PIDA=$XFED_PID
check midstream wait_for 60 got_at_least $((N / 4))
kill -KILL "$PIDA"
{ wait "$PIDA"; } 2>/dev/null
at_kill=$(got)
sent_at_kill=$(sqlite3 -batch -cmd '.timeout 5000' "$T/a/xfed.db" "SELECT count(*) FROM outbox WHERE state = 'sent'")
cp "$T/a/xfed.log" "$T/a/xfed-killed.log"
start_xfed "$T/a" || { fail restart_a "xfed A did not start again"; exit 1; }
PIDA=$XFED_PID
all_in() { [ "$(qb "SELECT count(DISTINCT body) FROM inbox")" = "$N" ]; }
check none_lost wait_for 120 all_in
all_sent() { [ "$(sqlite3 -batch -cmd '.timeout 5000' "$T/a/xfed.db" "SELECT count(*) FROM outbox WHERE state = 'sent'")" = "$N" ]; }
check all_rows_sent wait_for 60 all_sent
sleep 1
total=$(got)
dups=$((total - N))
echo "# SIGKILL with $at_kill of $N in B's inbox ($sent_at_kill marked sent on A): $dups received twice"
check duplicates_within_one_window [ "$dups" -ge 0 ] && [ "$dups" -le "$WINDOW" ]
check no_body_three_times [ "$(qb "SELECT count(*) FROM (SELECT body FROM inbox GROUP BY body HAVING count(*) > 2)")" = 0 ]

XFED_PID=$PIDA; stop_xfed; check a_stopped [ $? = 0 ]
XFED_PID=$PIDB; stop_xfed; check b_stopped [ $? = 0 ]
t_exit
