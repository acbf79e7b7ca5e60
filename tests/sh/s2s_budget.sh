# tests/sh/s2s_budget.sh: stream_read_rate, the per-stream read budget
# (issue 12). r1.test authenticates by dialback and then writes messages
# as fast as its socket takes them; xfed reads that stream at the budget
# and leaves the rest in the kernel (no buffering in xfed), while r2.test,
# on a stream of its own, is served as usual. The figures go to the test
# log; the only bound checked is the token bucket's own: what xfed read
# can never be more than the burst plus the rate times the flood's length.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

PA=$(free_port)
PR1=$(free_port)
PR2=$(free_port)
RATE=32768	# bytes/s; burst: one second of it
FLOOD_SECS=4
mkdir -p "$T/a"
cat > "$T/a/xfed.conf" <<CONF
domain a.localhost
listen 127.0.0.1:$PA
store xfed.db
control_socket xfed.sock
require_encryption no
route r1.test 127.0.0.1:$PR1
route r2.test 127.0.0.1:$PR2
inbox_quota 0
remote_stanza_rate 0
stream_read_rate $RATE
CONF
DB=$T/a/xfed.db
"$XFED_BUILD/xfedctl" -c "$T/a/xfed.conf" user add alice > /dev/null
start_xfed "$T/a" || { fail start "xfed did not start"; exit 1; }
log_has() { grep -q "$1" "$T/a/xfed.log"; }

# the flood: dialback, then FLOOD_SECS of 1 KiB messages as fast as the
# socket takes them, then a reset (SO_LINGER 0), so that what waited in
# the kernel is dropped and xfed's count stops with the flood
cat > "$T/flood.py" <<'PYEOF'
import socket, struct, sys, time
sys.path.insert(0, sys.argv[1])
import rawpeer
port, aport, secs = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
auth = rawpeer.Authoritative("r1.test", "127.0.0.1", aport).start()
tc = time.monotonic()
st = rawpeer.open_stream("127.0.0.1", port, to="a.localhost", frm="r1.test")
st.header(); st.expect("features")
if rawpeer.dialback(st, "r1.test", "a.localhost", auth) != "valid":
    print("flood: dialback failed"); sys.exit(1)
pad = "x" * 900
msg = ("<message from='m@r1.test' to='alice@a.localhost' id='f%06d' "
       "type='chat'><body>%s</body></message>")
s = st.sock
s.setblocking(False)
sent, n, pending = 0, 0, b""
t0 = time.monotonic()
while time.monotonic() - t0 < secs:
    if not pending:
        pending = (msg % (n, pad)).encode()
        n += 1
    try:
        k = s.send(pending)
    except BlockingIOError:
        time.sleep(0.01)
        continue
    sent += k
    pending = pending[k:]
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
t1 = time.monotonic()
print("flood: %d bytes handed to the socket in %.2f s; connected for %d s" % (
      sent, t1 - t0, int(t1 - tc) + 1), flush=True)
time.sleep(30)	# the authoritative server stays for xfed's answers
PYEOF
t_bg $PY "$T/flood.py" "$XFED_SRC/tests/interop" "$PA" "$PR1" "$FLOOD_SECS" \
    > "$T/flood.log" 2>&1
FLOOD_PID=$T_LASTPID
check flood_authenticated wait_for 10 log_has "dialback verified pair=a.localhost/r1.test"

# r2.test meanwhile: its stream has a budget of its own
peer2() {
	$PY "$XFED_SRC/tests/interop/rawpeer.py" --auth --host 127.0.0.1 \
	    --port "$PA" --to a.localhost --from r2.test \
	    --listen "127.0.0.1:$PR2" --wait 1 --expect open raw \
	    "<message from='x@r2.test' to='alice@a.localhost' id='r2ok' type='chat'><body>served</body></message>" \
	    >> "$T/peer.log" 2>&1
}
check other_stream_sent peer2
stored() { [ "$(sqlite3 -cmd '.timeout 5000' "$DB" "SELECT count(*) FROM inbox WHERE stanza_id = '$1'")" = 1 ]; }
check other_stream_served wait_for 5 stored r2ok
during=$(sqlite3 -cmd '.timeout 5000' "$DB" "SELECT count(*) FROM inbox WHERE stanza_id LIKE 'f%'")
echo "# flood messages stored when r2.test's was: $during"

flood_done() { grep -q "^flood: [0-9]* bytes" "$T/flood.log"; }
check flood_ran wait_for $((FLOOD_SECS + 10)) flood_done
closed() { grep -q "in#[0-9]* r1.test .*closed reason=.*bytes=" "$T/a/xfed.log"; }
check flood_stream_closed wait_for 10 closed
read=$(grep -o "in#[0-9]* r1.test .*closed reason=.*bytes=[0-9]*" "$T/a/xfed.log" | head -1 | sed 's/.*bytes=//')
sent=$(sed -n 's/^flood: \([0-9]*\) bytes.*/\1/p' "$T/flood.log")
conn=$(sed -n 's/^flood: .*connected for \([0-9]*\) s$/\1/p' "$T/flood.log")
echo "# r1.test handed $sent bytes to its socket in ${FLOOD_SECS} s; xfed read $read bytes ($((read / FLOOD_SECS)) B/s against stream_read_rate $RATE B/s)"
# the token bucket: one second of burst, then RATE a second for as long
# as the connection lasted (dialback and flood, rounded up); a slow run
# reads less, never more
check read_within_budget [ "$read" -le $((RATE + RATE * conn)) ]
check rest_left_in_kernel [ "$sent" -gt "$read" ]
n=$(sqlite3 -cmd '.timeout 5000' "$DB" "SELECT count(*) FROM inbox WHERE stanza_id LIKE 'f%'")
echo "# flood messages stored: $n"
check flood_stored_some [ "$n" -ge 1 ]
kill "$FLOOD_PID" 2>/dev/null

check xfed_alive kill -0 "$XFED_PID"
stop_xfed; check xfed_stopped [ $? = 0 ]
check no_sanitizer_report sh -c "! grep -Eq 'AddressSanitizer|runtime error:' '$T/a/xfed.log'"
[ "$t_fails" = 0 ] || sed "s/^/# /" "$T/a/xfed.log" | tail -40
t_exit
