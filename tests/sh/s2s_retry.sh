# tests/sh/s2s_retry.sh: outbound delivery when the remote cannot be
# reached (S2S issue, "Unreachable domain"; S2S 5.7, 5.8, 6.3). On
# loopback, with a dnsmasq of our own as the resolver and `route` for
# ports:
#   - no DNS (NXDOMAIN): the row stays queued, retried, with stage dns and
#     the error, and fails at the deadline with remote-server-not-found;
#   - a refused port: the same with stage connect and remote-server-timeout;
#   - an SRV "." target: failed at once, no retry;
#   - while a domain backs off, new rows wait without a lookup or a
#     connect each; a verified inbound stream from it ends the backoff and
#     the rows waiting go at once;
#   - a peer that comes back within the deadline gets every queued message
#     exactly once, also when xfed was restarted in between (attempts and
#     errors kept);
#   - a stanza xfed made itself for a peer that went away is dropped with a
#     log line, never stored.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

DNSMASQ=/usr/sbin/dnsmasq
[ -x "$DNSMASQ" ] || { fail dnsmasq "$DNSMASQ missing (package dnsmasq-base)"; exit 1; }

# dnsmasq answers for *.test only from what we give it: anything else
# under .test is NXDOMAIN; dot.test has an SRV "." target (no service).
start_dns() {
	local i
	for i in 1 2 3 4 5; do
		DM=$(free_port)
		: > "$T/dnsmasq.log"
		t_bg "$DNSMASQ" --keep-in-foreground --conf-file=/dev/null \
		    --no-resolv --no-hosts --local=/test/ \
		    --listen-address=127.0.0.1 --bind-interfaces --no-negcache \
		    --port="$DM" --log-facility="$T/dnsmasq.log" --log-queries \
		    --pid-file="$T/dnsmasq.pid" \
		    --srv-host=_xmpp-server._tcp.dot.test \
		    --host-record=dot.test,127.0.0.9
		DM_PID=$T_LASTPID
		wait_for 5 grep -q "started" "$T/dnsmasq.log" && sleep 0.2 &&
		    kill -0 "$DM_PID" 2>/dev/null && return 0
		kill "$DM_PID" 2>/dev/null
	done
	return 1
}
start_dns || { fail dnsmasq "did not start: $(cat "$T/dnsmasq.log")"; exit 1; }
dns_queries() {	# NAME: queries dnsmasq saw for it so far
	grep -c "query\[[A-Z]*\] \(_[a-z-]*\._tcp\.\)\?$1 " "$T/dnsmasq.log"
}

PA=$(free_port)
PB=$(free_port)
CLOSED=$(free_port)	# nothing listens there
mkdir -p "$T/a" "$T/b" "$T/w"
aconf() {	# DIR BACKOFF RETRY_FOR
	cat > "$1/xfed.conf" <<CONF
domain a.localhost
listen 127.0.0.1:$PA
store xfed.db
control_socket xfed.sock
require_encryption no
resolver 127.0.0.1:$DM
route refused.test 127.0.0.1:$CLOSED
route b.localhost 127.0.0.1:$PB
route x.test 127.0.0.1:$PX
outbound_backoff_min $2
outbound_retry_for $3
CONF
}
cat > "$T/b/xfed.conf" <<CONF
domain b.localhost
listen 127.0.0.1:$PB
store xfed.db
control_socket xfed.sock
require_encryption no
route a.localhost 127.0.0.1:$PA
CONF
PX=$(free_port)
ctl_in() { local d=$1; shift; "$XFED_BUILD/xfedctl" -c "$d/xfed.conf" "$@"; }
bctl() { ctl_in "$T/b" "$@"; }
bctl user add bob >/dev/null
check users_added [ $? = 0 ]

# q DIR SQL: one query on DIR's store (xfed may hold the write lock)
q() { sqlite3 -batch -cmd '.timeout 5000' "$1/xfed.db" "$2"; }
# field DIR ID COLUMN
field() { q "$1" "SELECT $3 FROM outbox WHERE id = $2"; }
row_matches() {	# DIR ID SQL-CONDITION
	[ "$(q "$1" "SELECT count(*) FROM outbox WHERE id = $2 AND ($3)")" = 1 ]
}
show_row() {
	q "$1" "SELECT id, state, attempts, error_stage, last_error, created,
	    updated, next_attempt FROM outbox WHERE id = $2"
}
expect_row() {	# NAME DIR ID SECS SQL-CONDITION
	if wait_for "$4" row_matches "$2" "$3" "$5"; then ok "$1"
	else fail "$1" "want $5: $(show_row "$2" "$3")"; fi
}

# ---- 1. unreachable domains, short deadline -------------------------------
D=$T/w
aconf "$D" 1s 4s
ctl_in "$D" user add alice >/dev/null
start_xfed "$D" || { fail start_deadline "xfed did not start"; exit 1; }
t0=$(date +%s)
nx=$(ctl_in "$D" send alice bob@nx.test 'to a name without DNS')
rf=$(ctl_in "$D" send alice bob@refused.test 'to a refused port')
dot=$(ctl_in "$D" send alice bob@dot.test 'to a domain without service')
check sent_three [ -n "$nx" ] && [ -n "$rf" ] && [ -n "$dot" ]

expect_row nxdomain_retrying "$D" "$nx" 3 "state = 'queued' AND attempts > 0 AND
    error_stage = 'dns' AND last_error LIKE '%NXDOMAIN%' AND next_attempt > 0"
expect_row refused_retrying "$D" "$rf" 3 "state = 'queued' AND attempts > 0 AND
    error_stage = 'connect' AND last_error LIKE '%refused%'"
# "." means no service at all: permanent, no retry (RFC 2782, S2S 6.3)
expect_row dot_failed_at_once "$D" "$dot" 3 "state = 'failed' AND attempts = 1
    AND error_stage = 'dns' AND
    error_xml LIKE '%<remote-server-not-found xmlns=''urn:ietf:params:xml:ns:xmpp-stanzas''/>%'"

expect_row nxdomain_failed "$D" "$nx" 10 "state = 'failed' AND
    error_stage = 'dns' AND last_error LIKE '%NXDOMAIN%' AND
    error_xml LIKE '%type=''error''%<error type=''cancel''><remote-server-not-found %'"
expect_row refused_failed "$D" "$rf" 10 "state = 'failed' AND
    error_stage = 'connect' AND last_error LIKE '%refused%' AND
    error_xml LIKE '%<error type=''wait''><remote-server-timeout %'"
# not before the deadline (created + 4 s), and retried on the way there
check nxdomain_failed_at_deadline row_matches "$D" "$nx" \
    "updated >= created + 4 AND updated <= created + 7 AND attempts >= 3"
check refused_failed_at_deadline row_matches "$D" "$rf" \
    "updated >= created + 4 AND updated <= created + 7 AND attempts >= 3"
echo "# deadline cases took $(($(date +%s) - t0)) s"
n=$(grep -c "out#[0-9]* refused.test .*connecting" "$D/xfed.log")
check refused_connected_again [ "$n" -ge 3 ]
check dot_looked_up_once [ "$(dns_queries _xmpp-server._tcp.dot.test)" = 1 ]
check nxdomain_looked_up_again [ "$(dns_queries nx.test)" -ge 3 ]
check outbox_cli_shows_failed sh -c "'$XFED_BUILD/xfedctl' -c '$D/xfed.conf' outbox |
    grep -q failed"

stop_xfed
check deadline_xfed_stopped [ $? = 0 ]

# ---- 2. during a backoff: no lookup or connect per row; inbound ends it --
D=$T/a
aconf "$D" 30s 1h
ctl_in "$D" user add alice >/dev/null
start_xfed "$D" || { fail start_backoff "xfed did not start"; exit 1; }
r0=$(ctl_in "$D" send alice bob@refused.test 'first')
n0=$(ctl_in "$D" send alice bob@nx.test 'first')
expect_row backoff_refused_first "$D" "$r0" 3 "state = 'queued' AND error_stage = 'connect'"
expect_row backoff_nx_first "$D" "$n0" 3 "state = 'queued' AND error_stage = 'dns'"
conn0=$(grep -c "out#[0-9]* refused.test .*connecting" "$D/xfed.log")
dns0=$(dns_queries nx.test)
ids=
for i in 1 2 3 4 5; do
	ids="$ids $(ctl_in "$D" send alice bob@refused.test "more $i")"
	ids="$ids $(ctl_in "$D" send alice bob@nx.test "more $i")"
	sleep 0.2
done
sleep 1.2
bad=
for id in $ids; do
	row_matches "$D" "$id" "state = 'queued' AND attempts >= 1 AND
	    error_stage IN ('connect', 'dns') AND last_error <> '' AND
	    next_attempt > strftime('%s', 'now') + 10" || bad="$bad $id"
done
check backoff_rows_queued_with_error [ -z "$bad" ]
[ -z "$bad" ] || for id in $bad; do echo "#   $(show_row "$D" "$id")"; done
check backoff_no_connect_per_row [ "$(grep -c "out#[0-9]* refused.test .*connecting" "$D/xfed.log")" = "$conn0" ]
check backoff_no_lookup_per_row [ "$(dns_queries nx.test)" = "$dns0" ]
check backoff_status sh -c "'$XFED_BUILD/xfedctl' -c '$D/xfed.conf' status |
    grep -q refused.test"

# a stanza xfed makes itself (here a service-unavailable answer) for a
# peer that went away is dropped with a log line; the outbox never sees it
nrows=$(q "$D" "SELECT count(*) FROM outbox")
cat > "$T/gone.py" <<'PY'
import sys, time
sys.path.insert(0, sys.argv[1] + "/tests/interop")
import rawpeer
pa, px = int(sys.argv[2]), int(sys.argv[3])
auth = rawpeer.Authoritative("x.test", "127.0.0.1", px, "keys").start()
st = rawpeer.open_stream("127.0.0.1", pa, to="a.localhost", frm="x.test")
st.header()
st.expect("features")
print("outcome: %s" % rawpeer.dialback(st, "x.test", "a.localhost", auth))
time.sleep(0.5)
auth.stop()			# x.test's server goes away, with our stream to it
time.sleep(1.0)
msg = "<message from='eve@x.test' to='nobody@a.localhost' id='%s'><body>?</body></message>"
st.send(msg % "g1")		# its error cannot be delivered: dropped
time.sleep(0.3)
st.send(msg % "g2")		# the same while x.test backs off
time.sleep(0.5)
st.close()
PY
$PY "$T/gone.py" "$XFED_SRC" "$PA" "$PX" > "$T/gone.out" 2>&1
check generated_peer_verified grep -q "outcome: valid" "$T/gone.out"
if wait_for 3 grep -q "route a.localhost -> x.test: dropped 1 stanza xfed made" "$D/xfed.log"
then ok generated_dropped_logged
else fail generated_dropped_logged "$(grep x.test "$D/xfed.log" | grep -v debug | tail -5)"; fi
if wait_for 3 grep -q "route a.localhost -> x.test: dropped a stanza while backing off" "$D/xfed.log"
then ok generated_dropped_in_backoff
else fail generated_dropped_in_backoff "$(grep x.test "$D/xfed.log" | grep -v debug | tail -5)"; fi
check generated_not_stored [ "$(q "$D" "SELECT count(*) FROM outbox")" = "$nrows" ]

# b.localhost is down: its row backs off for 30 s; then B comes up and
# talks to us first: the verified inbound stream ends the backoff and the
# row goes at once
r1=$(ctl_in "$D" send alice bob@b.localhost 'waiting for B')
expect_row backoff_b_first "$D" "$r1" 3 "state = 'queued' AND error_stage = 'connect'"
XA=$XFED_PID
start_xfed "$T/b" || { fail start_b "xfed B did not start"; exit 1; }
XB=$XFED_PID
bctl send bob alice@a.localhost 'B is up' >/dev/null
t1=$(date +%s%N)
if wait_for 10 grep -q "route a.localhost -> b.localhost: remote is back" "$D/xfed.log"
then ok remote_is_back_logged
else fail remote_is_back_logged "$(grep b.localhost "$D/xfed.log" | grep -v debug | tail -5)"; fi
expect_row remote_back_row_sent "$D" "$r1" 10 "state = 'sent'"
echo "# row sent $((($(date +%s%N) - t1) / 1000000)) ms after B spoke (backoff was 30 s)"
inbox_count() {	# DIR BODY-LIKE: inbox rows matching
	q "$1" "SELECT count(*) FROM inbox WHERE body LIKE '$2'"
}
check remote_back_delivered [ "$(inbox_count "$T/b" 'waiting for B')" = 1 ]
XFED_PID=$XB; stop_xfed
XFED_PID=$XA; stop_xfed
check backoff_xfed_stopped [ $? = 0 ]

# ---- 3. B comes back within the deadline: every message exactly once ----
D=$T/a
aconf "$D" 1s 5m
N=20
start_xfed "$D" || { fail start_comeback "xfed did not start"; exit 1; }
XA=$XFED_PID
first=
for i in $(seq $N); do
	id=$(ctl_in "$D" send alice bob@b.localhost "comeback-1 #$i")
	first=${first:-$id}
done
all_tried() {	# DIR FIRST-ID PATTERN
	[ "$(q "$1" "SELECT count(*) FROM outbox WHERE id >= $2 AND
	    state = 'queued' AND attempts >= 1 AND error_stage = 'connect' AND
	    body LIKE '$3'")" = "$N" ]
}
check comeback_queued_retrying wait_for 5 all_tried "$D" "$first" 'comeback-1 %'
start_xfed "$T/b" || { fail start_b "xfed B did not start"; exit 1; }
XB=$XFED_PID
t1=$(date +%s%N)
delivered() {	# PATTERN: B has N distinct bodies and N rows
	[ "$(q "$T/b" "SELECT count(*) || ' ' || count(DISTINCT body) FROM inbox
	    WHERE body LIKE '$1'")" = "$N $N" ]
}
if wait_for 20 delivered 'comeback-1 %'; then ok comeback_all_delivered
else fail comeback_all_delivered "B has $(q "$T/b" "SELECT count(*), count(DISTINCT body) FROM inbox WHERE body LIKE 'comeback-1 %'")"; fi
echo "# $N rows delivered $((($(date +%s%N) - t1) / 1000000)) ms after B started"
all_sent() {
	[ "$(q "$1" "SELECT count(*) FROM outbox WHERE id >= $2 AND
	    state = 'sent' AND body LIKE '$3'")" = "$N" ]
}
check comeback_rows_sent wait_for 5 all_sent "$D" "$first" 'comeback-1 %'
sleep 2
check comeback_exactly_once [ "$(q "$T/b" "SELECT count(*) FROM inbox WHERE body LIKE 'comeback-1 %'")" = "$N" ]

# ---- 4. the same with xfed restarted while the rows wait -----------------
XFED_PID=$XB; stop_xfed
first=
for i in $(seq $N); do
	id=$(ctl_in "$D" send alice bob@b.localhost "comeback-2 #$i")
	first=${first:-$id}
done
check restart_queued_retrying wait_for 5 all_tried "$D" "$first" 'comeback-2 %'
XFED_PID=$XA; stop_xfed
check restart_a_stopped [ $? = 0 ]
before=$(q "$D" "SELECT id, attempts, error_stage, last_error FROM outbox
    WHERE id >= $first ORDER BY id")
check restart_rows_kept [ "$(echo "$before" | grep -c '|connect|')" = "$N" ]
start_xfed "$D" || { fail restart_a "xfed did not start again"; exit 1; }
XA=$XFED_PID
sleep 1.5		# A retries against the still absent B
kept=$(q "$D" "SELECT count(*) FROM outbox o WHERE id >= $first AND
    state = 'queued' AND error_stage = 'connect' AND last_error <> ''")
check restart_errors_kept [ "$kept" = "$N" ]
start_xfed "$T/b" || { fail start_b "xfed B did not start"; exit 1; }
XB=$XFED_PID
t1=$(date +%s%N)
if wait_for 20 delivered 'comeback-2 %'; then ok restart_all_delivered
else fail restart_all_delivered "B has $(q "$T/b" "SELECT count(*), count(DISTINCT body) FROM inbox WHERE body LIKE 'comeback-2 %'")"; fi
echo "# $N rows delivered $((($(date +%s%N) - t1) / 1000000)) ms after B started (A restarted)"
check restart_rows_sent wait_for 5 all_sent "$D" "$first" 'comeback-2 %'
# attempts went on counting from before the restart
lower=0
while IFS='|' read -r id att _; do
	row_matches "$D" "$id" "attempts > $att" || lower=$((lower + 1))
done <<EOF
$before
EOF
check restart_attempts_kept [ "$lower" = 0 ]
sleep 2
check restart_exactly_once [ "$(q "$T/b" "SELECT count(*) FROM inbox WHERE body LIKE 'comeback-2 %'")" = "$N" ]

XFED_PID=$XB; stop_xfed; check b_stopped [ $? = 0 ]
XFED_PID=$XA; stop_xfed; check a_stopped [ $? = 0 ]
t_exit
