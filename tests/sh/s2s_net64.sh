# tests/sh/s2s_net64.sh: unauthenticated streams per IPv6 address and per
# /64, end to end (issue 12, max_unauth_per_ip, max_unauth_per_net; S2S
# 4.38). The test runs in a network namespace of its own whose loopback
# carries ULA addresses: three from fd00:64::/64, one from fd00:65::/64.
# Streams that send their header and then nothing are held open; the
# third from one address, and the fourth from one /64 (from an address
# with none of its own), end with <policy-violation/>; the other /64 is
# served.
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

check xfed_alive kill -0 "$XFED_PID"
stop_xfed; check xfed_stopped [ $? = 0 ]
check no_sanitizer_report sh -c "! grep -Eq 'AddressSanitizer|runtime error:' '$T/a/xfed.log'"
[ "$t_fails" = 0 ] || { sed "s/^/# /" "$T/open.log"; grep -v debug "$T/a/xfed.log" | tail -20 | sed "s/^/# /"; }
t_exit
