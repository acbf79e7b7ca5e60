# interop_selftest: proves the interop lab (tests/interop) works, without
# xfed: Prosody (p.test) and ejabberd (e.test) federate both ways with real
# clients, in plain mode (dialback only, what xfed speaks first) and in TLS
# mode; and rawpeer.py, posing as x.test, authenticates to each of them by
# dialback and sees their answers to bad input.  Needs root and the packages
# of `tools/deps check`; without them it fails, it does not skip.

. "$(dirname "${BASH_SOURCE[0]}")/../interop/lab.sh"

LAB_TIMEOUT=15
if ! lab_init; then
	lab_fail "interop_selftest" "lab_init: not root, or packages missing (see above)"
	exit 1
fi

# federation MODE: alice@p.test and bob@e.test, both clients at once, each
# waiting for what the other does; every exchange crosses S2S.
federation() {
	local m=$1 rc_a rc_b pid
	lab_client alice@p.test alice-pw --tag alice \
	    'approve-all' \
	    'subscribe bob@e.test' \
	    'wait-subscribed bob@e.test' \
	    'wait-presence bob@e.test' \
	    'wait-roster bob@e.test both' \
	    'set-presence away lunch' \
	    'send bob@e.test hello from p.test' \
	    'wait-message bob@e.test hello from e.test' \
	    'ping e.test' \
	    'version e.test' \
	    'ping bob@e.test/client' \
	    '!ping nothere.test' \
	    > "$LAB_DIR/out/$m-alice" 2>&1 &
	pid=$!
	lab_client bob@e.test bob-pw --tag bob \
	    'approve-all' \
	    'subscribe alice@p.test' \
	    'wait-subscribed alice@p.test' \
	    'wait-roster alice@p.test both' \
	    'wait-presence alice@p.test away' \
	    'wait-message alice@p.test hello from p.test' \
	    'send alice@p.test hello from e.test' \
	    'ping p.test' \
	    'disco p.test' \
	    'wait-presence alice@p.test unavailable' \
	    > "$LAB_DIR/out/$m-bob" 2>&1
	rc_b=$?
	wait $pid
	rc_a=$?
	lab_steps "$m alice@p.test" "$LAB_DIR/out/$m-alice" $rc_a
	lab_steps "$m bob@e.test" "$LAB_DIR/out/$m-bob" $rc_b
	# How the peers authenticated each other: proves the mode is real.
	local how=dialback
	[ "$m" = tls ] && how=EXTERNAL
	lab_case "$m: ejabberd accepted p.test by $how" lab_wait_log \
	    "$LAB_DIR/ejabberd/log/ejabberd.log" \
	    "Accepted inbound s2s $how authentication p.test -> e.test" 5
	lab_case "$m: ejabberd authenticated to p.test by $how" lab_wait_log \
	    "$LAB_DIR/ejabberd/log/ejabberd.log" \
	    "Accepted outbound s2s $how authentication e.test -> p.test" 5
	if [ "$m" = plain ]; then
		lab_case "plain: no TLS on S2S at Prosody" eval \
		    "! grep -E 's2s(in|out).*Stream encrypted' '$LAB_DIR/prosody/prosody.log'"
	else
		lab_case "tls: Prosody checked e.test's certificate" lab_wait_log \
		    "$LAB_DIR/prosody/prosody.log" \
		    "s2s(in|out).*certificate identity validation result: valid" 5
	fi
}

# rawpeer NAME PEER-IP PEER-DOMAIN SCENARIO EXPECT [ARGS...]
rawpeer() {
	local name=$1 ip=$2 dom=$3 sc=$4 want=$5
	shift 5
	lab_case "$name" lab_rawpeer --host "$ip" --to "$dom" \
	    --listen $LAB_X_IP --wait 1 --timeout 5 --expect "$want" "$@" "$sc"
}

# down MODE: tear the lab down now and check that nothing is left.
down() {
	local ns=$LAB_NS
	lab_teardown
	if ip netns list | grep -qw "$ns" || [ -e "/etc/netns/$ns" ]; then
		lab_fail "$1: lab down" "namespace $ns is still there"
	else
		lab_ok "$1: lab down, namespace $ns gone"
	fi
}

t0=$(lab_now_ms)
lab_case "plain: lab up" lab_up plain || exit 1
lab_case "plain: user alice@p.test" lab_user p.test alice alice-pw || exit 1
lab_case "plain: user bob@e.test" lab_user e.test bob bob-pw || exit 1
federation plain

# x.test by dialback: accepted, and its message reaches a local user.
for p in "p.test $LAB_P_IP alice alice-pw" "e.test $LAB_E_IP bob bob-pw"; do
	set -- $p
	rawpeer "plain: rawpeer x.test dialback to $1" $2 $1 dialback valid \
	    --rcpt "$3@$1" --body "dialback from x.test"
	lab_case "plain: $3@$1 got the message from x.test" \
	    lab_client "$3@$1" "$4" 'wait-message eve@x.test dialback from x.test'
	rawpeer "plain: rawpeer host-unknown from $1" $2 $1 unknown-to \
	    stream-error:host-unknown
	rawpeer "plain: rawpeer bad dialback key refused by $1" $2 $1 \
	    bad-dialback-key invalid
	rawpeer "plain: rawpeer wrong stream namespace to $1" $2 $1 \
	    wrong-namespace stream-error:invalid-namespace
done
# What the two differ on (and xfed will be compared with).
rawpeer "plain: rawpeer spoofed from, p.test" $LAB_P_IP p.test spoofed-from \
    stream-error:not-authorized
rawpeer "plain: rawpeer spoofed from, e.test" $LAB_E_IP e.test spoofed-from \
    stream-error:invalid-from
rawpeer "plain: rawpeer stanza before auth ignored by p.test" $LAB_P_IP p.test \
    stanza-before-auth open
rawpeer "plain: rawpeer stanza before auth, e.test" $LAB_E_IP e.test \
    stanza-before-auth stream-error:not-authorized
rawpeer "plain: rawpeer dead authoritative, e.test" $LAB_E_IP e.test \
    dead-authoritative error
# Prosody drops the key check when x.test cannot be reached: no answer.
rawpeer "plain: rawpeer dead authoritative, p.test" $LAB_P_IP p.test \
    dead-authoritative open --timeout 1

down plain
echo "# plain mode: $(( $(lab_now_ms) - t0 )) ms"

# TLS mode: the same federation with STARTTLS and certificates (SASL EXTERNAL).
t0=$(lab_now_ms)
if lab_init; then
	lab_case "tls: lab up" lab_up tls || exit 1
	lab_case "tls: user alice@p.test" lab_user p.test alice alice-pw || exit 1
	lab_case "tls: user bob@e.test" lab_user e.test bob bob-pw || exit 1
	federation tls
	for p in "p.test $LAB_P_IP" "e.test $LAB_E_IP"; do
		set -- $p
		rawpeer "tls: rawpeer x.test STARTTLS to $1" $2 $1 features \
		    features --tls --ca "$LAB_DIR/pki/ca.pem" \
		    --cert "$LAB_DIR/pki/x.test.crt" --key "$LAB_DIR/pki/x.test.key"
	done
	rawpeer "tls: p.test refuses a certificate from an untrusted CA" \
	    $LAB_P_IP p.test features stream-error:not-authorized --tls \
	    --ca "$LAB_DIR/pki/ca.pem" --cert "$LAB_DIR/pki/bad/untrusted.crt" \
	    --key "$LAB_DIR/pki/bad/untrusted.key"
	down tls
else
	lab_fail "tls: lab init"
fi
echo "# tls mode: $(( $(lab_now_ms) - t0 )) ms"
