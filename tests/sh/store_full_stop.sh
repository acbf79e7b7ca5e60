# tests/sh/store_full_stop.sh: SIGTERM of the receiver while its store
# fails, the sender without XEP-0198 (dialback, plain TCP; S2S 1.23,
# RFC 6120 4.4). x sends STOP_N rows to y; y's store is on a small tmpfs
# filled up, so y pauses reading and holds what it read (store_full.sh);
# y gets SIGTERM, the disk is freed, y starts again.
#
# Without stream management x counts a row as sent once the kernel took
# its bytes. y, stopping with a failing store, tries a last commit, then
# answers every stanza it holds and every one still in its socket and
# parser with resource-constraint, type wait (RFC 6120 8.3.3.18, S2S
# 5.14), on its own outbound stream to x (S2S 1.19), which x's dialback
# checks over a connection y still accepts (S2S 4.27). x puts each of
# those rows back to queued with a backoff and sends it again once y is
# back. Checked: y says what it answered and leaves no byte unread, x
# requeues rows and fails none, keeps no error in its inbox for them, and
# every row ends in y's inbox: 0 lost. Duplicates (rows y stored twice)
# are counted and printed; nothing is timed.
#
# STOP_SM=1 (store_full_stop_sm.sh): the same with certificates, so STARTTLS,
# SASL EXTERNAL and XEP-0198 both ways; x reconnects over TLS while y
# stops, and y, which verifies no pair then, closes that stream at exit:
# y must still exit 0 under ASan (no stream left unfreed).
. "$XFED_SRC/tests/sh/lib.sh"
t_init
SM=${STOP_SM:-0}

N=${STOP_N:-2000}
PX=$(free_port)
PY_=$(free_port)
mkdir -p "$T/x" "$T/y" "$T/disk"
if ! mount -t tmpfs -o size=64m xfed-test "$T/disk" 2>/dev/null; then
	echo "# skipped: cannot mount a tmpfs (not root?)"
	exit 0
fi
T_MOUNT=$T/disk
CX= CY= CA=
if [ "$SM" = 1 ]; then
	sh "$XFED_SRC/tests/tls/mkcerts.sh" "$T/pki" > /dev/null 2>&1 || exit 1
	CX=x CY=y CA="tls_ca_file $T/pki/ca.pem"
fi
conf() {
	pair_conf_cert "$@" 'require_encryption no' 'outbound_retry_for 1h' \
	    'outbound_backoff_min 1s' 'inbox_quota 0' 'remote_stanza_rate 0' \
	    ${CA:+"$CA"}
}
conf "$T/x" x.test "$PX" y.test "$PY_" "$CX"
conf "$T/y" y.test "$PY_" x.test "$PX" "$CY"
sed -i "s|^store xfed.db|store $T/disk/y.db|" "$T/y/xfed.conf"
xctl() { "$XFED_BUILD/xfedctl" -c "$T/x/xfed.conf" "$@"; }
yctl() { "$XFED_BUILD/xfedctl" -c "$T/y/xfed.conf" "$@"; }
xsql() { sqlite3 -batch -cmd '.timeout 5000' "$T/x/xfed.db" "$@"; }
ysql() { sqlite3 -batch -cmd '.timeout 5000' "$T/disk/y.db" "$@"; }
xctl user add xu > /dev/null && yctl user add yu > /dev/null
check users_added [ $? = 0 ]
start_xfed "$T/x" || exit 1
PIDX=$XFED_PID
start_xfed "$T/y" || exit 1
PIDY=$XFED_PID

xsql "INSERT INTO outbox (user_id, to_jid, body) VALUES (1, 'yu@y.test', 'warm')"
check warm_delivered wait_for 20 \
    eval '[ "$(ysql "SELECT count(*) FROM inbox")" -ge 1 ]'
dd if=/dev/zero of="$T/disk/fill" bs=64k > /dev/null 2>&1
xsql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
    WHERE i < $N) INSERT INTO outbox (user_id, to_jid, type, body)
    SELECT 1, 'yu@y.test', 'chat', 'r' || i || ' ' || hex(zeroblob(200))
    FROM n"
check y_store_failing wait_for 30 grep -q "store: failing" "$T/y/xfed.log"
# x has written what it could (it stops when y's TCP window is full)
x_in() { xsql "SELECT count(*) FROM outbox WHERE state = '$1'"; }
wait_for 10 eval '[ "$(x_in sent)" -ge 1 ]'
XFED_PID=$PIDY
stop_xfed
check y_stopped [ $? = 0 ]
check y_no_sanitizer eval '! grep -qE "Sanitizer|runtime error" "$T/y/xfed.log"'
if [ "$SM" = 1 ]; then
	check sm_enabled grep -q "stream management enabled" "$T/x/xfed.log"
fi
# what it held is answered, and what it read after: nothing is left
# unread nor unanswered (x wrote STOP_N rows of ~450 bytes while y's
# reading was paused: far more than y had read)
check y_answers_at_stop grep -q "store: still failing at stop: [0-9]* stanza" \
    "$T/y/xfed.log"
check y_nothing_unread eval '! grep -q "bytes unread" "$T/y/xfed.log"'
check y_nothing_unstored eval '! grep -q "still failing at exit" "$T/y/xfed.log"'
# x heard it: rows back to queued (RFC 6120 8.3.2: wait = retry later)
check x_requeued grep -q "answered resource-constraint (wait): queued again" \
    "$T/x/xfed.log"

rm -f "$T/disk/fill"
mv "$T/y/xfed.log" "$T/y/xfed.log.1"
start_xfed "$T/y" || exit 1
PIDY=$XFED_PID
check x_none_queued wait_for 120 eval '[ "$(x_in queued)" = 0 ]'
# what x wrote last has been committed by y: the count stops moving
prev=-1
for i in $(seq 30); do
	cur=$(ysql "SELECT count(*) FROM inbox")
	[ "$cur" = "$prev" ] && break
	prev=$cur
	sleep 1
done
got=$(ysql "SELECT count(DISTINCT substr(body, 1, instr(body, ' ')))
    FROM inbox WHERE body LIKE 'r%'")
rows=$(ysql "SELECT count(*) FROM inbox WHERE body LIKE 'r%'")
sent=$(xsql "SELECT count(*) FROM outbox WHERE body LIKE 'r%'
    AND state IN ('sent', 'delivered')")
failed=$(x_in failed)
errs=$(xsql "SELECT count(*) FROM inbox WHERE kind = 'error'")
lost=$((N - got))
echo "# $N rows: $got stored on y, $lost lost, $((rows - got)) stored" \
    "twice; $(grep -c "queued again" "$T/x/xfed.log") requeued on x by" \
    "a wait error"
check none_lost [ "$lost" = 0 ]
check every_row_final [ "$sent" = "$N" ]
check x_none_failed [ "$failed" = 0 ]
check x_no_error_in_inbox [ "$errs" = 0 ]
XFED_PID=$PIDX
stop_xfed
XFED_PID=$PIDY
stop_xfed
t_exit
