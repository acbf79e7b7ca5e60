# tests/sh/s2s_net64.sh: unauthenticated streams per IPv6 address and per
# /64, end to end (issue 12, max_unauth_per_ip, max_unauth_per_net; S2S
# 4.38). The test runs in a network namespace of its own whose loopback
# carries ULA addresses: three from fd00:64::/64, one from fd00:65::/64.
# Streams that send their header and then nothing are held open; the
# third from one address, and the fourth from one /64 (from an address
# with none of its own), end with <policy-violation/>; the other /64 is
# served. Then dialback verifications per /64 (max_pending_per_net):
# claims of domains routed to a silent server, from two addresses of one
# /64, stop at the /64's limit with resource-constraint whatever the
# address; the other /64 still gets its verifications under way.
if [ -z "${NET64_INNER:-}" ]; then
	if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
		NET64_INNER=1 exec timeout -k 5 120 unshare -n bash "$0"
	fi
	echo "ok net64_skipped_no_netns"
	exit 0
fi
. "$XFED_SRC/tests/sh/lib.sh"
t_init

ip link set lo up
for a in fd00:1::1 fd00:64::a fd00:64::b fd00:64::c fd00:65::a; do
	ip -6 addr add "$a/64" dev lo nodad
done
mkdir -p "$T/a"
cat > "$T/a/xfed.conf" <<CONF
domain a.localhost
listen [fd00:1::1]:5269
store xfed.db
control_socket xfed.sock
require_encryption no
max_unauth_per_ip 2
max_unauth_per_net 3
max_pending_per_ip 2
max_pending_per_net 3
route t1.test [fd00:1::1]:5270
route t2.test [fd00:1::1]:5270
route t3.test [fd00:1::1]:5270
route t4.test [fd00:1::1]:5270
route t5.test [fd00:1::1]:5270
CONF
start_xfed "$T/a" || { fail start "xfed did not start"; exit 1; }
log_has() { grep -q "$1" "$T/a/xfed.log"; }

# open SRC...: one stream from each source address, header sent, held;
# prints "SRC open" or "SRC CONDITION" for each, in order
cat > "$T/open.py" <<'PYEOF'
import socket, sys, time
held = []
for src in sys.argv[1:]:
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.connect(("fd00:1::1", 5269))
    s.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
              b"xmlns:stream='http://etherx.jabber.org/streams' "
              b"xmlns:db='jabber:server:dialback' to='a.localhost' version='1.0'>")
    s.settimeout(1.0)
    got = b""
    try:
        while b"</stream:stream>" not in got:
            d = s.recv(4096)
            if not d:
                break
            got += d
    except socket.timeout:
        pass
    out = "open"
    for cond in (b"policy-violation", b"connection-timeout"):
        if cond in got:
            out = cond.decode()
    print(src, out, flush=True)
    held.append(s)
time.sleep(30)
PYEOF
t_bg $PY "$T/open.py" fd00:64::a fd00:64::a fd00:64::a fd00:64::b \
    fd00:64::c fd00:65::a > "$T/open.log" 2>&1
OPEN_PID=$T_LASTPID
lines() { [ "$(wc -l < "$T/open.log")" -ge 6 ]; }
check all_tried wait_for 30 lines
outcome() { [ "$(sed -n "${1}p" "$T/open.log")" = "$2" ]; }
check ip_first_held outcome 1 "fd00:64::a open"
check ip_second_held outcome 2 "fd00:64::a open"
check ip_third_refused outcome 3 "fd00:64::a policy-violation"
check net_third_held outcome 4 "fd00:64::b open"
check net_fourth_refused outcome 5 "fd00:64::c policy-violation"
check other_net_served outcome 6 "fd00:65::a open"
check ip_reason_logged log_has "too many unauthenticated streams from this address"
check net_reason_logged log_has "too many unauthenticated streams from this /64"
kill "$OPEN_PID" 2>/dev/null
# the six streams are gone (so no longer counted) before the claims
closed6() { [ "$(grep -c 'fd00:6[45]::[abc].*: closed reason' "$T/a/xfed.log")" -ge 6 ]; }
check open_streams_closed wait_for 10 closed6

# a silent authoritative server for t1..t5.test: verifications stay pending
cat > "$T/tarpit.py" <<'PYEOF'
import socket, time
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("fd00:1::1", 5270))
s.listen(16)
print("ready", flush=True)
held = []
while True:
    held.append(s.accept()[0])
PYEOF
t_bg $PY "$T/tarpit.py" > "$T/tarpit.log" 2>&1
# listening before the first claim, or a refused connect ends it at once
wait_for 10 grep -q ready "$T/tarpit.log"
# claim SRC DOMAIN...: one stream from SRC, a db:result for each DOMAIN;
# prints "SRC N" with N the resource-constraint answers within 2 s
cat > "$T/claim.py" <<'PYEOF'
import os, socket, sys, time
sys.path.insert(0, os.path.join(os.environ["XFED_SRC"], "tests/sh"))
import hostilepeer
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.bind((sys.argv[1], 0))
s.connect(("fd00:1::1", 5269))
msg = ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
       "xmlns:stream='http://etherx.jabber.org/streams' "
       "xmlns:db='jabber:server:dialback' to='a.localhost' version='1.0'>")
for d in sys.argv[2:]:
    msg += "<db:result from='%s' to='a.localhost'>%s</db:result>" % (d, "ab" * 32)
s.sendall(msg.encode())
s.settimeout(0.5)
# an answer expected: until it comes (bounded); none: 2 s of silence
until = os.environ.get("CLAIM_UNTIL", "</stream:stream>").encode()
got = hostilepeer.recv_until(s, until, float(os.environ.get("CLAIM_WAIT", 2)))
print(sys.argv[1], got.count(b"resource-constraint"), flush=True)
time.sleep(30)
PYEOF
t_bg $PY "$T/claim.py" fd00:64::a t1.test t2.test > "$T/claim.log" 2>&1
CLAIM1=$T_LASTPID
wait_for 10 sh -c "[ \$(wc -l < '$T/claim.log') -ge 1 ]"
CLAIM_UNTIL=resource-constraint CLAIM_WAIT=15 \
    t_bg $PY "$T/claim.py" fd00:64::b t3.test t4.test > "$T/claim2.log" 2>&1
CLAIM2=$T_LASTPID
wait_for 10 sh -c "[ \$(wc -l < '$T/claim2.log') -ge 1 ]"
t_bg $PY "$T/claim.py" fd00:65::a t5.test > "$T/claim3.log" 2>&1
CLAIM3=$T_LASTPID
wait_for 10 sh -c "[ \$(wc -l < '$T/claim3.log') -ge 1 ]"
check pending_first_address_held [ "$(cat "$T/claim.log")" = "fd00:64::a 0" ]
check pending_net_full_refused [ "$(cat "$T/claim2.log")" = "fd00:64::b 1" ]
check pending_net_reason_logged log_has "too many dialback verifications from this /64"
check pending_other_net_held [ "$(cat "$T/claim3.log")" = "fd00:65::a 0" ]
kill "$CLAIM1" "$CLAIM2" "$CLAIM3" 2>/dev/null

check xfed_alive kill -0 "$XFED_PID"
stop_xfed; check xfed_stopped [ $? = 0 ]
check no_sanitizer_report sh -c "! grep -Eq 'AddressSanitizer|runtime error:' '$T/a/xfed.log'"
[ "$t_fails" = 0 ] || { sed "s/^/# /" "$T/open.log" "$T/claim.log" "$T/claim2.log" "$T/claim3.log"; grep -v debug "$T/a/xfed.log" | tail -20 | sed "s/^/# /"; }
t_exit
