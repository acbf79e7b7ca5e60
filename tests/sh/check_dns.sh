# tests/sh/check_dns.sh: "xfedctl check", DNS part, in a network namespace
# of the interop lab (tests/interop/lab.sh) whose dnsmasq serves one domain
# per mistake. xfed's config hosts them all and listens on x.test's address
# 127.0.0.4:5269; xfedctl asks the lab's DNS through the `resolver` setting
# (S2S 6.1-6.8, 6.11). Each mistake gets its FAIL or WARN line, the fix,
# and the exit status (0 all OK, 1 warnings, 2 failures).
# Needs root and the packages of `tools/deps check`.

. "$(dirname "${BASH_SOURCE[0]}")/../interop/lab.sh"
: "${XFED_BUILD:?XFED_BUILD is the build directory}"
XB=$(cd "$XFED_BUILD" && pwd)

LAB_TIMEOUT=15
if ! lab_init; then
	lab_fail "check_dns" "lab_init: not root, or packages missing (see above)"
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
    'srv-host=_xmpp-server._tcp.tls.test,x.test,5269,1,0'
lab_case "lab pki" lab_pki || exit 1
lab_case "lab dns" lab_start_dns || exit 1

XD=$LAB_DIR/xfed
mkdir -p "$XD"
{
	for d in x.test nosrv.test nothing.test port.test noaddr.test \
	    cname.test dot.test elsewhere.test tls.test; do
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

OUT=$LAB_DIR/out/check.out
# chk ARGS...: xfedctl check inside the namespace; RC and $OUT
chk() {
	lab_exec "$XB/xfedctl" -c "$XD/xfed.conf" check "$@" > "$OUT" 2>&1
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

chk x.test --only dns
got "dns: SRV to x.test:5269, where xfed listens: OK, exit 0" 0 \
    '^OK   dns _xmpp-server._tcp.x.test SRV 0 0 5269 x.test: x.test port 5269: 127.0.0.4, where xfed listens' \
    '^1 OK, 0 WARN, 0 FAIL$'

chk nosrv.test --only dns
got "dns: missing SRV with an A record on xfed: WARN (fallback to 5269)" 1 \
    '^WARN dns _xmpp-server._tcp.nosrv.test: no SRV record: peers fall back to nosrv.test port 5269' \
    '^     fix: add "_xmpp-server._tcp.nosrv.test. SRV 0 5 5269 HOST."' \
    '^OK   dns nosrv.test A/AAAA: nosrv.test port 5269: 127.0.0.4, where xfed listens'

chk nothing.test --only dns
got "dns: missing SRV and no address: FAIL" 2 \
    '^FAIL dns _xmpp-server._tcp.nothing.test: no SRV record, and nothing.test has no A or AAAA record'

chk port.test --only dns
got "dns: wrong port: FAIL" 2 \
    '^FAIL dns _xmpp-server._tcp.port.test SRV 0 0 5270 x.test: peers connect to port 5270, but xfed.s listen is 127.0.0.4:5269' \
    '^     fix: make the record.s port 5269, or add listen with port 5270'

chk noaddr.test --only dns
got "dns: target without an address: FAIL" 2 \
    '^FAIL dns _xmpp-server._tcp.noaddr.test SRV 0 0 5269 ghost.test: target ghost.test has no A or AAAA record' \
    '^     fix: add an A and/or AAAA record for ghost.test'

chk cname.test --only dns
got "dns: CNAME target: FAIL (RFC 2782)" 2 \
    '^FAIL dns _xmpp-server._tcp.cname.test SRV 0 0 5269 alias.test: target alias.test is an alias \(CNAME to x.test\)' \
    '^     fix: point the record at x.test'

chk dot.test --only dns
got "dns: \".\" target: FAIL (no service)" 2 \
    '^FAIL dns _xmpp-server._tcp.dot.test: the target is "\.": the domain says it has no XMPP service'

chk elsewhere.test --only dns
got "dns: target on another host: WARN" 1 \
    '^WARN dns _xmpp-server._tcp.elsewhere.test SRV 0 0 5269 y.test: y.test \(127.0.0.5\) is no address xfed listens on'

chk tls.test --only dns
got "dns: _xmpps-server without listen_tls: FAIL" 2 \
    '^OK   dns _xmpp-server._tcp.tls.test SRV 1 0 5269 x.test' \
    '^FAIL dns _xmpps-server._tcp.tls.test: .*xfed has no listen_tls'

chk --peer e.test --only dns --json
got "dns: --peer, JSON" 0 '"status":"OK","check":"dns","subject":"_xmpp-server._tcp.e.test SRV 0 0 5269 e.test","reason":"e.test port 5269: 127.0.0.3"'

chk --peer nofed.test --only dns
got "dns: --peer with \".\": FAIL, nothing to change here" 2 \
    'fix: nothing to change here: the domain does not federate'

# A resolver that does not answer: the lookup failed, not "no record".
sed -i "s/^resolver .*/resolver 127.0.0.9/" "$XD/xfed.conf"
chk x.test --only dns
got "dns: a resolver that does not answer: FAIL" 2 \
    '^FAIL dns _xmpp-server._tcp.x.test: SRV lookup failed: .*peers retry later'
