# tests/sh/store_full.sh: back-pressure instead of bounces (issue 9 item
# 5, CONTRACT.md "Durability"). When the store cannot commit, xfed stops
# reading inbound streams, keeps what it read in memory, retries with
# backoff and reads again once a commit succeeds; only a stanza kept longer
# than store_wait is answered, with resource-constraint (RFC 6120
# 8.3.3.18, type wait). Cases, on a small tmpfs (as root):
#   - a full disk under a flood of FULL_N inbound messages, then space
#     freed: every message stored exactly once, none answered, the state
#     change logged once each way, xfedctl status (text and JSON) showing
#     "store failing since" meanwhile;
#   - outbox marks made while the disk is full are committed afterwards:
#     every row sent once, none left queued;
#   - store_wait 1s: what waited longer is answered with resource-constraint;
#   - the database locked by another writer for longer than xfed's 5 s
#     busy timeout: messages wait and are stored once the lock goes.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

FULL_N=${FULL_N:-60000}
PA=$(free_port)
PX=$(free_port)
D=$T/a
MNT=$T/disk
mkdir -p "$D" "$MNT"
if ! mount -t tmpfs -o size=64m xfed-test "$MNT" 2>/dev/null; then
	echo "# skipped: cannot mount a tmpfs (not root?)"
	exit 0
fi
T_MOUNT=$MNT
conf() {	# EXTRA-LINE
	cat > "$D/xfed.conf" <<CONF
domain a.localhost
listen 127.0.0.1:$PA
store $MNT/xfed.db
control_socket xfed.sock
require_encryption no
route x.test 127.0.0.1:$PX
inbox_quota 0
remote_stanza_rate 0
$1
CONF
}
conf ""
actl() { "$XFED_BUILD/xfedctl" -c "$D/xfed.conf" "$@"; }
actl user add alice >/dev/null
check user_added [ $? = 0 ]
DB=$MNT/xfed.db
q() { sqlite3 -batch -cmd '.timeout 20000' "$DB" "$1"; }
inbox_n() { q "SELECT count(*) FROM inbox WHERE stanza_id LIKE '$1-%'"; }
inbox_distinct() { q "SELECT count(DISTINCT stanza_id) FROM inbox WHERE stanza_id LIKE '$1-%'"; }
fill() { dd if=/dev/zero of="$MNT/fill" bs=64k > /dev/null 2>&1; }
is_full() { [ "$(df --output=avail "$MNT" | tail -1 | tr -d ' ')" = 0 ]; }

# peer.py SRC PORT-A PORT-X N TAG WAIT LINGER: the peer x.test sends N
# messages to alice on one dialback stream, then a ping, waits up to WAIT s
# for the pong, then LINGER s more (or until the file LINGER exists); prints how many came back as errors, and which outbox rows of
# A it received as the x.test server (ids, one a line, "row ID")
cat > "$T/peer.py" <<'PY'
import re, sys, threading, time
sys.path.insert(0, sys.argv[1] + "/tests/interop")
import rawpeer
import os
pa, px, n, tag, wait, linger = (int(sys.argv[2]), int(sys.argv[3]),
    int(sys.argv[4]), sys.argv[5], float(sys.argv[6]), sys.argv[7])
got = []
pong = threading.Event()
def trace(label, text):
    if "(auth) <-" in label:
        got.append(text)
        if "%s-end" % tag in text:
            pong.set()
rawpeer.trace = trace
auth = rawpeer.Authoritative("x.test", "127.0.0.1", px, "keys").start()
st = rawpeer.open_stream("127.0.0.1", pa, to="a.localhost", frm="x.test")
st.header()
st.expect("features")
print("dialback: %s" % rawpeer.dialback(st, "x.test", "a.localhost", auth),
    flush=True)
st.sock.settimeout(120)	# xfed stops reading while its store fails
if n:
    st.send("".join("<message from='eve@x.test' to='alice@a.localhost' "
        "type='chat' id='%s-%d'><body>%s #%d</body></message>" % (tag, i,
        tag, i) for i in range(1, n + 1)))
print("sent: %d" % n, flush=True)
st.send("<iq type='get' id='%s-end' from='x.test' to='a.localhost'>"
    "<ping xmlns='urn:xmpp:ping'/></iq>" % tag)
print("pong: %s" % pong.wait(wait), flush=True)
if linger.startswith("/"):	# until the file exists, at most a minute
    for i in range(600):
        if os.path.exists(linger):
            break
        time.sleep(0.1)
else:
    time.sleep(float(linger))
st.close()
text = "".join(got)
errs = {}
for a, cond in re.findall(r"<message ([^>]*)><error type='(?:wait|cancel)'>"
        r"<([a-z-]+) ", text):
    if "type='error'" in a:
        for i in re.findall(r"id='(%s-[0-9]+)'" % tag, a):
            errs[i] = cond
print("errors: %d %s" % (len(errs), " ".join(sorted(set(errs.values())))))
for i in re.findall(r"<message [^>]*id='xfed-([0-9]+)'", text):
    print("row %s" % i)
PY
peer() {	# TAG N WAIT [LINGER]: peer.py in the background, output in $T/TAG.out
	t_bg $PY "$T/peer.py" "$XFED_SRC" "$PA" "$PX" "$2" "$1" "$3" "${4:-0.5}" \
	    > "$T/$1.out" 2>&1
	PEER_PID=$T_LASTPID
}
peer_done() {	# TAG: waits for it; sets $ERRS ("N conds"), $PONG
	wait "$PEER_PID"
	ERRS=$(sed -n 's/^errors: //p' "$T/$1.out")
	PONG=$(sed -n 's/^pong: //p' "$T/$1.out")
}

# ---- 1. a full disk under a flood, then space ----------------------------
start_xfed "$D" || { fail start_1 "xfed did not start"; exit 1; }
PID=$XFED_PID
peer before 5 10
peer_done before
check before_stored [ "$(inbox_n before)" = 5 ] && [ "$ERRS" = "0 " ]
fill
check disk_full is_full
t0=$(date +%s)
peer flood "$FULL_N" 120
check failing_logged wait_for 30 grep -q "store: failing" "$D/xfed.log"
actl status > "$T/status.txt"
check status_failing_since grep -q "^store failing since 20" "$T/status.txt"
actl status --json > "$T/status.json"
check status_json_failing $PY -c 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["store_failing_since"].startswith("20")' "$T/status.json"
n1=$(inbox_n flood)
sleep 2
check nothing_stored_while_full [ "$(inbox_n flood)" = "$n1" ]
rm -f "$MNT/fill"
peer_done flood
t1=$(date +%s)
echo "# flood of $FULL_N on a full disk: $n1 stored before it filled, all in $((t1 - t0)) s"
check flood_pong [ "$PONG" = True ]
check flood_none_answered [ "$ERRS" = "0 " ]
check flood_all_stored [ "$(inbox_n flood)" = "$FULL_N" ]
check flood_stored_once [ "$(inbox_distinct flood)" = "$FULL_N" ]
check failing_logged_once [ "$(grep -c "store: failing" "$D/xfed.log")" = 1 ]
check recovered_logged grep -q "store: working again after .*nothing was refused" "$D/xfed.log"
actl status > "$T/status.txt"
check status_ok_again sh -c "! grep -q 'store failing' '$T/status.txt'"

# ---- 2. outbox marks that cannot be committed are kept, then committed ----
# 20 rows for x.test wait for a retry (nothing listens there yet); another
# writer then keeps the database locked for 12 s, longer than xfed's own
# 5 s busy timeout; x.test comes up meanwhile, the rows go out, and their
# marks wait in memory until the lock is gone
for i in $(seq 20); do
	echo "INSERT INTO outbox (user_id, to_jid, body) VALUES (1, 'eve@x.test', 'mark $i');"
done | sqlite3 -batch -cmd '.timeout 20000' "$DB"
tried() { [ "$(q "SELECT count(*) FROM outbox WHERE body LIKE 'mark %'
    AND attempts = 1 AND state = 'queued'")" = 20 ]; }
check marks_tried_once wait_for 30 tried
t_bg $PY -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=20)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(12)
c.execute("ROLLBACK")' "$DB" "$T/locked-marks"
check marks_locked wait_for 30 [ -e "$T/locked-marks" ]
peer marks 0 60 "$T/marks-done"
failing_twice() { [ "$(grep -c "store: failing" "$D/xfed.log")" = 2 ]; }
check marks_failing wait_for 30 failing_twice
marks_sent() { [ "$(q "SELECT count(*) FROM outbox WHERE body LIKE 'mark %'
    AND state = 'sent'")" = 20 ]; }
check marks_all_sent wait_for 30 marks_sent
ROWS=$(q "SELECT group_concat(id, ' ') FROM outbox WHERE body LIKE 'mark %'")
touch "$T/marks-done"
peer_done marks
got=$(sed -n 's/^row //p' "$T/marks.out" | sort -n | tr '\n' ' ')
want=$(echo $ROWS | tr ' ' '\n' | sort -n | tr '\n' ' ')
check marks_rows_sent_once [ "$got" = "$want" ]

# ---- 3. store_wait: stanzas that waited longer are answered ---------------
XFED_PID=$PID; stop_xfed; check stopped_2 [ $? = 0 ]; cp "$D/xfed.log" "$D/xfed-2.log"
conf "store_wait 1s"
start_xfed "$D" || { fail start_3 "xfed did not start"; exit 1; }
PID=$XFED_PID
fill
peer wait 5 30 "$T/wait-done"
check wait_failing wait_for 30 grep -q "store: failing" "$D/xfed.log"
answered_n() {	# N: the log's "held longer" lines add up to N
	[ "$(sed -n 's/.*store: \([0-9]*\) stanzas\{0,1\} held longer than 1 s.*/\1/p' \
	    "$D/xfed.log" | awk '{ n += $1 } END { print n + 0 }')" = "$1" ]
}
check wait_answered_log wait_for 30 answered_n 5
rm -f "$MNT/fill"
sleep 1
touch "$T/wait-done"
peer_done wait
check wait_answered [ "$ERRS" = "5 resource-constraint" ]
check wait_none_stored [ "$(inbox_n wait)" = 0 ]
check wait_recovery_counts wait_for 10 grep -q "working again after .*5 stanzas were refused meanwhile" "$D/xfed.log"

# ---- 4. the database locked by another writer for long --------------------
XFED_PID=$PID; stop_xfed; check stopped_3 [ $? = 0 ]; cp "$D/xfed.log" "$D/xfed-3.log"
conf ""
start_xfed "$D" || { fail start_4 "xfed did not start"; exit 1; }
PID=$XFED_PID
t_bg $PY -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(9)
c.execute("ROLLBACK")' "$DB" "$T/locked"
wait_for 10 [ -e "$T/locked" ]
peer locked 100 60
peer_done locked
check locked_pong [ "$PONG" = True ]
check locked_none_answered [ "$ERRS" = "0 " ]
check locked_all_stored [ "$(inbox_n locked)" = 100 ] && [ "$(inbox_distinct locked)" = 100 ]
check locked_logged grep -q "store: failing (.*locked" "$D/xfed.log"

XFED_PID=$PID; stop_xfed; check stopped_4 [ $? = 0 ]; cp "$D/xfed.log" "$D/xfed-4.log"
check store_ok [ "$(q "PRAGMA quick_check")" = ok ]
t_exit
