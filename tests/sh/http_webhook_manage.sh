# tests/sh/http_webhook_manage.sh: webhooks as store rows (issue 14):
# made and deleted through POST/DELETE /v1/webhooks (admin scope, with a
# secret: deliveries signed with it) and xfedctl webhook add/list/del,
# besides xfed.conf's webhook lines, which SIGHUP reloads without a
# restart. The running xfed follows each change; the errors are JSON
# (400, 403, 404, 409) and xfedctl's usage errors exit 2. A line removed
# from xfed.conf takes its row with it; its URL is then free to add. A
# line added with the URL of a row made through the API or xfedctl is
# warned about once.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

P1=$(free_port) P2=$(free_port) P3=$(free_port) P4=$(free_port)
D=$T/a
http_conf "$D" "require_encryption no" \
    "webhook http://127.0.0.1:$P1/hook one" "webhook_backoff_max 2s"
actl() { "$XFED_BUILD/xfedctl" -c "$D/xfed.conf" "$@"; }
ADMIN=$(actl token add app --scope admin)
WRITE=$(actl token add w --scope write)
recv() {	# PORT SECRET OUT
	t_bg $PY "$XFED_SRC/tests/sh/webhook_recv.py" "$1" "$2" "$3"
	wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $1))" 2>/dev/null
}
recv "$P1" one "$T/r1"; recv "$P2" two "$T/r2"
recv "$P3" three "$T/r3"; recv "$P4" four "$T/r4"
api() {	# TOKEN METHOD PATH [JSON]
	curl -s -o "$T/body" -w '%{http_code}' -X "$2" \
	    -H "Authorization: Bearer $1" ${4:+-d "$4"} \
	    "http://127.0.0.1:$PH$3"
}
is_error() { $PY -c 'import json,sys
assert json.load(open(sys.argv[1]))["error"] == sys.argv[2]' "$T/body" "$1"; }
got() {	# OUT USER: the receiver has USER's creation, signed
	grep -q "\"user\": \"$2@a.localhost\".*\"sig_ok\": true" "$1" 2>/dev/null
}
start_api "$D" || { fail start "xfed did not start"; exit 1; }

# The API: made with a secret, listed, refused without admin or twice.
check api_create_201 [ "$(api "$ADMIN" POST /v1/webhooks \
    "{\"url\":\"http://127.0.0.1:$P2/hook\",\"secret\":\"two\"}")" = 201 ]
check api_create_row $PY -c 'import json,sys
o = json.load(open(sys.argv[1]))
assert o["managed"] is True and o["signed"] is True and o["id"] > 0, o' "$T/body"
ID2=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/body")
check api_create_twice_409 [ "$(api "$ADMIN" POST /v1/webhooks \
    "{\"url\":\"http://127.0.0.1:$P2/hook\"}")" = 409 ]
check api_create_twice_json is_error exists
check api_create_write_403 [ "$(api "$WRITE" POST /v1/webhooks \
    "{\"url\":\"http://127.0.0.1:$P3/hook\"}")" = 403 ]
check api_create_bad_url_400 [ "$(api "$ADMIN" POST /v1/webhooks \
    '{"url":"ftp://x/y"}')" = 400 ]
check api_create_bad_url_json is_error bad_field
check api_create_no_body_400 [ "$(api "$ADMIN" POST /v1/webhooks)" = 400 ]
check api_create_secret_empty_400 [ "$(api "$ADMIN" POST /v1/webhooks \
    "{\"url\":\"http://127.0.0.1:$P3/hook\",\"secret\":\"\"}")" = 400 ]
check api_create_secret_empty_json is_error bad_field
check api_create_secret_empty_no_row [ "$(sqlite3 "$D/xfed.db" \
    "SELECT count(*) FROM webhooks WHERE url = 'http://127.0.0.1:$P3/hook'")" = 0 ]
check api_create_secret_type_400 [ "$(api "$ADMIN" POST /v1/webhooks \
    "{\"url\":\"http://127.0.0.1:$P3/hook\",\"secret\":5}")" = 400 ]
actl user add romeo > /dev/null
check api_webhook_delivers_signed wait_for 20 got "$T/r2" romeo
check conf_webhook_delivers wait_for 20 got "$T/r1" romeo
check api_list_200 [ "$(api "$ADMIN" GET /v1/webhooks)" = 200 ]
check api_list_both $PY -c 'import json,sys
w = {x["url"].split(":")[2]: x for x in json.load(open(sys.argv[1]))["webhooks"]}
assert w[sys.argv[2] + "/hook"]["managed"] is False, w
assert w[sys.argv[3] + "/hook"]["managed"] is True, w' "$T/body" "$P1" "$P2"

# xfedctl: add (picked up by the running xfed), list, del.
ID3=$(actl webhook add "http://127.0.0.1:$P3/hook" --secret three)
check ctl_add [ -n "$ID3" ]
check ctl_add_picked_up wait_for 15 grep -q "webhook http://127.0.0.1:$P3/hook: events after" \
    "$D/xfed.log"
actl user add juliet > /dev/null
check ctl_webhook_delivers_signed wait_for 20 got "$T/r3" juliet
actl webhook list > "$T/list"
check ctl_list_three [ "$(wc -l < "$T/list")" = 3 ]
check ctl_list_marks grep -q "^$ID3 http://127.0.0.1:$P3/hook managed signed" "$T/list"
actl webhook list --json > "$T/listj"
check ctl_list_json $PY -c 'import json,sys
assert len([json.loads(l) for l in open(sys.argv[1])]) == 3' "$T/listj"
actl webhook add "http://127.0.0.1:$P3/hook" 2> "$T/err"
check ctl_add_twice_fails [ $? = 1 ] && grep -q "exists" "$T/err"
actl webhook add "not a url" 2> "$T/err"
check ctl_add_bad_url_usage [ $? = 2 ]
actl webhook del 12x 2> "$T/err"
check ctl_del_bad_id_usage [ $? = 2 ]
actl webhook del 99999 2> "$T/err"
check ctl_del_unknown_fails [ $? = 1 ]
actl webhook del "$ID3"
check ctl_del [ $? = 0 ]
check ctl_del_picked_up wait_for 15 grep -q "webhook http://127.0.0.1:$P3/hook: removed" \
    "$D/xfed.log"
actl user add tybalt > /dev/null
check others_still_deliver wait_for 20 got "$T/r2" tybalt
grep -q tybalt "$T/r3" && fail deleted_gets_nothing "tybalt reached the deleted webhook" ||
    ok deleted_gets_nothing

# Ids are never given again (AUTOINCREMENT, schema 6): the URL made again
# gets a new id although $ID3 was the newest; a DELETE of $ID3 retried
# then removes nothing. Deleted and made again before the running xfed
# looked: it follows the new row (its cursor, its delivered count).
made3() {	# N: the P3 webhook was started N times
	[ "$(grep -c "webhook http://127.0.0.1:$P3/hook: events after" \
	    "$D/xfed.log")" = "$1" ]
}
ID5=$(actl webhook add "http://127.0.0.1:$P3/hook" --secret three)
check ids_not_reused [ "$ID5" -gt "$ID3" ]
actl webhook del "$ID3" 2> "$T/err"
check retried_del_removes_nothing [ $? = 1 ]
check retried_del_row_stays [ "$(sqlite3 "$D/xfed.db" \
    "SELECT count(*) FROM webhooks WHERE id = $ID5")" = 1 ]
wait_for 15 made3 2
actl webhook del "$ID5" && ID6=$(actl webhook add "http://127.0.0.1:$P3/hook" \
    --secret three)
check readded_new_id [ "$ID6" -gt "$ID5" ]
check readded_followed wait_for 15 made3 3
actl user add benvolio > /dev/null
check readded_delivers wait_for 20 got "$T/r3" benvolio
delivered6() { [ "$(sqlite3 "$D/xfed.db" \
    "SELECT delivered > 0 FROM webhooks WHERE id = $ID6")" = 1 ]; }
check readded_row_advances wait_for 10 delivered6
check one_row_per_url [ "$(sqlite3 "$D/xfed.db" \
    "SELECT count(*) FROM webhooks WHERE url = 'http://127.0.0.1:$P3/hook'")" = 1 ]

# The API's delete: 204, then 404; xfed.conf's row is not the API's.
ID1=$(sqlite3 "$D/xfed.db" "SELECT id FROM webhooks WHERE managed = 0")
check api_delete_conf_404 [ "$(api "$ADMIN" DELETE "/v1/webhooks/$ID1")" = 404 ]
check api_delete_bad_id_400 [ "$(api "$ADMIN" DELETE /v1/webhooks/abc)" = 400 ]
check api_delete_204 [ "$(api "$ADMIN" DELETE "/v1/webhooks/$ID2")" = 204 ]
check api_delete_again_404 [ "$(api "$ADMIN" DELETE "/v1/webhooks/$ID2")" = 404 ]
check api_delete_json is_error not_found
check api_delete_at_once grep -q "webhook http://127.0.0.1:$P2/hook: removed" "$D/xfed.log"

# xfed.conf's URL made again through the API or xfedctl: 409 / exit 1,
# naming xfed.conf, not the store's own words.
check api_create_conf_409 [ "$(api "$ADMIN" POST /v1/webhooks \
    "{\"url\":\"http://127.0.0.1:$P1/hook\"}")" = 409 ]
check api_create_conf_json is_error exists
check api_create_conf_says grep -q "webhook line of xfed.conf" "$T/body"
check api_create_conf_no_sql eval '! grep -qi "constraint\|sqlite" "$T/body"'
actl webhook add "http://127.0.0.1:$P1/hook" 2> "$T/err"
check ctl_add_conf_fails [ $? = 1 ]
check ctl_add_conf_says grep -q "webhook line of xfed.conf" "$T/err"

# SIGHUP: xfed.conf's webhooks and HTTP limits reloaded, no restart.
sed -i "s|^webhook http://127.0.0.1:$P1/hook one|webhook http://127.0.0.1:$P4/hook four|" \
    "$D/xfed.conf"
kill -HUP "$XFED_PID"
check hup_added wait_for 10 grep -q "webhook http://127.0.0.1:$P4/hook: events after" \
    "$D/xfed.log"
check hup_removed grep -q "webhook http://127.0.0.1:$P1/hook: removed" "$D/xfed.log"
actl user add mercutio > /dev/null
check hup_webhook_delivers wait_for 20 got "$T/r4" mercutio
# The line gone from xfed.conf leaves no row behind: its URL is free for
# xfedctl and the API, and is then theirs to delete.
p1rows() { sqlite3 "$D/xfed.db" \
    "SELECT count(*) FROM webhooks WHERE url = 'http://127.0.0.1:$P1/hook'"; }
check hup_row_deleted [ "$(p1rows)" = 0 ]
check hup_row_logged grep -q "webhook $ID1: its line left xfed.conf" "$D/xfed.log"
actl webhook list > "$T/list"
check hup_not_listed eval '! grep -q ":$P1/hook" "$T/list"'
ID7=$(actl webhook add "http://127.0.0.1:$P1/hook" --secret one)
check hup_url_ctl_add [ -n "$ID7" ]
check hup_url_managed grep -q "^$ID7 http://127.0.0.1:$P1/hook managed" \
    "$(actl webhook list > "$T/list"; echo "$T/list")"
check hup_url_api_delete_204 [ "$(api "$ADMIN" DELETE "/v1/webhooks/$ID7")" = 204 ]
check hup_url_gone [ "$(p1rows)" = 0 ]

# A row made through xfedctl, then the same URL as a line of xfed.conf: one
# webhook runs (one row), and a warning names the row and the two fixes,
# once, not at every reload.
ID8=$(actl webhook add "http://127.0.0.1:$P1/hook" --secret one)
check dup_row_made [ -n "$ID8" ]
echo "webhook http://127.0.0.1:$P1/hook one" >> "$D/xfed.conf"
DUP="webhook http://127.0.0.1:$P1/hook: xfed.conf's line has the URL of webhook $ID8, made through the API or xfedctl: one webhook runs, with the line's secret; remove the line, or delete the row (xfedctl webhook del $ID8)"
kill -HUP "$XFED_PID"
check dup_warned wait_for 10 grep -qF "$DUP" "$D/xfed.log"
check dup_one_row [ "$(p1rows)" = 1 ]
nrel=$(grep -c "config reloaded" "$D/xfed.log")
kill -HUP "$XFED_PID"
check dup_reloaded_again wait_for 10 sh -c "[ \$(grep -c 'config reloaded' '$D/xfed.log') -gt $nrel ]"
check dup_warned_once [ "$(grep -cF "$DUP" "$D/xfed.log")" = 1 ]

stop_xfed
check stopped_clean [ $? = 0 ]
t_exit
