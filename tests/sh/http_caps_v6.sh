# tests/sh/http_caps_v6.sh: the HTTP API's per-source connection cap counts
# IPv6 clients by their /64 (issue 14): with http_max_connections_per_source
# 1, a long poll from 2001:db8::1 makes a connection from 2001:db8::2 (same
# /64) answered 503 at once, while 2001:db8:0:1::1 (another /64) is served.
# Runs in its own user and network namespace (unshare -rn), where loopback
# takes those documentation addresses (RFC 3849).
if [ -z "${XFED_V6_NS:-}" ]; then
	if ! unshare -rn true 2>/dev/null; then
		echo "ok skipped_no_user_namespaces"
		exit 0
	fi
	XFED_V6_NS=1 exec unshare -rn bash "$0"
fi
. "$XFED_SRC/tests/sh/lib.sh"
t_init

ip link set lo up
for a in 2001:db8::1 2001:db8::2 2001:db8:0:1::1; do
	ip -6 addr add "$a/128" dev lo nodad
done
D=$T/a
http_conf "$D" "require_encryption no" \
    "http_listen [2001:db8::1]:$(free_port)" \
    "http_max_connections_per_source 1"
V6=$(awk '/^http_listen \[/ { sub(/^http_listen /, ""); print }' "$D/xfed.conf")
http_tokens "$D/xfed.conf" "$T/tokens"
start_api "$D" || { fail start "xfed did not start"; exit 1; }
READ=$(awk '/^read/{print $2}' "$T/tokens")
code() {	# SOURCE: the status of GET /v1/users from SOURCE
	curl -s -o "$T/body" -w '%{http_code}' --interface "$1" \
	    -H "Authorization: Bearer $READ" "http://$V6/v1/users"
}
established() {
	[ "$(ss -Htn state established "( sport = :${V6##*:} )" | wc -l)" = "$1" ]
}

check v6_served [ "$(code 2001:db8::1)" = 200 ]
t_bg curl -s -o /dev/null --interface 2001:db8::1 \
    -H "Authorization: Bearer $READ" \
    "http://$V6/v1/events?after=999999&wait=15"
POLL=$T_LASTPID
wait_for 10 established 1
check v6_same_64_503 [ "$(code 2001:db8::2)" = 503 ]
check v6_same_64_logged grep -q "refusing a connection from 2001:db8::/64" \
    "$D/xfed.log"
check v6_other_64_200 [ "$(code 2001:db8:0:1::1)" = 200 ]
kill "$POLL" 2>/dev/null
wait "$POLL" 2>/dev/null
stop_xfed
check stopped_clean [ $? = 0 ]
t_exit
