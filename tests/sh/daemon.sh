# tests/sh/daemon.sh: the daemon as an operator and a peer meet it: xfed -t,
# -V, start, stream headers and the stream errors of S2S section 1 and 10,
# SIGHUP, SIGTERM.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

D=$T/d
mkdir -p "$D"
PORT=$(free_port)
cat > "$D/xfed.conf" <<CONF
domain localhost
domain other.test
listen 127.0.0.1:$PORT
store xfed.db
control_socket xfed.sock
max_stanza_size 20000
require_encryption no
CONF

# -t and -V
out=$("$XFED_BUILD/xfed" -t -c "$D/xfed.conf" 2>&1)
check xfed_t_ok [ $? = 0 ]
printf 'domain localhost\nlisten 127.0.0.1\nfoo bar\nrequire_encryption no\n' > "$D/bad.conf"
out=$("$XFED_BUILD/xfed" -t -c "$D/bad.conf" 2>&1); rc=$?
check xfed_t_bad_exit [ $rc = 1 ]
check xfed_t_bad_lines [ "$out" = "$D/bad.conf:2: listen: \"127.0.0.1\": a port is required (ADDR:PORT)
$D/bad.conf:3: unknown key \"foo\"" ]
out=$("$XFED_BUILD/xfed" -t -c "$D/missing.conf" 2>&1); rc=$?
check xfed_t_missing [ $rc = 1 ] && [ "$out" = "$D/missing.conf: No such file or directory" ]
check xfed_V "$XFED_BUILD/xfed" -V
"$XFED_BUILD/xfed" -x >/dev/null 2>&1; check xfed_usage_exit2 [ $? = 2 ]

start_xfed "$D" || { fail xfed_start "did not start"; exit 1; }
ok xfed_start

HDR="<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' version='1.0'"

# A valid header for a hosted domain: response header, id, features (S2S 1.5, 1.11-1.13)
r=$(probe 127.0.0.1:$PORT --until '<stream:features' "$HDR to='localhost' from='peer.example'>")
echo "$r" | grep -q "<stream:stream " && echo "$r" | grep -q "from=['\"]localhost['\"]" &&
    echo "$r" | grep -q "to=['\"]peer.example['\"]" && echo "$r" | grep -q "<stream:features"
check stream_header_reply [ $? = 0 ]
id=$(echo "$r" | sed -n "s/.* id=['\"]\([^'\"]*\)['\"].*/\1/p")
check stream_id_alnum sh -c "echo '$id' | grep -Eq '^[A-Za-z0-9]{22,}$'"
r2=$(probe 127.0.0.1:$PORT --until '<stream:features' "$HDR to='other.test' from='peer.example'>")
id2=$(echo "$r2" | sed -n "s/.* id=['\"]\([^'\"]*\)['\"].*/\1/p")
check stream_id_fresh [ -n "$id2" ] && [ "$id" != "$id2" ]
echo "$r2" | grep -q "from=.other.test."
check stream_second_domain [ $? = 0 ]

# expect_error NAME CONDITION CHUNK...: the stream ends with that error
expect_error() {
	local n=$1 cond=$2 r; shift 2
	r=$(probe 127.0.0.1:$PORT --timeout 5 "$@")
	if [ $? = 0 ] && echo "$r" | grep -q "<$cond xmlns=.urn:ietf:params:xml:ns:xmpp-streams./>" &&
	    echo "$r" | grep -q '</stream:stream>'; then ok "$n"
	else fail "$n" "$(echo "$r" | tr '\n' ' ' | cut -c1-300)"; fi
}
expect_error host_unknown host-unknown "$HDR to='nothere.example'>"
expect_error improper_addressing_no_to improper-addressing "$HDR>"
expect_error invalid_namespace invalid-namespace "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"
expect_error unsupported_version unsupported-version "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='2.0'>"
expect_error restricted_doctype restricted-xml "<?xml version='1.0'?><!DOCTYPE foo [<!ENTITY x 'y'>]>"
expect_error restricted_comment restricted-xml "$HDR to='localhost'><!-- hi -->"
expect_error restricted_pi restricted-xml "$HDR to='localhost'><?foo bar?>"
expect_error restricted_entity restricted-xml "$HDR to='localhost'><message to='a@localhost'><body>&xxe;</body></message>"
expect_error not_well_formed not-well-formed "$HDR to='localhost'><message></iq>"
expect_error oversized_stanza policy-violation "$HDR to='localhost'><message><body>@@BIG:30000@@</body></message>"
expect_error stanza_before_auth not-authorized "$HDR to='localhost' from='peer.example'><message from='a@peer.example' to='u@localhost'><body>x</body></message>"
expect_error unknown_element unsupported-stanza-type "$HDR to='localhost' from='peer.example'><foo xmlns='urn:example'/>"

# Their </stream:stream> is answered with ours and the socket closed (S2S 1.24)
r=$(probe 127.0.0.1:$PORT --timeout 5 "$HDR to='localhost'>" "</stream:stream>")
check stream_close_answered [ $? = 0 ] && echo "$r" | grep -q '</stream:stream>'
# Whitespace keepalives between elements are fine (S2S 1.21)
r=$(probe 127.0.0.1:$PORT --timeout 5 "$HDR to='localhost'>" "  \n  " "</stream:stream>")
echo "$r" | grep -q '</stream:stream>' && ! echo "$r" | grep -q stream:error
check keepalive_whitespace [ $? = 0 ]

# SIGHUP: a bad config is refused and the daemon keeps running
cp "$D/xfed.conf" "$D/good.conf"
echo "bogus yes" >> "$D/xfed.conf"
kill -HUP $XFED_PID
wait_for 10 grep -q "config not reloaded" "$D/xfed.log"
check sighup_bad_config_kept [ $? = 0 ] && kill -0 $XFED_PID
cp "$D/good.conf" "$D/xfed.conf"
kill -HUP $XFED_PID
check sighup_reload wait_for 10 grep -q "config reloaded" "$D/xfed.log"

# A second daemon on the same control socket refuses to start
"$XFED_BUILD/xfed" -f -c "$D/xfed.conf" > "$D/second.log" 2>&1; rc=$?
check second_daemon_refused [ $rc != 0 ]

# SIGTERM: streams not authenticated get system-shutdown, exit status 0
probe 127.0.0.1:$PORT --timeout 10 "$HDR to='localhost' from='shutdown.example'>" > "$D/open.out" &
pp=$!
wait_for 5 grep -q "stream header to=localhost from=shutdown.example" "$D/xfed.log"
stop_xfed; rc=$?
wait $pp
check sigterm_exit0 [ $rc = 0 ]
check sigterm_system_shutdown grep -q 'system-shutdown' "$D/open.out"
check sigterm_logged grep -q 'xfed stopped' "$D/xfed.log"
t_exit
