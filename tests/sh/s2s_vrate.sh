# tests/sh/s2s_vrate.sh: dialback verifications per claimed domain,
# whatever the sources (issue 12, verify_rate_per_domain; S2S 4.38).
# Forty streams from forty loopback addresses each claim r1.test with a
# bad key: the negative cache (per IPv4 address) does not see them as one, but
# r1.test's authoritative server is asked at most the burst plus the rate
# for the time the flood took; the rest wait their turn (one claim per
# network at a time, round-robin). r1.test itself still verifies
# afterwards.
# Each address is its own network here (verify_source_prefix4 32), so
# the shares of verify_rate_per_source never bind: s2s_vshare.sh tests
# those.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

PA=$(free_port)
PR1=$(free_port)
mkdir -p "$T/a"
cat > "$T/a/xfed.conf" <<CONF
domain a.localhost
listen 127.0.0.1:$PA
store xfed.db
control_socket xfed.sock
require_encryption no
verify_rate_per_domain 5
verify_source_prefix4 32
route r1.test 127.0.0.1:$PR1
CONF
start_xfed "$T/a" || { fail start "xfed did not start"; exit 1; }
log_has() { grep -q "$1" "$T/a/xfed.log"; }

cat > "$T/flood.py" <<'PYEOF'
import math, os, socket, sys, time
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.join(os.environ["XFED_SRC"], "tests/sh"))
import hostilepeer, rawpeer
auth = rawpeer.Authoritative("r1.test", "127.0.0.1", int(sys.argv[3])).start()
t0 = time.monotonic()
refused = 0
for n in range(1, 41):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[2])), 10,
                                 ("127.0.1.%d" % n, 0))
    s.sendall(("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
               "xmlns:stream='http://etherx.jabber.org/streams' "
               "xmlns:db='jabber:server:dialback' to='a.localhost' version='1.0'>"
               "<db:result from='r1.test' to='a.localhost'>%s</db:result>"
               % ("ab" * 32)).encode())
    s.settimeout(0.5)
    got = hostilepeer.recv_until(s, b"</db:result>", 10)
    refused += b"resource-constraint" in got
    s.close()
secs = math.ceil(time.monotonic() - t0)
time.sleep(1)      # verifications under way reach the authoritative server
print("asked %d refused %d secs %d" % (len(auth.verifies), refused, secs), flush=True)
PYEOF
$PY "$T/flood.py" "$XFED_SRC/tests/interop" "$PA" "$PR1" > "$T/flood.log" 2>&1
# shellcheck disable=SC2046
set -- $(grep '^asked ' "$T/flood.log")
asked=${2:-99} refused=${4:-0} secs=${6:-0}
echo "# 40 claims of r1.test from 40 addresses: r1.test asked $asked times, $refused refused, in ${secs}s"
# the burst (2 s of 5) and 5 a second for as long as the flood lasted
check authoritative_bounded [ "$asked" -le $((10 + 5 * secs)) ]
# one claim at a time: each waits its turn instead of being refused
check flood_waited log_has "waits its turn (verify_rate_per_domain)"

# r1.test's own server, with a good key, verifies once tokens are back
r1() {
	$PY "$XFED_SRC/tests/interop/rawpeer.py" --auth --host 127.0.0.1 \
	    --port "$PA" --to a.localhost --from r1.test \
	    --listen "127.0.0.1:$PR1" --wait 1 --expect open raw \
	    "<message from='x@r1.test' to='a.localhost' id='m1'><body>hi</body></message>" \
	    >> "$T/r1.log" 2>&1
}
check r1_still_verifies wait_for 10 r1

check xfed_alive kill -0 "$XFED_PID"
stop_xfed; check xfed_stopped [ $? = 0 ]
check no_sanitizer_report sh -c "! grep -Eq 'AddressSanitizer|runtime error:' '$T/a/xfed.log'"
[ "$t_fails" = 0 ] || { sed "s/^/# /" "$T/flood.log"; grep -v debug "$T/a/xfed.log" | tail -30 | sed "s/^/# /"; }
t_exit
