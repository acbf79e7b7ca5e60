# tests/sh/cli_presence.sh: xfedctl presence set and show, and the change
# journal row the running xfed reads.
. "$(dirname "$0")/lib.sh"
t_init
cli_init

ctl user add romeo
ctl presence show romeo
expect presence_unset 0 '^unavailable \(priority 0, updated -\)$'
ctl presence set romeo away gone to Mantua --priority 5
expect presence_set 0 '^romeo@example.test is away$'
[ "$(sql "SELECT show, status, priority FROM presence")" = "away|gone to Mantua|5" ] &&
    ok presence_set_stored || fail presence_set_stored "$(sql 'SELECT * FROM presence')"
[ "$(sql "SELECT count(*) FROM changes WHERE tbl = 'presence'")" = 1 ] &&
    ok presence_journaled || fail presence_journaled "$(sql 'SELECT * FROM changes')"
ctl presence show romeo
expect presence_show 0 '^away "gone to Mantua" \(priority 5'
ctl presence set romeo dnd
ctl presence show romeo --json
expect presence_show_json 0
json_ok presence_show_json_valid
[ "$(json_get 1 show)" = dnd ] && [ "$(json_get 1 status)" = null ] &&
    ok presence_json_fields || fail presence_json_fields "$(cat "$OUT")"
for s in available chat away xa dnd unavailable; do
	ctl presence set romeo $s
	[ "$RC" = 0 ] || break
done
expect presence_every_show 0

unchanged presence_bad_show 1 'invalid presence "busy"' presence set romeo busy
unchanged presence_unknown_user 1 'no user juliet@example.test' \
    presence set juliet away
unchanged presence_bad_priority 1 'invalid priority "200"' \
    presence set romeo away --priority 200
unchanged presence_bad_priority_text 1 'invalid priority' \
    presence set romeo away --priority x
unchanged presence_missing_show 2 'missing SHOW' presence set romeo
unchanged presence_missing_name 2 'missing NAME' presence set
unchanged presence_show_unknown 1 'no user juliet' presence show juliet
unchanged presence_show_extra 2 'too many arguments' presence show romeo x
t_exit
