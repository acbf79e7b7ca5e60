# tests/sh/http_events.sh: GET /v1/events long polls (issue 14). Many
# waiting requests are answered after a commit from one store read (the
# figures go to the test log), and a reader whose cursor fell behind the
# journal's retention gets 410 with the oldest id kept instead of a silent
# gap; retention keeps what a webhook has not received.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

D=$T/a
http_conf "$D" "require_encryption no" "http_max_wait 30s"
http_tokens "$D/xfed.conf" "$T/tokens"
start_api "$D" || { fail start "xfed did not start"; exit 1; }
READ=$(awk '/^read/{print $2}' "$T/tokens")
WRITE=$(awk '/^write/{print $2}' "$T/tokens")
URL=http://127.0.0.1:$PH
code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
adduser() { code -X POST -H "Authorization: Bearer $WRITE" \
    -d "{\"user\":\"$1\"}" "$URL/v1/users"; }
metric() {	# NAME: its value in /metrics
	curl -s -H "Authorization: Bearer $READ" "$URL/metrics" |
	    awk -v m="$1" '$1 == m { print $2 }'
}
field() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$T/body" "$1"; }

check user1 [ "$(adduser romeo)" = 201 ]
code -H "Authorization: Bearer $READ" "$URL/v1/events?after=0" > /dev/null
LAST=$(field next)

# N long polls wait at the head of the journal; one commit answers all.
N=20
for i in $(seq $N); do
	t_bg curl -s -o "$T/poll.$i" -H "Authorization: Bearer $READ" \
	    "$URL/v1/events?after=$LAST&wait=25"
done
polls_waiting() { [ "$(metric xfed_http_long_polls)" = "$N" ]; }
check polls_waiting wait_for 15 polls_waiting
Q1=$(metric xfed_http_events_queries_total)
check user2 [ "$(adduser mercutio)" = 201 ]
all_answered() {
	local i
	for i in $(seq $N); do
		grep -q '"mercutio@a.localhost"' "$T/poll.$i" 2>/dev/null ||
		    return 1
	done
}
check polls_answered wait_for 15 all_answered
Q2=$(metric xfed_http_events_queries_total)
echo "# $N long polls, one commit: $((Q2 - Q1)) store reads of events" \
    "(the daemon's 1 s tick reads once for all waiters too)"
check one_read_per_commit grep -q "for $N long polls, $N answered, one store query" \
    "$D/xfed.log"
check polls_gone [ "$(metric xfed_http_long_polls)" = 0 ]

# Retention pruned events a reader had not read: 410, with where to resume.
check user3 [ "$(adduser tybalt)" = 201 ]
check user4 [ "$(adduser benvolio)" = 201 ]
OLDEST=$(sqlite3 "$D/xfed.db" "SELECT max(id) - 1 FROM events")
sqlite3 "$D/xfed.db" "DELETE FROM events WHERE id < $OLDEST"
check behind_410 [ "$(code -H "Authorization: Bearer $READ" \
    "$URL/v1/events?after=1")" = 410 ]
check behind_410_json $PY -c 'import json,sys
o = json.load(open(sys.argv[1]))
assert o["error"] == "gone" and o["oldest"] == int(sys.argv[2]), o' \
    "$T/body" "$OLDEST"
check behind_410_wait [ "$(code -H "Authorization: Bearer $READ" \
    "$URL/v1/events?after=1&wait=5")" = 410 ]
check resume_200 [ "$(code -H "Authorization: Bearer $READ" \
    "$URL/v1/events?after=$((OLDEST - 1))")" = 200 ]
check resume_has_oldest $PY -c 'import json,sys
o = json.load(open(sys.argv[1]))
assert o["events"][0]["id"] == int(sys.argv[2]), o' "$T/body" "$OLDEST"
check from_start_200 [ "$(code -H "Authorization: Bearer $READ" \
    "$URL/v1/events?after=0")" = 200 ]

stop_xfed
check stopped_clean [ $? = 0 ]

# Retention keeps what a webhook has not received: a webhook whose
# receiver is down; events before its cursor, aged past events_keep, go
# (at start, then every minute), those after it stay until delivered.
PW=$(free_port)
printf 'webhook http://127.0.0.1:%s/hook sec\nwebhook_backoff_max 1s\nevents_keep 60s\n' \
    "$PW" >> "$D/xfed.conf"
start_api "$D" || { fail restart "xfed did not start"; exit 1; }
CUR=$(sqlite3 "$D/xfed.db" "SELECT cursor FROM webhooks")
check users_undelivered [ "$(adduser capulet)" = 201 ] &&
    [ "$(adduser montague)" = 201 ]
LAST=$(sqlite3 "$D/xfed.db" "SELECT max(id) FROM events")
stop_xfed
sqlite3 "$D/xfed.db" "UPDATE events SET at = at - 7200"
start_api "$D" || { fail restart2 "xfed did not start"; exit 1; }
check delivered_pruned [ "$(sqlite3 "$D/xfed.db" "SELECT min(id) FROM events")" = $((CUR + 1)) ]
check undelivered_kept [ "$(sqlite3 "$D/xfed.db" "SELECT count(*) FROM events WHERE id > $CUR")" = $((LAST - CUR)) ]
check pruned_reader_410 [ "$(code -H "Authorization: Bearer $READ" \
    "$URL/v1/events?after=1")" = 410 ]
t_bg $PY "$XFED_SRC/tests/sh/webhook_recv.py" "$PW" sec "$T/hook"
got_all() { [ "$(grep -c '"sig_ok": true' "$T/hook" 2>/dev/null)" = $((LAST - CUR)) ]; }
check kept_delivered wait_for 30 got_all
stop_xfed
check stopped_clean2 [ $? = 0 ]
t_exit
