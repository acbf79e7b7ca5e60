# tests/sh/cli_msg.sh: xfedctl send, outbox and inbox, with inbox --follow
# streaming rows that another process (the sqlite3 shell, standing in for
# xfed) inserts while it runs, and ending on SIGTERM, SIGINT and EPIPE.
. "$(dirname "$0")/lib.sh"
t_init
cli_init

ctl user add romeo
ctl user add mercutio
inbox_row() {	# USER-ID BODY
	sql "INSERT INTO inbox (user_id, kind, from_jid, to_jid, type, body, xml) VALUES ($1, 'message', 'juliet@example.org/balcony', 'romeo@example.test', 'chat', '$2', '<message><body>$2</body></message>')"
}

# send
ctl send romeo juliet@example.org/balcony Good night, good night
expect send 0 '^1$'
[ "$(sql 'SELECT kind, to_jid, type, body, state FROM outbox WHERE id = 1')" = \
    "message|juliet@example.org/balcony|chat|Good night, good night|queued" ] &&
    ok send_row || fail send_row "$(sql 'SELECT * FROM outbox')"
[ "$(sql "SELECT count(*) FROM changes WHERE tbl = 'outbox' AND row_id = 1")" = 1 ] &&
    ok send_journaled || fail send_journaled "$(sql 'SELECT * FROM changes')"
printf 'line one\nline two\n' | "$XFED_BUILD/xfedctl" -c "$CONF" send romeo \
    juliet@example.org - --type normal --subject "Two lines" > "$OUT" 2> "$ERR"
RC=$?
expect send_stdin 0 '^2$'
[ "$(sql "SELECT body = 'line one' || char(10) || 'line two', type, subject FROM outbox WHERE id = 2")" = \
    "1|normal|Two lines" ] && ok send_stdin_row || fail send_stdin_row "$(sql 'SELECT * FROM outbox WHERE id = 2')"
unchanged send_unknown_user 1 'no user tybalt@example.test' \
    send tybalt juliet@example.org hi
unchanged send_bad_jid 1 'invalid JID "juliet@@example.org"' \
    send romeo juliet@@example.org hi
unchanged send_bad_jid_resource 1 'invalid JID' send romeo 'juliet@example.org/' hi
unchanged send_missing_text 2 'missing TEXT' send romeo juliet@example.org
unchanged send_missing_jid 2 'missing JID' send romeo
unchanged send_bad_type 1 'invalid message type "groupchat"' \
    send romeo juliet@example.org hi --type groupchat
: | "$XFED_BUILD/xfedctl" -c "$CONF" send romeo juliet@example.org - > "$OUT" 2> "$ERR"
RC=$?
expect send_empty_stdin 1 '' 'empty message'

# outbox
sql "UPDATE outbox SET state = 'failed', attempts = 3, error_stage = 'remote', last_error = 'service-unavailable', error_xml = '<message type=\"error\"/>' WHERE id = 2"
ctl outbox
expect outbox 0 '^#2 .* romeo@example.test -> juliet@example.org message failed attempts=3 error=remote:service-unavailable: line one\\nline two$'
grep -q '^#1 .* message queued: Good night' "$OUT" && ok outbox_queued ||
    fail outbox_queued "$(cat "$OUT")"
ctl outbox romeo --json --limit 1
expect outbox_json 0
json_ok outbox_json_valid
[ "$(wc -l < "$OUT")" = 1 ] && [ "$(json_get 1 state)" = failed ] &&
    [ "$(json_get 1 error_xml)" = '<message type="error"/>' ] &&
    ok outbox_json_fields || fail outbox_json_fields "$(cat "$OUT")"
ctl outbox mercutio
expect outbox_other_user_empty 0
[ ! -s "$OUT" ] && ok outbox_filtered || fail outbox_filtered "$(cat "$OUT")"
unchanged outbox_unknown_user 1 'no user tybalt' outbox tybalt
unchanged outbox_bad_limit 1 'invalid limit "0"' outbox --limit 0

# inbox
inbox_row 1 'But soft'
inbox_row 2 'for mercutio'
ctl inbox
expect inbox_all_users 0 '^#1 .* romeo@example.test <- juliet@example.org/balcony message/chat: But soft$'
grep -q 'for mercutio' "$OUT" && ok inbox_lists_every_user || fail inbox_lists_every_user "$(cat "$OUT")"
ctl inbox romeo --json
expect inbox_json 0
json_ok inbox_json_valid
[ "$(wc -l < "$OUT")" = 1 ] && [ "$(json_get 1 body)" = "But soft" ] &&
    [ "$(json_get 1 consumed)" = null ] && ok inbox_json_fields ||
    fail inbox_json_fields "$(cat "$OUT")"
ctl inbox romeo --consume
expect inbox_consume 0 'But soft'
ctl inbox romeo
[ "$RC" = 0 ] && [ ! -s "$OUT" ] && ok inbox_consumed_hidden ||
    fail inbox_consumed_hidden "$(cat "$OUT")"
ctl inbox romeo --all
expect inbox_all 0 'But soft \(consumed\)$'
unchanged inbox_unknown_user 1 'no user tybalt' inbox tybalt
unchanged inbox_extra 2 'too many arguments' inbox romeo x
unchanged inbox_bad_option 2 'unknown option --folow' inbox --folow

# inbox --follow --json: rows inserted by another process stream out.
t_bg "$XFED_BUILD/xfedctl" -c "$CONF" inbox --follow --json > "$T/follow.out" 2> "$T/follow.err"
pid=$T_LASTPID
wait_for 10 grep -q '"body":"for mercutio"' "$T/follow.out" &&
    ok follow_existing || fail follow_existing "$(cat "$T/follow.out" "$T/follow.err")"
t0=$(date +%s%N)
inbox_row 1 'streamed "quoted" \ line'
if wait_for 10 grep -q 'streamed' "$T/follow.out"; then
	echo "  follow: a row inserted by sqlite3 was printed within $((($(date +%s%N) - t0) / 1000000)) ms"
	ok follow_streams
else
	fail follow_streams "$(cat "$T/follow.out" "$T/follow.err")"
fi
inbox_row 2 'second'
wait_for 10 grep -q '"body":"second"' "$T/follow.out" && ok follow_streams_again ||
    fail follow_streams_again "$(cat "$T/follow.out")"
cp "$T/follow.out" "$OUT"
json_ok follow_json_lines
[ "$(json_get 2 body)" = 'streamed "quoted" \ line' ] && ok follow_json_escaped ||
    fail follow_json_escaped "$(cat "$OUT")"
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" = 0 ] && [ ! -s "$T/follow.err" ] && ok follow_sigterm ||
    fail follow_sigterm "exit $rc: $(cat "$T/follow.err")"

t_bg "$XFED_BUILD/xfedctl" -c "$CONF" inbox romeo --follow > "$T/follow.out" 2> "$T/follow.err"
pid=$T_LASTPID
wait_for 10 grep -q 'second' "$T/follow.out" || true
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" = 0 ] && ok follow_sigint || fail follow_sigint "exit $rc: $(cat "$T/follow.err")"

# A reader that goes away: the next write gets EPIPE and xfedctl ends.
( "$XFED_BUILD/xfedctl" -c "$CONF" inbox --follow 2> "$T/pipe.err"; echo $? > "$T/pipe.rc" ) | head -n 1 > "$T/head.out" &
T_PIDS="$T_PIDS $!"
wait_for 10 test -s "$T/head.out" || fail follow_epipe "nothing read"
inbox_row 1 'into a closed pipe'
if wait_for 10 test -s "$T/pipe.rc"; then
	[ "$(cat "$T/pipe.rc")" = 0 ] && [ ! -s "$T/pipe.err" ] && ok follow_epipe ||
	    fail follow_epipe "exit $(cat "$T/pipe.rc"): $(cat "$T/pipe.err")"
else
	fail follow_epipe "still running after the reader left"
fi
# send with payload elements: the xml column (CONTRACT.md, rich messages)
last_xml() { sql "SELECT ifnull(body, '-') || '|' || xml FROM outbox ORDER BY id DESC LIMIT 1"; }
ctl send romeo juliet@example.org --chatstate composing
expect send_chatstate 0 '^[0-9]+$'
[ "$(last_xml)" = "-|<composing xmlns='http://jabber.org/protocol/chatstates'/>" ] &&
    ok send_chatstate_row || fail send_chatstate_row "$(last_xml)"
ctl send romeo juliet@example.org fixed --correct "a'1" --request-receipt \
    --markable --received r1 --displayed d1 --oob 'https://e/?a=1&b=2'
expect send_payloads 0 '^[0-9]+$'
[ "$(last_xml)" = "fixed|<replace xmlns='urn:xmpp:message-correct:0' id='a&apos;1'/><request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/><received xmlns='urn:xmpp:receipts' id='r1'/><displayed xmlns='urn:xmpp:chat-markers:0' id='d1'/><x xmlns='jabber:x:oob'><url>https://e/?a=1&amp;b=2</url></x>" ] &&
    ok send_payloads_row || fail send_payloads_row "$(last_xml)"
ctl send romeo juliet@example.org --xml "<x xmlns='urn:x'><y/></x>"
expect send_xml 0 '^[0-9]+$'
unchanged send_bad_chatstate 1 'invalid chat state "typing"' \
    send romeo juliet@example.org --chatstate typing
unchanged send_xml_body 1 'invalid payload: xml: an element without a namespace' \
    send romeo juliet@example.org hi --xml '<body>x</body>'
unchanged send_xml_escape 1 'invalid payload: xml: reaches outside' \
    send romeo juliet@example.org hi --xml "<a xmlns='u'/></payload><message/>"
unchanged send_xml_broken 1 'invalid payload: xml: not a sequence' \
    send romeo juliet@example.org hi --xml "<a xmlns='u'>"
unchanged send_xml_text 1 'invalid payload: xml: text outside' \
    send romeo juliet@example.org hi --xml "<a xmlns='u'/>text"
unchanged send_nothing 2 'missing TEXT' send romeo juliet@example.org

t_exit
