# tests/sh/check_net.sh: "xfedctl check", DNS and dial parts, in a network
# namespace of the interop lab (tests/interop/lab.sh): dnsmasq with SRV
# records for x.test -> 127.0.0.4 and y.test -> 127.0.0.5, a lab CA, and
# one extra domain per DNS mistake. xfedctl asks the lab's DNS through the
# `resolver` setting. Each result is checked with its OK/WARN/FAIL line,
# the fix, and the exit status (0 all OK, 1 warnings, 2 failures).
# DNS (S2S 6.1-6.8, 6.11), with a config hosting every mistake's domain
# and listening on x.test's address 127.0.0.4:5269: missing SRV (with and
# without an address to fall back to), wrong port, a target without
# address, a CNAME target (and a CNAME domain without SRV, which is
# fine), a "." target, a target on another host, _xmpps-server without
# listen_tls, a resolver that does not answer, an A/AAAA fallback whose
# lookup fails (not "no address"), a target on a loopback address (a WARN
# with the address unless --private; the lab's addresses are loopback, so
# the other cases run with --private).
# Dial (S2S 2.x, 4.x/XEP-0220, 6.x):
#   - the self-dial of x.test reaches the running xfed through SRV,
#     STARTTLS, the certificate and dialback, and the daemon confirms the
#     nonce (all OK);
#   - a second xfed also serving x.test, whose records lead to the first:
#     its self-dial reaches the other server and FAILs (nonce not seen,
#     and the server reached has another dialback secret);
#   - --peer y.test (another xfed) goes through DNS, TLS, the peer's
#     certificate and dialback, which y verifies with x.test's server;
#     DOMAIN --peer y.test speaks for DOMAIN, one of several hosted;
#   - --peer p.test, whose records lead to nothing: FAIL at connect;
#   - the self-dial without a running daemon: FAIL, says so;
#   - diagnostics never create the store: --peer with a fresh config
#     says there is no store yet, and leaves none; with a store the user
#     cannot read, it names the store error and the permissions;
#   - hostile peers (tests/sh/hostilepeer.py), each cut off after one
#     deadline for its step: one that keeps sending other elements while
#     our dialback key waits (XEP-0220), one that drips a TLS record byte
#     by byte (S2S 2.x), one that injects an element after <proceed/>
#     (RFC 6120 5.4.3.3).
# Needs root and the packages of `tools/deps check`.

. "$(dirname "${BASH_SOURCE[0]}")/../interop/lab.sh"
: "${XFED_BUILD:?XFED_BUILD is the build directory}"
XB=$(cd "$XFED_BUILD" && pwd)

LAB_TIMEOUT=15
if ! lab_init; then
	lab_fail "check_net" "lab_init: not root, or packages missing (see above)"
	exit 1
fi
# One hosted domain per case; x.test is the lab's, right.
lab_dns 'host-record=nosrv.test,127.0.0.4' \
    'srv-host=_xmpp-server._tcp.port.test,x.test,5270,0,0' \
    'srv-host=_xmpp-server._tcp.noaddr.test,ghost.test,5269,0,0' \
    'srv-host=_xmpp-server._tcp.cname.test,alias.test,5269,0,0' \
    'cname=alias.test,x.test' \
    'srv-host=_xmpp-server._tcp.dot.test' \
    'srv-host=_xmpp-server._tcp.nofed.test' \
    'srv-host=_xmpp-server._tcp.elsewhere.test,y.test,5269,0,0' \
    'srv-host=_xmpps-server._tcp.tls.test,x.test,5223,0,0' \
    'srv-host=_xmpp-server._tcp.tls.test,x.test,5269,1,0' \
    'host-record=dripdb.test,127.0.0.20' 'host-record=driptls.test,127.0.0.21' \
    'host-record=inject.test,127.0.0.22' 'cname=cnfb.test,x.test' \
    'host-record=plain.test,127.0.0.23' \
    'local=/_tcp.fbfail.test/' 'server=/fbfail.test/127.0.0.99'
lab_case "lab pki" lab_pki || exit 1
lab_case "lab dns" lab_start_dns || exit 1
PKI=$LAB_DIR/pki

# xconf NAME DOMAIN IP CERT [EXTRA...]: $LAB_DIR/NAME/xfed.conf
xconf() {
	local n=$1 dom=$2 ip=$3 cert=$4
	shift 4
	mkdir -p "$LAB_DIR/$n"
	{
		cat <<CONF
domain $dom
listen $ip:5269
store xfed.db
control_socket xfed.sock
tls_certificate $PKI/$cert.crt
tls_key $PKI/$cert.key
tls_ca_file $PKI/ca.pem
resolver $LAB_DNS_IP
log_level debug
CONF
		for l in "$@"; do echo "$l"; done
	} > "$LAB_DIR/$n/xfed.conf"
}
# up NAME IP: starts that xfed in the namespace
up() {
	"$XB/xfedctl" -c "$LAB_DIR/$1/xfed.conf" user add u > /dev/null || return 1
	lab_spawn "$1" "$XB/xfed" -d -c "$LAB_DIR/$1/xfed.conf"
	lab_wait_port "$2" 5269 10 "$(cat "$LAB_DIR/pids/$1.pid")"
}
xconf a x.test $LAB_X_IP x.test
xconf b x.test 127.0.0.6 x.test
xconf y y.test $LAB_Y_IP y.test

OUT=$LAB_DIR/out/check.out
# chk NAME ARGS...: xfedctl -c NAME's config check ARGS inside the namespace;
# the lab's addresses are loopback ones: --private unless CHK_PRIVATE=""
chk() {
	local n=$1
	shift
	lab_exec timeout 150 "$XB/xfedctl" -c "$LAB_DIR/$n/xfed.conf" check "$@" \
	    ${CHK_PRIVATE---private} > "$OUT" 2>&1
	RC=$?
}
# got NAME RC REGEX...: the exit status, and each REGEX on some line
got() {
	local name=$1 rc=$2 re
	shift 2
	if [ "$RC" != "$rc" ]; then
		lab_fail "$name" "exit $RC, want $rc"
		sed 's/^/    | /' "$OUT"
		return
	fi
	for re in "$@"; do
		if ! grep -Eq -- "$re" "$OUT"; then
			lab_fail "$name" "no /$re/"
			sed 's/^/    | /' "$OUT"
			return
		fi
	done
	lab_ok "$name"
}

XD=$LAB_DIR/doms
mkdir -p "$XD"
{
	for d in x.test nosrv.test nothing.test port.test noaddr.test \
	    cname.test dot.test elsewhere.test tls.test cnfb.test fbfail.test; do
		echo "domain $d"
	done
	cat <<CONF
listen $LAB_X_IP:5269
store xfed.db
control_socket xfed.sock
require_encryption no
resolver $LAB_DNS_IP
CONF
} > "$XD/xfed.conf"

chk doms x.test --only dns
got "dns: SRV to x.test:5269, where xfed listens: OK, exit 0" 0 \
    '^OK   dns _xmpp-server._tcp.x.test SRV 0 0 5269 x.test: x.test port 5269: 127.0.0.4, where xfed listens' \
    '^1 OK, 0 WARN, 0 FAIL$'

CHK_PRIVATE= chk doms x.test --only dns
got "dns: a target on a loopback address: WARN with the address, unless --private" 1 \
    '^WARN dns _xmpp-server._tcp.x.test SRV 0 0 5269 x.test: x.test resolves to 127.0.0.4, a loopback address: peers elsewhere cannot connect to it' \
    '^     fix: publish the host.s public address in its A/AAAA records \(inside one network only, run check with --private\)' \
    '^1 OK, 1 WARN, 0 FAIL$'
CHK_PRIVATE= chk doms --peer e.test --only dns
got "dns: --peer whose target is loopback: WARN, nothing to change here" 1 \
    '^WARN dns _xmpp-server._tcp.e.test SRV 0 0 5269 e.test: e.test resolves to 127.0.0.3, a loopback address' \
    '^     fix: nothing to change here'

chk doms fbfail.test --only dns
got "dns: no SRV and the A/AAAA lookup fails: FAIL that says the lookup failed" 2 \
    '^FAIL dns _xmpp-server._tcp.fbfail.test: no SRV record, and the A/AAAA lookup of fbfail.test to fall back to failed \(.*\): peers cannot connect until it answers' \
    '^     fix: check the resolver setting'
if grep -q "has no A or AAAA" "$OUT"; then
	lab_fail "dns: a failed fallback lookup is not \"no address\"" "$(cat "$OUT")"
else
	lab_ok "dns: a failed fallback lookup is not \"no address\""
fi

chk doms nosrv.test --only dns
got "dns: missing SRV with an A record on xfed: WARN (fallback to 5269)" 1 \
    '^WARN dns _xmpp-server._tcp.nosrv.test: no SRV record: peers fall back to nosrv.test port 5269' \
    '^     fix: add "_xmpp-server._tcp.nosrv.test. SRV 0 5 5269 HOST."' \
    '^OK   dns nosrv.test A/AAAA: nosrv.test port 5269: 127.0.0.4, where xfed listens'

chk doms nothing.test --only dns
got "dns: missing SRV and no address: FAIL" 2 \
    '^FAIL dns _xmpp-server._tcp.nothing.test: no SRV record, and nothing.test has no A or AAAA record'

chk doms port.test --only dns
got "dns: wrong port: FAIL" 2 \
    '^FAIL dns _xmpp-server._tcp.port.test SRV 0 0 5270 x.test: peers connect to port 5270, but xfed.s listen is 127.0.0.4:5269' \
    '^     fix: make the record.s port 5269, or add listen with port 5270'

chk doms noaddr.test --only dns
got "dns: target without an address: FAIL" 2 \
    '^FAIL dns _xmpp-server._tcp.noaddr.test SRV 0 0 5269 ghost.test: target ghost.test has no A or AAAA record' \
    '^     fix: add an A and/or AAAA record for ghost.test'

chk doms cname.test --only dns
got "dns: CNAME target: FAIL (RFC 2782)" 2 \
    '^FAIL dns _xmpp-server._tcp.cname.test SRV 0 0 5269 alias.test: target alias.test is an alias \(CNAME to x.test\)' \
    '^     fix: point the record at x.test'

chk doms cnfb.test --only dns
got "dns: no SRV, the domain a CNAME: only the missing SRV WARNs (RFC 2782 is about targets)" 1 \
    '^WARN dns _xmpp-server._tcp.cnfb.test: no SRV record: peers fall back to cnfb.test port 5269' \
    '^OK   dns cnfb.test A/AAAA: cnfb.test port 5269: 127.0.0.4, where xfed listens' \
    '^1 OK, 1 WARN, 0 FAIL$'

chk doms dot.test --only dns
got "dns: \".\" target: FAIL (no service)" 2 \
    '^FAIL dns _xmpp-server._tcp.dot.test: the target is "\.": the domain says it has no XMPP service'

chk doms elsewhere.test --only dns
got "dns: target on another host: WARN" 1 \
    '^WARN dns _xmpp-server._tcp.elsewhere.test SRV 0 0 5269 y.test: y.test \(127.0.0.5\) is no address xfed listens on'

chk doms tls.test --only dns
got "dns: _xmpps-server without listen_tls: FAIL" 2 \
    '^OK   dns _xmpp-server._tcp.tls.test SRV 1 0 5269 x.test' \
    '^FAIL dns _xmpps-server._tcp.tls.test: .*xfed has no listen_tls'

chk doms --peer e.test --only dns --json
got "dns: --peer, JSON" 0 '"status":"OK","check":"dns","subject":"_xmpp-server._tcp.e.test SRV 0 0 5269 e.test","reason":"e.test port 5269: 127.0.0.3"'

chk doms --peer nofed.test --only dns
got "dns: --peer with \".\": FAIL, nothing to change here" 2 \
    'fix: nothing to change here: the domain does not federate'


chk a x.test --only dial
got "dial: without a running daemon the self-dial FAILs and says why" 2 \
    '^FAIL dial x.test: xfed is not running' '^     fix: start xfed'

lab_case "xfed a (x.test) up" up a $LAB_X_IP || exit 1
lab_case "xfed y (y.test) up" up y $LAB_Y_IP || exit 1

chk a
got "self-dial: DNS, certificate, STARTTLS, dialback, nonce: all OK" 0 \
    '^OK   dial x.test x.test 127.0.0.4:5269: connected$' \
    '^OK   dial x.test x.test 127.0.0.4:5269: TLS up: TLSv1.3' \
    '^OK   dial .*certificate it presents verifies for x.test' \
    '^OK   dial .*features: dialback offered' \
    '^OK   dial .*dialback: it holds xfed.s dialback secret for x.test' \
    '^OK   dial .*reached this xfed: it saw our nonce on stream [A-Za-z0-9]+ under TLS' \
    ' 0 WARN, 0 FAIL$'
sed 's/^/# /' "$OUT"

chk a --peer y.test --json
got "--peer y.test: DNS, TLS, y's certificate, dialback verified by x.test's server" 0 \
    '"status":"OK","check":"dns","subject":"_xmpp-server._tcp.y.test SRV 0 0 5269 y.test"' \
    '"status":"OK","check":"dial","subject":"y.test y.test 127.0.0.5:5269","reason":"the certificate it presents verifies for y.test"' \
    '"reason":"features: dialback offered, SASL EXTERNAL"' \
    '"reason":"dialback: y.test accepted our key for x.test"' \
    '"fail":0'

# DOMAIN --peer PEER: the dial speaks for DOMAIN, not the first hosted
sed "s|^store .*|store $LAB_DIR/a/xfed.db|; s|^control_socket .*|control_socket $LAB_DIR/a/xfed.sock|; s|^domain x.test|domain w.test\ndomain x.test|" \
    "$LAB_DIR/a/xfed.conf" > "$LAB_DIR/two.conf"
mkdir -p "$LAB_DIR/two" && mv "$LAB_DIR/two.conf" "$LAB_DIR/two/xfed.conf"
chk two x.test --peer y.test --only dial
got "--peer with DOMAIN: dialback for that hosted domain" 0 \
    '^OK   dial .*dialback: y.test accepted our key for x.test'
chk two --peer y.test --only dial
got "--peer without DOMAIN: the first hosted domain, w.test, which y cannot find" 2 \
    'dialback: y.test answered with error remote-server-not-found'
chk two y.test --peer e.test --only dial
got "--peer with a DOMAIN not hosted: usage, exit 2" 2 \
    'y.test is not a hosted domain: with --peer, DOMAIN names the one the dial speaks for'

chk a --peer p.test --only dial
got "--peer with nothing listening: FAIL at connect" 2 \
    '^FAIL dial p.test: cannot connect: p.test 127.0.0.2:5269 \(Connection refused\)'

# A fresh config, before xfed ever ran: --peer gets to dialback, says
# there is no store (and so no secret) yet, and creates none.
xconf fresh x.test 127.0.0.7 x.test
chk fresh --peer y.test --only dial
got "--peer before the store exists: FAIL, says so" 2 \
    '^FAIL dial y.test .*: dialback: cannot read xfed.s dialback secret: .*xfed.db: no store yet' \
    '^     fix: start xfed once'
ls "$LAB_DIR/fresh" | grep -q xfed.db &&
    lab_fail "--peer before the store exists: creates no store" "$(ls "$LAB_DIR/fresh")" ||
    lab_ok "--peer before the store exists: creates no store"
# The store exists but this user cannot read it: the store error and the
# permissions, not "no secret". (xfedctl as nobody, with a copy of the
# TLS files it can read.)
"$XB/xfedctl" -c "$LAB_DIR/fresh/xfed.conf" user add u > /dev/null
chmod 000 "$LAB_DIR/fresh/xfed.db"
cp "$PKI/x.test.crt" "$PKI/x.test.key" "$PKI/ca.pem" "$LAB_DIR/fresh/"
chmod 644 "$LAB_DIR/fresh/x.test.key"
sed -i "s|$PKI/|$LAB_DIR/fresh/|" "$LAB_DIR/fresh/xfed.conf"
chmod 755 "$LAB_DIR/fresh"
lab_exec setpriv --reuid=nobody --regid=nogroup --clear-groups timeout 150 \
    "$XB/xfedctl" -c "$LAB_DIR/fresh/xfed.conf" check --peer y.test \
    --only dial > "$OUT" 2>&1
RC=$?
got "--peer with an unreadable store: the store error, the permissions" 2 \
    '^FAIL dial y.test .*: dialback: cannot read xfed.s dialback secret: .*xfed.db: cannot open: Permission denied' \
    '^     fix: run as a user that can read the store \(root, or a member of its group xfed\)'

# Hostile peers: each step has one deadline, whatever the peer sends.
i=20
for m in dripdb driptls inject plain; do
	lab_spawn "h-$m" python3 -u "$XFED_SRC/tests/sh/hostilepeer.py" $m \
	    127.0.0.$i 5269 "$PKI/y.test.crt" "$PKI/y.test.key"
	lab_wait_port 127.0.0.$i 5269 10
	i=$((i + 1))
done
chk a --peer dripdb.test --only dial
got "--peer that keeps talking during dialback: FAIL after one deadline" 2 \
    '^FAIL dial dripdb.test .*: dialback: no answer: no answer in time'
chk a --peer driptls.test --only dial
got "--peer dripping the TLS handshake: FAIL after one deadline" 2 \
    '^FAIL dial driptls.test .*: TLS handshake not done in 10 s'
chk a --peer inject.test --only dial
got "--peer injecting after <proceed/>: FAIL, protocol error" 2 \
    '^FAIL dial inject.test .*: STARTTLS: protocol error: <result/> sent in cleartext after <proceed/>'

# A peer without TLS: with require_encryption (the default) STARTTLS is
# refused and the fix is not about our config; without it, xfed's own
# outbound goes on to dialback without TLS, and so does the check.
chk a --peer plain.test --only dial
got "--peer without TLS, require_encryption yes: FAIL, nothing to change here" 2 \
    '^FAIL dial plain.test .*: STARTTLS refused \(<failure/>\)' \
    '^     fix: nothing to change here: the peer does not do TLS'
chk doms --peer plain.test --only dial
got "--peer without TLS, require_encryption no: goes on without TLS" 2 \
    '^WARN dial plain.test .*: no STARTTLS offered: xfed goes on without TLS' \
    '^OK   dial plain.test .*: features: dialback offered'

# b serves x.test too, but x.test's records lead to a: b's self-dial
# reaches a, which has another dialback secret and never saw b's nonce.
lab_case "xfed b (x.test again, 127.0.0.6) up" up b 127.0.0.6 || exit 1
chk b x.test --only dial
got "self-dial reaching another server for the same domain: FAIL" 2 \
    '^FAIL dial x.test x.test 127.0.0.4:5269: reached a server for x.test that is not this xfed' \
    '^     fix: make the domain.s SRV or A/AAAA records lead to this host' \
    '^FAIL dial .*dialback: it does not hold xfed.s dialback secret for x.test'
sed 's/^/# /' "$OUT"

# A resolver that does not answer: the lookup failed, not "no record".
sed -i "s/^resolver .*/resolver 127.0.0.9/" "$XD/xfed.conf"
chk doms x.test --only dns
got "dns: a resolver that does not answer: FAIL" 2 \
    '^FAIL dns _xmpp-server._tcp.x.test: SRV lookup failed: .*peers retry later'
