# tests/sh/cli_roster.sh: xfedctl subscribe, approve, deny, unsubscribe
# and roster: each action is an outbox row and an RFC 6121 state change
# in one transaction; inbound changes are simulated with the sqlite3 shell
# the way the daemon writes them.
. "$(dirname "$0")/lib.sh"
t_init
cli_init

ctl user add romeo
sub() {	# the subscription row with JID: state|out|in|pre
	sql "SELECT state, pending_out, pending_in, preapproved FROM subscriptions WHERE jid = '$1'"
}
last_out() {	# kind|to|state of the newest outbox row
	sql "SELECT kind, to_jid, state FROM outbox ORDER BY id DESC LIMIT 1"
}

ctl subscribe romeo Juliet@Example.ORG wherefore art thou
expect subscribe 0 '^juliet@example.org: queued subscribe #1; subscription none \+pending-out$'
[ "$(sub juliet@example.org)" = "none|1|0|0" ] &&
    [ "$(last_out)" = "subscribe|juliet@example.org|queued" ] &&
    [ "$(sql 'SELECT body FROM outbox WHERE id = 1')" = "wherefore art thou" ] &&
    ok subscribe_rows || fail subscribe_rows "$(sub juliet@example.org) $(last_out)"
# Juliet approves (the daemon would apply this inbound subscribed).
sql "UPDATE subscriptions SET state = 'to', pending_out = 0"
# Juliet asks back.
sql "UPDATE subscriptions SET pending_in = 1, request = 'hi'"
ctl roster romeo
expect roster_pending_in 0 $'^juliet@example.org\tto \\+pending-in "hi"$'
ctl approve romeo juliet@example.org
expect approve 0 'queued subscribed #2; subscription both$'
[ "$(sub juliet@example.org)" = "both|0|0|0" ] && ok approve_state ||
    fail approve_state "$(sub juliet@example.org)"
ctl approve romeo juliet@example.org
expect approve_again 0 'nothing sent \(already approved\)'
[ "$(last_out)" = "subscribed|juliet@example.org|done" ] && ok approve_again_done ||
    fail approve_again_done "$(last_out)"

ctl approve romeo nurse@example.org
expect preapprove 0 'nothing sent \(pre-approved.*\+preapproved$'
[ "$(sub nurse@example.org)" = "none|0|0|1" ] && ok preapprove_state ||
    fail preapprove_state "$(sub nurse@example.org)"
ctl deny romeo nurse@example.org
expect deny_preapproval 0 'nothing sent'
[ -z "$(sub nurse@example.org)" ] && ok deny_preapproval_state ||
    fail deny_preapproval_state "$(sub nurse@example.org)"

sql "INSERT INTO subscriptions (user_id, jid, pending_in, request) VALUES (1, 'tybalt@example.org', 1, 'let me see')"
ctl deny romeo tybalt@example.org
expect deny 0 'queued unsubscribed #[0-9]+; subscription none$'
[ -z "$(sub tybalt@example.org)" ] && [ "$(last_out)" = "unsubscribed|tybalt@example.org|queued" ] &&
    ok deny_state || fail deny_state "$(sub tybalt@example.org) $(last_out)"
ctl deny romeo tybalt@example.org
expect deny_nothing 0 'nothing sent \(no request'

ctl unsubscribe romeo juliet@example.org
expect unsubscribe 0 'queued unsubscribe #[0-9]+; subscription from$'
[ "$(sub juliet@example.org)" = "from|0|0|0" ] && ok unsubscribe_state ||
    fail unsubscribe_state "$(sub juliet@example.org)"

# Remote presence shows under its contact.
sql "INSERT INTO remote_presence (user_id, jid, bare, show, status) VALUES (1, 'juliet@example.org/balcony', 'juliet@example.org', 'away', 'on the balcony')"
ctl roster romeo
expect roster 0 $'^  juliet@example.org/balcony\taway "on the balcony"'
ctl roster romeo --json
expect roster_json 0
json_ok roster_json_valid
[ "$(json_get 1 subscription)" = from ] &&
    [ "$(json_get 1 presence 0 status)" = "on the balcony" ] &&
    ok roster_json_fields || fail roster_json_fields "$(cat "$OUT")"

unchanged subscribe_full_jid 1 'invalid JID "juliet@example.org/x": JID must be bare' \
    subscribe romeo juliet@example.org/x
unchanged subscribe_bad_jid 1 'invalid JID' subscribe romeo 'a@b@c'
unchanged subscribe_bad_domain 1 'invalid JID' subscribe romeo 'juliet@exa mple.org'
unchanged subscribe_empty_domain 1 'invalid JID' subscribe romeo 'juliet@'
unchanged subscribe_unknown_user 1 'no user paris@example.test' \
    subscribe paris juliet@example.org
unchanged approve_unknown_user 1 'no user paris' approve paris juliet@example.org
unchanged deny_missing_jid 2 'missing JID' deny romeo
unchanged unsubscribe_extra 2 'too many arguments' unsubscribe romeo a@b.c d
unchanged roster_unknown 1 'no user paris' roster paris
unchanged roster_missing 2 'missing NAME' roster
sql "UPDATE users SET disabled = 1"
unchanged subscribe_disabled 1 'user romeo@example.test is disabled' \
    subscribe romeo juliet@example.org
t_exit
