# tests/sh/s2s_rss.sh: memory under many idle and slow connections (issue
# 12; S2S 4.38, 10.11). 40 addresses of 127.0.1.0/24 open 12 connections
# each and send a few bytes of a stream header, then nothing: each address
# keeps max_unauth_per_ip (8) and the whole max_unauth_streams (256); all
# others are cut at once with <policy-violation/>. Meanwhile xfed's
# resident memory (VmRSS from /proc) must stay under 64 MiB, the ASan
# build's whole process (about 44 MiB measured, of which some 25 MiB
# before the first connection; ASan's redzones and quarantine make each
# held stream cost several times what it does in the release build).
# Then header_timeout cuts the held ones with <connection-timeout/>.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

PA=$(free_port)
BOUND_KB=$((64 * 1024))
mkdir -p "$T/a"
cat > "$T/a/xfed.conf" <<CONF
domain a.localhost
listen 127.0.0.1:$PA
store xfed.db
control_socket xfed.sock
require_encryption no
max_unauth_streams 256
max_unauth_per_ip 8
header_timeout 10s
CONF
start_xfed "$T/a" || { fail start "xfed did not start"; exit 1; }
log_has() { grep -q "$1" "$T/a/xfed.log"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$XFED_PID/status"; }

cat > "$T/many.py" <<'PYEOF'
import select, socket, sys, time
port = int(sys.argv[1])
conns = []
for a in range(1, 41):
    for i in range(12):
        s = socket.socket()
        s.bind(("127.0.1.%d" % a, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(b"<?xml version='1.0'?><stream:str")	# and no more
        s.setblocking(False)
        conns.append([s, b"", False])
    time.sleep(0.02)

def poll(secs):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        live = [c for c in conns if not c[2]]
        if not live:
            return
        r, _, _ = select.select([c[0] for c in live], [], [], 0.2)
        for c in live:
            if c[0] in r:
                try:
                    d = c[0].recv(65536)
                except OSError:
                    d = b""
                c[1] += d
                if not d:
                    c[2] = True

def count(cond):
    return sum(1 for c in conns if cond in c[1])

poll(3)
held = sum(1 for c in conns if not c[2] and not c[1])
print("attempts %d held %d policy-violation %d" % (len(conns), held, count(b"policy-violation")), flush=True)
open(sys.argv[2], "w").close()	# the test reads xfed's RSS now
poll(20)
print("after header_timeout: connection-timeout %d still open %d" % (
      count(b"connection-timeout"), sum(1 for c in conns if not c[2])), flush=True)
PYEOF
before=$(rss)
t_bg $PY "$T/many.py" "$PA" "$T/held" > "$T/many.log" 2>&1
check held_reported wait_for 60 test -e "$T/held"
during=$(rss)
cat "$T/many.log" | sed 's/^/# /'
echo "# xfed VmRSS: $before kB at start, $during kB with the connections held (bound: $BOUND_KB kB)"
check rss_bounded [ "$during" -le "$BOUND_KB" ]
got() { grep -q "$1" "$T/many.log"; }
check cut_at_limits got "^attempts 480 held 256 policy-violation 224$"
check per_ip_reason log_has "too many unauthenticated streams from this address"
check total_reason log_has "too many unauthenticated streams$"
check held_cut_by_header_timeout wait_for 40 got "^after header_timeout: connection-timeout 256 still open 0$"
sed -n '2p' "$T/many.log" | sed 's/^/# /'
echo "# xfed VmRSS after they are gone: $(rss) kB"

check xfed_alive kill -0 "$XFED_PID"
stop_xfed; check xfed_stopped [ $? = 0 ]
check no_sanitizer_report sh -c "! grep -Eq 'AddressSanitizer|runtime error:' '$T/a/xfed.log'"
[ "$t_fails" = 0 ] || grep -v debug "$T/a/xfed.log" | tail -20 | sed "s/^/# /"
t_exit
