# tests/sh/s2s_interop_multi.sh: one domain (m.test) served by three xfed
# instances on one PostgreSQL (tests/sh/pg.sh), found by peers through one
# SRV record set of the interop lab's DNS naming all three (equal priority
# and weights, RFC 2782), with Prosody (p.test, a slixmpp client) and a
# peer xfed (y.test and y1..y$NY.test, on SQLite) on the other side; plain
# mode (dialback, no TLS). Set up once for every case.
#   - Prosody's user and the native user exchange messages both ways
#     through the instances; each message arrives once
#   - the peer xfed sends one message from each of its NY domains: each
#     stream picks an SRV target, so every instance takes inbound streams
#     (the counts per instance are printed), and each message is stored
#     once in the shared inbox; the native user's answer reaches y.test once
#   - the instances stop cleanly, with no sanitizer report
# Needs root and the packages of `tools/deps check`.

. "$(dirname "${BASH_SOURCE[0]}")/../interop/lab.sh"
. "$(dirname "${BASH_SOURCE[0]}")/pg.sh"
: "${XFED_BUILD:?XFED_BUILD is the build directory}"
XB=$(cd "$XFED_BUILD" && pwd)

LAB_TIMEOUT=20
NY=${MULTI_DOMAINS:-24}
T0=$(lab_now_ms)
if ! lab_init; then
	lab_fail "s2s_interop_multi" "lab_init: not root, or packages missing (see above)"
	exit 1
fi
PGD=$LAB_DIR/pg
trap 'rc=$?; pg_stop "$PGD"; (exit $rc); _lab_exit' EXIT

M=m.test
for i in 1 2 3; do
	lab_dns "host-record=m$i.test,127.0.0.2$i" \
	    "srv-host=_xmpp-server._tcp.$M,m$i.test,5269,0,10"
done
for i in $(seq 1 "$NY"); do
	lab_dns "host-record=y$i.test,$LAB_Y_IP" \
	    "srv-host=_xmpp-server._tcp.y$i.test,y$i.test,5269,0,0"
done

lab_case "lab up (plain, Prosody)" lab_up plain prosody || exit 1
lab_case "user alice@p.test" lab_user p.test alice alice-pw || exit 1
lab_case "PostgreSQL up" pg_start "$PGD" || exit 1

mconf() {	# N
	mkdir -p "$LAB_DIR/m$1"
	cat > "$LAB_DIR/m$1/xfed.conf" <<CONF
domain $M
listen 127.0.0.2$1:5269
store $PG_URI
control_socket xfed.sock
require_encryption no
resolver $LAB_DNS_IP
instance_name m$1
lease_time 5s
log_level debug
CONF
}
for i in 1 2 3; do mconf $i; done
YD=$LAB_DIR/y
mkdir -p "$YD"
{
	printf '%s\n' "domain $LAB_Y"
	for i in $(seq 1 "$NY"); do echo "domain y$i.test"; done
	printf '%s\n' "listen $LAB_Y_IP:5269" "store xfed.db" \
	    "control_socket xfed.sock" "require_encryption no" \
	    "resolver $LAB_DNS_IP" "log_level debug"
} > "$YD/xfed.conf"
mctl() { "$XB/xfedctl" -c "$LAB_DIR/m$1/xfed.conf" "${@:2}"; }
yctl() { "$XB/xfedctl" -c "$YD/xfed.conf" "$@"; }
lab_case "native user nat@$M" mctl 1 user add nat || exit 1
lab_case "peer user bob@$LAB_Y" yctl user add bob || exit 1
users_y() {
	local i
	for i in $(seq 1 "$NY"); do
		yctl user add "u$i@y$i.test" > /dev/null || return 1
	done
}
lab_case "peer users u1..u$NY" users_y || exit 1

for i in 1 2 3; do
	lab_spawn "m$i" "$XB/xfed" -d -c "$LAB_DIR/m$i/xfed.conf"
	eval "MPID$i=\$(cat \"\$LAB_DIR/pids/m$i.pid\")"
	eval "pid=\$MPID$i"
	lab_case "instance m$i listens on 127.0.0.2$i:5269" \
	    lab_wait_port "127.0.0.2$i" 5269 10 "$pid" || exit 1
done
lab_spawn y "$XB/xfed" -d -c "$YD/xfed.conf"
YPID=$(cat "$LAB_DIR/pids/y.pid")
lab_case "peer xfed listens on $LAB_Y_IP:5269" \
    lab_wait_port "$LAB_Y_IP" 5269 10 "$YPID" || exit 1
instances3() {
	mctl 2 status --json | "$LAB_PY" -c 'import json, sys
d = json.load(sys.stdin)
names = sorted(i["name"] for i in d["instances"])
print(names)
sys.exit(0 if names == ["m1", "m2", "m3"] else 1)'
}
lab_case "three instances beat on one database" instances3

# the rows of one body in the shared inbox (PostgreSQL)
m_count() {	# BODY
	pg_psql -c "SELECT count(*) FROM inbox WHERE body = '$1'"
}
once_in_m() { [ "$(m_count "$1")" = 1 ]; }

# 1. Prosody <-> native user, both ways
t0=$(lab_now_ms)
CLI=$LAB_DIR/out/alice.client
lab_client alice@p.test alice-pw "send nat@$M hello nat from alice" \
    "wait-message nat@$M hello alice from nat" > "$CLI" 2>&1 &
CPID=$!
lab_case "alice's message in nat's inbox" \
    lab_bounded "$LAB_TIMEOUT" once_in_m "hello nat from alice"
lab_case "nat answers alice" mctl 3 send nat alice@p.test "hello alice from nat"
wait "$CPID"
lab_steps "alice@p.test" "$CLI" $?
# the same bodies again after a while: still once (bounded, not a timing)
sleep 2
lab_case "alice's message stored once" once_in_m "hello nat from alice"
a_out_once() {
	pg_psql -c "SELECT count(*) FROM outbox WHERE body = 'hello alice from nat' AND state IN ('sent', 'delivered')" | grep -qx 1
}
lab_case "nat's answer sent once" a_out_once
echo "# Prosody both ways: $(( $(lab_now_ms) - t0 )) ms"

# 2. the peer xfed: one message from each of its domains
t0=$(lab_now_ms)
send_y() {
	local i
	for i in $(seq 1 "$NY"); do
		yctl send "u$i@y$i.test" "nat@$M" "from y$i" > /dev/null ||
		    return 1
	done
}
lab_case "y1..y$NY queue one message each" send_y
all_y() {
	[ "$(pg_psql -c "SELECT count(DISTINCT body) FROM inbox WHERE body LIKE 'from y%'")" = "$NY" ]
}
lab_case "all $NY in nat's inbox" lab_bounded $((LAB_TIMEOUT * 3)) all_y
sleep 2
y_once() {
	[ "$(pg_psql -c "SELECT count(*) FROM inbox WHERE body LIKE 'from y%'")" = "$NY" ]
}
lab_case "each of them stored once" y_once
# which instance took each inbound stream (dialback verified on it)
spread=
spread_ok=0
for i in 1 2 3; do
	n=$(grep -c "in#[0-9]* [^ ]* \[[^]]*\]: dialback verified pair=$M/" \
	    "$LAB_DIR/log/m$i.log")
	spread="$spread m$i:$n"
	[ "$n" -gt 0 ] && spread_ok=$((spread_ok + 1))
done
echo "# inbound streams verified per instance:$spread"
lab_case "every instance took inbound streams (SRV spread)" [ "$spread_ok" = 3 ]
srv_asked() {
	grep -q "query\[SRV\] _xmpp-server._tcp.$M from" "$LAB_DIR/dns/dnsmasq.log"
}
lab_case "peers asked the SRV record set of $M" srv_asked
lab_case "nat answers bob@$LAB_Y" mctl 2 send nat "bob@$LAB_Y" "hello bob from nat"
bob_once() {
	[ "$(yctl inbox bob --json | grep -c 'hello bob from nat')" = 1 ]
}
lab_case "bob has it" lab_bounded "$LAB_TIMEOUT" bob_once
sleep 2
lab_case "bob has it once" bob_once
echo "# peer xfed: $(( $(lab_now_ms) - t0 )) ms"

stop_one() {	# NAME PID
	local rc
	lab_kill "$1" 5
	wait "$2"
	rc=$?
	[ $rc = 0 ] || { echo "$1 exited with $rc"; tail -n 20 "$LAB_DIR/log/$1.log"; }
	! grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' \
	    "$LAB_DIR/log/$1.log" && [ $rc = 0 ]
}
lab_case "m1 stops cleanly" stop_one m1 "$MPID1"
lab_case "m2 stops cleanly" stop_one m2 "$MPID2"
lab_case "m3 stops cleanly" stop_one m3 "$MPID3"
lab_case "peer xfed stops cleanly" stop_one y "$YPID"
echo "# s2s_interop_multi: $(( $(lab_now_ms) - T0 )) ms"
