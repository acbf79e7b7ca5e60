# tests/sh/http_interop.sh: the HTTP API end to end with a real peer
# (issue 14). In the interop lab (tests/interop/lab.sh), xfed (x.test)
# serves its HTTP API and a webhook; a slixmpp client on Prosody (p.test)
# sends a message to a native user, which reaches the webhook receiver
# with a valid HMAC-SHA256 signature; a message sent through the API
# (POST /v1/users/nat/messages) reaches the client, and its outbox row
# turns sent (GET /v1/outbox/ID, and an outbox event at the webhook). Plain
# mode: S2S over TCP with dialback. Needs root and `tools/deps check`.

. "$(dirname "${BASH_SOURCE[0]}")/../interop/lab.sh"
: "${XFED_BUILD:?XFED_BUILD is the build directory}"
XB=$(cd "$XFED_BUILD" && pwd)
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

LAB_TIMEOUT=15
T0=$(lab_now_ms)
if ! lab_init; then
	lab_fail "http_interop" "lab_init: not root, or packages missing (see above)"
	exit 1
fi
lab_case "lab up (plain, Prosody)" lab_up plain prosody || exit 1
lab_case "user alice@p.test" lab_user p.test alice alice-pw || exit 1

XD=$LAB_DIR/xfed
mkdir -p "$XD"
HP=5280
WP=5281
cat > "$XD/xfed.conf" <<CONF
domain $LAB_X
listen $LAB_X_IP:5269
store xfed.db
control_socket xfed.sock
require_encryption no
resolver $LAB_DNS_IP
http_listen $LAB_X_IP:$HP
webhook http://127.0.0.1:$WP/hook lab-secret
webhook_backoff_max 2s
CONF
XLOG=$LAB_DIR/log/xfed.log
GOT=$LAB_DIR/out/webhook.jsonl
xctl() { "$XB/xfedctl" -c "$XD/xfed.conf" "$@"; }
TOK=$(xctl token add lab --scope write)
lab_case "token made" test -n "$TOK" || exit 1
lab_spawn recv "$LAB_PY" "$SRC/tests/sh/webhook_recv.py" $WP lab-secret "$GOT"
lab_spawn xfed "$XB/xfed" -d -c "$XD/xfed.conf"
XPID=$(cat "$LAB_DIR/pids/xfed.pid")
lab_case "xfed listens on $LAB_X_IP:5269" \
    lab_wait_port $LAB_X_IP 5269 10 "$XPID" || exit 1
lab_case "HTTP API on $LAB_X_IP:$HP" lab_wait_port $LAB_X_IP $HP 10 "$XPID" ||
    exit 1
lab_case "webhook receiver up" lab_wait_port 127.0.0.1 $WP 10 ||
    exit 1

# api METHOD PATH [JSON]: curl inside the namespace; body on stdout, the
# status on the last line.
api() {
	lab_exec curl -s -w '\n%{http_code}' -X "$1" \
	    -H "Authorization: Bearer $TOK" ${3:+-d "$3"} \
	    "http://$LAB_X_IP:$HP$2"
}
created() { api POST /v1/users '{"user":"nat","name":"Native"}' | tail -1 |
    grep -qx 201; }
lab_case "POST /v1/users nat: 201" created || exit 1

# webhook_has TYPE PY-EXPR: the receiver got a signed event of TYPE for
# which PY-EXPR (over e) holds.
webhook_has() {
	[ -s "$GOT" ] && "$LAB_PY" - "$GOT" "$1" "$2" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["type"] == sys.argv[2] and e["sig_ok"] and eval(sys.argv[3]):
        sys.exit(0)
sys.exit(1)
PY
}

REPLY="hello alice, from the native side via HTTP é 日本"
lab_client alice@p.test alice-pw --tag alice \
    "send nat@x.test hi nat, from slixmpp" \
    "wait-message nat@x.test $REPLY" \
    > "$LAB_DIR/out/client-alice" 2>&1 &
CPID=$!

lab_case "webhook: alice's message arrives signed" lab_bounded $LAB_TIMEOUT \
    webhook_has inbox 'e["data"]["body"] == "hi nat, from slixmpp" and e["data"]["from"].startswith("alice@p.test")'

sent=$(api POST /v1/users/nat/messages \
    "{\"to\":\"alice@p.test\",\"body\":\"$REPLY\"}")
ID=$(printf '%s\n' "$sent" | head -1 | "$LAB_PY" -c 'import json,sys; print(json.load(sys.stdin)["id"])' 2>/dev/null)
lab_case "POST /v1/users/nat/messages: 202 with an outbox id" \
    eval "[ \"$(printf '%s\n' "$sent" | tail -1)\" = 202 ] && [ -n \"$ID\" ]"
row_sent() { api GET "/v1/outbox/$ID" | head -1 | grep -q '"state":"sent"'; }
lab_case "GET /v1/outbox/$ID: sent" lab_bounded $LAB_TIMEOUT row_sent
wait $CPID
lab_steps "client alice@p.test" "$LAB_DIR/out/client-alice" $?
lab_case "webhook: outbox row $ID sent, signed" lab_bounded $LAB_TIMEOUT \
    webhook_has outbox "e['data']['id'] == $ID and e['state'] == 'sent'"

stop_clean() {
	local rc
	lab_kill xfed 5
	wait "$XPID" 2>/dev/null
	rc=$?
	grep -q "xfed stopped" "$XLOG" || { tail -n 20 "$XLOG"; return 1; }
}
lab_case "xfed stops cleanly on SIGTERM" stop_clean
lab_case "no sanitizer report from xfed" eval \
    "! grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' '$XLOG'"
lab_kill recv 2
echo "# http_interop: $(( $(lab_now_ms) - T0 )) ms"
