# tests/sh/s2s_strangers.sh: what a native user shows someone it has no
# subscription with, between two xfed processes on loopback.
#   - XEP-0172 4.2 (S2S 8.39, 9.17): alice's first message to a stranger
#     carries her nickname, the next ones do not, nor messages to a
#     contact; a row whose xml has a <nick/> of its own gets no second one;
#     the JID is compared prepared (Zed@B is zed@b), and a failed row
#     does not count as the first;
#   - XEP-0184 8: a stranger's request for a receipt is not honoured (the
#     inbox row owes none), a contact's is;
#   - RFC 6121 4.6.4: a stranger's directed presence is kept for alice
#     while she is online, and dropped when she goes unavailable.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

pair_init
q() { sqlite3 -batch -cmd '.timeout 5000' "$1/xfed.db" "$2"; }
start_xfed "$T/a" || { fail start_a "xfed A did not start"; exit 1; }
start_xfed "$T/b" || { fail start_b "xfed B did not start"; exit 1; }
bctl user add dave > /dev/null
bctl user add erin > /dev/null
actl user set alice --nick Ally > /dev/null

NICK="<nick xmlns='http://jabber.org/protocol/nick'>Ally</nick>"
# on_b BODY: the xml of the inbox row on B with BODY, once it is there
on_b() { q "$T/b" "SELECT xml FROM inbox WHERE body = '$1'"; }
arrived() { [ -n "$(on_b "$1")" ]; }
has_nick() { on_b "$1" | grep -qF "$NICK"; }
nicks() { on_b "$1" | grep -oF "$NICK" | wc -l; }

actl send alice bob@b.localhost "first to bob" > /dev/null
check first_arrives wait_for 20 arrived "first to bob"
check first_has_nick has_nick "first to bob"
actl send alice bob@b.localhost "second to bob" > /dev/null
check second_arrives wait_for 20 arrived "second to bob"
check second_has_none eval '! has_nick "second to bob"'
# a full JID of another stranger: its first message
actl send alice dave@b.localhost/pc "first to dave" > /dev/null
check full_jid_first_has_nick wait_for 20 has_nick "first to dave"
actl send alice dave@b.localhost "again to dave" > /dev/null
check full_jid_then_bare_none wait_for 20 arrived "again to dave"
check full_jid_then_bare_has_none eval '! has_nick "again to dave"'
# the row brings its own nick: one only
actl send alice erin@b.localhost "own nick" --xml "$NICK" > /dev/null
check own_nick_arrives wait_for 20 arrived "own nick"
check own_nick_once [ "$(nicks "own nick")" = 1 ]

# the outbox's to_jid as the native system wrote it: Zed@B.localhost is
# the JID zed@b.localhost, which then gets no second nick
bctl user add zed > /dev/null
q "$T/a" "INSERT INTO outbox (user_id, to_jid, body) SELECT id,
    'Zed@B.localhost', 'first to zed' FROM users WHERE localpart = 'alice'"
check case_first_has_nick wait_for 20 has_nick "first to zed"
actl send alice zed@b.localhost "again to zed" > /dev/null
check case_again_arrives wait_for 20 arrived "again to zed"
check case_again_has_none eval '! has_nick "again to zed"'
# a row that failed took no nick: the next first message has it
bctl user add fay > /dev/null
q "$T/a" "INSERT INTO outbox (user_id, to_jid, body, state) SELECT id,
    'fay@b.localhost', 'failed to fay', 'failed' FROM users
    WHERE localpart = 'alice'"
actl send alice fay@b.localhost "first to fay" > /dev/null
check after_failed_has_nick wait_for 20 has_nick "first to fay"

# a contact (carol subscribed, alice approved) gets no nick in messages
bctl user add carol > /dev/null
actl approve alice carol@b.localhost > /dev/null
bctl subscribe carol alice@a.localhost > /dev/null
sub_from() { [ "$(q "$T/a" "SELECT state FROM subscriptions
    WHERE jid = 'carol@b.localhost'")" = from ]; }
check carol_subscribed wait_for 20 sub_from
actl send alice carol@b.localhost "to a contact" > /dev/null
check contact_arrives wait_for 20 arrived "to a contact"
check contact_has_none eval '! has_nick "to a contact"'

# XEP-0184 8: receipts to contacts only
receipt_on_a() {
	q "$T/a" "SELECT ifnull(receipt, '-') FROM inbox WHERE body = '$1'"
}
a_has() { [ -n "$(receipt_on_a "$1")" ]; }
bctl send bob alice@a.localhost "ack? from a stranger" --request-receipt > /dev/null
check stranger_request_arrives wait_for 20 a_has "ack? from a stranger"
check stranger_owed_no_receipt [ "$(receipt_on_a "ack? from a stranger")" = - ]
bctl send carol alice@a.localhost "ack? from a contact" --request-receipt > /dev/null
check contact_request_arrives wait_for 20 a_has "ack? from a contact"
check contact_owed_a_receipt [ "$(receipt_on_a "ack? from a contact")" = wanted ]

# RFC 6121 4.6.4: directed presence from stranger bob
actl presence set alice available > /dev/null
bctl presence set bob available "hello alice" > /dev/null
q "$T/b" "INSERT INTO outbox (user_id, kind, to_jid) SELECT id, 'presence',
    'alice@a.localhost' FROM users WHERE localpart = 'bob'"
bob_on_a() {
	[ "$(q "$T/a" "SELECT count(*) FROM remote_presence
	    WHERE bare = 'bob@b.localhost'")" = "$1" ]
}
check stranger_presence_kept wait_for 20 bob_on_a 1
actl presence set alice unavailable > /dev/null
check stranger_presence_dropped wait_for 20 bob_on_a 0

t_exit
