# tests/sh/s2s_flood.sh: per-source fairness (issue 12; S2S 4.38, 10.8,
# 10.11). One address (127.0.0.2) opens 68 streams and sends 1,088
# db:result for domains it does not own; meanwhile r1.test, from another
# address, authenticates by dialback as usual. Then the negative cache of
# failed verifications, and a peer that never sends its header.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

PA=$(free_port)
PR1=$(free_port)
PDNS=$(free_port)
mkdir -p "$T/a"
# a resolver that never answers: each verification of a flood domain
# waits for DNS (15 s), as one for a domain an attacker picked would
t_bg $PY -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
time.sleep(120)' "$PDNS"
cat > "$T/a/xfed.conf" <<CONF
domain a.localhost
listen 127.0.0.1:$PA
store xfed.db
control_socket xfed.sock
require_encryption no
route r1.test 127.0.0.1:$PR1
resolver 127.0.0.1:$PDNS
header_timeout 2s
CONF
start_xfed "$T/a" || { fail start "xfed did not start"; exit 1; }
log_has() { grep -q "$1" "$T/a/xfed.log"; }

$PY "$XFED_SRC/tests/sh/dbflood.py" 127.0.0.1 "$PA" a.localhost 127.0.0.2 \
    68 16 "$T/flood.out" > "$T/flood.log" 2>&1 &
FLOOD=$!
T_PIDS="$T_PIDS $FLOOD"
check flood_started wait_for 10 log_has 'too many'
$PY "$XFED_SRC/tests/interop/rawpeer.py" --host 127.0.0.1 --port "$PA" \
    --to a.localhost --from r1.test --listen "127.0.0.1:$PR1" \
    --expect valid dialback > "$T/legit.log" 2>&1
check legit_peer_verified_during_flood [ $? = 0 ]
wait "$FLOOD"
sed 's/^/# flood: /' "$T/flood.out"
n() { awk -v k="$1" '$1 == k { print $2 }' "$T/flood.out"; }
check flood_streams_refused [ "$(n stream-error:policy-violation)" -ge 60 ]
check flood_pending_capped [ "$(n db-error:resource-constraint)" -ge 1 ]
verifying=$(grep -c '127.0.0.2.*dialback verifying' "$T/a/xfed.log")
echo "# verifications xfed started for 127.0.0.2: $verifying of 1088"
check flood_at_most_32_pending [ "$verifying" -le 32 ]
rss=$(awk '/^VmRSS/ {print $2}' /proc/"$XFED_PID"/status)
echo "# xfed RSS after the flood: $rss kB (ASan build)"

# the negative cache: an address claims r1.test with a key r1.test's
# authoritative server calls invalid; asked again, xfed answers from memory
t_bg $PY -c 'import sys, time
sys.path.insert(0, sys.argv[1])
import rawpeer
rawpeer.Authoritative("r1.test", "127.0.0.1", int(sys.argv[2])).start()
time.sleep(60)' "$XFED_SRC/tests/interop" "$PR1" > "$T/auth.log" 2>&1
auth_up() { $PY -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$PR1" 2>/dev/null; }
check negative_auth_up wait_for 5 auth_up
$PY "$XFED_SRC/tests/sh/dbflood.py" 127.0.0.1 "$PA" a.localhost 127.0.0.5 \
    1 1 "$T/neg1.out" r1.test > /dev/null 2>&1
check negative_first_checked grep -q 'db-invalid' "$T/neg1.out"
check negative_first_asked log_has '127.0.0.5.*dialback key refused by the authoritative'
$PY "$XFED_SRC/tests/sh/dbflood.py" 127.0.0.1 "$PA" a.localhost 127.0.0.5 \
    1 1 "$T/neg2.out" r1.test > /dev/null 2>&1
check negative_second_invalid grep -q 'db-invalid' "$T/neg2.out"
check negative_second_from_memory log_has '127.0.0.5.*answered from memory'
# from another address the same claim is checked again, not remembered
$PY "$XFED_SRC/tests/interop/rawpeer.py" --host 127.0.0.1 --port "$PA" \
    --to a.localhost --from r1.test --expect invalid dialback > /dev/null 2>&1
check negative_other_address_checked [ $? = 0 ]
check negative_only_same_address [ "$(grep -c 'answered from memory' "$T/a/xfed.log")" = 1 ]

# minimum progress: no header within header_timeout
out=$(probe "127.0.0.1:$PA" --until connection-timeout --timeout 10)
check no_header_connection_timeout sh -c "echo '$out' | grep -q connection-timeout"

check xfed_alive kill -0 "$XFED_PID"
stop_xfed; check xfed_stopped [ $? = 0 ]
check no_sanitizer_report sh -c "! grep -Eq 'AddressSanitizer|runtime error:' '$T/a/xfed.log'"
t_exit
