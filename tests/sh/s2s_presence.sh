# tests/sh/s2s_presence.sh: RFC 6121 presence and subscriptions between
# xfed's native user nat@x.test and users of real Prosody (p.test) and
# ejabberd (e.test), in the interop lab, plain mode (S2S 8.x).  For each
# peer a slixmpp client asks to see nat's presence (the request lands in
# nat's inbox with its text), nat approves and the client sees nat online;
# nat asks back, the client approves and nat's roster shows `both` and the
# client's presence; nat's presence changes (dnd, then unavailable) reach
# the client; a second login of the same user probes nat and gets the
# current presence.  The same between two domains xfed hosts (no S2S
# hop).  Then rawpeer, as another domain, checks the answers to probes
# from a stranger: the same `unsubscribed` for nat and for a user that
# does not exist (S2S 10.12).  Needs root and the packages of `tools/deps
# check`.

. "$(dirname "${BASH_SOURCE[0]}")/../interop/lab.sh"
: "${XFED_BUILD:?XFED_BUILD is the build directory}"
XB=$(cd "$XFED_BUILD" && pwd)

LAB_TIMEOUT=15
T0=$(lab_now_ms)
if ! lab_init; then
	lab_fail "s2s_presence" "lab_init: not root, or packages missing (see above)"
	exit 1
fi
lab_dns "host-record=r1.test,127.0.0.11" \
    "srv-host=_xmpp-server._tcp.r1.test,r1.test,5269,0,0"

lab_case "lab up (plain)" lab_up plain || exit 1
lab_case "user alice@p.test" lab_user p.test alice alice-pw || exit 1
lab_case "user bob@e.test" lab_user e.test bob bob-pw || exit 1

XD=$LAB_DIR/xfed
mkdir -p "$XD"
cat > "$XD/xfed.conf" <<CONF
domain $LAB_X
domain h.test
listen $LAB_X_IP:5269
store xfed.db
control_socket xfed.sock
require_encryption no
resolver $LAB_DNS_IP
log_level debug
CONF
XLOG=$LAB_DIR/log/xfed.log
xctl() { "$XB/xfedctl" -c "$XD/xfed.conf" "$@"; }
lab_case "native user nat@x.test" xctl user add nat || exit 1
lab_spawn xfed "$XB/xfed" -d -c "$XD/xfed.conf"
XPID=$(cat "$LAB_DIR/pids/xfed.pid")
lab_case "xfed listens on $LAB_X_IP:5269" \
    lab_wait_port $LAB_X_IP 5269 10 "$XPID" || exit 1

pyrun() {
	local code=$1
	shift
	PYTHONPATH=$LAB_HERE "$LAB_PY" -c "$code" "$@"
}

# The native user the helpers below look at.
WHO=nat

# inbox_has KIND JID [BODY]: $WHO's inbox has a KIND row from JID (any
# resource), with BODY when given.
inbox_has() {
	xctl inbox "$WHO" --all --json | pyrun 'import json, sys
k, j = sys.argv[1], sys.argv[2]
b = sys.argv[3] if len(sys.argv) > 3 else None
sys.exit(0 if any(r["kind"] == k and (r["from"] or "").split("/")[0] == j
    and (b is None or r["body"] == b)
    for r in map(json.loads, sys.stdin)) else 1)' "$@"
}

# roster_is JID STATE [FLAG]: $WHO's roster item JID has subscription STATE
# (and FLAG set: pending_in, pending_out or preapproved).
roster_is() {
	xctl roster "$WHO" --json | pyrun 'import json, sys
j, s = sys.argv[1], sys.argv[2]
f = sys.argv[3] if len(sys.argv) > 3 else None
sys.exit(0 if any(r["jid"] == j and r["subscription"] == s and
    (f is None or r[f]) for r in map(json.loads, sys.stdin)) else 1)' "$@"
}

# rpres_is BARE SHOW [STATUS]: $WHO's remote presence has a resource of BARE
# with SHOW (and STATUS), and none of it shows otherwise when SHOW is
# unavailable.
rpres_is() {
	xctl roster "$WHO" --json | pyrun 'import json, sys
j, show = sys.argv[1], sys.argv[2]
st = sys.argv[3] if len(sys.argv) > 3 else None
ps = [p for r in map(json.loads, sys.stdin) if r["jid"] == j
      for p in r["presence"]]
ok = [p for p in ps if p["show"] == show and (st is None or p["status"] == st)]
if show == "unavailable" and len(ok) != len(ps):
    ok = []
print(ps)
sys.exit(0 if ok else 1)' "$@"
}

# client_passed FILE STEP: client.py printed PASS for STEP in FILE.
client_passed() {
	grep -F -- "  $2" "$1" | grep -q '^  PASS'
}

# peer DOMAIN USER PASSWORD
peer() {
	local d=$1 u=$2 pw=$3 jid=$2@$1 pid rc out t0
	out=$LAB_DIR/out/client-$d
	t0=$(lab_now_ms)
	lab_case "$d: nat is available" xctl presence set nat available "here"
	lab_client "$jid" "$pw" --tag "$u" \
	    "raw '<presence to=\"nat@x.test\" type=\"subscribe\"><status>let me see, $u</status></presence>'" \
	    "wait-subscribed nat@x.test" \
	    "wait-presence nat@x.test online" \
	    "wait-subscribe nat@x.test" \
	    "approve nat@x.test" \
	    "wait-roster nat@x.test both" \
	    "set-presence away on a walk, $u" \
	    "wait-presence nat@x.test dnd" \
	    "wait-presence nat@x.test unavailable" \
	    > "$out" 2>&1 &
	pid=$!

	# their request: in the inbox with its text, pending in the roster
	lab_case "$d: subscribe from $jid in nat's inbox with its text" \
	    lab_bounded $LAB_TIMEOUT inbox_has subscribe "$jid" "let me see, $u"
	lab_case "$d: roster: $jid pending in" \
	    roster_is "$jid" none pending_in
	lab_case "$d: xfedctl approve nat $jid" xctl approve nat "$jid"
	lab_case "$d: roster: $jid from" roster_is "$jid" from
	lab_case "$d: xfedctl subscribe nat $jid" xctl subscribe nat "$jid"
	lab_case "$d: roster: $jid both, after the client approved" \
	    lab_bounded $LAB_TIMEOUT roster_is "$jid" both
	lab_case "$d: subscribed from $jid in nat's inbox" \
	    lab_bounded $LAB_TIMEOUT inbox_has subscribed "$jid"
	lab_case "$d: $jid's presence (away, with text) in nat's roster" \
	    lab_bounded $LAB_TIMEOUT rpres_is "$jid" away "on a walk, $u"

	# nat's changes reach the client, one after the other
	lab_case "$d: xfedctl presence set nat dnd busy" \
	    xctl presence set nat dnd busy
	lab_case "$d: the client saw dnd" lab_bounded $LAB_TIMEOUT \
	    client_passed "$out" "wait-presence nat@x.test dnd"
	# another login of the same user: its server probes nat (S2S 11.10)
	lab_client "$jid" "$pw" --tag "$u/second" --resource second \
	    "wait-presence nat@x.test dnd" > "$out-second" 2>&1
	lab_steps "$d: second login of $jid (probe)" "$out-second" $?
	lab_case "$d: xfed answered the probe from $jid" grep -Eq \
	    "presence: probe from $u@$d(/[^ ]*)? to nat@x\.test: answered available" \
	    "$XLOG"
	lab_case "$d: xfedctl presence set nat unavailable" \
	    xctl presence set nat unavailable

	wait $pid
	rc=$?
	lab_steps "$d: client $jid" "$out" $rc
	lab_case "$d: $jid's logout seen: unavailable in nat's roster" \
	    lab_bounded $LAB_TIMEOUT rpres_is "$jid" unavailable
	echo "# $d: $(( $(lab_now_ms) - t0 )) ms"
}

peer $LAB_P alice alice-pw
peer $LAB_E bob bob-pw

# Between two hosted domains of the same xfed: the same rules, no S2S hop.
lab_case "native user amy@h.test" xctl user add amy@h.test
lab_case "h.test: amy is away" xctl presence set amy@h.test away lunch
lab_case "h.test: xfedctl subscribe nat amy@h.test" \
    xctl subscribe nat amy@h.test "hello amy"
WHO=amy@h.test
lab_case "h.test: subscribe from nat@x.test in amy's inbox with its text" \
    lab_bounded 5 inbox_has subscribe nat@x.test "hello amy"
lab_case "h.test: amy's roster: nat@x.test pending in" \
    lab_bounded 5 roster_is nat@x.test none pending_in
lab_case "h.test: xfedctl approve amy@h.test nat@x.test" \
    xctl approve amy@h.test nat@x.test
WHO=nat
lab_case "h.test: nat's roster: amy@h.test to" \
    lab_bounded 5 roster_is amy@h.test to
lab_case "h.test: subscribed from amy@h.test in nat's inbox" \
    lab_bounded 5 inbox_has subscribed amy@h.test
lab_case "h.test: amy's presence (away, lunch) in nat's roster" \
    lab_bounded 5 rpres_is amy@h.test away lunch
lab_case "h.test: xfedctl presence set amy@h.test unavailable" \
    xctl presence set amy@h.test unavailable
lab_case "h.test: amy unavailable in nat's roster" \
    lab_bounded 5 rpres_is amy@h.test unavailable

# A stranger's probes: the same unsubscribed for nat (no subscription)
# and for nobody (no such user), with the probe's id (RFC 6121 4.3.2,
# 8.5.1; S2S 8.16, 8.17, 10.12); an unknown type gets bad-request.
probes() {
	lab_rawpeer --host $LAB_X_IP --to $LAB_X --from r1.test \
	    --listen 127.0.0.11 --wait 3 --timeout 10 --auth raw \
	    "<presence from='eve@r1.test/x' to='nat@x.test' type='probe' id='p-nat'/>" \
	    "<presence from='eve@r1.test/x' to='nobody@x.test' type='probe' id='p-nobody'/>" \
	    "<presence from='eve@r1.test/x' to='nat@x.test' type='bogus' id='p-bogus'/>" \
	    > "$RPOUT" 2>&1
}
RPOUT=$LAB_DIR/out/rawpeer-probes
lab_case "rawpeer r1.test: probes and a bogus type sent" probes
# answered REGEX: a stanza matching REGEX came back to r1.test.
answered() {
	grep -F '(auth) <- x.test' "$RPOUT" | grep -Eq "$1"
}
A="<presence type='unsubscribed' from='nat@x\.test' to='eve@r1\.test/x' id='p-nat'/>"
lab_case "rawpeer r1.test: probe to nat answered unsubscribed" answered "$A"
A="<presence type='unsubscribed' from='nobody@x\.test' to='eve@r1\.test/x' id='p-nobody'/>"
lab_case "rawpeer r1.test: probe to nobody answered the same" answered "$A"
A="<presence [^>]*type='error' id='p-bogus'><error type='modify'><bad-request "
lab_case "rawpeer r1.test: type bogus answered bad-request" answered "$A"

stop_clean() {
	local rc
	lab_kill xfed 5
	wait "$XPID"
	rc=$?
	[ $rc = 0 ] || { echo "xfed exited with $rc"; tail -n 20 "$XLOG"; }
	[ $rc = 0 ]
}
lab_case "xfed stops cleanly on SIGTERM" stop_clean
lab_case "no sanitizer report from xfed" eval \
    "! grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' '$XLOG'"
echo "# s2s_presence: $(( $(lab_now_ms) - T0 )) ms"
