# tests/sh/s2s_wait_error.sh: what a remote error stanza does to the outbox
# row it answers (RFC 6120 8.3.2, S2S 5.12-5.14). A raw peer (smpeer.py,
# p.test, authenticated by dialback, no stream management) sends y error
# stanzas with the ids y gave its rows ("xfed-ROWID"):
#   - type wait (resource-constraint, what a peer whose store fails or
#     that stops answers): the row goes back to queued, stage remote,
#     with a retry after outbound_backoff_min, and no inbox row;
#   - the same for a row already `sent`: queued again;
#   - type wait for a row past outbound_retry_for: failed, stage remote,
#     the error kept in error_xml, as before;
#   - type cancel (service-unavailable): failed at once, as before;
#   - type wait from another domain than the row's: the row is untouched.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

PY_=$(free_port)
PA=$(free_port)
mkdir -p "$T/y"
pair_conf_cert "$T/y" y.test "$PY_" p.test "$PA" "" 'require_encryption no' \
    'outbound_retry_for 1h' 'outbound_backoff_min 30s' 'inbox_quota 0' \
    'remote_stanza_rate 0'
yctl() { "$XFED_BUILD/xfedctl" -c "$T/y/xfed.conf" "$@"; }
ysql() { sqlite3 -batch -cmd '.timeout 5000' "$T/y/xfed.db" "$@"; }
yctl user add yu > /dev/null
check user_added [ $? = 0 ]
# rows 1-5 to p.test (5 to q.test), not due before the peer's errors
# come: next_attempt an hour ahead; row 3 is two hours old, past
# outbound_retry_for; row 2 was sent already
now=$(date +%s)
ysql "INSERT INTO outbox (user_id, to_jid, body, next_attempt, created)
    SELECT id, 'pu@p.test', 'row ' || n, $now + 3600,
        CASE n WHEN 3 THEN $now - 7200 ELSE $now END
    FROM users, (SELECT 1 AS n UNION SELECT 2 UNION SELECT 3 UNION SELECT 4)
    WHERE localpart = 'yu';
    INSERT INTO outbox (user_id, to_jid, body, next_attempt)
    SELECT id, 'qu@q.test', 'row 5', $now + 3600 FROM users
    WHERE localpart = 'yu';
    UPDATE outbox SET state = 'sent', attempts = 1 WHERE id = 2;"
check rows_added [ "$(ysql "SELECT count(*) FROM outbox")" = 5 ]
start_xfed "$T/y" || exit 1
PIDY=$XFED_PID

err() {	# ID TYPE COND
	printf "<message type='error' from='pu@p.test' to='yu@y.test' "
	printf "id='xfed-%s'><error type='%s'><%s " "$1" "$2" "$3"
	printf "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"
}
$PY "$XFED_SRC/tests/sh/smpeer.py" in send --port "$PY_" --to y.test \
    --from p.test --listen "$PA" \
    --stanza "$(err 1 wait resource-constraint)" \
    --stanza "$(err 2 wait resource-constraint)" \
    --stanza "$(err 3 wait resource-constraint)" \
    --stanza "$(err 4 cancel service-unavailable)" \
    --stanza "$(err 5 wait resource-constraint)" > "$T/peer.out" 2>&1
if grep -q '^PASS' "$T/peer.out"; then
	ok peer_sent_errors
else
	fail peer_sent_errors "$(grep '^FAIL' "$T/peer.out")"
	sed 's/^/# /' "$T/peer.out" | tail -15
fi
row() { ysql "SELECT state || ' ' || coalesce(error_stage, '-') || ' ' ||
    coalesce(last_error, '-') FROM outbox WHERE id = $1"; }
# the marks are committed within the batch (5 ms) after the last error
check wait_row_requeued wait_for 10 eval \
    '[ "$(row 1)" = "queued remote p.test answered resource-constraint (wait)" ]'
check wait_row_retry_later [ "$(ysql "SELECT next_attempt >= $now + 30 AND
    next_attempt < $now + 3600 FROM outbox WHERE id = 1")" = 1 ]
check wait_sent_row_requeued [ "$(row 2)" = \
    "queued remote p.test answered resource-constraint (wait)" ]
check wait_row_past_retry_for_failed [ "$(row 3)" = \
    "failed remote resource-constraint" ]
check wait_row_past_retry_for_error_kept [ "$(ysql "SELECT error_xml LIKE
    '%resource-constraint%' FROM outbox WHERE id = 3")" = 1 ]
check cancel_row_failed [ "$(row 4)" = "failed remote service-unavailable" ]
check other_domain_untouched [ "$(row 5)" = "queued - -" ]
check wait_logged grep -q "outbox: row 1: p.test answered resource-constraint (wait): queued again" \
    "$T/y/xfed.log"
# the user hears of what failed, not of what goes again
check inbox_errors [ "$(ysql "SELECT group_concat(stanza_id) FROM (SELECT
    stanza_id FROM inbox WHERE kind = 'error' ORDER BY stanza_id)")" = \
    "xfed-3,xfed-4,xfed-5" ]
XFED_PID=$PIDY
stop_xfed
check y_stopped [ $? = 0 ]
check no_sanitizer_report eval "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$T/y/xfed.log'"
t_exit
