# tests/sh/s2s_abuse.sh: hostile and unwanted peers on loopback (issue 12),
# driven by tests/interop/rawpeer.py: r1.test and r2.test authenticate by
# dialback (rawpeer is their authoritative server too) and send what each
# case needs; the store shows what xfed kept.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

PA=$(free_port)
PR1=$(free_port)
PR2=$(free_port)
mkdir -p "$T/a"
write_conf() {	# extra lines
	cat > "$T/a/xfed.conf" <<CONF
domain a.localhost
listen 127.0.0.1:$PA
store xfed.db
control_socket xfed.sock
require_encryption no
route r1.test 127.0.0.1:$PR1
route r2.test 127.0.0.1:$PR2
inbox_quota 6
$1
CONF
}
write_conf ""
DB=$T/a/xfed.db
actl() { "$XFED_BUILD/xfedctl" -c "$T/a/xfed.conf" "$@"; }
actl user add alice > /dev/null
actl user add bob > /dev/null
actl user add dave > /dev/null
actl user add frank > /dev/null
actl user add hank > /dev/null
start_xfed "$T/a" || { fail start "xfed did not start"; exit 1; }

# peer DOMAIN PORT EXPECT [XML...]: authenticate as DOMAIN, send the XML,
# the first reaction must be EXPECT (open: none within a second)
peer() {
	local dom=$1 port=$2 want=$3
	shift 3
	$PY "$XFED_SRC/tests/interop/rawpeer.py" --auth --host 127.0.0.1 \
	    --port "$PA" --to a.localhost --from "$dom" \
	    --listen "127.0.0.1:$port" --wait 1 --expect "$want" raw "$@" \
	    >> "$T/peer.log" 2>&1
}
msg() {	# FROM TO ID BODY
	printf "<message from='%s' to='%s' id='%s' type='chat'><body>%s</body></message>" "$@"
}
inbox_has() {	# WHERE: one inbox row matches
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM inbox WHERE $1")" -ge 1 ]
}

# S2S 5.5: a from with a trailing dot is the same JID, stored prepared
check trailing_dot_sent peer r1.test "$PR1" open \
    "$(msg 'Eve@R1.test./x' 'Alice@A.localhost.' td1 'dotted')"
check trailing_dot_stored_prepared wait_for 5 inbox_has \
    "stanza_id = 'td1' AND from_jid = 'eve@r1.test/x' AND to_jid = 'alice@a.localhost'"

# Blocking: domain rules from the store, applied without a restart
row_is() {	# ID STATE STAGE
	[ "$(sqlite3 "$DB" "SELECT state || ' ' || coalesce(error_stage, '') FROM outbox WHERE id = $1")" = "$2 $3" ]
}
log_has() { grep -q "$1" "$T/a/xfed.log"; }

# max_unauth_stanza_size (16k by default): before authentication no
# element may grow past it, so unauthenticated streams cannot make xfed
# buffer max_stanza_size each; once authenticated, max_stanza_size holds
big=$($PY -c 'print("a" * 20000)')
unauth_big() {
	$PY "$XFED_SRC/tests/interop/rawpeer.py" --host 127.0.0.1 \
	    --port "$PA" --to a.localhost --from r1.test --wait 2 \
	    --expect stream-error:policy-violation raw \
	    "<db:result from='r1.test' to='a.localhost'>$big" \
	    >> "$T/peer.log" 2>&1
}
check unauth_element_over_16k_refused unauth_big
check unauth_element_logged log_has 'stanza too large'
check authed_element_over_16k_sent peer r1.test "$PR1" open \
    "$(msg 'big@r1.test' 'hank@a.localhost' big1 "$big")"
check authed_element_over_16k_stored wait_for 5 inbox_has "stanza_id = 'big1'"
check r2_before_block peer r2.test "$PR2" open "$(msg 'x@r2.test' 'alice@a.localhost' b0 'before')"
actl block add r2.test > /dev/null
check block_add_applied wait_for 5 log_has 'block: 1 domain blocked'
check blocked_domain_refused_at_header peer r2.test "$PR2" stream-error:policy-violation
# a verified stream piggybacking a db:result for a blocked domain
piggy() {
	$PY - "$XFED_SRC/tests/interop" "$PA" "$PR1" >> "$T/peer.log" 2>&1 <<'PYEOF'
import sys
sys.path.insert(0, sys.argv[1])
import rawpeer
auth = rawpeer.Authoritative("r1.test", "127.0.0.1", int(sys.argv[3])).start()
st = rawpeer.open_stream("127.0.0.1", int(sys.argv[2]), to="a.localhost", frm="r1.test")
st.header(); st.expect("features")
ok = rawpeer.dialback(st, "r1.test", "a.localhost", auth) == "valid"
st.send("<db:result from='r2.test' to='a.localhost'>%s</db:result>" % ("ab" * 32))
out = rawpeer.observe(st, 2)
print("outcome: %s" % out)
sys.exit(0 if ok and out == "stream-error:policy-violation" else 1)
PYEOF
}
check blocked_domain_refused_in_dialback piggy
i=$(actl send alice x@r2.test 'to a blocked domain')
check outbox_to_blocked_domain_failed wait_for 5 row_is "$i" failed blocked
actl block del r2.test > /dev/null
check block_del_applied wait_for 5 log_has 'block: 0 domains blocked'
check r2_after_unblock peer r2.test "$PR2" open "$(msg 'x@r2.test' 'alice@a.localhost' b1 'after')"
actl block add --allow r1.test > /dev/null
check allow_applied wait_for 5 log_has '1 allowed (all others refused)'
check not_allowed_refused peer r2.test "$PR2" stream-error:policy-violation
check allowed_served peer r1.test "$PR1" open "$(msg 'y@r1.test' 'alice@a.localhost' b2 'allowed')"
actl block del r1.test > /dev/null
check allow_removed wait_for 5 log_has '0 allowed$'

# Per-user blocks (XEP-0191 3.4, 3.5)
actl block add alice eve@r1.test > /dev/null
actl block add bob r1.test > /dev/null
check user_block_applied wait_for 5 log_has 'block: 2 JIDs blocked by users'
# errors come back over xfed's own stream to r1.test (rawpeer's listener)
answered() {	# ID CONDITION [TYPE]
	grep -q "type='error' id='$1'><error type='${3:-cancel}'><$2 " "$T/peer.log"
}
check blocked_message_sent peer r1.test "$PR1" open \
    "$(msg 'eve@r1.test/phone' 'alice@a.localhost' u1 'blocked')"
check blocked_message_error wait_for 5 answered u1 service-unavailable
check blocked_message_not_stored [ "$(sqlite3 "$DB" "SELECT count(*) FROM inbox WHERE stanza_id = 'u1'")" = 0 ]
check blocked_presence_silent peer r1.test "$PR1" open \
    "<presence from='eve@r1.test' to='alice@a.localhost' type='subscribe'/>"
check blocked_subscribe_not_stored [ "$(sqlite3 "$DB" "SELECT count(*) FROM inbox WHERE kind = 'subscribe'")" = 0 ]
check blocked_iq_sent peer r1.test "$PR1" open \
    "<iq from='eve@r1.test/x' to='alice@a.localhost' type='get' id='q1'><query xmlns='jabber:iq:version'/></iq>"
check blocked_iq_error wait_for 5 answered q1 service-unavailable
check other_sender_served peer r1.test "$PR1" open \
    "$(msg 'carol@r1.test' 'alice@a.localhost' u2 'not blocked')"
check domain_item_sent peer r1.test "$PR1" open \
    "$(msg 'carol@r1.test' 'bob@a.localhost' u3 'bob blocks r1.test')"
check domain_item_blocks_all wait_for 5 answered u3 service-unavailable
i=$(actl send alice eve@r1.test 'to someone alice blocks')
check outbox_to_blocked_jid_failed wait_for 5 row_is "$i" failed blocked
check unblocked_stored inbox_has "stanza_id = 'u2'"

# XEP-0191 3.3.2, 3.4.2: gil@r1.test may see frank's presence; when frank
# blocks gil, gil gets unavailable presence, and when frank unblocks him,
# the current presence. r1.test's server (rawpeer) listens meanwhile.
sqlite3 -cmd '.timeout 5000' "$DB" "INSERT INTO subscriptions (user_id, jid, state)
    SELECT id, 'gil@r1.test', 'from' FROM users WHERE localpart = 'frank'"
cat > "$T/listen.py" <<'PYEOF'
import sys, time
sys.path.insert(0, sys.argv[1])
import rawpeer
rawpeer.Authoritative("r1.test", "127.0.0.1", int(sys.argv[2])).start()
time.sleep(60)
PYEOF
t_bg $PY "$T/listen.py" "$XFED_SRC/tests/interop" "$PR1" > "$T/gil.log" 2>&1
GIL_PID=$T_LASTPID
to_gil() {	# N [TYPE]: at least N presences to gil (TYPE: unavailable)
	local re="<presence from='frank@a.localhost/xfed' to='gil@r1.test'>"
	[ -n "${2:-}" ] && re="<presence from='frank@a.localhost/xfed' to='gil@r1.test' type='$2'/>"
	[ "$(grep -c "$re" "$T/gil.log")" -ge "$1" ]
}
wait_for 5 grep -q "authoritative server for r1.test" "$T/gil.log"
actl presence set frank available > /dev/null
check block_presence_before wait_for 10 to_gil 1
actl block add frank gil@r1.test > /dev/null
check block_sends_unavailable wait_for 10 to_gil 1 unavailable
check block_presence_logged wait_for 5 log_has 'frank@a.localhost blocks gil@r1.test: unavailable sent to 1 contact'
actl presence set frank away > /dev/null
check blocked_gets_no_broadcast wait_for 5 log_has 'presence: frank@a.localhost is away'
actl block del frank gil@r1.test > /dev/null
check unblock_sends_current wait_for 10 to_gil 2
check unblock_current_is_away grep -q "to='gil@r1.test'><show>away</show>" "$T/gil.log"
check blocked_got_no_away [ "$(grep -c "to='gil@r1.test'><show>away" "$T/gil.log")" = 1 ]
kill "$GIL_PID" 2>/dev/null
wait "$GIL_PID" 2>/dev/null

# inbox_quota: 6 unconsumed rows a user; the 7th waits (resource-constraint)
check quota_fill peer r1.test "$PR1" open "$(for n in 1 2 3 4 5 6; do
	msg carol@r1.test dave@a.localhost "q$n" "$n"; done)"
check quota_filled wait_for 5 inbox_has "stanza_id = 'q6'"
check quota_over_sent peer r1.test "$PR1" open "$(msg carol@r1.test dave@a.localhost q7 'one too many')"
check quota_over_refused wait_for 5 answered q7 resource-constraint wait
check quota_over_not_stored [ "$(sqlite3 "$DB" "SELECT count(*) FROM inbox WHERE stanza_id = 'q7'")" = 0 ]
# a subscription request over the quota is refused the same way, not kept
# pending where the user has no room to see it (S2S 10.15)
check quota_subscribe_sent peer r1.test "$PR1" open \
    "<presence from='carol@r1.test' to='dave@a.localhost' type='subscribe' id='qs1'/>"
check quota_subscribe_refused wait_for 5 answered qs1 resource-constraint wait
check quota_subscribe_not_pending [ "$(sqlite3 "$DB" "SELECT count(*) FROM subscriptions WHERE jid = 'carol@r1.test' AND pending_in = 1")" = 0 ]
check quota_subscribe_not_stored [ "$(sqlite3 "$DB" "SELECT count(*) FROM inbox WHERE stanza_id = 'qs1'")" = 0 ]
check quota_other_user_served peer r1.test "$PR1" open "$(msg carol@r1.test bob@a.localhost q0 'bob has room')"
sqlite3 -cmd '.timeout 5000' "$DB" "UPDATE inbox SET consumed = 1 WHERE stanza_id = 'q1'"
q8() { peer r1.test "$PR1" open "$(msg carol@r1.test dave@a.localhost q8 'room again')" && inbox_has "stanza_id = 'q8'"; }
check quota_consumed_frees_room wait_for 10 q8

# Retention, set by SIGHUP: consumed inbox rows, finished outbox rows and
# the handled journal go
count() { sqlite3 -cmd '.timeout 5000' "$DB" "SELECT count(*) FROM $1"; }
check retention_has_rows [ "$(count "inbox WHERE consumed IS NOT NULL")" -ge 1 ]
write_conf "inbox_retention 1s
outbox_retention 1s
journal_retention 1s"
kill -HUP "$XFED_PID"
check retention_reloaded wait_for 5 log_has 'config reloaded'
zero() { [ "$(count "$1")" = 0 ]; }
check inbox_retention wait_for 10 zero "inbox WHERE consumed IS NOT NULL"
check outbox_retention wait_for 10 zero "outbox WHERE state <> 'queued'"
check journal_retention wait_for 10 zero "changes"
check retention_keeps_unconsumed [ "$(count "inbox WHERE stanza_id = 'q2'")" = 1 ]
check retention_logged log_has 'retention: [0-9]* journal rows* deleted'

# remote_stanza_rate (S2S 10.9): r1.test sends 600 pings at once, at most
# 100 a second are read; the rest waits in its socket, not in xfed, and
# r2.test is served meanwhile
write_conf "inbox_retention 1s
outbox_retention 1s
journal_retention 1s
remote_stanza_rate 100"
kill -HUP "$XFED_PID"
reloads() { [ "$(grep -c 'config reloaded' "$T/a/xfed.log")" -ge "$1" ]; }
check rate_reloaded wait_for 5 reloads 2
pings=$(for n in $(seq 600); do
	printf "<iq type='get' from='r1.test' to='a.localhost' id='p%d'><ping xmlns='urn:xmpp:ping'/></iq>" "$n"; done)
t_bg $PY "$XFED_SRC/tests/interop/rawpeer.py" --auth --host 127.0.0.1 \
    --port "$PA" --to a.localhost --from r1.test --listen "127.0.0.1:$PR1" \
    --wait 40 raw "$pings" > "$T/flood.log" 2>&1
FLOOD_PID=$T_LASTPID
results() { grep -o "type='result' id='p[0-9]*'" "$T/flood.log" | sort -u | wc -l; }
check rate_paused wait_for 15 log_has 'rate: r1.test over remote_stanza_rate 100/s'
check rate_other_domain_served peer r2.test "$PR2" open "$(msg 'x@r2.test' 'bob@a.localhost' r2ok 'served')"
check rate_other_domain_stored wait_for 5 inbox_has "stanza_id = 'r2ok'"
n=$(results)
echo "# pings answered when r2.test's message was stored: $n of 600"
check rate_other_domain_not_behind [ "$n" -lt 600 ]
rss=$(awk '/^VmRSS/ {print $2}' /proc/"$XFED_PID"/status)
echo "# xfed RSS while r1.test is held back: $rss kB (ASan build)"
all_answered() { [ "$(results)" = 600 ]; }
check rate_nothing_lost wait_for 30 all_answered
kill "$FLOOD_PID" 2>/dev/null

check xfed_alive kill -0 "$XFED_PID"
stop_xfed; check xfed_stopped [ $? = 0 ]
check no_sanitizer_report sh -c "! grep -Eq 'AddressSanitizer|runtime error:' '$T/a/xfed.log'"
[ "$t_fails" = 0 ] || sed "s/^/# /" "$T/peer.log" | tail -40
t_exit
