# tests/sh/http_webhook.sh: reliable webhooks (issue 14). Messages sent
# through the HTTP API between two users of a hosted domain produce user,
# outbox and inbox events; the receiver (tests/sh/webhook_recv.py) checks
# each HMAC-SHA256 signature. It goes down, more events happen, xfed is
# restarted meanwhile, the receiver comes back: every event arrives, in
# order, at least once, signed; xfedctl status and /v1/webhooks show the
# failures and the backlog while it is down.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

PR=$(free_port)
D=$T/a
http_conf "$D" "require_encryption no" \
    "webhook http://127.0.0.1:$PR/hook s3cret" "webhook_backoff_max 2s"
actl() { "$XFED_BUILD/xfedctl" -c "$D/xfed.conf" "$@"; }
TOK=$(actl token add app --scope admin)
check token_made [ -n "$TOK" ]
GOT=$T/got
recv_start() {
	t_bg $PY "$XFED_SRC/tests/sh/webhook_recv.py" "$PR" s3cret "$GOT"
	RECV_PID=$T_LASTPID
	wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $PR))" 2>/dev/null
}
api() {	# METHOD PATH [JSON]
	curl -s -o "$T/body" -w '%{http_code}' -X "$1" \
	    -H "Authorization: Bearer $TOK" ${3:+-d "$3"} \
	    "http://127.0.0.1:$PH$2"
}
send() {	# N TEXT
	local i
	for i in $(seq "$1"); do
		[ "$(api POST /v1/users/alice/messages \
		    "{\"to\":\"bob@a.localhost\",\"body\":\"$2 $i\"}")" = 202 ] ||
		    return 1
	done
}
last_event() { sqlite3 -batch -cmd '.timeout 5000' "$D/xfed.db" \
    "SELECT coalesce(max(id), 0) FROM events"; }
# got_all: the receiver has every event up to the store's newest
got_all() {
	local n
	n=$(last_event)
	[ -s "$GOT" ] && $PY - "$GOT" "$n" <<'PY'
import json, sys
ids = {json.loads(l)["id"] for l in open(sys.argv[1])}
sys.exit(0 if set(range(1, int(sys.argv[2]) + 1)) <= ids else 1)
PY
}

recv_start
start_api "$D" || { fail start "xfed did not start"; exit 1; }
check api_users [ "$(api POST /v1/users '{"user":"alice"}')" = 201 ]
check api_users_bob [ "$(api POST /v1/users '{"user":"bob"}')" = 201 ]
check api_send_up send 3 "while up"
check delivered_while_up wait_for 20 got_all

# The receiver answers 500: the same events again, until a 2xx.
touch "$GOT.fail"
check api_send_refused send 1 "while refused"
check status_shows_500 wait_for 20 sh -c \
    "'$XFED_BUILD/xfedctl' -c '$D/xfed.conf' status | grep -q 'HTTP status 500'"
rm -f "$GOT.fail"
check delivered_after_500 wait_for 20 got_all

# The receiver goes down: attempts fail and back off.
kill "$RECV_PID"; wait "$RECV_PID" 2>/dev/null
check api_send_down send 4 "while down"
check status_shows_failures wait_for 20 sh -c \
    "'$XFED_BUILD/xfedctl' -c '$D/xfed.conf' status --json | grep -q '\"failures\":[1-9]'"
api GET /v1/webhooks > "$T/code"
check api_webhooks_backlog $PY -c 'import json,sys
w = json.load(open(sys.argv[1]))["webhooks"][0]
sys.exit(0 if w["backlog"] > 0 and w["failures"] > 0 and w["last_error"] else 1)' "$T/body"
grep -q 'webhook http://127.0.0.1:.*again in' "$D/xfed.log" &&
    ok logged_retry || fail logged_retry "no retry line in the log"

# xfed restarts while the receiver is down; more happens meanwhile.
stop_xfed
check stopped_clean [ $? = 0 ]
mv "$D/xfed.log" "$D/xfed.log.1"
start_api "$D" || { fail restart "xfed did not start again"; exit 1; }
check api_send_after_restart send 2 "after restart"

# The receiver comes back: everything arrives, in order, signed.
recv_start
check delivered_after_return wait_for 30 got_all
$PY - "$GOT" > "$T/check" <<'PY'
import json, sys
seen, order, bad = set(), [], []
for l in open(sys.argv[1]):
    e = json.loads(l)
    if not e["sig_ok"]:
        bad.append(e["id"])
    if e["id"] not in seen:
        seen.add(e["id"])
        order.append(e["id"])
print("ids", len(order), "deliveries", sum(1 for _ in open(sys.argv[1])))
if bad:
    print("bad signatures", bad); sys.exit(1)
if order != sorted(order):
    print("out of order", order); sys.exit(1)
bodies = [json.loads(l)["data"]["body"] for l in open(sys.argv[1])
          if json.loads(l)["type"] == "inbox"]
want = ["while up %d" % i for i in range(1, 4)] + ["while refused 1"] + \
    ["while down %d" % i for i in range(1, 5)] + \
    ["after restart %d" % i for i in range(1, 3)]
firsts = list(dict.fromkeys(bodies))
if firsts != want:
    print("inbox bodies", firsts); sys.exit(1)
PY
check in_order_signed_complete [ $? = 0 ]
sed 's/^/# /' "$T/check"
check status_clean wait_for 10 sh -c \
    "'$XFED_BUILD/xfedctl' -c '$D/xfed.conf' status | grep -q 'backlog 0'"

stop_xfed
check stopped_clean_2 [ $? = 0 ]
t_exit
