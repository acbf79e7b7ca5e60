# tests/sh/s2s_interop_tls.sh: xfed (x.test) federates with real Prosody
# (p.test) and ejabberd (e.test) in the interop lab, tls mode: STARTTLS
# required by both peers, Prosody with s2s_secure_auth (as packaged),
# everyone trusting the lab CA, xfed with require_encryption on (the
# default).  Peers are found through the lab's DNS SRV records (no `route`
# lines).  With the lab's x.test certificate, SASL EXTERNAL (XEP-0178)
# authenticates each direction over TLS 1.3 (S2S 2.x, 3.x), as xfed's log,
# `xfedctl status --json` and the peers' logs show; xfed's stream errors
# reach the other side through TLS.  Then xfed restarts with an x.test
# certificate from a CA nobody trusts: Prosody refuses it and says why (the
# reason lands in xfed's log and in the outbox row, S2S 2.27), ejabberd
# rejects EXTERNAL and xfed falls back to dialback on the same TLS stream
# (S2S 3.x, 11.5), answering ejabberd's db:verify over STARTTLS itself.
# Needs root and the packages of `tools/deps check`.

. "$(dirname "${BASH_SOURCE[0]}")/../interop/lab.sh"
: "${XFED_BUILD:?XFED_BUILD is the build directory}"
XB=$(cd "$XFED_BUILD" && pwd)

LAB_TIMEOUT=15
T0=$(lab_now_ms)
if ! lab_init; then
	lab_fail "s2s_interop_tls" "lab_init: not root, or packages missing (see above)"
	exit 1
fi

lab_case "lab up (tls)" lab_up tls || exit 1
lab_case "user alice@p.test" lab_user p.test alice alice-pw || exit 1
lab_case "user bob@e.test" lab_user e.test bob bob-pw || exit 1

XD=$LAB_DIR/xfed
PLOG=$LAB_DIR/prosody/prosody.log
ELOG=$LAB_DIR/ejabberd/log/ejabberd.log
PKI=$LAB_DIR/pki
mkdir -p "$XD"
xctl() { "$XB/xfedctl" -c "$XD/xfed.conf" "$@"; }

# xfed_up NAME CERT KEY: xfed as x.test with that certificate, a fresh
# store, TLS required (the default), the lab CA to verify peers with; its
# output goes to log/NAME.log ($XLOG).
xfed_up() {
	XN=$1
	XLOG=$LAB_DIR/log/$XN.log
	shift
	rm -f "$XD"/xfed.db*
	cat > "$XD/xfed.conf" <<CONF
domain $LAB_X
listen $LAB_X_IP:5269
store xfed.db
control_socket xfed.sock
tls_certificate $1
tls_key $2
tls_ca_file $PKI/ca.pem
resolver $LAB_DNS_IP
log_level debug
CONF
	xctl user add nat > /dev/null || return 1
	lab_spawn "$XN" "$XB/xfed" -d -c "$XD/xfed.conf"
	XPID=$(cat "$LAB_DIR/pids/$XN.pid")
	lab_wait_port $LAB_X_IP 5269 10 "$XPID"
}

# xfed_down: SIGTERM; xfed exits 0.
xfed_down() {
	local rc
	lab_kill "$XN" 5
	wait "$XPID"
	rc=$?
	[ $rc = 0 ] || { echo "xfed exited with $rc"; tail -n 20 "$XLOG"; }
	[ $rc = 0 ]
}

# pyrun CODE ARGS...: Debian's python.
pyrun() {
	local code=$1
	shift
	"$LAB_PY" -c "$code" "$@"
}

# inbox_has JID TEXT: an inbox row from JID (any resource) with that body.
inbox_has() {
	xctl inbox --all --json | pyrun 'import json, sys
sys.exit(0 if any((r["from"] or "").split("/")[0] == sys.argv[1] and
    r["body"] == sys.argv[2] for r in map(json.loads, sys.stdin)) else 1)' \
	    "$1" "$2"
}

# row_is ID STATE: outbox row ID is in STATE.
row_is() {
	xctl outbox --json | pyrun 'import json, sys
sys.exit(0 if any(str(r["id"]) == sys.argv[1] and r["state"] == sys.argv[2]
    for r in map(json.loads, sys.stdin)) else 1)' "$1" "$2"
}

# row_error_has ID REGEX: outbox row ID is still queued (retrying) and its
# last_error matches REGEX.
row_error_has() {
	xctl outbox --json | pyrun 'import json, re, sys
for r in map(json.loads, sys.stdin):
    if str(r["id"]) == sys.argv[1]:
        sys.exit(0 if r["state"] == "queued" and
            re.search(sys.argv[2], r.get("last_error") or "") else 1)
sys.exit(1)' "$1" "$2"
}

# status_stream REMOTE DIR AUTH: `xfedctl status --json` lists a stream
# with REMOTE in direction DIR, authenticated by AUTH, with a TLS 1.3 value.
status_stream() {
	xctl status --json | pyrun 'import json, sys
st = json.load(sys.stdin)
remote, dir_, auth = sys.argv[1:4]
for s in st.get("streams") or []:
    if (s["remote"] == remote and s["direction"] == dir_ and
            s["auth"] == auth and "TLSv1.3" in (s.get("tls") or "")):
        print(json.dumps(s))
        sys.exit(0)
print(json.dumps(st))
sys.exit(1)' "$1" "$2" "$3"
}

# prosody_secured LINE: the Prosody session that logged LINE runs TLS 1.3
# and found the peer's certificate chain and identity valid.
prosody_secured() {
	pyrun 'import re, sys
lines = open(sys.argv[1], errors="replace").read().splitlines()
sess = [l.split("\t")[0].split()[-1] for l in lines if sys.argv[2] in l]
if not sess:
    sys.exit("no session logged %r" % sys.argv[2])
mine = [l for l in lines if l.split("\t")[0].split()[-1:] == sess[-1:]]
want = ["Stream encrypted (TLSv1.3",
        "certificate chain validation result: valid",
        "certificate identity validation result: valid"]
miss = [w for w in want if not any(w in l for l in mine)]
if miss:
    sys.exit("session %s: missing %r" % (sess[-1], miss))' "$PLOG" "$1"
}

# verify_answered: an inbound stream from e.test with TLS up carried xfed's
# db:verify type=valid (xfed as x.test's authoritative server).
verify_answered() {
	awk '/in#[0-9]+ e\.test .*TLS up: TLSv1\.3/ { tls[$3] = 1 }
	    /in#[0-9]+ e\.test .*send <db:verify from=.x\.test. to=.e\.test. .*type=.valid./ {
		if (tls[$3]) ok = 1 }
	    END { exit !ok }' "$XLOG"
}

# dialback_after_external: the outbound stream to e.test that logged the
# EXTERNAL refusal is the one that then logged dialback verified over TLS.
dialback_after_external() {
	awk '/out#[0-9]+ e\.test .*SASL EXTERNAL refused by e\.test/ { ref[$3] = 1 }
	    /out#[0-9]+ e\.test .*dialback verified pair=x\.test\/e\.test tls=TLSv1\.3/ {
		if (ref[$3]) ok = 1 }
	    END { exit !ok }' "$XLOG"
}

# bounded SECS CMD...: CMD until it succeeds, every 50 ms, at most SECS.
bounded() {
	local end=$(( $(lab_now_ms) + $1 * 1000 ))
	shift
	until "$@"; do
		[ "$(lab_now_ms)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

# peer DOMAIN USER PASSWORD: messages both ways, then how each direction
# was secured and authenticated.
peer() {
	local d=$1 u=$2 pw=$3 jid=$2@$1 pid rc id t0
	local body="over TLS from $u é 日本"
	local reply="hello $u from nat over TLS"
	local dq=${d//./\\.}
	t0=$(lab_now_ms)
	lab_client "$jid" "$pw" --tag "$u" \
	    "send nat@x.test $body" \
	    "wait-message nat@x.test $reply" \
	    > "$LAB_DIR/out/client-$d" 2>&1 &
	pid=$!

	# 1. the peer's message lands in the inbox; nat's answer is sent
	lab_case "$d: message from $jid in nat's inbox" \
	    bounded $LAB_TIMEOUT inbox_has "$jid" "$body"
	id=$(xctl send nat "$jid" "$reply")
	if [ -z "$id" ]; then
		lab_fail "$d: xfedctl send nat $jid" "no outbox id"
	else
		lab_case "$d: outbox row $id to $jid sent" \
		    bounded $LAB_TIMEOUT row_is "$id" sent ||
		    xctl outbox --json | sed 's/^/    | /'
	fi
	wait $pid
	rc=$?
	lab_steps "$d: client $jid" "$LAB_DIR/out/client-$d" $rc

	# 2. TLS 1.3 and SASL EXTERNAL in both directions
	lab_case "$d: inbound stream from $d is TLSv1.3" grep -Eq \
	    "in#[0-9]+ $dq .*TLS up: TLSv1\.3" "$XLOG"
	lab_case "$d: xfed verified $d by SASL EXTERNAL" grep -Eq \
	    "in#[0-9]+ $dq .*SASL EXTERNAL verified pair=x\.test/$dq\$" "$XLOG"
	lab_case "$d: $d verified x.test by SASL EXTERNAL over TLSv1.3" grep -Eq \
	    "out#[0-9]+ $dq .*SASL EXTERNAL verified pair=x\.test/$dq tls=TLSv1\.3" "$XLOG"
	lab_case "$d: status: inbound stream, sasl-external, TLSv1.3" \
	    status_stream "$d" in sasl-external
	lab_case "$d: status: outbound stream, sasl-external, TLSv1.3" \
	    status_stream "$d" out sasl-external

	# 3. the same seen from the peer
	case $d in
	"$LAB_P")
		lab_case "$d: Prosody: inbound x.test session TLSv1.3, certificate valid" \
		    prosody_secured "Incoming s2s connection x.test->p.test complete"
		lab_case "$d: Prosody: outbound x.test session TLSv1.3, certificate valid" \
		    prosody_secured "Outgoing s2s connection p.test->x.test complete"
		lab_case "$d: Prosody accepted x.test by SASL EXTERNAL" grep -q \
		    "Accepting SASL EXTERNAL identity from x.test" "$PLOG"
		lab_case "$d: Prosody authenticated to x.test by SASL EXTERNAL" \
		    grep -q "SASL EXTERNAL with x.test succeeded" "$PLOG" ;;
	"$LAB_E")
		# ejabberd's log is written asynchronously: a bounded wait
		lab_case "$d: ejabberd accepted x.test by SASL EXTERNAL" lab_wait_log \
		    "$ELOG" "Accepted inbound s2s EXTERNAL authentication x\.test -> e\.test" 5
		lab_case "$d: ejabberd authenticated to x.test by SASL EXTERNAL" lab_wait_log \
		    "$ELOG" "Accepted outbound s2s EXTERNAL authentication e\.test -> x\.test" 5 ;;
	esac
	echo "# $d: $(( $(lab_now_ms) - t0 )) ms"
}

lab_case "xfed up with the lab's x.test certificate" \
    xfed_up xfed "$PKI/$LAB_X.crt" "$PKI/$LAB_X.key" || exit 1
peer $LAB_P alice alice-pw
peer $LAB_E bob bob-pw

# xfed's own stream errors reach the peer through TLS (S2S 1.28): rawpeer,
# as r1.test, sends a stanza before authenticating over STARTTLS.
lab_case "rawpeer over STARTTLS: stanza before auth: not-authorized" \
    lab_rawpeer --tls --ca "$PKI/ca.pem" --host $LAB_X_IP --to $LAB_X \
    --from r1.test --wait 3 --timeout 10 \
    --expect stream-error:not-authorized stanza-before-auth --rcpt nat@x.test

# On SIGTERM, through TLS: xfed's own outbound streams get system-shutdown;
# the peers' streams into xfed get our </stream:stream>, xfed reads on,
# and they answer with theirs: closed at both ends (RFC 6120 4.4, S2S
# 1.23, 1.24; ejabberd calls a peer's closing tag "Stream reset by peer").
lab_case "xfed stops cleanly (trusted certificate)" xfed_down
lab_case "Prosody saw system-shutdown (inbound)" lab_wait_log "$PLOG" \
    "Incoming s2s stream x\.test->p\.test closed: system-shutdown" 5
lab_case "Prosody's outbound stream closed at both ends" lab_wait_log "$PLOG" \
    "Outgoing s2s stream p\.test->x\.test closed: stream closed" 5
lab_case "ejabberd saw system-shutdown (inbound)" lab_wait_log "$ELOG" \
    "inbound s2s connection x\.test -> e\.test: Stream closed by peer: system-shutdown" 5
lab_case "ejabberd's outbound stream closed at both ends" lab_wait_log "$ELOG" \
    "outbound s2s connection e\.test -> x\.test: Stream reset by peer" 5
for d in p e; do
	lab_case "xfed read $d.test's stream to its closing tag" grep -Eq \
	    "in#[0-9]+ $d\.test .*closed reason=\"closed at both ends\"" "$XLOG"
done

# An x.test certificate from a CA nobody trusts, and a fresh store.
t0=$(lab_now_ms)
lab_case "xfed up with an untrusted x.test certificate" \
    xfed_up xfed-untrusted "$PKI/bad/untrusted.crt" "$PKI/bad/untrusted.key" ||
    exit 1

# 4. Prosody (s2s_secure_auth) refuses xfed after STARTTLS: the row stays
# queued for a retry, with Prosody's reason in last_error and in the log.
REASON="not-authorized.*Your server's certificate is not trusted"
id=$(xctl send nat alice@p.test "must not reach alice")
lab_case "p.test: row $id queued, Prosody's reason in last_error" \
    bounded $LAB_TIMEOUT row_error_has "$id" "$REASON" ||
    xctl outbox --json | sed 's/^/    | /'
lab_case "p.test: Prosody's reason in xfed's log" grep -Eq \
    "out#[0-9]+ p\.test .*failed stage=stream: peer sent stream error <$REASON" \
    "$XLOG"
lab_case "p.test: Prosody refused x.test's certificate" grep -q \
    "Incoming s2s stream x.test->p.test closed: Your server's certificate is not trusted" \
    "$PLOG"

# 5. ejabberd offers EXTERNAL and rejects the certificate; dialback on the
# same TLS stream delivers the message.  ejabberd checks the key with
# x.test's authoritative server, xfed itself, over STARTTLS.
lab_client bob@e.test bob-pw --tag bob2 \
    "wait-message nat@x.test after EXTERNAL refused" \
    > "$LAB_DIR/out/client-e2" 2>&1 &
pid=$!
id=$(xctl send nat bob@e.test "after EXTERNAL refused")
lab_case "e.test: outbox row $id sent" bounded $LAB_TIMEOUT row_is "$id" sent
wait $pid
lab_steps "e.test: bob got it" "$LAB_DIR/out/client-e2" $?
lab_case "e.test: xfed logged SASL EXTERNAL refused, with ejabberd's reason" \
    grep -Eq "out#[0-9]+ e\.test .*SASL EXTERNAL refused by e\.test: not-authorized: .*certificate; trying dialback" "$XLOG"
lab_case "e.test: xfed answered ejabberd's db:verify valid over TLS" \
    verify_answered
lab_case "e.test: then dialback verified on the same stream, TLSv1.3" \
    dialback_after_external
lab_case "e.test: ejabberd refused EXTERNAL for x.test" lab_wait_log "$ELOG" \
    "Failed inbound s2s EXTERNAL authentication x\.test -> e\.test" 5
lab_case "e.test: ejabberd accepted x.test by dialback" lab_wait_log "$ELOG" \
    "Accepted inbound s2s dialback authentication x\.test -> e\.test" 5
lab_case "e.test: status: outbound stream, dialback, TLSv1.3" \
    status_stream "$LAB_E" out dialback
echo "# untrusted certificate: $(( $(lab_now_ms) - t0 )) ms"

lab_case "xfed stops cleanly (untrusted certificate)" xfed_down
lab_case "no sanitizer report from xfed" eval \
    "! grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' '$LAB_DIR'/log/xfed*.log"
echo "# s2s_interop_tls: $(( $(lab_now_ms) - T0 )) ms"
