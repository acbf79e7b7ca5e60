# tests/sh/http_api.sh: the HTTP API (issue 14) against a running xfed:
# tokens and scopes (xfedctl token), every /v1 resource and its errors
# with Python's urllib (tests/sh/http_api.py), and with curl the Unix
# socket, TLS, the rate limit, a revoked token, a client that leaves a
# long poll, and /metrics through promtool.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

PS=$(free_port)
D=$T/a
http_cert "$D"
http_conf "$D" "tls_certificate cert.pem" "tls_key key.pem" \
    "http_listen_tls 127.0.0.1:$PS" "http_socket http.sock" \
    "http_max_body 64k" "http_rate 100"
actl() { "$XFED_BUILD/xfedctl" -c "$D/xfed.conf" "$@"; }
http_tokens "$D/xfed.conf" "$T/tokens"
check tokens_made [ "$(grep -c ' xfed_' "$T/tokens")" = 3 ]
actl token add t-read > /dev/null 2> "$T/err"
check token_dup_refused grep -q "exists" "$T/err"
actl token add x --scope root > /dev/null 2> "$T/err"
check token_bad_scope [ $? = 1 ]
actl token list --json > "$T/out"
check token_list_json $PY -c 'import json,sys
n = [json.loads(l) for l in open(sys.argv[1])]
assert len(n) == 3 and all("hash" not in t for t in n)' "$T/out"
check token_hash_only [ "$(sqlite3 "$D/xfed.db" "SELECT count(*) FROM api_tokens WHERE hash GLOB '[0-9a-f]*' AND length(hash) = 64")" = 3 ]
! grep -q "$(awk '/^admin/{print $2}' "$T/tokens")" "$D/xfed.db" &&
    ok token_not_stored || fail token_not_stored "the token is in the file"

start_api "$D" && wait_for 10 grep -q "HTTP API listening on .*http.sock" \
    "$D/xfed.log" || { fail start "xfed did not start"; exit 1; }
ADMIN=$(awk '/^admin/{print $2}' "$T/tokens")
READ=$(awk '/^read/{print $2}' "$T/tokens")

$PY "$XFED_SRC/tests/sh/http_api.py" "http://127.0.0.1:$PH" "$T/tokens" \
    "$D/xfed.db" > "$T/py" 2>&1
cat "$T/py"
grep -q '^FAIL' "$T/py" && t_fails=$((t_fails + 1))

code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
check unix_socket [ "$(code --unix-socket "$D/http.sock" \
    -H "Authorization: Bearer $READ" http://x/v1/users)" = 200 ]
check tls_listener [ "$(code --cacert "$D/cert.pem" --resolve \
    "a.localhost:$PS:127.0.0.1" -H "Authorization: Bearer $READ" \
    "https://a.localhost:$PS/v1/users")" = 200 ]
check plain_on_tls_refused [ "$(code "http://127.0.0.1:$PS/v1/users")" = 000 ]

# The rate: 100 a second, bursts of 200; 600 on one connection see 429s.
urls=
for i in $(seq 600); do urls="$urls http://127.0.0.1:$PH/health/../v1/users"; done
curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $READ" \
    $urls > "$T/codes"
check rate_limited_429 grep -q 429 "$T/codes"
code -H "Authorization: Bearer $READ" "http://127.0.0.1:$PH/v1/users" > /dev/null
curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer xfed_guess" \
    $urls > "$T/codes"
check guessing_limited_429 grep -q 429 "$T/codes"
check guessing_401_first [ "$(head -1 "$T/codes")" = 401 ]
check rate_429_json $PY -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/body"

# A client that leaves a long poll: xfed carries on.
curl -s -m 1 -H "Authorization: Bearer $ADMIN" \
    "http://127.0.0.1:$PH/v1/events?after=999999&wait=30" > /dev/null
check after_abandoned_poll [ "$(code -H "Authorization: Bearer $ADMIN" \
    "http://127.0.0.1:$PH/health")" = 200 ]
check abandoned_poll_noticed wait_for 10 grep -q "long poll's client left" \
    "$D/xfed.log"

# Metrics, checked by promtool.
check metrics_200 [ "$(code -H "Authorization: Bearer $READ" \
    "http://127.0.0.1:$PH/metrics")" = 200 ]
promtool check metrics < "$T/body" > "$T/prom" 2>&1
check promtool_clean [ $? = 0 ] || sed 's/^/# /' "$T/prom"
for m in xfed_streams xfed_stanzas_total xfed_outbox_rows \
    xfed_outbox_oldest_queued_age_seconds xfed_inbox_unconsumed_rows \
    xfed_store_commit_duration_seconds_bucket xfed_store_batch_writes_count \
    xfed_store_failures_total xfed_webhook_backlog_events \
    xfed_dns_lookups_total xfed_dns_failures_total; do
	grep -q "^# TYPE ${m%_bucket}\|^${m}" "$T/body" && ok "metric_$m" ||
	    fail "metric_$m" "missing from /metrics"
done
code -H "Authorization: Bearer $READ" \
    -H "Accept: application/openmetrics-text; version=1.0.0" \
    -D "$T/headers" "http://127.0.0.1:$PH/metrics" > /dev/null
check openmetrics_eof [ "$(tail -1 "$T/body")" = "# EOF" ]
check openmetrics_type grep -qi "^content-type: application/openmetrics-text" "$T/headers"
check openmetrics_counter_family grep -q "^# TYPE xfed_stanzas counter" "$T/body"
check metrics_needs_token [ "$(code "http://127.0.0.1:$PH/metrics")" = 401 ]

# The store cannot take the write (another process holds the write lock
# past the 5 s busy timeout): 503 with a JSON error, nothing half done;
# once the lock is gone the same request works.
WRITE=$(awk '/^write/{print $2}' "$T/tokens")
t_bg $PY -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").write("locked")
time.sleep(8)
c.execute("ROLLBACK")' "$D/xfed.db" "$T/locked"
LOCKER=$T_LASTPID
wait_for 10 test -s "$T/locked"
check store_busy_503 [ "$(code -X POST -H "Authorization: Bearer $WRITE" \
    -d '{"user":"lockedout"}' "http://127.0.0.1:$PH/v1/users")" = 503 ]
check store_busy_json $PY -c 'import json,sys
assert json.load(open(sys.argv[1]))["error"] == "store"' "$T/body"
wait "$LOCKER"
check store_back_201 [ "$(code -X POST -H "Authorization: Bearer $WRITE" \
    -d '{"user":"lockedout"}' "http://127.0.0.1:$PH/v1/users")" = 201 ]

# A revoked token is refused at once.
actl token revoke t-read
check token_revoked [ $? = 0 ]
check revoked_401 [ "$(code -H "Authorization: Bearer $READ" \
    "http://127.0.0.1:$PH/v1/users")" = 401 ]
actl token revoke t-read 2> "$T/err"
check revoke_unknown_fails [ $? = 1 ]

stop_xfed
check stopped_clean [ $? = 0 ]
t_exit
