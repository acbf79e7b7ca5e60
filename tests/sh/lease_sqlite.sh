# tests/sh/lease_sqlite.sh: on SQLite the one daemon holds every lease, so
# draining a long queue does not ask the store for free leases on every
# kick: A (lease_time 1h, so that no lease timer runs during the test)
# sends 1,000 rows to B, four windows of 256 and the kicks of their
# commits, and asks for leases once, after the read that met the pair
# (a.localhost, b.localhost) first; xfedctl peers names A as the holder.
. "$XFED_SRC/tests/sh/lib.sh"
t_init
N=1000

pair_init
printf "lease_time 1h\nlog_level debug\n" >> "$T/a/xfed.conf"
echo "inbox_quota 0" >> "$T/b/xfed.conf"
start_xfed "$T/a" || { fail start_a "xfed A did not start"; exit 1; }
PIDA=$XFED_PID
start_xfed "$T/b" || { fail start_b "xfed B did not start"; exit 1; }
PIDB=$XFED_PID

sqlite3 "$T/a/xfed.db" ".timeout 10000" "WITH RECURSIVE g(v) AS
    (SELECT 1 UNION ALL SELECT v + 1 FROM g WHERE v < $N)
    INSERT INTO outbox (user_id, to_jid, body) SELECT u.id,
    'bob@b.localhost', 'row ' || g.v FROM users u, g
    WHERE u.localpart = 'alice'"
check queued_n [ $? = 0 ]
b_rows() {
	sqlite3 "$T/b/xfed.db" "SELECT count(*) FROM inbox WHERE body LIKE 'row %'"
}
all_in_b() { [ "$(b_rows)" -ge "$N" ]; }
if wait_for 60 all_in_b; then ok delivered_n
else fail delivered_n "$(b_rows) of $N in B"; fi
reads=$(grep -c "outbox: row [0-9]* to bob@b.localhost" "$T/a/xfed.log")
asks=$(grep -c "lease: .* asks for free leases" "$T/a/xfed.log")
echo "# $reads rows read, $asks lease claim(s) asked"
check claims_once [ "$asks" = 1 ]
actl peers b.localhost | grep -q "^  sent from a.localhost by instance [^ ]*:$PIDA, lease until "
check peers_lease_holder [ $? = 0 ]

XFED_PID=$PIDA
stop_xfed
check a_stopped [ $? = 0 ]
XFED_PID=$PIDB
stop_xfed
check b_stopped [ $? = 0 ]
t_exit
