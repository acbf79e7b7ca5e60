# tests/sh/s2s_shutdown.sh: stopping either end of a busy stream loses no
# message, without XEP-0198 (two xfed on loopback, plain TCP, dialback).
#   - SIGTERM of the receiver B with 5,000 rows from A in flight: B
#     sends </stream:stream> on its inbound stream and reads on
#     until A's closing tag (RFC 6120 4.4, S2S 1.23, 1.24), commits, exits
#     0; A resends whatever it had not flushed on the next stream once B is
#     back. Every row is in B's inbox; duplicates are counted and shown.
#   - kill -9 of the sender A with 5,000 more rows in flight, then a
#     restart: every row is in B's inbox, duplicates counted (rows whose
#     sent mark was not committed yet go again).
. "$XFED_SRC/tests/sh/lib.sh"
t_init

N=5000
pair_init
echo "outbound_backoff_min 1s" >> "$T/a/xfed.conf"
# nothing lost is measured here, not the abuse limits (10,000 rows unread)
printf 'inbox_quota 0\nremote_stanza_rate 0\n' >> "$T/b/xfed.conf"

queue_rows() {	# PREFIX: N rows from alice to bob, 1 KiB bodies
	sqlite3 -batch "$T/a/xfed.db" "PRAGMA foreign_keys = ON;
PRAGMA busy_timeout = 5000;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO outbox (user_id, kind, to_jid, body)
SELECT u.id, 'message', 'bob@b.localhost',
    printf('$1-%05d ', n.i) || replace(hex(zeroblob(512)), '0', 'z')
FROM users u, n WHERE u.localpart = 'alice';
COMMIT;" > /dev/null
}
count_b() {	# PREFIX: "distinct total" rows of that batch in B's inbox
	sqlite3 -cmd ".timeout 5000" "$T/b/xfed.db" "
SELECT count(DISTINCT substr(body, 1, 7)) || ' ' || count(*) FROM inbox
WHERE body LIKE '$1-%'"
}
at_least() {	# PREFIX MIN
	local c
	c=$(count_b "$1")
	[ "${c%% *}" -ge "$2" ] 2>/dev/null
}
all_in() { at_least "$1" "$N"; }
report() {	# NAME PREFIX
	local c d t
	c=$(count_b "$2")
	d=${c%% *} t=${c##* }
	echo "# $1: $d of $N distinct in B's inbox, $((t - d)) duplicates, $((N - d)) lost"
	if [ "$d" = "$N" ]; then ok "$1"; else fail "$1" "$((N - d)) of $N lost"; fi
}
no_san() {	# NAME LOG...
	if grep -Eq 'AddressSanitizer|runtime error:|LeakSanitizer' "${@:2}"; then
		fail "$1" "$(grep -Eh -m3 'AddressSanitizer|runtime error:' "${@:2}")"
	else ok "$1"; fi
}

queue_rows t
start_xfed "$T/b" || { fail start_b "xfed B did not start"; exit 1; }
PIDB=$XFED_PID
start_xfed "$T/a" || { fail start_a "xfed A did not start"; exit 1; }
PIDA=$XFED_PID

# SIGTERM of the receiver, mid-stream
check term_mid_stream wait_for 60 at_least t 300
XFED_PID=$PIDB; stop_xfed; check term_b_exit_0 [ $? = 0 ]
echo "# at SIGTERM's end: $(count_b t) (distinct total) in B's inbox"
check term_b_read_until_close grep -q 'in#.*closing: xfed is stopping' "$T/b/xfed.log"
mv "$T/b/xfed.log" "$T/b/xfed.log.1"
start_xfed "$T/b" || { fail restart_b "xfed B did not restart"; exit 1; }
PIDB=$XFED_PID
wait_for 120 all_in t
report term_receiver_nothing_lost t

# kill -9 of the sender, mid-stream
queue_rows k
check kill_mid_stream wait_for 60 at_least k 300
kill -KILL "$PIDA"
wait "$PIDA" 2>/dev/null
echo "# at kill -9: $(count_b k) (distinct total) in B's inbox"
mv "$T/a/xfed.log" "$T/a/xfed.log.1"
start_xfed "$T/a" || { fail restart_a "xfed A did not restart"; exit 1; }
PIDA=$XFED_PID
wait_for 120 all_in k
report kill_sender_nothing_lost k

XFED_PID=$PIDA; stop_xfed; check a_stopped [ $? = 0 ]
XFED_PID=$PIDB; stop_xfed; check b_stopped [ $? = 0 ]
no_san no_sanitizer_report "$T"/a/xfed.log* "$T"/b/xfed.log*
t_exit
