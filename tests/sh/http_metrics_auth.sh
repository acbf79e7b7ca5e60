# tests/sh/http_metrics_auth.sh: /metrics counts authentication outcomes
# (issue 14): dialback verdicts by direction (valid both ways between two
# xfed; invalid for a raw peer claiming b.localhost with a wrong key, which
# B, the authoritative server, refuses: XEP-0220 2.4, S2S 4.22) and SASL
# EXTERNAL outcomes (XEP-0178, between two xfed with CA certificates);
# promtool check metrics passes on the Prometheus text format (the one it
# reads); the OpenMetrics answer has the families and ends with # EOF.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

pair_init
PH=$(free_port)
echo "http_listen 127.0.0.1:$PH" >> "$T/a/xfed.conf"
READ=$(actl token add t-read --scope read)
metrics() {	# URL [ACCEPT]: /metrics into $T/m
	curl -s -H "Authorization: Bearer $READ" ${2:+-H "Accept: $2"} \
	    "$1/metrics" > "$T/m"
}
value() {	# SAMPLE: its value in $T/m
	awk -v s="$1" '$1 == s { print $2 }' "$T/m"
}
at_least() {	# URL SAMPLE N
	metrics "$1"
	[ "$(value "$2")" -ge "$3" ] 2>/dev/null
}
promtool_ok() {
	promtool check metrics < "$T/m" > "$T/prom" 2>&1 ||
	    { sed 's/^/# /' "$T/prom"; return 1; }
}

inbox_has() { "$XFED_BUILD/xfedctl" -c "$1" inbox --json | grep -qF "$2"; }
# up P Q P-USER Q-JID Q-USER P-JID: both started (PID1, PID2), a message
# each way delivered
up() {
	start_xfed "$T/$1" || { fail "start_$1" "xfed did not start"; exit 1; }
	PID1=$XFED_PID
	start_xfed "$T/$2" || { fail "start_$2" "xfed did not start"; exit 1; }
	PID2=$XFED_PID
	"$XFED_BUILD/xfedctl" -c "$T/$1/xfed.conf" send "$3" "$4" "$1 to $2" > /dev/null
	"$XFED_BUILD/xfedctl" -c "$T/$2/xfed.conf" send "$5" "$6" "$2 to $1" > /dev/null
	check "${1}_to_$2" wait_for 20 inbox_has "$T/$2/xfed.conf" "$1 to $2"
	check "${2}_to_$1" wait_for 20 inbox_has "$T/$1/xfed.conf" "$2 to $1"
}
down() { XFED_PID=$PID1; stop_xfed; XFED_PID=$PID2; stop_xfed; }

up a b alice bob@b.localhost bob alice@a.localhost
A=http://127.0.0.1:$PH
check dialback_out_valid wait_for 10 at_least "$A" \
    'xfed_dialback_results_total{direction="out",result="valid"}' 1
check dialback_in_valid wait_for 10 at_least "$A" \
    'xfed_dialback_results_total{direction="in",result="valid"}' 1

# A raw peer claims b.localhost with a key B never made: B says invalid.
$PY "$XFED_SRC/tests/sh/probe.py" "127.0.0.1:$PA" --until invalid \
    --timeout 15 "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='b.localhost' to='a.localhost' version='1.0'>" \
    "<db:result from='b.localhost' to='a.localhost'>$(printf 'ab%.0s' $(seq 32))</db:result>" \
    > "$T/probe" 2>&1
check bogus_key_refused grep -q 'invalid' "$T/probe"
check dialback_in_invalid wait_for 10 at_least "$A" \
    'xfed_dialback_results_total{direction="in",result="invalid"}' 1
# SASL EXTERNAL without TLS: refused (XEP-0178; S2S 3.x), counted.
$PY "$XFED_SRC/tests/sh/probe.py" "127.0.0.1:$PA" --until failure \
    --timeout 15 "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' from='b.localhost' to='a.localhost' version='1.0'>" \
    "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>" \
    > "$T/probe" 2>&1
check sasl_plain_refused grep -q 'failure' "$T/probe"
check sasl_in_failure wait_for 10 at_least "$A" \
    'xfed_sasl_external_total{direction="in",result="failure"}' 1
check dialback_error_zero [ "$(value 'xfed_dialback_results_total{direction="in",result="error"}')" = 0 ]
check sasl_none_plain [ "$(value 'xfed_sasl_external_total{direction="in",result="success"}')" = 0 ]
check promtool_text promtool_ok
metrics "$A" "application/openmetrics-text; version=1.0.0"
check openmetrics_dialback_family grep -q '^# TYPE xfed_dialback_results counter' "$T/m"
check openmetrics_sasl_family grep -q '^# TYPE xfed_sasl_external counter' "$T/m"
check openmetrics_eof [ "$(tail -1 "$T/m")" = "# EOF" ]
down

# SASL EXTERNAL both ways with CA-signed certificates.
sh "$XFED_SRC/tests/tls/mkcerts.sh" "$T/pki" > /dev/null 2>&1 ||
    { fail pki "mkcerts.sh failed"; exit 1; }
PX=$(free_port)
PY_=$(free_port)
PH=$(free_port)
mkdir -p "$T/x" "$T/y"
pair_conf_cert "$T/x" x.test "$PX" y.test "$PY_" x "tls_ca_file $T/pki/ca.pem" \
    "http_listen 127.0.0.1:$PH"
pair_conf_cert "$T/y" y.test "$PY_" x.test "$PX" y "tls_ca_file $T/pki/ca.pem"
xctl() { "$XFED_BUILD/xfedctl" -c "$T/x/xfed.conf" "$@"; }
yctl() { "$XFED_BUILD/xfedctl" -c "$T/y/xfed.conf" "$@"; }
xctl user add xu > /dev/null && yctl user add yu > /dev/null
READ=$(xctl token add t-read --scope read)
up x y xu yu@y.test yu xu@x.test
X=http://127.0.0.1:$PH
check sasl_out_success wait_for 10 at_least "$X" \
    'xfed_sasl_external_total{direction="out",result="success"}' 1
check sasl_in_success wait_for 10 at_least "$X" \
    'xfed_sasl_external_total{direction="in",result="success"}' 1
check sasl_failure_zero [ "$(value 'xfed_sasl_external_total{direction="in",result="failure"}')" = 0 ]
check promtool_tls promtool_ok
echo "# X: $(grep '^xfed_sasl_external_total\|^xfed_dialback_results_total' "$T/m" | grep -v ' 0$' | tr '\n' ' ')"
down
t_exit
