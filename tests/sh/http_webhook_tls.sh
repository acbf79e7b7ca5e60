# tests/sh/http_webhook_tls.sh: webhooks over HTTPS (issue 14). A receiver
# whose certificate verifies against tls_ca_file for the URL's address gets
# the events, signed; one with a certificate of another CA gets nothing,
# and the failure (a TLS one, no answer) shows in xfedctl status and the
# log, retried with backoff.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

D=$T/a
mkdir -p "$D"
cert() {	# NAME: a self-signed certificate for 127.0.0.1
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/$1.key" \
	    -out "$D/$1.pem" -days 2 -subj "/CN=$1" \
	    -addext subjectAltName=IP:127.0.0.1 2>/dev/null
}
cert good && cert rogue
PG=$(free_port)
PB=$(free_port)
http_conf "$D" "require_encryption no" "tls_ca_file good.pem" \
    "webhook https://127.0.0.1:$PG/hook s3cret" \
    "webhook https://127.0.0.1:$PB/hook s3cret" "webhook_backoff_max 2s"
t_bg $PY "$XFED_SRC/tests/sh/webhook_recv.py" "$PG" s3cret "$T/good" \
    "$D/good.pem" "$D/good.key"
t_bg $PY "$XFED_SRC/tests/sh/webhook_recv.py" "$PB" s3cret "$T/rogue" \
    "$D/rogue.pem" "$D/rogue.key"
start_api "$D" || { fail start "xfed did not start"; exit 1; }
"$XFED_BUILD/xfedctl" -c "$D/xfed.conf" user add romeo > /dev/null
check user_added [ $? = 0 ]
got() { [ -s "$T/good" ] && grep -q '"user": "romeo@a.localhost".*"sig_ok": true' "$T/good"; }
check https_delivered wait_for 20 got
check rogue_failing wait_for 20 sh -c \
    "'$XFED_BUILD/xfedctl' -c '$D/xfed.conf' status | grep -q '$PB/hook delivered up to event 0, backlog 1, [0-9]* failures'"
check rogue_nothing [ ! -s "$T/rogue" ]
grep -q "webhook https://127.0.0.1:$PB/hook: no answer" "$D/xfed.log" &&
    ok rogue_logged || fail rogue_logged "no failure line in the log"
stop_xfed
check stopped_clean [ $? = 0 ]
t_exit
