# tests/sh/s2s_contacts.sh: xfed's native user nat@x.test as a contact of
# users of real Prosody (p.test) and ejabberd (e.test), seen from slixmpp
# clients, in the interop lab, plain mode.  nat has a profile and an avatar
# and pre-approved the clients, which subscribe.  Each client then asks
# the IQs a good server answers (S2S section 9): disco#info and #items of
# x.test, of nat's bare JID and of nat/xfed, ping, version, time and last
# activity, nat's vCard with its photo; and meets the errors for a user
# without a profile, for nobody, and, as a stranger, the same for nat and
# nobody (S2S 8.40-8.43, 9.1-9.10, 10.12).  Then names and avatars: the client sees the avatar
# hash in nat's presence and verifies its caps (S2S 9.11, 9.18, 9.19); a
# new avatar set with xfedctl reaches it, in presence and vCard; nat's
# subscription request carries its nickname (XEP-0172, S2S 9.17); a client
# announcing +notify in its caps gets nat's avatar and nick as PEP
# notifications (XEP-0163), on its first presence and on a change.  Then
# presence that is never stale, both clients watching at once: unavailable
# when xfed stops, a presence set while it was stopped announced at start,
# unavailable when nat is disabled (and messages refused), available again
# when enabled; the RFC 6121 8.5.2 message rules while nat is offline and
# online; directed presence both ways with a stranger (4.6); rich messages
# from nat (chat state, receipts, markers, correction, OOB link) reach a
# client, a row with bad XML fails, and a receipt the client asked for
# comes once nat's inbox row is consumed (XEP-0184); and nat's deletion: unavailable and
# unsubscribed to the contacts.  Needs root and the packages of
# `tools/deps check`.

. "$(dirname "${BASH_SOURCE[0]}")/../interop/lab.sh"
: "${XFED_BUILD:?XFED_BUILD is the build directory}"

LAB_TIMEOUT=15
T0=$(lab_now_ms)
if ! lab_init; then
	lab_fail "s2s_contacts" "lab_init: not root, or packages missing (see above)"
	exit 1
fi
lab_case "lab up (plain)" lab_up plain || exit 1
lab_case "user alice@p.test" lab_user p.test alice alice-pw || exit 1
lab_case "user bob@e.test" lab_user e.test bob bob-pw || exit 1
lab_case "user carol@p.test (a stranger)" lab_user p.test carol carol-pw ||
    exit 1

# png FILE R G B: a 32x32 PNG of one colour.
png() {
	"$LAB_PY" -c 'import struct, sys, zlib
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
r, g, b = (int(x) for x in sys.argv[2:5])
raw = b"".join(b"\0" + bytes((r, g, b)) * 32 for _ in range(32))
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" +
    chunk(b"IHDR", struct.pack(">IIBBBBB", 32, 32, 8, 2, 0, 0, 0)) +
    chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))' "$@"
}
sha1() { sha1sum "$1" | cut -d' ' -f1; }
sql() { sqlite3 -batch -cmd '.timeout 5000' "$LAB_XD/xfed.db" "$1"; }

lab_xfed_conf "$XFED_BUILD"
png "$LAB_XD/red.png" 200 0 0
png "$LAB_XD/blue.png" 0 0 200
RED=$(sha1 "$LAB_XD/red.png")
BLUE=$(sha1 "$LAB_XD/blue.png")
lab_case "native user nat@x.test" lab_xctl user add --name "Nat Native" nat
lab_case "native user mute@x.test, no profile" lab_xctl user add mute
lab_case "nat's profile and avatar (sqlite3)" sql "UPDATE users SET
    nickname = 'natty', email = 'nat@example.org', url = 'https://n.example',
    avatar = readfile('$LAB_XD/red.png'), avatar_type = 'image/png'
    WHERE localpart = 'nat'"
lab_case "nat is available" lab_xctl presence set nat available here
lab_case "xfed listens on $LAB_X_IP:5269" lab_xfed_start || exit 1

# has FILE STEP TEXT...: client.py's line for STEP passed and its info
# holds every TEXT.
has() {
	local f=$1 step=$2 l t
	shift 2
	l=$(grep -F -- "  $step  -> " "$f" | grep '^  PASS') || {
		grep -F -- "  $step" "$f"
		return 1
	}
	for t in "$@"; do
		case "$l" in *"$t"*) ;; *) echo "no '$t' in: $l"; return 1 ;; esac
	done
}

# iqs DOMAIN USER PASSWORD: the subscribed client's IQs and what they got.
iqs() {
	local d=$1 u=$2 jid=$2@$1 out t0
	out=$LAB_DIR/out/iq-$d
	t0=$(lab_now_ms)
	lab_case "$d: nat pre-approves $jid" lab_xctl approve nat "$jid"
	lab_client "$jid" "$3" --tag "$u" \
	    "subscribe nat@x.test" \
	    "wait-subscribed nat@x.test" \
	    "wait-presence nat@x.test online" \
	    "disco x.test" "items x.test" "version x.test" "time x.test" \
	    "last x.test" "ping x.test" \
	    "disco nat@x.test" "items nat@x.test" "ping nat@x.test" \
	    "vcard nat@x.test" "last nat@x.test" \
	    "disco nat@x.test/xfed" "ping nat@x.test/xfed" \
	    "!vcard mute@x.test" "!vcard nobody@x.test" "!ping nobody@x.test" \
	    "!disco nobody@x.test" "items nobody@x.test" \
	    "!last mute@x.test" "!ping nat@x.test/other" \
	    "!version nat@x.test" \
	    > "$out" 2>&1
	lab_steps "$d: client $jid" "$out" $?
	lab_case "$d: x.test is server/im with its features (S2S 9.2)" \
	    has "$out" "disco x.test" "server/im;" \
	    "http://jabber.org/protocol/disco#info" \
	    "http://jabber.org/protocol/disco#items" "jabber:iq:last" \
	    "jabber:iq:version" "urn:xmpp:ping" "urn:xmpp:time"
	lab_case "$d: x.test has no items (S2S 9.5)" \
	    has "$out" "items x.test" "0 items"
	lab_case "$d: x.test's version (S2S 9.7)" \
	    has "$out" "version x.test" "xfed 0."
	lab_case "$d: x.test's time (S2S 9.8)" \
	    has "$out" "time x.test" "tzo=" "Z"
	lab_case "$d: x.test's uptime (S2S 9.9)" \
	    has "$out" "last x.test" "seconds="
	lab_case "$d: nat is account/registered and pubsub/pep, vCard listed (S2S 9.4)" \
	    has "$out" "disco nat@x.test" "account/registered" "pubsub/pep" "vcard-temp" \
	    "jabber:iq:last"
	lab_case "$d: nat's vCard: name, nickname, the avatar (S2S 9.10)" \
	    has "$out" "vcard nat@x.test" "FN=Nat Native" "NICKNAME=natty" \
	    "PHOTO=image/png $RED"
	lab_case "$d: nat is online: last activity 0 (S2S 9.9)" \
	    has "$out" "last nat@x.test" "seconds=0"
	lab_case "$d: nat/xfed is a client with caps (S2S 9.19)" \
	    has "$out" "disco nat@x.test/xfed" "client/pc;" \
	    "http://jabber.org/protocol/caps" "urn:xmpp:ping"
	lab_case "$d: no profile, no such user: the same error (S2S 9.10)" \
	    has "$out" "!vcard nobody@x.test" "service-unavailable"
	lab_case "$d: mute without a profile: service-unavailable" \
	    has "$out" "!vcard mute@x.test" "service-unavailable"
	lab_case "$d: last activity of mute, not subscribed: forbidden" \
	    has "$out" "!last mute@x.test" "forbidden"
	lab_case "$d: a resource nat does not have: service-unavailable" \
	    has "$out" "!ping nat@x.test/other" "service-unavailable"
	echo "# $d: IQs $(( $(lab_now_ms) - t0 )) ms"
}

iqs $LAB_P alice alice-pw
iqs $LAB_E bob bob-pw

# A stranger: what nat's contacts see is not for everyone, and nothing
# tells nat from nobody (RFC 6121 8.5.1, S2S 8.41, 9.4, 9.9, 9.10).
lab_client carol@p.test carol-pw --tag carol \
    "!disco nat@x.test" "!last nat@x.test" "!disco nat@x.test/xfed" \
    "!vcard nat@x.test" "!ping nat@x.test" \
    "!disco nobody@x.test" "!last nobody@x.test" "!vcard nobody@x.test" \
    "!ping nobody@x.test" > "$LAB_DIR/out/iq-carol" 2>&1
lab_steps "p.test: stranger carol@p.test" "$LAB_DIR/out/iq-carol" $?
for who in nat nobody; do
	lab_case "p.test: stranger: disco#info of $who service-unavailable" \
	    has "$LAB_DIR/out/iq-carol" "!disco $who@x.test" "service-unavailable"
	lab_case "p.test: stranger: last activity of $who forbidden (XEP-0012 4)" \
	    has "$LAB_DIR/out/iq-carol" "!last $who@x.test" "forbidden"
	lab_case "p.test: stranger: vCard of $who service-unavailable" \
	    has "$LAB_DIR/out/iq-carol" "!vcard $who@x.test" "service-unavailable"
	lab_case "p.test: stranger: ping of $who service-unavailable" \
	    has "$LAB_DIR/out/iq-carol" "!ping $who@x.test" "service-unavailable"
done

# client_passed FILE STEP: client.py printed PASS for STEP in FILE.
client_passed() {
	grep -F -- "  $2" "$1" | grep -q '^  PASS'
}

# avatars DOMAIN USER PASSWORD COLOUR-NOW COLOUR-NEXT: the client sees the
# avatar of nat's presence, nat's new avatar, nat's nickname.
avatars() {
	local d=$1 u=$2 jid=$2@$1 out pid now=$4 next=$5 t0
	out=$LAB_DIR/out/avatar-$d
	t0=$(lab_now_ms)
	lab_client "$jid" "$3" --tag "$u" \
	    "wait-avatar nat@x.test $(sha1 "$LAB_XD/$now.png")" \
	    "caps nat@x.test/xfed" \
	    "wait-avatar nat@x.test $(sha1 "$LAB_XD/$next.png")" \
	    "vcard nat@x.test" \
	    "pep-avatar nat@x.test" "pep-nick nat@x.test" \
	    "!pep-avatar mute@x.test" \
	    "wait-subscribe nat@x.test natty" \
	    > "$out" 2>&1 &
	pid=$!
	lab_case "$d: $jid saw nat's avatar hash in presence (S2S 9.11)" \
	    lab_bounded $LAB_TIMEOUT client_passed "$out" \
	    "wait-avatar nat@x.test $(sha1 "$LAB_XD/$now.png")"
	lab_case "$d: xfedctl user set nat --avatar $next.png" \
	    lab_xctl user set nat --avatar "$LAB_XD/$next.png"
	lab_case "$d: $jid saw the new avatar's hash" \
	    lab_bounded $LAB_TIMEOUT client_passed "$out" \
	    "wait-avatar nat@x.test $(sha1 "$LAB_XD/$next.png")"
	lab_case "$d: xfedctl subscribe nat $jid" lab_xctl subscribe nat "$jid"
	wait $pid
	lab_steps "$d: client $jid" "$out" $?
	lab_case "$d: caps in nat's presence verified (S2S 9.18, 9.19)" \
	    has "$out" "caps nat@x.test/xfed" "verified"
	lab_case "$d: the vCard has the new photo (S2S 9.12)" \
	    has "$out" "vcard nat@x.test" \
	    "PHOTO=image/png $(sha1 "$LAB_XD/$next.png")"
	lab_case "$d: XEP-0084 metadata and data of the new avatar (S2S 9.14)" \
	    has "$out" "pep-avatar nat@x.test" \
	    "$(sha1 "$LAB_XD/$next.png") image/png 32x32"
	lab_case "$d: XEP-0172 nick node (S2S 9.17)" \
	    has "$out" "pep-nick nat@x.test" "nick=natty"
	lab_case "$d: PEP of a user not subscribed to: not-authorized (S2S 9.15)" \
	    has "$out" "!pep-avatar mute@x.test" "not-authorized"
	echo "# $d: avatars $(( $(lab_now_ms) - t0 )) ms"
}

avatars $LAB_P alice alice-pw red blue

# XEP-0163 notifications: a client whose caps say +notify for the avatar
# metadata and the nick gets their items on its first presence (once xfed
# has verified its caps, XEP-0115 5.4), and the new item when the avatar
# changes (S2S 9.13, 9.16, 9.20). alice approves nat's request of the
# avatars phase, so that her presence, with the caps, reaches nat.
PEP=$LAB_DIR/out/pep-p.test
LAB_TIMEOUT=30 lab_client alice@p.test alice-pw --tag alice --resource pep \
    --notify urn:xmpp:avatar:metadata --notify http://jabber.org/protocol/nick \
    "approve nat@x.test" \
    "wait-xml nat@x.test $BLUE" \
    "wait-xml nat@x.test natty</nick>" \
    "wait-xml nat@x.test $RED" \
    > "$PEP" 2>&1 &
PP=$!
lab_case "pep: alice saw the avatar metadata on her first presence" \
    lab_bounded 30 client_passed "$PEP" "wait-xml nat@x.test $BLUE"
lab_case "pep: and the nick" lab_bounded 30 client_passed "$PEP" \
    "wait-xml nat@x.test natty</nick>"
lab_case "pep: xfed verified alice's caps" grep -q \
    "caps: .* verified, +notify bits 0x5" "$LAB_XLOG"
lab_case "pep: xfedctl user set nat --avatar red.png" \
    lab_xctl user set nat --avatar "$LAB_XD/red.png"
wait $PP
lab_steps "pep: client alice@p.test/pep" "$PEP" $?
lab_case "pep: nat's avatar back to blue" \
    lab_xctl user set nat --avatar "$LAB_XD/blue.png"

avatars $LAB_E bob bob-pw blue red

# passed FILE STEP N: client.py printed PASS for STEP at least N times.
passed() {
	[ "$(grep -F -- "  $2" "$1" | grep -c '^  PASS')" -ge "$3" ]
}

# both STEP N: both clients passed STEP N times, within the bound.
both() {
	lab_bounded $LAB_TIMEOUT passed "$LAB_DIR/out/stale-p.test" "$1" "$2" &&
	    lab_bounded $LAB_TIMEOUT passed "$LAB_DIR/out/stale-e.test" "$1" "$2"
}

# inbox_kind KIND BODY: nat's inbox has a KIND row with BODY ("-": none).
inbox_kind() {
	[ "$(sql "SELECT count(*) FROM inbox i JOIN users u ON u.id = i.user_id
	    WHERE u.localpart = 'nat' AND kind = '$1' AND
	    ifnull(body, '-') = '$2'")" -gt 0 ]
}

CS="<composing xmlns=\"http://jabber.org/protocol/chatstates\"/>"
# The clients watch the whole phase: a longer bound for each step (and,
# through lab_client, for the run).
stale_client() {
	LAB_TIMEOUT=60 lab_client "$2@$1" "$3" --tag "$2" \
	    "wait-presence nat@x.test online" \
	    "wait-presence nat@x.test unavailable" \
	    "wait-presence nat@x.test away" \
	    "wait-presence nat@x.test unavailable" \
	    "send nat@x.test to disabled nat" \
	    "wait-message nat@x.test [error service-unavailable]" \
	    "wait-presence nat@x.test away" \
	    "wait-presence nat@x.test unavailable" \
	    "raw '<message to=\"nat@x.test\" type=\"groupchat\"><body>gc $2</body></message>'" \
	    "wait-message nat@x.test [error service-unavailable]" \
	    "raw '<message to=\"nat@x.test\" type=\"headline\"><body>news off $2</body></message>'" \
	    "raw '<message to=\"nat@x.test\" type=\"chat\">$CS</message>'" \
	    "send nat@x.test offline chat $2" \
	    "wait-presence nat@x.test online" \
	    "raw '<message to=\"nat@x.test\" type=\"headline\"><body>news on $2</body></message>'" \
	    "raw '<message to=\"nat@x.test\" type=\"chat\" id=\"cs-$2\">$CS</message>'" \
	    "wait-presence nat@x.test unavailable" \
	    ${4:+"$4"} > "$LAB_DIR/out/stale-$1" 2>&1
}
T1=$(lab_now_ms)
# Prosody drops nat from alice's roster at the unsubscribed; ejabberd 23.01
# (Debian) keeps bob's item at `to` (seen in the lab), so for bob the
# stanzas xfed sent are checked in its log instead.
stale_client $LAB_P alice alice-pw "wait-roster nat@x.test none|absent" &
PA=$!
stale_client $LAB_E bob bob-pw &
PB=$!
lab_case "stale: both clients see nat online" \
    both "wait-presence nat@x.test online" 1
lab_case "stale: xfed stops" lab_xfed_stop
lab_case "stale: unavailable reached both clients at shutdown" \
    both "wait-presence nat@x.test unavailable" 1
lab_case "stale: nat set away while xfed is stopped" \
    lab_xctl presence set nat away "back soon"
lab_case "stale: xfed starts again" lab_xfed_start xfed-2
lab_case "stale: both clients see nat away, announced at start" \
    both "wait-presence nat@x.test away" 1
lab_case "stale: xfedctl user set nat --disable" \
    lab_xctl user set nat --disable
lab_case "stale: both clients see nat unavailable" \
    both "wait-presence nat@x.test unavailable" 2
lab_case "stale: a message to disabled nat is refused, not stored" \
    both "wait-message nat@x.test [error service-unavailable]" 1
lab_case "stale: nothing of it in the inbox" eval \
    "! inbox_kind message 'to disabled nat'"
lab_case "stale: xfedctl user set nat --enable" lab_xctl user set nat --enable
lab_case "stale: both clients see nat away again" \
    both "wait-presence nat@x.test away" 2
lab_case "stale: nat goes unavailable" lab_xctl presence set nat unavailable
lab_case "stale: groupchat to offline nat: service-unavailable (8.5.2.2.1)" \
    both "wait-message nat@x.test [error service-unavailable]" 2
lab_case "stale: chat to offline nat stored" \
    lab_bounded $LAB_TIMEOUT inbox_kind message "offline chat bob"
lab_case "stale: headline to offline nat ignored" eval \
    "! inbox_kind message 'news off alice' && ! inbox_kind message 'news off bob'"
lab_case "stale: chat state to offline nat not kept (XEP-0085 5.5)" eval \
    "! inbox_kind chatstate -"
lab_case "stale: groupchat not stored" eval "! inbox_kind message 'gc bob'"
lab_case "stale: nat comes back" lab_xctl presence set nat available
lab_case "stale: headline to online nat stored" \
    lab_bounded $LAB_TIMEOUT inbox_kind message "news on bob"
lab_case "stale: chat state to online nat stored as chatstate" \
    lab_bounded $LAB_TIMEOUT inbox_kind chatstate -

# directed presence with a stranger, both ways (RFC 6121 4.6)
LAB_TIMEOUT=60 lab_client carol@p.test carol-pw --tag carol \
    "raw '<presence to=\"nat@x.test\"><status>hi nat</status></presence>'" \
    "wait-presence nat@x.test online" \
    "caps nat@x.test/xfed" \
    "wait-presence nat@x.test unavailable" \
    > "$LAB_DIR/out/directed" 2>&1 &
PC=$!
rpres_carol() {
	[ "$(sql "SELECT status FROM remote_presence WHERE bare = 'carol@p.test'
	    AND show = 'available'")" = "hi nat" ]
}
lab_case "directed: carol's presence kept for online nat (4.6, 8.5.2.1.2)" \
    lab_bounded $LAB_TIMEOUT rpres_carol
lab_case "directed: nat sends its presence to carol" sql "INSERT INTO outbox
    (user_id, kind, to_jid) SELECT id, 'presence', 'carol@p.test/client'
    FROM users WHERE localpart = 'nat'"
lab_case "directed: carol saw nat online" lab_bounded $LAB_TIMEOUT \
    client_passed "$LAB_DIR/out/directed" "wait-presence nat@x.test online"
lab_case "directed: carol remembered" lab_bounded $LAB_TIMEOUT eval \
    "[ \"\$(sql 'SELECT jid FROM directed')\" = carol@p.test/client ]"

# rich messages from nat: payload elements from the outbox xml column
# (XEP-0085, 0184, 0333, 0308, 0066), what the client sees of them
RICH=$LAB_DIR/out/rich
lab_client alice@p.test alice-pw --tag alice --resource rich \
    "wait-xml nat@x.test http://jabber.org/protocol/chatstates" \
    "wait-xml nat@x.test '<request xmlns=\"urn:xmpp:receipts\"'" \
    "wait-xml nat@x.test '<received xmlns=\"urn:xmpp:receipts\" id=\"m-1\"'" \
    "wait-xml nat@x.test '<displayed xmlns=\"urn:xmpp:chat-markers:0\" id=\"m-1\"'" \
    "wait-xml nat@x.test '<replace xmlns=\"urn:xmpp:message-correct:0\" id=\"r-1\"'" \
    "wait-xml nat@x.test <url>https://n.example/a?b=1&amp;c=2</url>" \
    "raw '<message to=\"nat@x.test\" type=\"chat\" id=\"rq-1\"><body>ack me</body><request xmlns=\"urn:xmpp:receipts\"/></message>'" \
    "wait-xml nat@x.test '<received xmlns=\"urn:xmpp:receipts\" id=\"rq-1\"'" \
    > "$RICH" 2>&1 &
PR=$!
lab_case "rich: alice@p.test/rich logged in" lab_bounded $LAB_TIMEOUT \
    client_passed "$RICH" "login alice@p.test/rich"
send_rich() {
	local name=$1
	shift
	# to the full JID: Prosody gives bodyless messages to a bare JID
	# to one resource only
	lab_case "rich: xfedctl send nat $name" lab_xctl send nat \
	    alice@p.test/rich "$@"
}
send_rich "--chatstate composing" --chatstate composing
send_rich "--request-receipt" hello --request-receipt --markable
send_rich "--received m-1 --displayed m-1" --received m-1 --displayed m-1
send_rich "--correct r-1" "hello again" --correct r-1
send_rich "--oob URL" "a link" --oob "https://n.example/a?b=1&c=2"
lab_case "rich: a row whose xml reaches outside is refused" sql "INSERT INTO
    outbox (user_id, to_jid, body, xml) SELECT id, 'alice@p.test', 'x',
    '<a xmlns=\"u\"/></payload><message/>' FROM users WHERE localpart = 'nat'"
rich_failed() {
	[ "$(sql "SELECT state || ' ' || error_stage FROM outbox WHERE
	    xml LIKE '%</payload>%'")" = "failed payload" ]
}
lab_case "rich: that row failed, stage payload" lab_bounded $LAB_TIMEOUT rich_failed
# XEP-0184: the receipt goes when the native system consumes the row
lab_case "receipt: alice's message asking for one is in nat's inbox" \
    lab_bounded $LAB_TIMEOUT inbox_kind message "ack me"
lab_case "receipt: nothing sent before it is consumed" eval \
    "! grep -q \"<received xmlns='urn:xmpp:receipts' id='rq-1'/>\" '$LAB_XLOG'"
lab_case "receipt: nat's inbox row consumed" sql "UPDATE inbox SET
    consumed = 1 WHERE body = 'ack me'"
wait $PR
lab_steps "rich: client alice@p.test" "$RICH" $?

# deletion: unavailable, then unsubscribed, to each contact
lab_case "deleted: xfedctl user del nat" lab_xctl user del nat
wait $PA
lab_steps "stale: client alice@p.test" "$LAB_DIR/out/stale-p.test" $?
wait $PB
lab_steps "stale: client bob@e.test" "$LAB_DIR/out/stale-e.test" $?
wait $PC
lab_steps "directed: client carol@p.test" "$LAB_DIR/out/directed" $?
lab_case "directed: carol verified nat's caps (RFC 6121 4.6.3, S2S 9.19)" \
    has "$LAB_DIR/out/directed" "caps nat@x.test/xfed" "verified"
for t in unavailable unsubscribed unsubscribe; do
	lab_case "deleted: $t sent to bob@e.test" grep -Eq \
	    "send <presence type='$t' from='nat@x\.test(/xfed)?' to='bob@e\.test'/>" \
	    "$LAB_XLOG"
done
lab_case "deleted: nothing left to tell" lab_bounded 5 eval \
    "[ \"\$(sql 'SELECT count(*) FROM departed')\" = 0 ]"
echo "# never stale: $(( $(lab_now_ms) - T1 )) ms"

lab_case "xfed stops cleanly on SIGTERM" lab_xfed_stop xfed-2
echo "# s2s_contacts: $(( $(lab_now_ms) - T0 )) ms"
