# tests/sh/logs.sh: logs an operator can use. Two xfed federate over a
# route with dialback; with log_stanzas yes each logs every stanza in and
# out (direction and stream, from, to, kind, size), the XML only at
# log_level debug; store events name users, not row ids. Without -f and
# without a syslog socket, xfed keeps logging to stderr instead of losing
# every line; with one, to syslog and not stderr.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

PA=$(free_port)
PB=$(free_port)
mkdir -p "$T/a" "$T/b"
conf() {	# DIR DOMAIN PORT PEER PEERPORT LEVEL
	cat > "$1/xfed.conf" <<CONF
domain $2
listen 127.0.0.1:$3
store xfed.db
control_socket xfed.sock
require_encryption no
route $4 127.0.0.1:$5
log_level $6
log_stanzas yes
CONF
}
conf "$T/a" a.localhost "$PA" b.localhost "$PB" info
conf "$T/b" b.localhost "$PB" a.localhost "$PA" debug
actl() { "$XFED_BUILD/xfedctl" -c "$T/a/xfed.conf" "$@"; }
bctl() { "$XFED_BUILD/xfedctl" -c "$T/b/xfed.conf" "$@"; }
actl user add alice >/dev/null && bctl user add bob >/dev/null
check users_added [ $? = 0 ]

# A at log_level info, in the foreground; B through start_xfed (-d, debug)
t_bg "$XFED_BUILD/xfed" -f -c "$T/a/xfed.conf" 2> "$T/a/xfed.log"
PIDA=$T_LASTPID
wait_for 20 grep -q "listening on" "$T/a/xfed.log" || fail start_a "$(cat "$T/a/xfed.log")"
start_xfed "$T/b" || { fail start_b "xfed B did not start"; exit 1; }

id=$(actl send alice bob@b.localhost 'traced <body>')
check send_queued [ -n "$id" ]
inbox_has() { bctl inbox --json | grep -qF "$1"; }
check delivered wait_for 20 inbox_has 'traced <body>'

# stanza out on A (info): no XML; stanza in on B (debug): with the XML
OUT="stanza out#[0-9]+ from=alice@a.localhost(/[^ ]*)? to=bob@b.localhost kind=message/chat size=[0-9]+"
check trace_out_info grep -Eq "$OUT\$" "$T/a/xfed.log"
check trace_out_no_xml_at_info sh -c "! grep -E 'stanza out#.* xml=' '$T/a/xfed.log'"
IN="stanza in#[0-9]+ from=alice@a.localhost(/[^ ]*)? to=bob@b.localhost kind=message/chat size=[0-9]+ xml=<message "
check trace_in_debug grep -Eq "$IN.*traced &lt;body&gt;" "$T/b/xfed.log"

# a type with a line break cannot forge a log line: the row fails at
# payload (not a message type) and its reason leaves the value out
actl user add mallory > /dev/null
sqlite3 -cmd ".timeout 20000" "$T/a/xfed.db" "INSERT INTO outbox (user_id, kind, to_jid, type, body)
    SELECT id, 'message', 'bob@b.localhost', 'chat' || char(10) ||
    '2026-01-01T00:00:00.000Z error FORGED x', 'f' FROM users
    WHERE localpart = 'mallory'"
forged() { sqlite3 -separator '|' "$T/a/xfed.db" "SELECT o.state, o.error_stage,
    o.last_error FROM outbox o JOIN users u ON u.id = o.user_id
    WHERE u.localpart = 'mallory'"; }
check forged_type_refused wait_for 20 eval '[ "$(forged)" = "failed|payload|type is not chat, normal or headline" ]'
check forged_type_not_sent sh -c "! grep -q 'from=mallory@a.localhost' '$T/a/xfed.log'"
check forged_no_line sh -c "! grep -q '^2026-01-01T00:00:00.000Z error FORGED' '$T/a/xfed.log' '$T/b/xfed.log'"

# store events name the user
check store_outbox_names_user grep -q "store: outbox row $id queued: message from alice@a.localhost to bob@b.localhost" "$T/a/xfed.log"
actl presence set alice away > /dev/null
check store_presence_names_user wait_for 10 grep -q "store: presence of user alice@a.localhost changed" "$T/a/xfed.log"
actl user add carol > /dev/null
check store_user_names_user wait_for 10 grep -q "store: user carol@a.localhost changed" "$T/a/xfed.log"
actl user del carol > /dev/null
check store_user_deleted wait_for 10 grep -Eq "store: user id [0-9]+ \(deleted\) deleted" "$T/a/xfed.log"

# log_stanzas no (SIGHUP): no more traces
sed -i 's/^log_stanzas yes/log_stanzas no/' "$T/a/xfed.conf"
kill -HUP "$PIDA"
wait_for 10 grep -q "config reloaded" "$T/a/xfed.log"
n=$(grep -c "stanza out#" "$T/a/xfed.log")
actl send alice bob@b.localhost 'not traced' > /dev/null
check delivered_untraced wait_for 20 inbox_has 'not traced'
check trace_off [ "$(grep -c "stanza out#" "$T/a/xfed.log")" = "$n" ]
kill "$PIDA"
stop_xfed

# The pid of A's running daemon, from xfedctl status (it forked away).
status_pid() {
	actl status --json | $PY -c 'import json, sys
for l in sys.stdin:
    d = json.loads(l)
    if "pid" in d: print(d["pid"])'
}

# Without -f and without /dev/log: stderr, not silence.
if [ -S /dev/log ]; then
	ok stderr_fallback_skipped_syslog_present
else
	"$XFED_BUILD/xfed" -c "$T/a/xfed.conf" 2> "$T/a/daemon.log"
	check daemon_started [ $? = 0 ]
	check daemon_logs_stderr wait_for 20 grep -q "listening on" "$T/a/daemon.log"
	check daemon_says_why grep -q "no syslog socket /dev/log: logging to stderr" "$T/a/daemon.log"
	pid=$(status_pid)
	if [ -n "$pid" ]; then
		kill "$pid"
		check daemon_stopped wait_for 10 grep -q "xfed stopped" "$T/a/daemon.log"
	else
		fail daemon_stopped "no pid from xfedctl status"
	fi
fi

# With a syslog socket: lines go there, not to stderr. A private mount
# namespace gets its own /dev with a test listener on /dev/log.
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	: > "$T/syslog.log"
	cat > "$T/syslog.sh" <<EOF
mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 || exit 1
$PY -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(sys.argv[1] + ".up", "w").close()
while True:
    with open(sys.argv[1], "a") as f:
        f.write(s.recv(4096).decode(errors="replace") + "\\n")' "$T/syslog.log" &
lpid=\$!
while [ ! -e "$T/syslog.log.up" ]; do sleep 0.05; done
"$XFED_BUILD/xfed" -c "$T/a/xfed.conf" 2> "$T/a/daemon2.log"
# the listener lives until xfed says goodbye (bounded by timeout below)
until grep -q "xfed stopped" "$T/syslog.log"; do sleep 0.1; done
kill \$lpid
EOF
	t_bg timeout 60 unshare -m sh "$T/syslog.sh"
	check syslog_gets_lines wait_for 20 grep -q "xfed\[[0-9]*\]: listening on" "$T/syslog.log"
	check syslog_not_stderr sh -c "! grep -q 'listening on' '$T/a/daemon2.log'"
	pid=$(status_pid)
	if [ -n "$pid" ]; then
		kill "$pid"
		check syslog_daemon_stopped wait_for 10 grep -q "xfed stopped" "$T/syslog.log"
	else
		fail syslog_daemon_stopped "no pid from xfedctl status: $(cat "$T/a/daemon2.log")"
	fi
else
	ok syslog_skipped_not_root
fi
t_exit
