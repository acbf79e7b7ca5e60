# tests/sh/s2s_vshare.sh: one network cannot spend a claimed domain's
# budget of verifications (issue 12, verify_rate_per_domain,
# verify_rate_per_source; S2S 4.38). In a network namespace of its own:
# xfed A (a.localhost) and two real xfed of victim.test sharing its
# dialback secret: V, its authoritative server (fd00:2::1, the route A
# has for victim.test), and V2, which only sends, to A over IPv4 (from
# 127.0.0.1). Two floods claim victim.test with junk keys, one from 16
# addresses in 16 /64s of one /56 (fd00:56::/56), one from the single
# IPv4 address 127.0.1.9, each with 4 claims at a time, until told to
# stop; verify_failure_cache 0 so every claim asks for a verification.
# (The floods' verifications make V and A authenticate to each other, so
# V's own stream is verified early; V2 starts only once both floods have
# met their network's share.) V2's user then sends alice a message: V2
# is verified valid and the message is stored, while each flood only
# ever got db:result type='invalid' (asked of V, which refuses the keys)
# or the dialback error resource-constraint (over its share). The flood
# networks were asked for at most their share, the refusals logged once
# per 10 s, and A's resident memory stays bounded. Part 2: A restarted,
# 64 IPv6 /48s flood (more than verify_rate_per_domain, as many as
# max_pending_per_domain), and a server of victim.test A never verified
# waits its turn instead of being refused.
if [ -z "${VSHARE_INNER:-}" ]; then
	if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
		VSHARE_INNER=1 exec timeout -k 5 240 unshare -n bash "$0"
	fi
	echo "ok vshare_skipped_no_netns"
	exit 0
fi
. "$XFED_SRC/tests/sh/lib.sh"
t_init

ip link set lo up
ip -6 addr add fd00:1::1/64 dev lo nodad
ip -6 addr add fd00:2::1/64 dev lo nodad
ip -6 addr add fd00:3::1/64 dev lo nodad
for i in $(seq 0 15); do
	ip -6 addr add "fd00:56:0:$(printf %x $((i * 16))):0:0:0:$((i + 1))/64" \
	    dev lo nodad
done
mkdir -p "$T/a" "$T/v" "$T/v2"
cat > "$T/a/xfed.conf" <<CONF
domain a.localhost
listen [fd00:1::1]:5269
listen 127.0.0.1:5269
store xfed.db
control_socket xfed.sock
require_encryption no
verify_failure_cache 0
route victim.test [fd00:2::1]:5269
CONF
cat > "$T/v/xfed.conf" <<CONF
domain victim.test
listen [fd00:2::1]:5269
store xfed.db
control_socket xfed.sock
require_encryption no
dialback_secret 0123456789abcdef0123456789abcdef
route a.localhost [fd00:1::1]:5269
CONF
cat > "$T/v2/xfed.conf" <<CONF
domain victim.test
listen [fd00:3::1]:5269
store xfed.db
control_socket xfed.sock
require_encryption no
dialback_secret 0123456789abcdef0123456789abcdef
route a.localhost 127.0.0.1:5269
CONF
"$XFED_BUILD/xfedctl" -c "$T/a/xfed.conf" user add alice > /dev/null &&
    "$XFED_BUILD/xfedctl" -c "$T/v2/xfed.conf" user add bob > /dev/null
check users_added [ $? = 0 ]
start_xfed "$T/v" || { fail start_v "xfed V did not start"; exit 1; }
# ASan's quarantine (256 MiB by default) would hide what xfed keeps
ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=8" start_xfed "$T/a" ||
    { fail start_a "xfed A did not start"; exit 1; }
PIDA=$XFED_PID
log_has() { grep -q "$1" "$T/a/xfed.log"; }

# flood.py HOST STOPFILE SRC...: claims of victim.test from the SRCs in
# turn, 4 at a time (FLOOD_THREADS) (each stream closed before the next), until STOPFILE exists (at most 60 s); prints
# "saturated" at the first resource-constraint, then at the end
# "invalid N refused N other N secs S"
cat > "$T/flood.py" <<'PYEOF'
import math, os, socket, sys, threading, time
sys.path.insert(0, os.path.join(os.environ["XFED_SRC"], "tests/sh"))
import hostilepeer
host, stop, srcs = sys.argv[1], sys.argv[2], sys.argv[3:]
counts = {"invalid": 0, "refused": 0, "other": 0}
lock = threading.Lock()
t0 = time.monotonic()
said = []

def claim(src):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.bind((src, 0))
        s.connect((host, 5269))
        s.sendall(("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                   "xmlns:stream='http://etherx.jabber.org/streams' "
                   "xmlns:db='jabber:server:dialback' to='a.localhost' "
                   "version='1.0'><db:result from='victim.test' "
                   "to='a.localhost'>%s</db:result>" % ("cd" * 32)).encode())
        s.settimeout(0.5)
        got = hostilepeer.recv_until(s, b"</db:result>", 15)
        # close and wait for A's end: A no longer counts the stream when
        # the next claim comes (max_unauth_per_ip)
        s.sendall(b"</stream:stream>")
        hostilepeer.recv_until(s, b"\0", 5)
    except OSError as e:
        got = repr(e).encode()
    finally:
        s.close()
    if b"type='invalid'" in got or b'type="invalid"' in got:
        k = "invalid"
    elif b"resource-constraint" in got:
        k = "refused"
    else:
        k = "other"
        sys.stderr.write("other answer from %s: %r\n" % (src, got[-300:]))
    with lock:
        counts[k] += 1
        if k == "refused" and not said:
            said.append(1)
            print("saturated", flush=True)

nthreads = int(os.environ.get("FLOOD_THREADS", "4"))

def worker(n):
    i = n
    while not os.path.exists(stop) and time.monotonic() - t0 < 60:
        claim(srcs[i % len(srcs)])
        i += nthreads

ts = [threading.Thread(target=worker, args=(n,)) for n in range(nthreads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("invalid %d refused %d other %d secs %d" % (counts["invalid"],
      counts["refused"], counts["other"],
      math.ceil(time.monotonic() - t0)), flush=True)
PYEOF
V6SRCS=""
for i in $(seq 0 15); do
	V6SRCS="$V6SRCS fd00:56:0:$(printf %x $((i * 16)))::$((i + 1))"
done
# shellcheck disable=SC2086
t_bg $PY "$T/flood.py" fd00:1::1 "$T/stop" $V6SRCS > "$T/flood6.log" \
    2> "$T/flood6.err"
F6=$T_LASTPID
t_bg $PY "$T/flood.py" 127.0.0.1 "$T/stop" 127.0.1.9 > "$T/flood4.log" \
    2> "$T/flood4.err"
F4=$T_LASTPID
check flood6_saturated wait_for 30 grep -q saturated "$T/flood6.log"
check flood4_saturated wait_for 30 grep -q saturated "$T/flood4.log"

# meanwhile victim.test's real server V2 verifies and delivers
start_xfed "$T/v2" || { fail start_v2 "xfed V2 did not start"; exit 1; }
PIDV2=$XFED_PID
XFED_PID=$PIDA
"$XFED_BUILD/xfedctl" -c "$T/v2/xfed.conf" send bob alice@a.localhost \
    'from the real victim.test' > /dev/null
check v_message_queued [ $? = 0 ]
inbox_has() {
	"$XFED_BUILD/xfedctl" -c "$T/a/xfed.conf" inbox --json |
	    grep -qF 'from the real victim.test'
}
check v_message_stored wait_for 30 inbox_has
check v2_verified_valid log_has \
    "in#.* victim.test \[127.0.0.1:[0-9]*\]: dialback verified pair=a.localhost/victim.test"
v_refused() {
	grep "dialback refused for victim.test" "$T/a/xfed.log" |
	    grep -v "fd00:56:\|127\.0\.1\.9"
}
check v_never_refused [ -z "$(v_refused)" ]
touch "$T/stop"
wait "$F6" "$F4"

# the peak of A's resident memory (VmHWM), the ASan build with a
# quarantine of 8 MiB: about 40 MiB measured
rss=$(awk '/^VmHWM/ {print $2}' /proc/"$XFED_PID"/status)
echo "# A's peak RSS during the floods: $rss kB (ASan build)"
check rss_bounded [ "${rss:-999999}" -lt $((128 * 1024)) ]
for f in 6 4; do
	# shellcheck disable=SC2046
	set -- $(grep '^invalid ' "$T/flood$f.log")
	invalid=${2:-999} refused=${4:-0} other=${6:-999} secs=${8:-0}
	echo "# flood$f: $invalid invalid, $refused resource-constraint, $other other, in ${secs}s"
	check "flood${f}_only_invalid_or_refused" [ "$other" = 0 ]
	check "flood${f}_refused" [ "$refused" -ge 1 ]
	# its network's share: 2 s of burst (4) and 2 a second
	check "flood${f}_within_share" [ "$invalid" -le $((4 + 2 * secs)) ]
done
check share_refusal_logged log_has \
    "too many dialback verifications for this domain from this network lately"
# a burst shorter than the interval: its count is written by the timer,
# not kept until the next refusal
check refusal_count_flushed wait_for 30 grep -Eq \
    "dialback refused for victim.test: .* \([0-9]+ more claims so in 10 s\)" \
    "$T/a/xfed.log"
lines=$(grep -c "dialback refused for victim.test" "$T/a/xfed.log")
echo "# refusal lines in A's log: $lines"
# per reason (at most 2 here): one line when due, one by the timer, one
# per 10 s beyond
check refusals_log_rate_limited [ "$lines" -le $((2 * (2 + secs / 10))) ]

check xfed_alive kill -0 "$XFED_PID"
stop_xfed; check xfed_stopped [ $? = 0 ]
check no_sanitizer_report sh -c "! grep -Eq 'AddressSanitizer|runtime error:' '$T/a/xfed.log' '$T/v/xfed.log' '$T/v2/xfed.log'"
kill -TERM "$PIDV2"; wait "$PIDV2"

# Part 2: a cold victim. A restarted (nothing exempt, nothing cached),
# default verify_failure_cache; a flood claims victim.test from 64 IPv6
# /48s (fd10:K::/48, a new /64 at each claim, 128 claims at a time),
# more than verify_rate_per_domain. Each network keeps a claim
# waiting its turn: 64 waiting claims, as many as the default
# max_pending_per_domain, which counts only the verifications asked. A new V2 (V3), never verified
# by A, sends: its claim is not refused but waits its turn, at most one
# per network waiting, tokens handed out round-robin across the networks
# waiting, so it is verified and its message stored within the handshake
# time (30 s).
mkdir -p "$T/a2" "$T/v3"
sed '/verify_failure_cache/d' "$T/a/xfed.conf" > "$T/a2/xfed.conf"
cp "$T/v2/xfed.conf" "$T/v3/xfed.conf"
"$XFED_BUILD/xfedctl" -c "$T/a2/xfed.conf" user add alice > /dev/null &&
    "$XFED_BUILD/xfedctl" -c "$T/v3/xfed.conf" user add bob > /dev/null
check cold_users_added [ $? = 0 ]
ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=8" start_xfed "$T/a2" ||
    { fail start_a2 "xfed A did not restart"; exit 1; }
PIDA=$XFED_PID
# the whole of fd10::/16 is local, any address of it can be bound
ip -6 route add local fd10::/16 dev lo
sysctl -qw net.ipv6.ip_nonlocal_bind=1
# each /64 once until all 16384 were used, the /48s in turn
NETSRCS=""
for j in $(seq 1 256); do
	for k in $(seq 0 63); do
		NETSRCS="$NETSRCS fd10:$(printf %x "$k"):0:$(printf %x "$j")::1"
	done
done
export FLOOD_THREADS=128
# shellcheck disable=SC2086
t_bg $PY "$T/flood.py" fd00:1::1 "$T/stop2" $NETSRCS \
    > "$T/nets.log" 2> "$T/nets.err"
FN=$T_LASTPID
check nets_saturated wait_for 30 grep -q saturated "$T/nets.log"
start_xfed "$T/v3" || { fail start_v3 "xfed V3 did not start"; exit 1; }
PIDV3=$XFED_PID
XFED_PID=$PIDA
"$XFED_BUILD/xfedctl" -c "$T/v3/xfed.conf" send bob alice@a.localhost \
    'from the cold victim.test' > /dev/null
check cold_message_queued [ $? = 0 ]
cold_stored() {
	"$XFED_BUILD/xfedctl" -c "$T/a2/xfed.conf" inbox --json |
	    grep -qF 'from the cold victim.test'
}
check cold_message_stored wait_for 30 cold_stored
check cold_verified_valid grep -q \
    "in#.* victim.test \[127.0.0.1:[0-9]*\]: dialback verified pair=a.localhost/victim.test" \
    "$T/a2/xfed.log"
check cold_never_refused sh -c "! grep 'dialback refused for victim.test' '$T/a2/xfed.log' | grep -q '127\.0\.0\.1:'"
# the flood waited too, one claim per network: the others refused at once
check nets_waited grep -q "waits its turn" "$T/a2/xfed.log"
check nets_one_waiting_per_network grep -q "a claim from this network already waits" "$T/a2/xfed.log"
touch "$T/stop2"
wait "$FN"
# shellcheck disable=SC2046
set -- $(grep '^invalid ' "$T/nets.log")
echo "# 64 networks: ${2:-?} invalid, ${4:-?} resource-constraint, ${6:-?} other"
check nets_only_invalid_or_refused [ "${6:-999}" = 0 ]
rss=$(awk '/^VmHWM/ {print $2}' /proc/"$XFED_PID"/status)
echo "# A's peak RSS, 64 networks: $rss kB (ASan build)"
check cold_rss_bounded [ "${rss:-999999}" -lt $((128 * 1024)) ]
check cold_xfed_alive kill -0 "$XFED_PID"
stop_xfed; check cold_xfed_stopped [ $? = 0 ]
kill -TERM "$PIDV3"; wait "$PIDV3"
check cold_no_sanitizer_report sh -c "! grep -Eq 'AddressSanitizer|runtime error:' '$T/a2/xfed.log' '$T/v3/xfed.log' '$T/v/xfed.log'"
[ "$t_fails" = 0 ] || sed "s/^/# /" "$T/nets.log" "$T/nets.err"
[ "$t_fails" = 0 ] || { sed "s/^/# /" "$T/flood6.log" "$T/flood6.err" "$T/flood4.log" "$T/flood4.err"; grep -v debug "$T/a/xfed.log" | grep -v "fd00:56\|127.0.1.9" | tail -30 | sed "s/^/# /"; }
t_exit
