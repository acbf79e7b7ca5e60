# tests/sh/s2s_peers.sh: "xfedctl peers", per remote domain, from the
# running daemon (control socket) and the store, with real xfed peers on
# loopback and certificates from tests/tls/mkcerts.sh. x.test presents a
# certificate for wrong.test and sends to three peers:
#   y.test  secure_auth: refuses x's certificate (S2S 2.20, 2.27)
#   z.test  asks "x.test" (w, another xfed with another dialback secret)
#           to verify x's key: invalid, so x's dialback fails (XEP-0220)
#   down.test  nothing listens (S2S 6.14)
# Each is listed with its queued rows, its backoff and its attempts, each
# failure named with its stage and the text (the peer's own when it said
# one); y and z list the inbound attempts of x.test they refused, with
# the stage and what x was told; and a working pair shows both streams with TLS, authentication and
# the peer certificate's subject and expiry.
. "$XFED_SRC/tests/sh/lib.sh"
t_init
P=$T/pki
sh "$XFED_SRC/tests/tls/mkcerts.sh" "$P" > /dev/null 2>&1 ||
    { fail pki "mkcerts.sh failed"; exit 1; }

PX=$(free_port); PY_=$(free_port); PZ=$(free_port); PW=$(free_port)
PD=$(free_port)
# conf NAME DOMAIN PORT CERT EXTRA...
conf() {
	local n=$1 dom=$2 port=$3 cert=$4
	shift 4
	mkdir -p "$T/$n"
	{
		printf 'domain %s\nlisten 127.0.0.1:%s\nstore xfed.db\n' "$dom" "$port"
		printf 'control_socket xfed.sock\noutbound_backoff_min 30s\n'
		printf 'tls_certificate %s\ntls_key %s\ntls_ca_file %s\n' \
		    "$P/$cert.pem" "$P/$cert.key" "$P/ca.pem"
		for l in "$@"; do echo "$l"; done
	} > "$T/$n/xfed.conf"
}
conf x x.test "$PX" wrong "route y.test 127.0.0.1:$PY_" \
    "route z.test 127.0.0.1:$PZ" "route down.test 127.0.0.1:$PD" \
    "dialback_secret xsecret"
conf y y.test "$PY_" y "route x.test 127.0.0.1:$PX" "secure_auth yes"
conf z z.test "$PZ" y "route x.test 127.0.0.1:$PW"
conf w x.test "$PW" x "dialback_secret another-secret" \
    "route z.test 127.0.0.1:$PZ"
ctl_() { local n=$1; shift; "$XFED_BUILD/xfedctl" -c "$T/$n/xfed.conf" "$@"; }
for n in x y z w; do
	ctl_ $n user add u > /dev/null || { fail setup "user add on $n"; exit 1; }
	start_xfed "$T/$n" || { fail setup "xfed $n did not start"; exit 1; }
	eval "PID_$n=\$XFED_PID"
done

ctl_ x send u u@y.test 'to y' > /dev/null
ctl_ x send u u@z.test 'to z' > /dev/null
ctl_ x send u u@down.test 'to down' > /dev/null
ctl_ x send u u@down.test 'to down again' > /dev/null

# failed DOMAIN: the route has a failed attempt
failed() {
	ctl_ x peers "$1" --json > "$T/p.json" 2>&1 &&
	grep -q '"result":"failed"' "$T/p.json"
}
for d in y.test z.test down.test; do
	wait_for 30 failed $d || { fail "peers $d" "no failed attempt: $(cat "$T/p.json")"; }
done
ctl_ x peers > "$T/peers.txt" 2> "$T/peers.err"
RC=$?
sed 's/^/# /' "$T/peers.txt"
[ $RC = 0 ] && [ ! -s "$T/peers.err" ] && ok "peers: exit 0, nothing on stderr" ||
    fail "peers: exit 0, nothing on stderr" "exit $RC: $(cat "$T/peers.err")"

# has NAME REGEX: a line of the text output
has() {
	if grep -Eq -- "$2" "$T/peers.txt"; then ok "$1"
	else fail "$1" "no /$2/"; fi
}
has "peers: one section per remote domain, in order" \
    "^down.test$"
[ "$(grep -Ec '^(down|y|z)\.test$' "$T/peers.txt")" = 3 ] &&
    ok "peers: down.test, y.test, z.test listed" ||
    fail "peers: down.test, y.test, z.test listed" "$(grep -v '^ ' "$T/peers.txt")"
has "peers: a peer that is down: stage connect and the reason" \
    'failed at connect: .*(refused|Connection)'
has "peers: queued rows and the oldest's age from the store" \
    '^  queued in the store: 2 rows, the oldest for [0-9]+m[0-9]+s$'
has "peers: backoff with the failure count" \
    'route x.test -> down.test: 0 waiting in memory, backing off after 1 failure, retry in'

# by domain, JSON
ctl_ x peers y.test --json > "$T/y.json"
has_json() {	# NAME FILE PYTHON-EXPR (r: the object)
	if $PY -c 'import json, sys
r = json.loads(open(sys.argv[1]).read())
sys.exit(0 if eval(sys.argv[2]) else 1)' "$2" "$3"; then ok "$1"
	else fail "$1" "$3: $(cat "$2")"; fi
}
has_json "peers y.test: refused our certificate, stage and y's text" "$T/y.json" \
    'r["domain"] == "y.test" and any(a["result"] == "failed" and a["stage"] in ("dialback", "stream", "tls") and "secure_auth" in (a["text"] or "") for a in r["routes"][0]["attempts"])'
ctl_ x peers z.test --json > "$T/z.json"
has_json "peers z.test: dialback failed, stage dialback" "$T/z.json" \
    'any(a["result"] == "failed" and a["stage"] == "dialback" for a in r["routes"][0]["attempts"])'
ctl_ x peers down.test --json > "$T/d.json"
has_json "peers down.test: queued 2, oldest age, stage connect" "$T/d.json" \
    'r["queued"] == 2 and r["oldest_queued_age"] >= 0 and r["routes"][0]["attempts"][0]["stage"] == "connect" and r["routes"][0]["failures"] >= 1 and r["routes"][0]["retry_in"] > 0'
sed 's/^/# /' "$T/y.json" "$T/z.json"

# The other side: y and z list x.test's inbound attempts they refused,
# with the stage and what x was told.
ctl_ y peers x.test > "$T/yx.txt"
if grep -Eq '^  in y.test <- x.test: .* refused at dialback: .*secure_auth' "$T/yx.txt"; then
	ok "peers on y: x.test's inbound attempt refused (certificate), stage dialback"
else
	fail "peers on y: x.test's inbound attempt refused (certificate), stage dialback" "$(cat "$T/yx.txt")"
fi
ctl_ z peers x.test --json > "$T/zin.json"
has_json "peers on z, JSON: x.test's key refused by its authoritative server" "$T/zin.json" \
    'any(f["stage"] == "dialback" and f["local"] == "z.test" and "invalid" in f["text"] and f["time"] for f in r["refused_in"])'
sed 's/^/# /' "$T/yx.txt"

# The native system writes to_jid as it likes (store/CONTRACT.md): rows
# for u@DOWN.TEST and u@down.test. belong to down.test, one section.
$PY -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for to in ("u@DOWN.TEST", "u@down.test."):
    db.execute("INSERT INTO outbox (user_id, kind, to_jid, body) SELECT id, "
               "\x27message\x27, ?, \x27raw\x27 FROM users WHERE localpart = \x27u\x27", (to,))
db.commit()' "$T/x/xfed.db"
ctl_ x peers > "$T/peers.txt"
n=$(grep -ci '^down\.test\.\?$' "$T/peers.txt")
if [ "$n" = 1 ] && grep -A1 '^down.test$' "$T/peers.txt" |
    grep -q 'queued in the store: 4 rows'; then
	ok "peers: to_jid as written (case, trailing dot) grouped under down.test"
else
	fail "peers: to_jid as written (case, trailing dot) grouped under down.test" "$(cat "$T/peers.txt")"
fi

# A working pair: w (x.test) and z (z.test) verify each other through
# dialback over TLS; z's view of x.test shows the stream, its TLS and w's
# certificate.
ctl_ w send u u@z.test 'w to z' > /dev/null
okpair() {
	ctl_ z peers x.test --json > "$T/zx.json" &&
	grep -q '"auth":"dialback"' "$T/zx.json"
}
if wait_for 20 okpair; then
	has_json "peers: a working stream with TLS, auth and the peer certificate" "$T/zx.json" \
	    'any(s["tls"] and s["tls"].startswith("TLS") and s["auth"] == "dialback" and "x.test" in (s["cert_subject"] or "") and s["cert_expiry"] for s in r["streams"])'
else
	fail "peers: a working stream" "$(cat "$T/zx.json")"
fi
ctl_ w peers z.test > "$T/peers.txt"
has "peers: an attempt that worked is listed as ok" 'ok: authenticated'
has "peers: the peer certificate line" 'peer certificate: CN ?= ?y.test, expires 20'

ctl_ x peers nosuch.test
[ $? = 0 ] && ok "peers: an unknown domain is not an error" ||
    fail "peers: an unknown domain is not an error" "exit $?"
ctl_ x peers 'a b' 2> "$T/err" > /dev/null
[ $? = 2 ] && ok "peers: a bad domain is a usage error" ||
    fail "peers: a bad domain is a usage error" "$(cat "$T/err")"

# Without the store (moved away), peers still shows the live part, says
# the queued counts are unavailable, exits 1, and creates no store.
mv "$T/x/xfed.db" "$T/x/xfed.db.away"
ctl_ x peers > "$T/peers.txt" 2> "$T/err"
RC=$?
[ $RC = 1 ] && grep -q '^  queued in the store: unavailable$' "$T/peers.txt" &&
    grep -q 'route x.test -> down.test' "$T/peers.txt" &&
    grep -q '^xfedctl: queued rows unavailable: .*xfed.db: no store yet' "$T/err" &&
    [ ! -e "$T/x/xfed.db" ] &&
    ok "peers: no store: live data, queued unavailable, exit 1" ||
    fail "peers: no store: live data, queued unavailable, exit 1" \
    "exit $RC: $(cat "$T/err" "$T/peers.txt")"
mv "$T/x/xfed.db.away" "$T/x/xfed.db"

# A daemon alive but not answering (stopped): peers and status give up
# after a bounded wait with one line, exit 1, instead of hanging.
kill -STOP "$PID_x"
for c in peers status; do
	timeout 60 "$XFED_BUILD/xfedctl" -c "$T/x/xfed.conf" $c > /dev/null \
	    2> "$T/err"
	RC=$?
	[ $RC = 1 ] && [ "$(wc -l < "$T/err")" = 1 ] &&
	    grep -q "^xfedctl: xfed did not answer on .*xfed.sock in 10 s$" "$T/err" &&
	    ok "$c: a stopped daemon: one line, exit 1" ||
	    fail "$c: a stopped daemon: one line, exit 1" "exit $RC: $(cat "$T/err")"
done
kill -CONT "$PID_x"

for n in x y z w; do
	eval "XFED_PID=\$PID_$n"
	stop_xfed || fail "stop $n" "exit $?"
done
ctl_ x peers 2> "$T/err"
[ $? = 1 ] && grep -q "xfed is not running" "$T/err" &&
    ok "peers: says plainly when xfed is not running" ||
    fail "peers: says plainly when xfed is not running" "$(cat "$T/err")"
t_exit
