# tests/sh/s2s_sm.sh: XEP-0198 stream management between two xfed
# processes on loopback, with certificates from tests/tls/mkcerts.sh so
# that SASL EXTERNAL authenticates and <sm/> is offered after the restart
# (S2S 7.5); dialback-only streams go without it (S2S 7.7). x sends, y
# receives; rows are inserted into x's outbox the way a native system does.
#   1. one row: <enable/>, <enabled/>, <r/>, <a h='1'/>, the row delivered
#   2. no certificates, dialback: no <sm/>, the row sent as before
#   3. 5,000 rows, SIGTERM of y mid-stream, y restarted: none lost, no
#      more than SM_TERM_DUPS_MAX stored twice (y's last <a/> covers what
#      it committed; what x wrote after y's close is stored, not acked,
#      and x sends it again; the count is printed)
#   4. 5,000 rows, kill -9 of y mid-stream: every row x counts as
#      delivered is in y's inbox; y restarted: none lost (S2S 7.6), and
#      no more than SM_KILL_DUPS_MAX stored twice (y acks each commit)
#   5. y's inbound side against a raw peer (dialback): <enable/> before
#      authentication -> <failed/>; twice -> undefined-condition; <r/>
#      unenabled ignored; <a h/> counts the stanzas (S2S 7.5); y stopped
#      (SIGTERM): a last <a h/> covering what it read, then its close;
#      two streams of one pair: what came first is stored first, even
#      when it came on the newer stream (order across streams)
#   6. x's outbound side against a raw peer that acknowledges more than it
#      got (the row goes again), or fewer than before (the row stays
#      delivered): undefined-condition either way (XEP-0198 4, S2S 7.6);
#      or never (the stream ends after idle_timeout, the row goes again)
. "$XFED_SRC/tests/sh/lib.sh"
t_init
sh "$XFED_SRC/tests/tls/mkcerts.sh" "$T/pki" > /dev/null 2>&1 ||
    { fail pki "mkcerts.sh failed"; exit 1; }

PX=$(free_port)
PY_=$(free_port)
N=5000
SM_KILL_DUPS_MAX=512	# two outbox windows (OUTBOX_BATCH) in flight
SM_TERM_DUPS_MAX=512	# the same bound: what x sent after y's close
mkdir -p "$T/x" "$T/y"
# conf DIR DOMAIN PORT PEER PEERPORT CERT [EXTRA...]: CERT "" for no TLS,
# and then no TLS required either; no inbox_quota nor remote_stanza_rate
# (5,000 rows unread: what is measured is that nothing is lost)
conf() {
	local cert=$6
	if [ -n "$cert" ]; then
		pair_conf_cert "$@" "tls_ca_file $T/pki/ca.pem" \
		    'outbound_retry_for 1h' 'outbound_backoff_min 1s' \
		    'inbox_quota 0' 'remote_stanza_rate 0'
	else
		pair_conf_cert "$@" 'require_encryption no' \
		    'outbound_retry_for 1h' 'outbound_backoff_min 1s' \
		    'inbox_quota 0' 'remote_stanza_rate 0'
	fi
}
xctl() { "$XFED_BUILD/xfedctl" -c "$T/x/xfed.conf" "$@"; }
yctl() { "$XFED_BUILD/xfedctl" -c "$T/y/xfed.conf" "$@"; }
xsql() { sqlite3 -batch -cmd '.timeout 5000' "$T/x/xfed.db" "$@"; }
ysql() { sqlite3 -batch -cmd '.timeout 5000' "$T/y/xfed.db" "$@"; }

# up: both, fresh stores, users xu and yu
up() {
	rm -f "$T"/x/xfed.db* "$T"/y/xfed.db* "$T"/x/xfed.log "$T"/y/xfed.log
	xctl user add xu > /dev/null && yctl user add yu > /dev/null || return 1
	start_xfed "$T/x" || return 1
	PIDX=$XFED_PID
	start_y
}
start_y() {
	start_xfed "$T/y" || return 1
	PIDY=$XFED_PID
}
down() {
	XFED_PID=$PIDX; stop_xfed
	XFED_PID=$PIDY; stop_xfed
}
# rows COUNT: COUNT messages from xu to yu@y.test in one transaction, bodies
# "sm row I"
rows() {
	xsql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
	    WHERE i < $1) INSERT INTO outbox (user_id, to_jid, type, body)
	    SELECT (SELECT id FROM users WHERE localpart = 'xu'), 'yu@y.test',
	    'chat', 'sm row ' || i FROM n;"
}
x_delivered() { [ "$(xsql "SELECT count(*) FROM outbox WHERE state = 'delivered'")" -ge "$1" ]; }
x_sent() { [ "$(xsql "SELECT count(*) FROM outbox WHERE state = 'sent'")" -ge "$1" ]; }
y_has() { [ "$(ysql "SELECT count(*) FROM inbox" 2>/dev/null || echo 0)" -ge "$1" ]; }
y_distinct() { ysql "SELECT count(DISTINCT body) FROM inbox"; }

# 1. CA-signed certificates: SASL EXTERNAL, then stream management
conf "$T/x" x.test "$PX" y.test "$PY_" x "log_level debug"
conf "$T/y" y.test "$PY_" x.test "$PX" y "log_level debug"
up || { fail sm_start "xfed did not start"; exit 1; }
rows 1
check sm_one_row_delivered wait_for 20 x_delivered 1
check sm_offered grep -q "in#.*send <stream:features>.*<sm xmlns=.urn:xmpp:sm:3./>" "$T/y/xfed.log"
check sm_enabled_out grep -q "out#.*stream management enabled" "$T/x/xfed.log"
check sm_enabled_in grep -q "in#.*stream management enabled" "$T/y/xfed.log"
check sm_acked grep -q "in#.*send <a xmlns=.urn:xmpp:sm:3. h=.1./>" "$T/y/xfed.log"
check sm_row_delivered_logged grep -q "outbox: row 1 delivered" "$T/x/xfed.log"
down

# 2. no certificates: dialback only, no <sm/> (S2S 7.7); sent on flush
conf "$T/x" x.test "$PX" y.test "$PY_" "" "log_level debug"
conf "$T/y" y.test "$PY_" x.test "$PX" "" "log_level debug"
up || { fail sm_start2 "xfed did not start"; exit 1; }
rows 1
check dialback_row_sent wait_for 20 x_sent 1
! grep -q "stream management enabled" "$T/x/xfed.log" "$T/y/xfed.log" &&
    ! grep -q "urn:xmpp:sm:3" "$T/y/xfed.log"
check dialback_no_sm [ $? = 0 ]
check dialback_row_sent_logged grep -q "outbox: row 1 sent" "$T/x/xfed.log"
down

# 3. SIGTERM of the receiver mid-stream, then a restart: 0 lost
conf "$T/x" x.test "$PX" y.test "$PY_" x
conf "$T/y" y.test "$PY_" x.test "$PX" y
up || { fail sm_start3 "xfed did not start"; exit 1; }
rows $N
if wait_for 60 y_has 500; then
	XFED_PID=$PIDY; stop_xfed
	echo "# SIGTERM with $(ysql 'SELECT count(*) FROM inbox') rows in y," \
	    "$(xsql "SELECT count(*) FROM outbox WHERE state = 'delivered'") sent on x"
	start_y || fail sm_term_restart "y did not start again"
	check sm_term_all_sent wait_for 120 x_delivered $N
	check sm_term_none_lost wait_for 30 eval '[ "$(y_distinct)" = $N ]'
	dups=$(($(ysql 'SELECT count(*) FROM inbox') - $(y_distinct)))
	echo "# y inbox: $(ysql 'SELECT count(*) FROM inbox') rows," \
	    "$(y_distinct) distinct: $dups stored twice"
	# y's last <a/> covers all it committed; what comes after its close
	# is stored but not acknowledged, and x sends it again (S2S 7.6):
	# those are stored twice (~134 per 5,000 here), no more than the
	# outbox windows in flight
	check sm_term_dups_bounded [ "$dups" -le "$SM_TERM_DUPS_MAX" ]
else
	fail sm_term "no rows reached y"
fi
down

# 4. kill -9 of the receiver: what x counts as delivered is in y's inbox
up || { fail sm_start4 "xfed did not start"; exit 1; }
rows $N
if wait_for 60 y_has 500; then
	kill -KILL "$PIDY"
	wait "$PIDY" 2>/dev/null
	# x notices the dead stream and gives back what was not acked
	wait_for 20 grep -q "not acknowledged: outbox rows go again" \
	    "$T/x/xfed.log"
	xsql "SELECT body FROM outbox WHERE state = 'delivered'" | sort > "$T/sent"
	ysql "SELECT DISTINCT body FROM inbox" | sort > "$T/got"
	echo "# kill -9 with $(wc -l < "$T/got") rows in y, $(wc -l < "$T/sent") delivered on x"
	missing=$(comm -23 "$T/sent" "$T/got" | wc -l)
	check sm_kill_delivered_are_stored [ "$missing" = 0 ]
	start_y || fail sm_kill_restart "y did not start again"
	check sm_kill_all_sent wait_for 120 x_delivered $N
	check sm_kill_none_lost wait_for 30 eval '[ "$(y_distinct)" = $N ]'
	# y acknowledges each commit unasked (XEP-0198 4): what x sends
	# again is what y committed in its last batch and had not yet
	# acknowledged, within one commit window, not thousands
	dups=$(($(ysql 'SELECT count(*) FROM inbox') - $(y_distinct)))
	echo "# kill -9: $dups rows stored twice on y"
	check sm_kill_dups_bounded [ "$dups" -le "$SM_KILL_DUPS_MAX" ]
else
	fail sm_kill "no rows reached y"
fi
down

# 5. y as receiver, against smpeer.py authenticated by dialback
PA=$(free_port)
conf "$T/y" y.test "$PY_" p.test "$PA" "" "log_level debug" \
    "log_stanzas yes"
rm -f "$T"/y/xfed.db* "$T"/y/xfed.log
yctl user add yu > /dev/null
start_y || { fail sm_start5 "xfed did not start"; exit 1; }
for sc in acks enable-twice before-auth r-unenabled; do
	$PY "$XFED_SRC/tests/sh/smpeer.py" in "$sc" --port "$PY_" --to y.test \
	    --from p.test --listen "$PA" > "$T/peer-$sc.out" 2>&1
	if grep -q '^PASS' "$T/peer-$sc.out"; then
		ok "sm_in_$sc"
	else
		fail "sm_in_$sc" "$(grep '^FAIL' "$T/peer-$sc.out")"
		sed 's/^/# /' "$T/peer-$sc.out" | tail -15
	fi
done
check sm_in_acked_stored wait_for 10 eval '[ "$(y_distinct)" = 3 ]'
# y stopping: a last <a/> covering the message it has read, then its close
$PY "$XFED_SRC/tests/sh/smpeer.py" in shutdown --port "$PY_" --to y.test \
    --from p.test --listen "$PA" > "$T/peer-shutdown.out" 2>&1 &
SDPEER=$!
if wait_for 10 grep -q "id='sd-late'" "$T/y/xfed.log"; then
	XFED_PID=$PIDY; stop_xfed
else
	fail sm_in_shutdown_read "y never read the last message"
	XFED_PID=$PIDY; stop_xfed
fi
wait "$SDPEER"
if grep -q '^PASS' "$T/peer-shutdown.out"; then
	ok sm_in_shutdown_last_ack
else
	fail sm_in_shutdown_last_ack "$(grep '^FAIL' "$T/peer-shutdown.out")"
	sed 's/^/# /' "$T/peer-shutdown.out" | tail -15
fi
check sm_in_shutdown_stored [ "$(y_distinct)" = 4 ]

# 5b. two inbound streams of one pair (a sender that took the pair over
# on a stream it opened before the one it took over from): y reads the
# bytes that came first first, not the older stream; remote_stanza_rate
# keeps the second stream's messages unread when the first one's come
pair_conf_cert "$T/y" y.test "$PY_" p.test "$PA" "" 'require_encryption no' \
    'inbox_quota 0' 'remote_stanza_rate 50' 'log_level debug'
rm -f "$T"/y/xfed.db* "$T"/y/xfed.log
yctl user add yu > /dev/null
start_y || { fail sm_start5b "xfed did not start"; exit 1; }
t_bg $PY "$XFED_SRC/tests/sh/smpeer.py" in order --port "$PY_" --to y.test \
    --from p.test --listen "$PA" --timeout 30 > "$T/peer-order.out" 2>&1
order_has() { [ "$(ysql "SELECT count(DISTINCT body) FROM inbox WHERE body LIKE 'order %'")" -ge 320 ]; }
check sm_in_order_stored wait_for 30 order_has
# the bodies as y stored them: order new 1-300, then order old 1-20
ysql "SELECT body FROM inbox WHERE body LIKE 'order %' ORDER BY id" > "$T/order.got"
{ seq 1 300 | sed 's/^/order new /'; seq 1 20 | sed 's/^/order old /'; } > "$T/order.want"
check sm_in_order_first_bytes_first cmp -s "$T/order.want" "$T/order.got"
grep -m1 "waits for in#" "$T/y/xfed.log" | sed 's/^/# /'
kill "$T_LASTPID" 2>/dev/null
wait "$T_LASTPID" 2>/dev/null
XFED_PID=$PIDY; stop_xfed

# 6. x as sender, against smpeer.py that acknowledges wrongly or never
for sc in too-high backwards silent; do
	PS=$(free_port)
	conf "$T/x" x.test "$PX" y.test "$PS" x "log_level debug" \
	    "idle_timeout 2s"
	rm -f "$T"/x/xfed.db* "$T"/x/xfed.log
	xctl user add xu > /dev/null
	start_xfed "$T/x" || { fail sm_start6 "xfed did not start"; exit 1; }
	PIDX=$XFED_PID
	t_bg $PY "$XFED_SRC/tests/sh/smpeer.py" out "$sc" --port "$PS" \
	    --domain y.test --cert "$T/pki/y.pem" --key "$T/pki/y.key" \
	    > "$T/peer-$sc.out" 2>&1
	wait_for 10 grep -q listening "$T/peer-$sc.out"
	rows 1
	wait "$T_LASTPID"
	if grep -q '^PASS' "$T/peer-$sc.out"; then
		ok "sm_out_$sc"
	else
		fail "sm_out_$sc" "$(grep '^FAIL' "$T/peer-$sc.out")"
		sed 's/^/# /' "$T/peer-$sc.out" | tail -15
	fi
	if [ "$sc" = silent ]; then
		check sm_out_silent_logged grep -q \
		    "failed stage=stream: no <a/> for our <r/> in 2 s" "$T/x/xfed.log"
		check sm_out_silent_row_goes_again wait_for 10 eval \
		    "xctl outbox --json | grep -q '\"state\":\"queued\"'"
	elif [ "$sc" = too-high ]; then
		# nothing acknowledged: the row goes again, after a backoff
		# (its next try meets a closed port: last_error changes)
		retry() {
			grep -q "1 stanza not acknowledged: outbox rows go again" \
			    "$T/x/xfed.log" &&
			    xctl outbox --json | grep -q '"state":"queued"'
		}
		check sm_out_too-high_row_goes_again wait_for 10 retry
	else
		# h 1 covered the row before h 0 ended the stream
		check sm_out_backwards_row_delivered wait_for 10 x_delivered 1
	fi
	XFED_PID=$PIDX; stop_xfed
done
t_exit
