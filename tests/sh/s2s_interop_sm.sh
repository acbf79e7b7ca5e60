# tests/sh/s2s_interop_sm.sh: XEP-0198 stream management between xfed
# (x.test) and Debian's Prosody 0.12 (p.test) with mod_smacks, in the
# interop lab's tls mode: STARTTLS, certificates from the lab CA, SASL
# EXTERNAL both ways, so that each side sees <sm/> in the features after
# the SASL restart (S2S 7.5, 7.7).
#   - inbound: Prosody enables it on its stream to x.test; a message from a
#     slixmpp client (alice@p.test) to the native user nat lands in the
#     inbox and xfed's <a/> covers it: Prosody's queue for x.test empties
#     (its debug log "#queue = 0 (acked: N)")
#   - outbound: xfed enables it on its stream to p.test; a row from nat to
#     alice is sent only once Prosody's <a/> covers it; alice gets it
# Needs root and the packages of `tools/deps check`.

. "$(dirname "${BASH_SOURCE[0]}")/../interop/lab.sh"
: "${XFED_BUILD:?XFED_BUILD is the build directory}"
XB=$(cd "$XFED_BUILD" && pwd)

LAB_TIMEOUT=15
if ! lab_init; then
	lab_fail "s2s_interop_sm" "lab_init: not root, or packages missing (see above)"
	exit 1
fi
lab_prosody_module smacks
lab_case "lab up (tls, Prosody with mod_smacks)" lab_up tls prosody || exit 1
lab_case "user alice@p.test" lab_user p.test alice alice-pw || exit 1

XD=$LAB_DIR/xfed
XLOG=$LAB_DIR/log/xfed.log
PLOG=$LAB_DIR/prosody/prosody.log
PKI=$LAB_DIR/pki
mkdir -p "$XD"
xctl() { "$XB/xfedctl" -c "$XD/xfed.conf" "$@"; }
cat > "$XD/xfed.conf" <<CONF
domain $LAB_X
listen $LAB_X_IP:5269
store xfed.db
control_socket xfed.sock
tls_certificate $PKI/$LAB_X.crt
tls_key $PKI/$LAB_X.key
tls_ca_file $PKI/ca.pem
resolver $LAB_DNS_IP
log_level debug
CONF
xctl user add nat > /dev/null || { lab_fail "xfedctl user add nat"; exit 1; }

# inbox_has TEXT: an inbox row with that body.
inbox_has() { xctl inbox --all --json | grep -qF "\"body\":\"$1\""; }
# row_sent ID: outbox row ID is sent.
row_delivered() { xctl outbox --json | grep -q "\"id\":$1,.*\"state\":\"delivered\""; }
# prosody_acked: Prosody's queue toward x.test emptied on an ack of ours
# that covered at least one stanza.
prosody_acked() { grep -Eq "s2sout.*#queue = 0 \(acked: [1-9]" "$PLOG"; }

lab_spawn xfed "$XB/xfed" -d -c "$XD/xfed.conf"
lab_case "xfed up with the lab's x.test certificate" \
    lab_wait_port $LAB_X_IP 5269 10 "$(cat "$LAB_DIR/pids/xfed.pid")" || exit 1

# 1. Prosody -> xfed. The ping opens Prosody's stream; what Prosody queued
# before its <enable/> is not counted, so the message goes after it.
lab_case "alice pings x.test" lab_client alice@p.test alice-pw 'ping x.test'
lab_case "xfed offered <sm/> after the SASL restart" grep -Eq \
    "in#[0-9]+ p\.test .*send <stream:features><sm xmlns='urn:xmpp:sm:3'/>" "$XLOG"
lab_case "Prosody enabled stream management on its stream to x.test" \
    lab_bounded $LAB_TIMEOUT grep -Eq "in#[0-9]+ p\.test .*stream management enabled" "$XLOG"
lab_case "alice sends nat a message" lab_client alice@p.test alice-pw \
    'send nat@x.test acknowledged by xfed'
lab_case "the message is in nat's inbox" lab_bounded $LAB_TIMEOUT \
    inbox_has 'acknowledged by xfed'
lab_case "xfed answered Prosody's <r/> with <a h/>" lab_bounded $LAB_TIMEOUT \
    grep -Eq "in#[0-9]+ p\.test .*send <a xmlns='urn:xmpp:sm:3' h='[1-9][0-9]*'/>" "$XLOG"
lab_case "Prosody's queue to x.test emptied by xfed's ack" lab_bounded 5 prosody_acked

# 2. xfed -> Prosody: the row is sent once Prosody acknowledged it
lab_client alice@p.test alice-pw --tag alice \
    'wait-message nat@x.test delivered with an ack' \
    > "$LAB_DIR/out/client-wait" 2>&1 &
cpid=$!
id=$(xctl send nat alice@p.test 'delivered with an ack')
lab_case "xfed enabled stream management on its stream to p.test" \
    lab_bounded $LAB_TIMEOUT grep -Eq "out#[0-9]+ p\.test .*stream management enabled" "$XLOG"
lab_case "outbox row $id delivered after Prosody's ack" lab_bounded $LAB_TIMEOUT row_delivered "$id"
lab_case "xfed logged row $id delivered on Prosody's <a/>" grep -Eq \
    "outbox: row $id delivered" "$XLOG"
lab_case "Prosody answered xfed's <r/>" grep -Eq \
    "smacks.*Received ack request, acking for [1-9]" "$PLOG"
wait $cpid
lab_steps "alice" "$LAB_DIR/out/client-wait" $?

lab_case "xfed stops" lab_kill xfed 5
lab_case "no sanitizer report from xfed" eval \
    "! grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' '$XLOG'"
