# tests/sh/s2s_interop.sh: xfed (x.test) federates with real Prosody
# (p.test) and ejabberd (e.test) in the interop lab, plain mode (S2S over
# TCP, dialback only): one lab and one xfed for every case.  Both sides find
# each other through the lab's DNS SRV records (no `route` lines), and
# dialback verifies each direction.  For each peer a slixmpp client sends a
# message with an extension payload to a native user (S2S 5.17), receives
# the native user's answer, pings x.test and meets xfed's errors.  Then
# rawpeer.py, posing as other domains, checks xfed's refusals (S2S 4.18-4.27,
# 4.36, 5.1-5.3).  Needs root and the packages of `tools/deps check`.

. "$(dirname "${BASH_SOURCE[0]}")/../interop/lab.sh"
: "${XFED_BUILD:?XFED_BUILD is the build directory}"
XB=$(cd "$XFED_BUILD" && pwd)

LAB_TIMEOUT=15
T0=$(lab_now_ms)
if ! lab_init; then
	lab_fail "s2s_interop" "lab_init: not root, or packages missing (see above)"
	exit 1
fi

# Domains rawpeer speaks for, one per case so that no case inherits
# another's outbound stream or backoff in xfed: rN.test at 127.0.0.1N.
RP_N=9
for i in $(seq 1 $RP_N); do
	lab_dns "host-record=r$i.test,127.0.0.1$i" \
	    "srv-host=_xmpp-server._tcp.r$i.test,r$i.test,5269,0,0"
done

lab_case "lab up (plain)" lab_up plain || exit 1
lab_case "user alice@p.test" lab_user p.test alice alice-pw || exit 1
lab_case "user bob@e.test" lab_user e.test bob bob-pw || exit 1

# xfed as x.test: peers through DNS only, dialback without TLS.  c-ares
# would also find the lab's dnsmasq through the namespace's resolv.conf
# (`ip netns exec` mounts it); `resolver` says so explicitly.
XD=$LAB_DIR/xfed
mkdir -p "$XD"
cat > "$XD/xfed.conf" <<CONF
domain $LAB_X
domain x2.test
listen $LAB_X_IP:5269
store xfed.db
control_socket xfed.sock
require_encryption no
resolver $LAB_DNS_IP
log_level debug
CONF
XLOG=$LAB_DIR/log/xfed.log
DNSLOG=$LAB_DIR/dns/dnsmasq.log
xctl() { "$XB/xfedctl" -c "$XD/xfed.conf" "$@"; }
lab_case "native user nat@x.test" xctl user add nat || exit 1
lab_case "native user nat2@x2.test" xctl user add nat2@x2.test || exit 1
lab_spawn xfed "$XB/xfed" -d -c "$XD/xfed.conf"
XPID=$(cat "$LAB_DIR/pids/xfed.pid")
lab_case "xfed listens on $LAB_X_IP:5269" \
    lab_wait_port $LAB_X_IP 5269 10 "$XPID" || exit 1

# pyrun CODE ARGS...: Debian's python with rawpeer importable.
pyrun() {
	local code=$1
	shift
	PYTHONPATH=$LAB_HERE "$LAB_PY" -c "$code" "$@"
}

# inbox_from JID: the newest inbox row whose sender is JID (any resource),
# as one JSON line; fails when there is none yet.
inbox_from() {
	xctl inbox --all --json | pyrun 'import json, sys
rows = [r for r in map(json.loads, sys.stdin)
        if (r["from"] or "").split("/")[0] == sys.argv[1]]
if not rows:
    sys.exit(1)
print(json.dumps(rows[-1]))' "$1"
}

# row_is ID STATE: outbox row ID is in STATE.
row_is() {
	xctl outbox --json | pyrun 'import json, sys
sys.exit(0 if any(str(r["id"]) == sys.argv[1] and r["state"] == sys.argv[2]
    for r in map(json.loads, sys.stdin)) else 1)' "$1" "$2"
}

# payload_intact ROW-JSON BODY: the body arrived as sent and the extension
# element is in the stored stanza unmodified (same names, namespaces,
# attributes, text, children), S2S 5.17.
EXT_NS=urn:example:xfed:interop
EXT="<probe xmlns=\"$EXT_NS\" kind=\"a &amp; b &lt;c&gt;\"><item n=\"é 1\">ü &lt;tag&gt; &amp; 日本</item><empty/></probe>"
payload_intact() {
	pyrun 'import json, sys
import xml.etree.ElementTree as ET
row, body, ext = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
def shape(e):
    return (e.tag, sorted(e.attrib.items()), (e.text or "").strip(),
            [shape(c) for c in e])
want = ET.fromstring(ext)
if row["body"] != body:
    sys.exit("body column %r, sent %r" % (row["body"], body))
st = ET.fromstring(row["xml"])
got = st.findall("{jabber:server}body")
if [b.text for b in got] != [body]:
    sys.exit("stored stanza body %r" % [b.text for b in got])
found = st.findall(want.tag)
if len(found) != 1 or shape(found[0]) != shape(want):
    sys.exit("extension not intact: %r\nstored: %s" % (
        [shape(f) for f in found], row["xml"]))
print("intact:", row["xml"])' "$1" "$2" "$EXT"
}

# peer DOMAIN IP USER PASSWORD: the whole exchange with one peer.
peer() {
	local d=$1 ip=$2 u=$3 pw=$4 jid=$3@$1 pid rc id row mark t0
	local body="a < b & c > d \"q\" é ü 日本 ✓ 🎉 from $u"
	local xbody="a &lt; b &amp; c &gt; d \"q\" é ü 日本 ✓ 🎉 from $u"
	local reply="hello $u from nat: <&> \"ok\" é 日本"
	local dq=${d//./\\.}
	t0=$(lab_now_ms)
	mark=$(wc -l < "$DNSLOG")
	# The client runs in the background: it sends, then waits for what
	# the native user answers; client.py keeps what arrived before a wait.
	lab_client "$jid" "$pw" --tag "$u" \
	    "raw '<message to=\"nat@x.test\" type=\"chat\" id=\"pl-$u\"><body>$xbody</body>$EXT</message>'" \
	    "wait-message nat@x.test '$reply'" \
	    "ping x.test" \
	    "!ping nat@x.test" \
	    "!ping nobody@x.test" \
	    "send nobody@x.test to nobody" \
	    "wait-message nobody@x.test [error service-unavailable]" \
	    > "$LAB_DIR/out/client-$d" 2>&1 &
	pid=$!

	# 1. the message lands in the inbox with its payload intact
	if row=$(lab_bounded $LAB_TIMEOUT inbox_from "$jid"); then
		lab_case "$d: message from $jid in nat's inbox, payload intact" \
		    payload_intact "$row" "$body"
	else
		lab_fail "$d: message from $jid in nat's inbox" \
		    "nothing after ${LAB_TIMEOUT}s; inbox: $(xctl inbox --all --json | tail -3)"
	fi

	# 2. the native user answers; the row becomes sent
	id=$(xctl send nat "$jid" "$reply")
	if [ -z "$id" ]; then
		lab_fail "$d: xfedctl send nat $jid" "no outbox id"
	else
		lab_case "$d: outbox row $id to $jid sent" \
		    lab_bounded $LAB_TIMEOUT row_is "$id" sent ||
		    xctl outbox --json | sed 's/^/    | /'
	fi

	wait $pid
	rc=$?
	lab_steps "$d: client $jid" "$LAB_DIR/out/client-$d" $rc
	# 4. the errors are the right ones
	lab_case "$d: ping nobody@x.test answered service-unavailable" \
	    grep -q '!ping nobody@x.test  -> error reply, as wanted: service-unavailable' \
	    "$LAB_DIR/out/client-$d"
	# the client is no contact of nat's: nothing tells nat from nobody
	# (RFC 6121 8.5.1, S2S 8.41)
	lab_case "$d: ping nat@x.test from a stranger answered the same" \
	    grep -q '!ping nat@x.test  -> error reply, as wanted: service-unavailable' \
	    "$LAB_DIR/out/client-$d"

	# 3. both sides found the other through SRV; dialback both ways.
	# Only xfed looks p.test/e.test up in this part, and only the peer
	# looks x.test up (the peers do not talk to each other here).
	lab_case "$d: xfed asked DNS for _xmpp-server._tcp.$d" \
	    lab_bounded 5 dns_asked "$mark" "_xmpp-server\._tcp\.$dq"
	lab_case "$d: xfed connected to the SRV target $ip:5269" grep -Eq \
	    "out#[0-9]+ $dq \[$ip:5269\]: connecting" "$XLOG"
	lab_case "$d: the peer asked DNS for _xmpp-server._tcp.x.test" \
	    lab_bounded 5 dns_asked "$mark" "_xmpp-server\._tcp\.x\.test"
	lab_case "$d: xfed verified $d by dialback" grep -Eq \
	    "in#[0-9]+ $dq .*dialback verified pair=x\.test/$dq\$" "$XLOG"
	lab_case "$d: $d verified x.test by dialback" grep -Eq \
	    "out#[0-9]+ $dq .*dialback verified pair=x\.test/$dq\$" "$XLOG"
	# The same seen from the peer.
	case $d in
	"$LAB_P")
		lab_case "$d: Prosody resolved x.test by SRV" grep -Eq \
		    "Results for _xmpp-server\._tcp\.x\.test IN SRV: 1 items" \
		    "$LAB_DIR/prosody/prosody.log"
		lab_case "$d: Prosody accepted x.test" grep -q \
		    "Incoming s2s connection x.test->p.test complete" \
		    "$LAB_DIR/prosody/prosody.log"
		lab_case "$d: Prosody authenticated to x.test" grep -q \
		    "Outgoing s2s connection p.test->x.test complete" \
		    "$LAB_DIR/prosody/prosody.log" ;;
	"$LAB_E")
		lab_case "$d: ejabberd accepted x.test by dialback" grep -q \
		    "Accepted inbound s2s dialback authentication x.test -> e.test" \
		    "$LAB_DIR/ejabberd/log/ejabberd.log"
		lab_case "$d: ejabberd authenticated to x.test by dialback" grep -q \
		    "Accepted outbound s2s dialback authentication e.test -> x.test" \
		    "$LAB_DIR/ejabberd/log/ejabberd.log" ;;
	esac
	echo "# $d: $(( $(lab_now_ms) - t0 )) ms"
}

# dns_asked MARK NAME-REGEX: the lab DNS logged an SRV query for the name
# after line MARK of its log.
dns_asked() {
	tail -n +$(($1 + 1)) "$DNSLOG" | grep -Eq "query\[SRV\] $2 from"
}


peer $LAB_P $LAB_P_IP alice alice-pw
peer $LAB_E $LAB_E_IP bob bob-pw

# rawpeer against xfed.  rp NAME N EXPECT SCENARIO [ARGS...]: rawpeer as
# rN.test; its authoritative server listens on 127.0.0.1N unless the
# scenario needs it absent.
t0=$(lab_now_ms)
rp() {
	local name=$1 n=$2 want=$3 sc=$4 a opts=() xml=()
	shift 4
	[ "$sc" = dead-authoritative ] || opts=(--listen 127.0.0.1$n)
	# XML goes right after the scenario (argparse takes the positionals
	# in one run), options before it.
	for a in "$@"; do
		case "$a" in
		"<"*)	xml+=("$a") ;;
		*)	opts+=("$a") ;;
		esac
	done
	lab_case "rawpeer r$n.test: $name" lab_rawpeer --host $LAB_X_IP \
	    --to $LAB_X --from r$n.test --wait 3 --timeout 10 \
	    --expect "$want" "${opts[@]}" "$sc" "${xml[@]}"
}
rp "stanza before dialback: not-authorized" 1 stream-error:not-authorized \
    stanza-before-auth --rcpt nat@x.test
rp "from a domain not verified: invalid-from" 2 stream-error:invalid-from \
    spoofed-from --rcpt nat@x.test
rp "stream to a domain not hosted: host-unknown" 3 stream-error:host-unknown \
    unknown-to
rp "wrong stream namespace: invalid-namespace" 4 \
    stream-error:invalid-namespace wrong-namespace

# Its own authoritative server calls the key invalid: xfed answers
# db:result type=invalid and closes the stream (S2S 4.22).
bad_key() {
	lab_exec env PYTHONPATH="$LAB_HERE" timeout -k 2 30 "$LAB_PY" -c '
import sys, rawpeer
auth = rawpeer.Authoritative("r5.test", "127.0.0.15", verdict="invalid").start()
st = rawpeer.open_stream(sys.argv[1], 5269, to="x.test", frm="r5.test")
if st.header() is None or st.expect("features") is None:
    sys.exit("no stream")
v = rawpeer.dialback(st, "r5.test", "x.test", auth)
after = rawpeer.observe(st, 5)
print("outcome: %s, then %s" % (v, after))
sys.exit(0 if (v, after) == ("invalid", "closed") else 1)' $LAB_X_IP
}
lab_case "rawpeer r5.test: key called invalid: db:result invalid, stream closed" \
    bad_key
rp "authoritative server unreachable: dialback error" 6 error \
    dead-authoritative
lab_case "rawpeer r6.test: xfed said why the key could not be checked" \
    grep -Eq "dialback could not be checked pair=x\.test/r6\.test: remote-(connection-failed|server-not-found|server-timeout)" "$XLOG"
rp "stanza to a domain not hosted after dialback: host-unknown" 7 \
    stream-error:host-unknown raw --auth \
    "<message from='eve@r7.test' to='someone@nothere.test' id='u1'><body>x</body></message>"
lab_case "xfed still running" lab_alive "$XPID"
rp "dialback valid, message delivered" 8 valid dialback --rcpt nat@x.test \
    --body "rawpeer r8 after the bad cases"
lab_case "rawpeer r8.test: message in nat's inbox" \
    lab_bounded 5 inbox_from eve@r8.test

# One stream, two pairs: r9.test verified for x.test, then for x2.test on
# the same stream (XEP-0220 2.6 piggybacking); a stanza for the second pair
# is accepted there (S2S 4.32-4.36).
piggyback() {
	lab_exec env PYTHONPATH="$LAB_HERE" timeout -k 2 30 "$LAB_PY" -c '
import sys, rawpeer
auth = rawpeer.Authoritative("r9.test", "127.0.0.19").start()
st = rawpeer.open_stream(sys.argv[1], 5269, to="x.test", frm="r9.test")
if st.header() is None or st.expect("features") is None:
    sys.exit("no stream")
v1 = rawpeer.dialback(st, "r9.test", "x.test", auth)
v2 = rawpeer.dialback(st, "r9.test", "x2.test", auth)
st.send("<message from=\"eve@r9.test\" to=\"nat2@x2.test\" id=\"pb1\">"
        "<body>piggybacked</body></message>")
after = rawpeer.observe(st, 2)
print("x.test: %s, x2.test: %s, then %s" % (v1, v2, after))
sys.exit(0 if (v1, v2, after) == ("valid", "valid", "open") else 1)' $LAB_X_IP
}
lab_case "rawpeer r9.test: two pairs on one stream, both valid" piggyback
inbox_nat2() {
	"$XB/xfedctl" -c "$XD/xfed.conf" inbox nat2@x2.test --json | grep -q piggybacked
}
lab_case "rawpeer r9.test: the second pair's message in nat2's inbox" \
    lab_bounded 5 inbox_nat2
echo "# rawpeer: $(( $(lab_now_ms) - t0 )) ms"

# SIGTERM: xfed exits 0, and the sanitizers (in the test build) found
# nothing during the whole run.
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
echo "# s2s_interop: $(( $(lab_now_ms) - T0 )) ms"
