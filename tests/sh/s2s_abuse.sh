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
cat > "$T/a/xfed.conf" <<CONF
domain a.localhost
listen 127.0.0.1:$PA
store xfed.db
control_socket xfed.sock
require_encryption no
route r1.test 127.0.0.1:$PR1
route r2.test 127.0.0.1:$PR2
CONF
DB=$T/a/xfed.db
actl() { "$XFED_BUILD/xfedctl" -c "$T/a/xfed.conf" "$@"; }
actl user add alice > /dev/null
actl user add bob > /dev/null
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

check xfed_alive kill -0 "$XFED_PID"
stop_xfed; check xfed_stopped [ $? = 0 ]
check no_sanitizer_report sh -c "! grep -Eq 'AddressSanitizer|runtime error:' '$T/a/xfed.log'"
[ "$t_fails" = 0 ] || sed "s/^/# /" "$T/peer.log" | tail -40
t_exit
