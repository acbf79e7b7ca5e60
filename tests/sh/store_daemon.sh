# tests/sh/store_daemon.sh: the store as the running daemon shares it
# (store issue, CONTRACT.md "How your changes reach the running xfed" and
# "Durability"):
#   - another process changes a presence or queues a message (xfedctl, and
#     the sqlite3 shell following CONTRACT.md) and the daemon notices; the
#     latency is measured from xfed's log and printed, not asserted;
#   - a burst of inbound messages survives a SIGTERM right after the last
#     one was handled (the open batch is committed on a clean stop); after a
#     SIGKILL at most the last batch is missing;
# A full disk and a locked database are store_full.sh's.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

PA=$(free_port)
PX=$(free_port)
D=$T/a
mkdir -p "$D"
conf() {	# STORE-PATH
	cat > "$D/xfed.conf" <<CONF
domain a.localhost
listen 127.0.0.1:$PA
store $1
control_socket xfed.sock
require_encryption no
route x.test 127.0.0.1:$PX
CONF
}
conf xfed.db
actl() { "$XFED_BUILD/xfedctl" -c "$D/xfed.conf" "$@"; }
actl user add alice >/dev/null && actl user add bob >/dev/null
check users_added [ $? = 0 ]
DB=$D/xfed.db
q() { sqlite3 -batch -cmd '.timeout 5000' "$DB" "$1"; }
ALICE=$(q "SELECT id FROM users WHERE localpart = 'alice'")

# ---- 1. outside changes reach the running daemon --------------------------
start_xfed "$D" || { fail start "xfed did not start"; exit 1; }
# nothing reads the events journal (no HTTP API, no webhook): its triggers
# are dropped, for every writer of the file (CONTRACT.md, events)
ntrig() { q "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'
    AND name LIKE 'events%'"; }
check events_journal_off [ "$(ntrig)" = 0 ]
check events_journal_off_logged grep -q "events journal off" "$D/xfed.log"
# xfedctl events says so instead of printing nothing without a word
actl events > "$T/ev.out" 2> "$T/ev.err"
check events_off_exit0 [ $? = 0 ]
check events_off_hint grep -q "events journal is off: nothing new is recorded until xfed runs with events_journal yes" "$T/ev.err"
now_ms() { date +%s%3N; }
# log_ms PATTERN N: the time (ms) of the Nth log line matching PATTERN
log_ms() {
	local l
	l=$(grep -- "$1" "$D/xfed.log" | sed -n "$2p")
	[ -n "$l" ] && date -d "${l%% *}" +%s%3N
}
nlines() { grep -c -- "$1" "$D/xfed.log"; }
LAT=$T/latencies
: > "$LAT"
# measure LABEL PATTERN CMD...: runs CMD, waits for the next log line
# matching PATTERN, prints the latency from the commit: the time CMD
# printed last (the sql_* helpers print it right after their COMMIT), else
# the time CMD returned (xfedctl commits a little before it exits)
measure() {
	local label=$1 pat=$2 n t0 t1 tc ts
	shift 2
	n=$(($(nlines "$pat") + 1))
	t0=$(now_ms)
	tc=$(ASAN_OPTIONS=detect_leaks=0 "$@") ||
	    { fail "measure_$label" "command failed: $*"; return; }
	t1=$(now_ms)
	case "$tc" in
	*[!0-9]*|'')	tc=$t1 ;;
	esac
	if ! wait_for 5 sh -c "[ \$(grep -c -- '$pat' '$D/xfed.log') -ge $n ]"; then
		fail "noticed_$label" "no \"$pat\" line within 5 s"
		return
	fi
	ts=$(log_ms "$pat" "$n")
	echo "# latency $label: $((ts - tc)) ms after the commit" \
	    "($((ts - t0)) ms after the command started)"
	echo "$label $((ts - tc))" >> "$LAT"
}
MS_NOW="SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER);"
quiet() { "$@" > /dev/null; }
SHOWS="away xa dnd chat available"
sql_send() {
	sqlite3 -batch "$DB" "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;
INSERT INTO outbox (user_id, kind, to_jid, body)
SELECT id, 'message', 'bob@a.localhost', 'raw insert $1'
FROM users WHERE localpart = 'alice' AND domain = 'a.localhost';
$MS_NOW"
}
sql_presence() {
	sqlite3 -batch "$DB" "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;
INSERT INTO presence (user_id, show, status, updated)
SELECT id, '$1', 'from sql', CAST(strftime('%s', 'now') AS INTEGER)
FROM users WHERE localpart = 'alice' AND domain = 'a.localhost'
ON CONFLICT (user_id) DO UPDATE SET
    show = excluded.show, status = excluded.status, updated = excluded.updated;
$MS_NOW"
}
PRES="store: presence of user alice@a.localhost changed"
ROW="store: outbox row [0-9]* queued"
i=0
for s in $SHOWS; do
	i=$((i + 1))
	measure presence_xfedctl "$PRES" quiet actl presence set alice "$s" "status $i"
	sleep 0.0$((i * 17 % 10))	# land at different points of the poll
	measure send_xfedctl "$ROW" quiet actl send alice bob@a.localhost "xfedctl send $i"
	sleep 0.0$((i * 31 % 10))
	measure outbox_sql "$ROW" sql_send "$i"
	sleep 0.0$((i * 7 % 10))
	measure presence_sql "$PRES" sql_presence "$s"
	sleep 0.1
done
awk '{ n[$1]++; s[$1] += $2; if (!($1 in mn) || $2 < mn[$1]) mn[$1] = $2;
    if (!($1 in mx) || $2 > mx[$1]) mx[$1] = $2 }
    END { for (k in n) printf "# latency %s: min %d ms, mean %d ms, max %d ms (%d runs)\n",
    k, mn[k], s[k] / n[k], mx[k], n[k] }' "$LAT" | sort
check all_changes_noticed [ "$(wc -l < "$LAT")" = 20 ]
# and acted on: the messages were delivered (bob is hosted here too)
delivered() {
	[ "$(q "SELECT count(*) FROM inbox i JOIN users u ON u.id = i.user_id
	    WHERE u.localpart = 'bob' AND (i.body LIKE 'xfedctl send %' OR
	    i.body LIKE 'raw insert %')")" = 10 ]
}
check outside_rows_delivered wait_for 5 delivered
check outside_rows_delivered_state [ "$(q "SELECT count(*) FROM outbox WHERE state = 'delivered'")" = 10 ]
check outside_presence_kept [ "$(q "SELECT show || ' ' || status FROM presence
    WHERE user_id = $ALICE")" = "available from sql" ]
stop_xfed
check stopped_1 [ $? = 0 ]

# ---- 2. a burst of inbound messages and a stop right after it -------------
# flood.py SRC PORT-A PORT-X N TAG PID SIGNAL: a peer for x.test that
# authenticates by dialback, sends N messages to alice in one write, then
# a ping; when the pong comes back (every message before it was handled),
# it sends SIGNAL to xfed at once.
cat > "$T/flood.py" <<'PY'
import os, signal, sys, threading, time
sys.path.insert(0, sys.argv[1] + "/tests/interop")
import rawpeer
pa, px, n, tag, pid = (int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]),
    sys.argv[5], int(sys.argv[6]))
sig = getattr(signal, sys.argv[7])
pong = threading.Event()
def trace(label, text):
    # the transcript would be megabytes: only watch for the pong
    if "flood-end" in text and "result" in text:
        pong.set()
rawpeer.trace = trace
auth = rawpeer.Authoritative("x.test", "127.0.0.1", px, "keys").start()
st = rawpeer.open_stream("127.0.0.1", pa, to="a.localhost", frm="x.test")
st.header()
st.expect("features")
v = rawpeer.dialback(st, "x.test", "a.localhost", auth)
print("dialback: %s" % v, flush=True)
msgs = "".join("<message from='eve@x.test' to='alice@a.localhost' type='chat' "
    "id='%s-%d'><body>%s #%d</body></message>" % (tag, i, tag, i)
    for i in range(1, n + 1))
t0 = time.monotonic()
st.sock.sendall((msgs + "<iq type='get' id='flood-end' from='x.test' "
    "to='a.localhost'><ping xmlns='urn:xmpp:ping'/></iq>").encode())
if not pong.wait(30):
    print("no pong", flush=True)
    sys.exit(1)
os.kill(pid, sig)
print("handled %d messages in %d ms, then %s" % (n, (time.monotonic() - t0) * 1000,
    sys.argv[7]), flush=True)
time.sleep(0.3)
PY
N=500
inbox_n() { q "SELECT count(*) FROM inbox WHERE body LIKE '$1 #%'"; }
flood() {	# TAG SIGNAL: floods the running xfed, which gets SIGNAL after
	$PY "$T/flood.py" "$XFED_SRC" "$PA" "$PX" "$N" "$1" "$XFED_PID" "$2" \
	    > "$T/flood-$1.out" 2>&1
	local rc=$?
	sed -n 's/^handled/# handled/p' "$T/flood-$1.out"
	return $rc
}
start_xfed "$D" || { fail start_2 "xfed did not start"; exit 1; }
flood term SIGTERM
check burst_delivered_then_term [ $? = 0 ]
wait "$XFED_PID"
check burst_term_clean_exit [ $? = 0 ]
cp "$D/xfed.log" "$T/xfed-term.log"
n=$(inbox_n term)
echo "# after SIGTERM: $n of $N in the inbox"
start_xfed "$D" || { fail start_3 "xfed did not start again"; exit 1; }
check burst_survives_sigterm [ "$(inbox_n term)" = "$N" ]
check burst_once_each [ "$(q "SELECT count(DISTINCT stanza_id) FROM inbox
    WHERE body LIKE 'term #%'")" = "$N" ]

# the same with SIGKILL: a crash loses at most the last batch
flood kill SIGKILL
check burst_delivered_then_kill [ $? = 0 ]
{ wait "$XFED_PID"; } 2>/dev/null
cp "$D/xfed.log" "$T/xfed-kill.log"
start_xfed "$D" || { fail start_4 "xfed did not start after SIGKILL"; exit 1; }
n=$(inbox_n kill)
echo "# after SIGKILL at the pong: $n of $N in the inbox"
check burst_after_kill_at_most_all [ "$n" -le "$N" ]
check store_ok_after_kill [ "$(q "PRAGMA quick_check")" = ok ]
stop_xfed
check stopped_2 [ $? = 0 ]

# ---- 3. events_journal yes: the triggers again, and events written -------
echo "events_journal yes" >> "$D/xfed.conf"
start_xfed "$D" || { fail start_5 "xfed did not start"; exit 1; }
check events_journal_on [ "$(ntrig)" = 8 ]
actl events > "$T/ev.out" 2> "$T/ev.err"
check events_on_exit0 [ $? = 0 ]
check events_on_no_hint [ ! -s "$T/ev.err" ]
ev0=$(q "SELECT count(*) FROM events WHERE type = 'user'")
actl user add carol >/dev/null
check events_journal_written [ "$(q "SELECT count(*) FROM events
    WHERE type = 'user'")" = $((ev0 + 1)) ]
stop_xfed
check stopped_3 [ $? = 0 ]

t_exit
