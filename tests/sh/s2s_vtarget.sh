# tests/sh/s2s_vtarget.sh: verification connections per authoritative
# target (issue 12, max_verify_per_target, max_verify_wait_per_target;
# S2S 4.38). Sixteen domains an attacker claims all point at one victim
# address (127.0.0.3), which accepts and says nothing. One inbound stream
# sends a db:result for each: xfed opens at most 3 connections to the
# victim, 9 more wait their turn, the other 4 get the dialback error
# resource-constraint at once, and r1.test (another address) still
# verifies meanwhile. Then a real server hosting f1..f16.test at one
# address (127.0.0.4): 12 verify in turn through the 3 connections; the
# 4 beyond the queue, refused by our limit, are neither remembered as
# failed nor put in backoff, and verify when asked again.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

PA=$(free_port)
PR1=$(free_port)
PV=$(free_port)
PF=$(free_port)
mkdir -p "$T/a"
{
	printf 'domain a.localhost\nlisten 127.0.0.1:%s\nstore xfed.db\n' "$PA"
	printf 'control_socket xfed.sock\nrequire_encryption no\n'
	printf 'max_verify_per_target 3\nmax_verify_wait_per_target 9\n'
	printf 'route r1.test 127.0.0.1:%s\n' "$PR1"
	for n in $(seq 16); do printf 'route d%d.test 127.0.0.3:%s\n' "$n" "$PV"; done
	for n in $(seq 16); do printf 'route f%d.test 127.0.0.4:%s\n' "$n" "$PF"; done
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
dom, first, last = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
for n in range(first, last + 1):
    st.send("<db:result from='%s%d.test' to='a.localhost'>%s</db:result>"
            % (dom, n, secrets.token_hex(32)))
while True:
    kind, el = st.next(4)
    if kind != "element":
        break
    cond = [rawpeer.local(c.tag) for e in el for c in e]
    print("answer %s %s %s" % (el.get("from"), el.get("type"), " ".join(cond)), flush=True)
PYEOF
$PY "$T/attack.py" "$XFED_SRC/tests/interop" "$PA" d 1 16 > "$T/attack.log" 2>&1
errors=$(grep -c "^answer a.localhost error resource-constraint" "$T/attack.log")
accepted=$(grep -c "^accepted" "$T/victim.log")
echo "# the victim accepted $accepted connections; $errors verifications refused with resource-constraint"
check victim_bounded [ "$accepted" -le 3 ]
check victim_reached [ "$accepted" -ge 1 ]
check nine_wait log_has "waiting for a verification connection to 127.0.0.3:$PV (8 before)"
check beyond_queue_refused [ "$errors" = 4 ]
check refusal_logged log_has "too many verification connections to this address, and 9 wait already"
# a local limit is not the peer's failure: no route backoff
check no_backoff_for_local_limit sh -c "! grep -q 'd[0-9]*.test: .*retry in' '$T/a/xfed.log'"

# a real server hosting f1..f16.test at 127.0.0.4: it answers for
# whichever of its domains xfed connects to, every key valid
cat > "$T/multi.py" <<'PYEOF'
import secrets, sys, time
sys.path.insert(0, sys.argv[1])
import rawpeer
from rawpeer import NS_DB, Stream, header_xml

class Multi(rawpeer.Authoritative):
    def _serve(self, conn):
        st = Stream(conn, "auth ->", "auth <-", 10)
        attrs = st.header()
        if attrs is None:
            conn.close()
            return
        me, peer = attrs.get("to", "?"), attrs.get("from", "?")
        print("connected for %s" % me, flush=True)
        st.send(header_xml(peer, me, stream_id=secrets.token_hex(8)) +
                "<stream:features><dialback xmlns='urn:xmpp:features:dialback'/>"
                "</stream:features>")
        while True:
            kind, el = st.next(60)
            if kind != "element":
                break
            if el.tag == "{%s}verify" % NS_DB:
                st.send("<db:verify from='%s' to='%s' id='%s' type='valid'/>"
                        % (me, el.get("from"), el.get("id")))
            elif el.tag == "{%s}result" % NS_DB:
                st.send("<db:result from='%s' to='%s' type='valid'/>" % (me, el.get("from")))

Multi("f.test", "127.0.0.4", int(sys.argv[2]), "valid").start()
while True:
    time.sleep(1)
PYEOF
t_bg $PY "$T/multi.py" "$XFED_SRC/tests/interop" "$PF" > "$T/multi.log" 2>&1
wait_for 5 $PY -c "import socket; socket.create_connection(('127.0.0.4', $PF)).close()"
$PY "$T/attack.py" "$XFED_SRC/tests/interop" "$PA" f 1 16 > "$T/multi1.log" 2>&1
valid=$(grep -c "^answer a.localhost valid" "$T/multi1.log")
errors=$(grep -c "^answer a.localhost error resource-constraint" "$T/multi1.log")
echo "# f1..f16 at one address: $valid verified in turn, $errors refused beyond the queue"
# 3 connections and 9 waiting at most: when all 16 claims are read before
# the first verification ends, 12 verify and 4 are refused; when the first
# ones end sooner (a quick target, a slow machine), more get a place
check hosted_domains_verified_in_turn [ "$valid" -ge 12 ]
check hosted_beyond_queue_refused [ $((valid + errors)) = 16 -a "$errors" -le 4 ]
check hosted_no_backoff sh -c "! grep -q 'f[0-9]*.test: .*retry in' '$T/a/xfed.log'"
# asked again (same address, same domains): verified, not answered from
# memory and not refused by a backoff
$PY "$T/attack.py" "$XFED_SRC/tests/interop" "$PA" f 13 16 > "$T/multi2.log" 2>&1
check refused_ones_verify_later [ "$(grep -c "^answer a.localhost valid" "$T/multi2.log")" = 4 ]
check refusal_not_remembered sh -c "! grep -q 'answered from memory' '$T/a/xfed.log'"

# a peer at another address verifies as usual meanwhile
r1() {
	$PY "$XFED_SRC/tests/interop/rawpeer.py" --auth --host 127.0.0.1 \
	    --port "$PA" --to a.localhost --from r1.test \
	    --listen "127.0.0.1:$PR1" --wait 1 --expect open raw \
	    "<message from='x@r1.test' to='a.localhost' id='m1'><body>hi</body></message>" \
	    > "$T/r1.log" 2>&1
}
check other_target_verifies r1

# the victim's waiting ones give up after 30 s (XEP-0220 2.5), again
# with resource-constraint and no backoff
check wait_gives_up wait_for 45 log_has "no verification connection to its address became free in time"
check no_backoff_after_wait sh -c "! grep -q 'd[0-9]*.test: .*retry in.*verification' '$T/a/xfed.log'"

check xfed_alive kill -0 "$XFED_PID"
stop_xfed; check xfed_stopped [ $? = 0 ]
check no_sanitizer_report sh -c "! grep -Eq 'AddressSanitizer|runtime error:' '$T/a/xfed.log'"
[ "$t_fails" = 0 ] || { sed "s/^/# /" "$T/attack.log" "$T/multi1.log" "$T/multi2.log"; grep -v debug "$T/a/xfed.log" | tail -30 | sed "s/^/# /"; }
t_exit
