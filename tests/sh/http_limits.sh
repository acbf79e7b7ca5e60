# tests/sh/http_limits.sh: the HTTP API's connections (issue 14): a long
# poll whose TLS client left is noticed; caps on open connections in all
# and per client address (the next one is answered 503 in JSON as it is
# accepted, and closed at once, holding no descriptor; refusals logged once
# in 10 s); out of descriptors,
# accepting pauses and the log gets one line; a request sent too slowly,
# or none at all, is cut after http_header_timeout while a long poll is
# not; evhttp's own errors (400, 413, 417, 501) come as the API's JSON
# error body, also over TLS and on kept-alive or pipelined connections.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

PS=$(free_port)
D=$T/a
http_cert "$D"
http_conf "$D" "tls_certificate cert.pem" "tls_key key.pem" \
    "http_listen_tls 127.0.0.1:$PS" "http_max_body 2k" \
    "http_max_connections 4" "http_max_connections_per_source 2" \
    "http_header_timeout 3s" "http_max_wait 20s"
http_tokens "$D/xfed.conf" "$T/tokens"
start_api "$D" || { fail start "xfed did not start"; exit 1; }
READ=$(awk '/^read/{print $2}' "$T/tokens")
WRITE=$(awk '/^write/{print $2}' "$T/tokens")
AUTH="Authorization: Bearer $READ"
code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
tls() { curl -s -o "$T/body" -w '%{http_code}' --cacert "$D/cert.pem" \
    --resolve "a.localhost:$PS:127.0.0.1" "$@"; }
is_error() {	# CODE: $T/body is the API's JSON error with that code
	$PY -c 'import json,sys
o = json.load(open(sys.argv[1]))
assert o["error"] == sys.argv[2] and o["message"], o' "$T/body" "$1"
}
established() {	# PORT N: N connections to xfed's PORT are open
	[ "$(ss -Htn state established "( sport = :$1 )" | wc -l)" = "$2" ]
}
raw() { $PY "$XFED_SRC/tests/sh/http_limits.py" raw "$PH" \
    "$(printf '%b' "$1" | od -An -tx1 | tr -d ' \n')" > "$T/raw"; }

# A long poll over TLS whose client leaves: noticed before the poll ends.
tls -m 1 -H "$AUTH" "https://a.localhost:$PS/v1/events?after=999999&wait=20" \
    > /dev/null
check tls_poll_left_noticed wait_for 10 grep -q "long poll's client left" \
    "$D/xfed.log"
check tls_poll_conn_closed wait_for 10 established "$PS" 0

# evhttp's own errors, in JSON.
head -c 3000 /dev/zero | tr '\0' x > "$T/big"
check body_413 [ "$(code -X POST -H "Authorization: Bearer $WRITE" \
    --data-binary @"$T/big" "http://127.0.0.1:$PH/v1/users")" = 413 ]
check body_413_json is_error too_large
check tls_body_413 [ "$(tls -X POST -H "Authorization: Bearer $WRITE" \
    --data-binary @"$T/big" "https://a.localhost:$PS/v1/users")" = 413 ]
check tls_body_413_json is_error too_large
check put_405 [ "$(code -X PUT -H "$AUTH" "http://127.0.0.1:$PH/v1/users")" = 405 ]
check put_405_json is_error method_not_allowed
check trace_405 [ "$(code -X TRACE -H "$AUTH" "http://127.0.0.1:$PH/v1/users")" = 405 ]
check trace_405_json is_error method_not_allowed
check head_405 [ "$(code -I -D "$T/headers" -H "$AUTH" \
    "http://127.0.0.1:$PH/v1/users")" = 405 ]
check head_405_type grep -qi '^content-type: application/json' "$T/headers"
check head_401 [ "$(code -I -D "$T/headers" \
    "http://127.0.0.1:$PH/v1/users")" = 401 ]
check head_401_type grep -qi '^content-type: application/json' "$T/headers"
raw 'FOO /v1/users HTTP/1.1\r\nHost: x\r\n\r\n'
check unknown_method_501 grep -q '^HTTP/1.1 501 ' "$T/raw"
check unknown_method_json grep -qi '^content-type: application/json' "$T/raw"
tail -1 "$T/raw" > "$T/body"
check unknown_method_body is_error not_implemented
raw 'GET /v1/users HTTP/1.1\r\nNo colon here\r\n\r\n'
check bad_header_400 grep -q '^HTTP/1.1 400 ' "$T/raw"
tail -1 "$T/raw" > "$T/body"
check bad_header_json is_error bad_request
raw 'GET /v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 12x\r\n\r\n'
tail -1 "$T/raw" > "$T/body"
check bad_length_json is_error bad_request
# A chunked body whose chunk size is not hex: 400, not evhttp's 413; one
# whose chunks add up over http_max_body (2k) is still 413.
raw 'POST /v1/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n'
check bad_chunk_400 grep -q '^HTTP/1.1 400 ' "$T/raw"
tail -1 "$T/raw" > "$T/body"
check bad_chunk_json is_error bad_request
raw 'POST /v1/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n1000\r\n'
check big_chunk_413 grep -q '^HTTP/1.1 413 ' "$T/raw"
tail -1 "$T/raw" > "$T/body"
check big_chunk_json is_error too_large
raw 'POST /v1/users HTTP/1.1\r\nHost: x\r\nExpect: later\r\nContent-Length: 2\r\n\r\n{}'
check expect_417 grep -q '^HTTP/1.1 417 ' "$T/raw"
tail -1 "$T/raw" > "$T/body"
check expect_417_json is_error expectation_failed
# On a connection that already answered (kept alive, or pipelined), evhttp's
# errors come as JSON too, with a Content-Type; xfed stays up.
whole() { $PY "$XFED_SRC/tests/sh/http_limits.py" whole "$PH" \
    "$(printf '%b' "$1" | od -An -tx1 | tr -d ' \n')" > "$T/whole"; }
all_json() {	# N: $T/whole holds N answers, each with a JSON Content-Type
	[ "$(grep -c '^HTTP/1.1 ' "$T/whole")" = "$1" ] &&
	[ "$(grep -ci '^content-type: application/json' "$T/whole")" = "$1" ] &&
	! grep -qi '<html' "$T/whole"
}
whole 'GET /v1/users HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/users HTTP/1.1\r\nBroken header\r\n\r\n'
check pipelined_400 grep -q '^HTTP/1.1 400 ' "$T/whole"
check pipelined_json all_json 2
tail -1 "$T/whole" > "$T/body"
check pipelined_400_body is_error bad_request
whole 'GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\nFOO /v1/users HTTP/1.1\r\nHost: x\r\n\r\n'
check pipelined_501 grep -q '^HTTP/1.1 501 ' "$T/whole"
check pipelined_501_json all_json 3
for i in 1 2 3; do
	curl -s -o "$T/body.h" -H "Authorization: Bearer $WRITE" \
	    "http://127.0.0.1:$PH/health" --next -s -o "$T/body" \
	    -D "$T/headers" -X POST -H "Authorization: Bearer $WRITE" \
	    --data-binary @"$T/big" "http://127.0.0.1:$PH/v1/users"
done
check kept_alive_413 grep -q '^HTTP/1.1 413 ' "$T/headers"
check kept_alive_413_type grep -qi '^content-type: application/json' "$T/headers"
check kept_alive_413_json is_error too_large
check kept_alive_still_up [ "$(code -H "$AUTH" "http://127.0.0.1:$PH/health")" = 200 ]

# Keep-alive still works: two answers on one connection, then the health.
check keepalive_two [ "$(curl -s -o /dev/null -o /dev/null \
    -w '%{http_code}%{num_connects}\n' \
    -H "$AUTH" "http://127.0.0.1:$PH/v1/users" "http://127.0.0.1:$PH/v1/users" |
    tr -d '\n')" = 20012000 ]

# A client sending its headers a byte a second, one sending nothing: cut.
$PY "$XFED_SRC/tests/sh/http_limits.py" slow "$PH" > "$T/slow"
check slow_headers_closed grep -q '^closed after' "$T/slow"
echo "# slow client: $(cat "$T/slow") (http_header_timeout 3s)"
check slow_logged grep -q "no whole request in 3s" "$D/xfed.log"
$PY "$XFED_SRC/tests/sh/http_limits.py" idle "$PH" > "$T/idle"
check idle_closed grep -q '^closed' "$T/idle"
# Many such clients at once: one line in 10 s, not one each.
IDLE=
for src in 127.0.0.1 127.0.0.1 127.0.0.2 127.0.0.2; do
	t_bg $PY "$XFED_SRC/tests/sh/http_limits.py" idle "$PH" "$src" \
	    > /dev/null
	IDLE="$IDLE $T_LASTPID"
done
wait $IDLE
check slow_log_quiet [ "$(grep -c "no whole request" "$D/xfed.log")" -le 3 ]
# A long poll longer than the header timeout is not cut.
check long_poll_not_cut [ "$(code -H "$AUTH" \
    "http://127.0.0.1:$PH/v1/events?after=999999&wait=5")" = 200 ]

# The caps: 2 per address, 4 in all; long polls hold connections open.
poll() {	# SOURCE: a long poll from that address, in the background
	t_bg curl -s -o /dev/null --interface "$1" -H "$AUTH" \
	    "http://127.0.0.1:$PH/v1/events?after=999999&wait=15"
	POLLS="$POLLS $T_LASTPID"
}
POLLS=
poll 127.0.0.1; poll 127.0.0.1
wait_for 10 established "$PH" 2
check source_cap_503 [ "$(code --interface 127.0.0.1 -D "$T/headers" \
    -H "$AUTH" "http://127.0.0.1:$PH/v1/users")" = 503 ]
check source_cap_json is_error busy
check source_cap_close grep -qi '^connection: close' "$T/headers"
check other_source_200 [ "$(code --interface 127.0.0.2 -H "$AUTH" \
    "http://127.0.0.1:$PH/v1/users")" = 200 ]
poll 127.0.0.2; poll 127.0.0.2
wait_for 10 established "$PH" 4
check total_cap_503 [ "$(code --interface 127.0.0.3 -H "$AUTH" \
    "http://127.0.0.1:$PH/v1/users")" = 503 ]
check total_cap_json is_error busy
# /health is still answered over the caps (a liveness probe under a
# slowloris), from a reserved slot, once and closed.
check health_over_cap_200 [ "$(code --interface 127.0.0.3 -D "$T/headers" \
    "http://127.0.0.1:$PH/health")" = 200 ]
check health_over_cap_close grep -qi '^connection: close' "$T/headers"
check health_over_cap_source_200 [ "$(code --interface 127.0.0.1 \
    "http://127.0.0.1:$PH/health")" = 200 ]
check cap_logged grep -q "refusing a connection from 127.0.0.1: 2 open, 2 from there" \
    "$D/xfed.log"
# Over a cap, a connection that sends nothing is answered and closed as it
# is accepted (it holds no descriptor); the lines say so once in 10 s.
$PY "$XFED_SRC/tests/sh/http_limits.py" silent "$PH" > "$T/silent"
check silent_over_cap_503 grep -q '^HTTP/1.1 503 ' "$T/silent"
# A flood over a cap (clients that keep their ends open) holds no descriptor:
# each is answered and closed at accept.
$PY "$XFED_SRC/tests/sh/http_limits.py" overcap "$PH" "$XFED_PID" 50 > "$T/overcap"
check overcap_answered grep -q '^refused 50$' "$T/overcap"
check overcap_no_fd grep -q '^held 0$' "$T/overcap"
check cap_log_quiet [ "$(grep -c "refusing a connection" "$D/xfed.log")" -le 2 ]
for p in $POLLS; do kill "$p" 2>/dev/null; done
wait $POLLS 2>/dev/null
from3() { [ "$(code --interface 127.0.0.3 -H "$AUTH" \
    "http://127.0.0.1:$PH/v1/users")" = 200 ]; }
check caps_freed wait_for 10 from3

# Requests pipelined behind answers the client never reads: xfed stops
# reading (the client's sends block) instead of buffering them all.
$PY "$XFED_SRC/tests/sh/http_limits.py" pipeline "$PH" > "$T/pipe"
echo "# pipelining, no reads: $(tr '\n' ' ' < "$T/pipe")"
check pipeline_blocked grep -q '^blocked$' "$T/pipe"
# (xfed's memory is not measured: the sanitizers' quarantine keeps what
# the answered requests freed; the bytes it took are)
check pipeline_bounded awk '/^sent/ { exit !($2 < 32) }' "$T/pipe"
check pipeline_still_up [ "$(code "http://127.0.0.1:$PH/health")" = 200 ]

# Out of descriptors: accepting pauses (one log line, not one per
# attempt), the held clients wait in the backlog, then all is served again.
$PY "$XFED_SRC/tests/sh/http_limits.py" nofile "$PH" "$XFED_PID" 20 > "$T/nofile"
check nofile_held grep -q '^held 20' "$T/nofile"
check nofile_logged grep -q "http: accept: Too many open files" "$D/xfed.log"
check nofile_log_quiet [ "$(grep -c "http: accept:" "$D/xfed.log")" -le 2 ]
health() { [ "$(code "http://127.0.0.1:$PH/health")" = 200 ]; }
check nofile_served_again wait_for 10 health

# SIGHUP: a new cap applies without a restart.
sed -i 's/^http_max_connections_per_source 2/http_max_connections_per_source 1/' \
    "$D/xfed.conf"
kill -HUP "$XFED_PID"
wait_for 10 grep -q "config reloaded" "$D/xfed.log"
POLLS=
poll 127.0.0.1
wait_for 10 established "$PH" 1
check reloaded_cap_503 [ "$(code --interface 127.0.0.1 -H "$AUTH" \
    "http://127.0.0.1:$PH/v1/users")" = 503 ]
for p in $POLLS; do kill "$p" 2>/dev/null; done
wait $POLLS 2>/dev/null

stop_xfed
check stopped_clean [ $? = 0 ]
t_exit
