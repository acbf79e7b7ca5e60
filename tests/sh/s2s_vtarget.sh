# tests/sh/s2s_vtarget.sh: verification connections per authoritative
# target (issue 12, max_verify_per_target; S2S 4.38). Ten domains an
# attacker claims all point at one victim address (127.0.0.3), which
# accepts and says nothing. One inbound stream sends a db:result for each:
# xfed opens at most 3 connections to the victim, the other verifications
# get the dialback error resource-constraint at once, and r1.test (another
# address) still verifies meanwhile.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

PA=$(free_port)
PR1=$(free_port)
PV=$(free_port)
mkdir -p "$T/a"
{
	printf 'domain a.localhost\nlisten 127.0.0.1:%s\nstore xfed.db\n' "$PA"
	printf 'control_socket xfed.sock\nrequire_encryption no\n'
	printf 'max_verify_per_target 3\nroute r1.test 127.0.0.1:%s\n' "$PR1"
	for n in $(seq 10); do printf 'route d%d.test 127.0.0.3:%s\n' "$n" "$PV"; done
} > "$T/a/xfed.conf"
start_xfed "$T/a" || { fail start "xfed did not start"; exit 1; }
log_has() { grep -q "$1" "$T/a/xfed.log"; }

# the victim: accepts, counts, holds every connection, never answers
cat > "$T/victim.py" <<'PYEOF'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.3", int(sys.argv[1])))
s.listen(64)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    print("accepted %d" % len(held), flush=True)
PYEOF
t_bg $PY "$T/victim.py" "$PV" > "$T/victim.log" 2>&1

cat > "$T/attack.py" <<'PYEOF'
import secrets, sys
sys.path.insert(0, sys.argv[1])
import rawpeer
st = rawpeer.open_stream("127.0.0.1", int(sys.argv[2]), to="a.localhost", frm="d1.test")
st.header(); st.expect("features")
for n in range(1, 11):
    st.send("<db:result from='d%d.test' to='a.localhost'>%s</db:result>"
            % (n, secrets.token_hex(32)))
while True:
    kind, el = st.next(4)
    if kind != "element":
        break
    cond = [rawpeer.local(c.tag) for e in el for c in e]
    print("answer %s %s %s" % (el.get("from"), el.get("type"), " ".join(cond)), flush=True)
PYEOF
$PY "$T/attack.py" "$XFED_SRC/tests/interop" "$PA" > "$T/attack.log" 2>&1
errors=$(grep -c "^answer a.localhost error resource-constraint" "$T/attack.log")
accepted=$(grep -c "^accepted" "$T/victim.log")
echo "# the victim accepted $accepted connections; $errors verifications refused with resource-constraint"
check victim_bounded [ "$accepted" -le 3 ]
check victim_reached [ "$accepted" -ge 1 ]
check rest_refused [ "$errors" -ge 7 ]
check refusal_logged log_has "too many verification connections to this address"

# a peer at another address verifies as usual meanwhile
r1() {
	$PY "$XFED_SRC/tests/interop/rawpeer.py" --auth --host 127.0.0.1 \
	    --port "$PA" --to a.localhost --from r1.test \
	    --listen "127.0.0.1:$PR1" --wait 1 --expect open raw \
	    "<message from='x@r1.test' to='a.localhost' id='m1'><body>hi</body></message>" \
	    > "$T/r1.log" 2>&1
}
check other_target_verifies r1

check xfed_alive kill -0 "$XFED_PID"
stop_xfed; check xfed_stopped [ $? = 0 ]
check no_sanitizer_report sh -c "! grep -Eq 'AddressSanitizer|runtime error:' '$T/a/xfed.log'"
[ "$t_fails" = 0 ] || { sed "s/^/# /" "$T/attack.log"; grep -v debug "$T/a/xfed.log" | tail -30 | sed "s/^/# /"; }
t_exit
