# tests/sh/s2s_badpeer.sh: outbound streams meeting broken peers: a header
# in the wrong namespace, bytes that are not XML, an address nothing can be
# routed to. xfed must keep running, record the stage and reason on the
# outbox row, and back off instead of reconnecting in a loop (S2S 1.28,
# 6.14; XEP-0220 2.5).
. "$XFED_SRC/tests/sh/lib.sh"
t_init

PA=$(free_port)
P1=$(free_port)
P2=$(free_port)
mkdir -p "$T/a"
cat > "$T/a/xfed.conf" <<CONF
domain a.localhost
listen 127.0.0.1:$PA
store xfed.db
control_socket xfed.sock
require_encryption no
outbound_backoff_min 5s
route client.test 127.0.0.1:$P1
route junk.test 127.0.0.1:$P2
route multicast.test 224.0.0.1:5269
CONF
actl() { "$XFED_BUILD/xfedctl" -c "$T/a/xfed.conf" "$@"; }
actl user add alice > /dev/null
HDR="<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='client.test' id='abc' version='1.0'>"
t_bg $PY "$XFED_SRC/tests/sh/fakepeer.py" "$P1" "$T/n1" "$HDR"
t_bg $PY "$XFED_SRC/tests/sh/fakepeer.py" "$P2" "$T/n2" "HTTP/1.1 400 Bad Request\r\n\r\n<!-- -->"
wait_for 5 test -s "$T/n1" && wait_for 5 test -s "$T/n2"
start_xfed "$T/a" || { fail start "xfed did not start"; exit 1; }

stage_is() {	# ID STAGE TEXT: the row is queued, retrying at that stage
	actl outbox --json | $PY -c 'import json,sys
sys.exit(0 if any(str(r["id"]) == sys.argv[1] and r["state"] == "queued" and
    r["attempts"] >= 1 and r.get("error_stage") == sys.argv[2] and
    sys.argv[3] in (r.get("last_error") or "") for r in map(json.loads, sys.stdin)) else 1)' "$@"
}
i1=$(actl send alice bob@client.test 'to a client port')
i2=$(actl send alice bob@junk.test 'to something that is not XMPP')
i3=$(actl send alice bob@multicast.test 'to nowhere')
i4=$(actl send alice carol@multicast.test 'to nowhere again')
check wrong_namespace_recorded wait_for 15 stage_is "$i1" stream "jabber:server"
check not_xml_recorded wait_for 15 stage_is "$i2" stream ""
check unroutable_recorded wait_for 15 stage_is "$i3" connect ""
check unroutable_second_recorded wait_for 15 stage_is "$i4" connect ""
# within the first backoff (5 s and more) a route is tried once, not in a loop
sleep_until=$(( $(date +%s) + 3 ))
while [ "$(date +%s)" -lt $sleep_until ]; do sleep 0.2; done
n1=$(cat "$T/n1") n2=$(cat "$T/n2")
echo "# connections in the first seconds: client.test $n1, junk.test $n2"
check wrong_namespace_backs_off [ "$n1" -le 2 ]
check not_xml_backs_off [ "$n2" -le 2 ]
check xfed_alive kill -0 "$XFED_PID"
stop_xfed; check xfed_stopped [ $? = 0 ]
check no_sanitizer_report sh -c "! grep -Eq 'AddressSanitizer|runtime error:' '$T/a/xfed.log'"
t_exit
