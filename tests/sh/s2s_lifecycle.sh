# tests/sh/s2s_lifecycle.sh: a send never closes nor frees a stream (one
# close path, free only from the loop). Two xfed processes over plain TCP
# with dialback:
#   - an outbox row with a 5 MiB body (more than the 4 MiB output cap)
#     between rows of 300 KiB (9 MiB in all, more than the cap too): xfed
#     stays up, the big row fails alone, every other row reaches B's inbox
#     (the sender writes no faster than the stream drains);
#   - an inbound peer that sends 200,000 db:verify requests and never reads
#     the answers (S2S 4.27, 4.38): B marks the stream when its output
#     passes the cap, closes it from the loop, and stays up.
# Both daemons run under ASan/UBSan in make check: no report may appear.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

pair_init
echo "outbound_backoff_min 1s" >> "$T/a/xfed.conf"

# queued before A starts, in one transaction: one burst on one stream
NSMALL=33
sqlite3 -batch "$T/a/xfed.db" "PRAGMA foreign_keys = ON;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3)
INSERT INTO outbox (user_id, kind, to_jid, body)
SELECT u.id, 'message', 'bob@b.localhost', printf('row-%03d small', n.i)
FROM users u, n WHERE u.localpart = 'alice';
INSERT INTO outbox (user_id, kind, to_jid, body)
SELECT id, 'message', 'bob@b.localhost',
    'row-big ' || replace(hex(zeroblob(2621440)), '0', 'x')
FROM users WHERE localpart = 'alice';
WITH RECURSIVE n(i) AS (SELECT 4 UNION ALL SELECT i + 1 FROM n WHERE i < $NSMALL)
INSERT INTO outbox (user_id, kind, to_jid, body)
SELECT u.id, 'message', 'bob@b.localhost',
    printf('row-%03d ', n.i) || replace(hex(zeroblob(153600)), '0', 'y')
FROM users u, n WHERE u.localpart = 'alice';
COMMIT;"
check rows_queued [ "$(sqlite3 "$T/a/xfed.db" "SELECT count(*) FROM outbox")" = $((NSMALL + 1)) ]

start_xfed "$T/b" || { fail start_b "xfed B did not start"; exit 1; }
PIDB=$XFED_PID
start_xfed "$T/a" || { fail start_a "xfed A did not start"; exit 1; }
PIDA=$XFED_PID

in_b() {	# distinct small rows in B's inbox
	sqlite3 -cmd ".timeout 2000" "$T/b/xfed.db" "
SELECT count(DISTINCT substr(body, 1, 7)) FROM inbox
WHERE body LIKE 'row-0%'"
}
all_in_b() { [ "$(in_b)" = "$NSMALL" ]; }
if wait_for 60 all_in_b; then
	ok small_rows_delivered
else
	fail small_rows_delivered "$(in_b) of $NSMALL in B's inbox"
fi
big_failed() {
	[ "$(sqlite3 -cmd ".timeout 2000" "$T/a/xfed.db" "
SELECT state || ' ' || error_stage FROM outbox
WHERE body LIKE 'row-big%'")" = "failed payload" ]
}
check big_row_failed_alone wait_for 20 big_failed
check big_row_not_on_the_wire sh -c "! grep -q 'row-big' '$T/b/xfed.log'"
sent_all() {
	[ "$(sqlite3 -cmd ".timeout 2000" "$T/a/xfed.db" "
SELECT count(*) FROM outbox WHERE state = 'sent'")" = "$NSMALL" ]
}
check small_rows_sent wait_for 20 sent_all
check a_alive kill -0 "$PIDA"

# an inbound peer that never reads what it is answered
$PY - "$PB" > "$T/flood.out" 2>&1 <<'PY'
import socket, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=30)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
hdr = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
       b"xmlns:stream='http://etherx.jabber.org/streams' "
       b"xmlns:db='jabber:server:dialback' to='b.localhost' "
       b"from='flood.test' version='1.0'>")
v = (b"<db:verify from='flood.test' to='b.localhost' id='abcdefghijklmnop"
     b"qrstuvwx'>%s</db:verify>" % (b'0' * 64))
try:
    s.sendall(hdr)
    for _ in range(40):
        s.sendall(v * 5000)
    print('sent everything')
except OSError as e:
    print('stopped: %s' % e)
time.sleep(1)
s.close()
PY
check flood_overflow_seen grep -q "in#.*output buffer full" "$T/b/xfed.log"
check flood_closed_from_loop grep -q 'in#.*closed reason="peer does not read: output buffer full"' "$T/b/xfed.log"
check b_alive kill -0 "$PIDB"
# B still serves: a new message from A gets through
actl send alice bob@b.localhost 'after the flood' > /dev/null
after() { bctl inbox --json | grep -q 'after the flood'; }
check b_still_delivers wait_for 20 after

XFED_PID=$PIDA; stop_xfed; check a_stopped [ $? = 0 ]
XFED_PID=$PIDB; stop_xfed; check b_stopped [ $? = 0 ]
check no_sanitizer_report sh -c "! grep -Eq 'AddressSanitizer|runtime error:|LeakSanitizer' '$T/a/xfed.log' '$T/b/xfed.log'"
t_exit
