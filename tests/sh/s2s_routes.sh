# tests/sh/s2s_routes.sh: bounded memory for routes made by claimed domains
# (issue 12; S2S 4.38). 32 addresses claim thousands of made-up domains,
# each verification failing at DNS at once; every one leaves a route with
# its backoff. Idle routes are capped at max_idle_routes (the least
# recently used go) and go after route_idle_time unused; memory stays
# bounded and a legitimate peer is verified meanwhile.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

PA=$(free_port)
PR1=$(free_port)
PDNS=$(free_port)	# nothing listens: every DNS query is refused at once
mkdir -p "$T/a"
cat > "$T/a/xfed.conf" <<CONF
domain a.localhost
listen 127.0.0.1:$PA
store xfed.db
control_socket xfed.sock
require_encryption no
route r1.test 127.0.0.1:$PR1
resolver 127.0.0.1:$PDNS
route_idle_time 20s
max_idle_routes 256
CONF
# a small quarantine: freed memory is reused, so VmHWM is what xfed holds
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
start_xfed "$T/a" || { fail start "xfed did not start"; exit 1; }
routes() { actl status | grep -c ' queued='; }
kb() { awk -v k="$1:" '$1 == k { print $2 }' /proc/"$XFED_PID"/status; }

echo "# before the flood: VmHWM $(kb VmHWM) kB"
$PY "$XFED_SRC/tests/sh/routeflood.py" 127.0.0.1 "$PA" a.localhost 32 32 12 \
    "$T/flood.out" > "$T/flood.log" 2>&1 &
FLOOD=$!
T_PIDS="$T_PIDS $FLOOD"
check flood_started wait_for 20 grep -q 'junk.test' "$T/a/xfed.log"
$PY "$XFED_SRC/tests/interop/rawpeer.py" --host 127.0.0.1 --port "$PA" \
    --to a.localhost --from r1.test --listen "127.0.0.1:$PR1" \
    --expect valid dialback > "$T/legit.log" 2>&1
check legit_peer_verified_during_flood [ $? = 0 ]
wait "$FLOOD"
sed 's/^/# flood: /' "$T/flood.out"
failed=$(grep -c 'junk.test.*failure 1' "$T/a/xfed.log")
echo "# routes that failed DNS: $failed"
check flood_made_routes [ "$failed" -ge 4000 ]
n=$(routes)
hwm=$(kb VmHWM)
echo "# after the flood: $n routes, VmHWM $hwm kB, VmRSS $(kb VmRSS) kB (ASan build)"
# each trim leaves at most max_idle_routes idle ones, and exactly that
# many once the flood made more (the edge); with a quarter more between
# two trims and the busy ones (no more than the 1,024 verifications
# waiting in all), never more than 256 + 64 + 1024 routes
idle=$(sed -n 's/.*idle forgotten, [0-9]* left, \([0-9]*\) of them idle/\1/p' \
    "$T/a/xfed.log" | sort -n | tail -1)
echo "# most idle routes left by a trim during the flood: $idle"
check idle_capped_at_edge [ "${idle:-0}" = 256 ]
check routes_capped_after [ "$n" -le 1344 ]
# a generous ceiling for the ASan build: measured 35.6 MB before, 63.8 MB
# after (512 routes left); without the bound, 82.2 MB and 5,553 routes
# kept for an hour after the same flood, growing with every claim
check memory_bounded [ "$hwm" -le 131072 ]
few() { [ "$(routes)" -le 2 ]; }
check idle_routes_forgotten wait_for 60 few
check forgotten_logged grep -q 'idle forgotten' "$T/a/xfed.log"

check xfed_alive kill -0 "$XFED_PID"
stop_xfed; check xfed_stopped [ $? = 0 ]
check no_sanitizer_report sh -c "! grep -Eq 'AddressSanitizer|runtime error:' '$T/a/xfed.log'"
t_exit
