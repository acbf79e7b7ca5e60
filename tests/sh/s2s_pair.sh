# tests/sh/s2s_pair.sh: two xfed processes federate over plain TCP with
# dialback (XEP-0220), each finding the other through a configured route:
# a message queued with xfedctl on A reaches B's inbox and back, and both
# logs show dialback verified both ways (S2S 4.1, 4.13-4.27).
. "$XFED_SRC/tests/sh/lib.sh"
t_init

pair_init
echo "dialback_secret 0123456789abcdef0123456789abcdef" >> "$T/a/xfed.conf"

start_xfed "$T/a" || { fail start_a "xfed A did not start"; exit 1; }
PIDA=$XFED_PID
start_xfed "$T/b" || { fail start_b "xfed B did not start"; exit 1; }
PIDB=$XFED_PID

id=$(actl send alice bob@b.localhost 'hello from A <&> "quoted"')
check send_queued [ -n "$id" ]
inbox_has() {	# CONF TEXT
	"$XFED_BUILD/xfedctl" -c "$1" inbox --json | grep -qF "$2"
}
if wait_for 20 inbox_has "$T/b/xfed.conf" 'hello from A <&> \"quoted\"'; then
	ok a_to_b_delivered
else
	fail a_to_b_delivered "not in B's inbox: $(bctl inbox --json) $(actl outbox)"
fi
row_is() { actl outbox --json | $PY -c 'import json,sys
sys.exit(0 if any(str(r["id"]) == sys.argv[1] and r["state"] == sys.argv[2]
    for r in map(json.loads, sys.stdin)) else 1)' "$1" "$2"; }
check a_outbox_sent wait_for 10 row_is "$id" sent

bctl send bob alice@a.localhost 'and back from B' >/dev/null
if wait_for 20 inbox_has "$T/a/xfed.conf" 'and back from B'; then
	ok b_to_a_delivered
else
	fail b_to_a_delivered "not in A's inbox: $(actl inbox --json) $(bctl outbox)"
fi

# both directions were authenticated by dialback, on each side
check a_out_verified grep -q "out#.* b.localhost .*dialback verified pair=a.localhost/b.localhost" "$T/a/xfed.log"
check b_in_verified grep -q "in#.* a.localhost .*dialback verified pair=b.localhost/a.localhost" "$T/b/xfed.log"
check b_out_verified grep -q "out#.* a.localhost .*dialback verified pair=b.localhost/a.localhost" "$T/b/xfed.log"
check a_in_verified grep -q "in#.* b.localhost .*dialback verified pair=a.localhost/b.localhost" "$T/a/xfed.log"

# status shows the streams
st=$(actl status)
echo "$st" | grep -q "out .*a.localhost <-> b.localhost" && echo "$st" | grep -q "auth=dialback"
check status_streams [ $? = 0 ]
actl status --json | $PY -c 'import json,sys; d=json.load(sys.stdin); assert d["streams"]'
check status_json [ $? = 0 ]
# on SQLite the one daemon is the one instance, holding every lease
actl status | grep -q "^  [^ ]* started .*, last heartbeat .* ago$"
check status_instance [ $? = 0 ]
actl peers b.localhost | grep -q "^  sent from a.localhost by instance [^ ]*:$PIDA, lease until "
check peers_lease_holder [ $? = 0 ]

# a message to an unknown user on B comes back as an error on A's row
id=$(actl send alice nobody@b.localhost 'to nobody')
failed_with() {
	actl outbox --json | $PY -c 'import json,sys
for l in sys.stdin:
    r = json.loads(l)
    if str(r["id"]) == sys.argv[1] and r["state"] == "failed" and sys.argv[2] in (r.get("last_error") or ""): sys.exit(0)
sys.exit(1)' "$1" "$2"
}
if wait_for 20 failed_with "$id" service-unavailable; then ok unknown_user_error
else fail unknown_user_error "$(actl outbox --json | head -3)"; fi

# a second instance for a.localhost with the same dialback_secret: B
# checks its key with the first one (its route for a.localhost), which can
# answer for keys it did not issue (XEP-0185, S2S 4.5)
PA2=$(free_port)
mkdir -p "$T/a2"
pair_conf "$T/a2" a.localhost "$PA2" b.localhost "$PB"
echo "dialback_secret 0123456789abcdef0123456789abcdef" >> "$T/a2/xfed.conf"
echo "idle_timeout 2s" >> "$T/a2/xfed.conf"
a2ctl() { "$XFED_BUILD/xfedctl" -c "$T/a2/xfed.conf" "$@"; }
a2ctl user add carol > /dev/null
start_xfed "$T/a2" || { fail start_a2 "second A did not start"; exit 1; }
PIDA2=$XFED_PID
a2ctl send carol bob@b.localhost 'from the second instance' > /dev/null
check shared_secret_delivered wait_for 20 inbox_has "$T/b/xfed.conf" 'from the second instance'
n=$(grep -c "in#.* a.localhost .*dialback verified pair=b.localhost/a.localhost" "$T/b/xfed.log")
check shared_secret_second_stream_verified [ "$n" -ge 2 ]
# an unused outbound stream is closed with the closing handshake (RFC 6120
# 4.4, S2S 1.23), and the next message opens a new one
check idle_close_sent wait_for 10 grep -q "out#.*closing: idle" "$T/a2/xfed.log"
check idle_close_answered wait_for 10 grep -q "out#.*closed reason=\"closed at both ends\"" "$T/a2/xfed.log"
a2ctl send carol bob@b.localhost 'after the idle close' > /dev/null
check reconnect_on_demand wait_for 20 inbox_has "$T/b/xfed.conf" 'after the idle close'
XFED_PID=$PIDA2; stop_xfed; check a2_stopped [ $? = 0 ]

XFED_PID=$PIDA; stop_xfed; check a_stopped [ $? = 0 ]
XFED_PID=$PIDB; stop_xfed; check b_stopped [ $? = 0 ]
t_exit
