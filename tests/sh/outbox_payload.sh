# tests/sh/outbox_payload.sh: bad outbox rows fail alone (issue 9). Rows a
# native system wrote without checking them (a body that is not UTF-8, as
# a BLOB and as text; a character XML 1.0 forbids; a NUL inside to_jid; a
# 5 MiB body) sit between good rows. Each bad row ends failed with
# error_stage payload and a one-line reason and never reaches the stream
# (RFC 6120 4.9.3.22, 11.6; S2S 1.10); xfed B receives exactly the good
# rows, in order, and A stays up. xfedctl send refuses the same input with
# one line and exit 1, the database unchanged.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

pair_init

# xfedctl refuses what the daemon would not send (lib.sh: unchanged)
CONF=$T/a/xfed.conf DB=$T/a/xfed.db OUT=$T/out ERR=$T/err
unchanged ctl_send_not_utf8 1 'not valid UTF-8' send alice bob@b.localhost $'\xff\xfe'
unchanged ctl_send_control_char 1 'U\+0001.*XML 1.0' send alice bob@b.localhost $'a\x01b'
unchanged ctl_send_subject_not_utf8 1 'subject.*not valid UTF-8' send -s $'\xc0\x80' alice bob@b.localhost x
printf 'a\0b' > "$T/nul.txt"
unchanged ctl_send_nul_stdin 1 'NUL' send alice bob@b.localhost - < "$T/nul.txt"

# good and bad rows, as a writer that does not check would leave them
good() { echo "INSERT INTO outbox (user_id, to_jid, body) VALUES (1, 'bob@b.localhost', 'good $1');"; }
nul_jid=$($PY -c 'print(b"bob@b.localhost\0x".hex())')
sqlite3 -batch "$T/a/xfed.db" <<SQL
$(good 1)
INSERT INTO outbox (user_id, to_jid, body) VALUES (1, 'bob@b.localhost', X'FFFE41');
$(good 2)
INSERT INTO outbox (user_id, to_jid, body) VALUES (1, 'bob@b.localhost', CAST(X'61C3' AS TEXT));
$(good 3)
INSERT INTO outbox (user_id, to_jid, body) VALUES (1, X'$nul_jid', 'nul in to');
$(good 4)
INSERT INTO outbox (user_id, to_jid, body) VALUES (1, 'bob@b.localhost',
    replace(hex(zeroblob(2621440)), '0', 'x'));
$(good 5)
INSERT INTO outbox (user_id, to_jid, body) VALUES (1, 'bob@b.localhost', 'a' || char(1));
$(good 6)
INSERT INTO outbox (user_id, to_jid, type, body) VALUES (1, 'bob@b.localhost', 'groupchat', 'type groupchat');
INSERT INTO outbox (user_id, to_jid, type, body) VALUES (1, 'bob@b.localhost', 'Chat', 'type Chat');
INSERT INTO outbox (user_id, to_jid, type, body) VALUES (1, 'bob@b.localhost', 'headline', 'good 7');
INSERT INTO outbox (user_id, to_jid, type, body) VALUES (1, 'bob@b.localhost', '', 'type empty');
INSERT INTO outbox (user_id, to_jid, type, body) VALUES (1, 'bob@b.localhost', 'normal', 'good 8');
SQL
check rows_inserted [ "$(sqlite3 "$T/a/xfed.db" 'SELECT count(*) FROM outbox')" = 16 ]

start_xfed "$T/a" || { fail start_a "xfed A did not start"; exit 1; }
PIDA=$XFED_PID
start_xfed "$T/b" || { fail start_b "xfed B did not start"; exit 1; }
PIDB=$XFED_PID

settled() {
	[ "$(sqlite3 "$T/a/xfed.db" "SELECT count(*) FROM outbox WHERE state = 'queued'")" = 0 ]
}
check all_rows_settled wait_for 30 settled
got() { sqlite3 "$T/b/xfed.db" 'SELECT body FROM inbox ORDER BY id' | tr '\n' ,; }
# good 7 is a headline: sent, then ignored by B, bob being offline (RFC
# 6121 8.5.2.2, server/message.c)
if wait_for 20 [ "$(got)" = "good 1,good 2,good 3,good 4,good 5,good 6,good 8," ]; then
	ok good_rows_delivered_in_order
else
	fail good_rows_delivered_in_order "B has: $(got | cut -c1-200)"
fi
bad_row() {	# NAME ID REASON-REGEX
	local r
	r=$(sqlite3 -separator '|' "$T/a/xfed.db" "SELECT state, error_stage,
	    last_error FROM outbox WHERE id = $2")
	if echo "$r" | grep -Eq "^failed\|payload\|.*$3" &&
	    [ "$(echo "$r" | wc -l)" = 1 ]; then
		ok "$1"
	else
		fail "$1" "row $2: $r"
	fi
}
bad_row blob_not_utf8_failed 2 'not valid UTF-8'
bad_row text_not_utf8_failed 4 'not valid UTF-8'
bad_row nul_in_to_failed 6 'to_jid holds a NUL byte'
bad_row five_mib_failed 8 'larger than'
bad_row control_char_failed 10 'U\+0001'
bad_row type_groupchat_failed 12 'type "groupchat" is not chat, normal or headline'
bad_row type_case_failed 13 'type "Chat" is not chat, normal or headline'
bad_row type_empty_failed 15 'type "" is not chat, normal or headline'
n=$(sqlite3 "$T/a/xfed.db" "SELECT count(*) FROM outbox WHERE state = 'sent'")
check good_rows_sent [ "$n" = 8 ]
check good_rows_types [ "$(sqlite3 "$T/a/xfed.db" "SELECT group_concat(state)
    FROM (SELECT state FROM outbox WHERE body IN ('good 7', 'good 8')
    ORDER BY id)")" = sent,sent ]
check good_row_normal [ "$(sqlite3 "$T/b/xfed.db" "SELECT type FROM inbox
    WHERE body = 'good 8'")" = normal ]
check a_still_up kill -0 "$PIDA"
check nothing_for_the_short_jid [ "$(sqlite3 "$T/b/xfed.db" "SELECT count(*) FROM inbox WHERE body = 'nul in to'")" = 0 ]
check failure_logged grep -q "row 8 failed: payload" "$T/a/xfed.log"

XFED_PID=$PIDA; stop_xfed; check a_stopped [ $? = 0 ]
XFED_PID=$PIDB; stop_xfed; check b_stopped [ $? = 0 ]
t_exit
