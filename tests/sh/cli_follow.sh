# tests/sh/cli_follow.sh: xfedctl inbox --after and --ack (explicit
# acknowledgement: an entry is consumed only when its id comes back on
# stdin, so a consumer that dies gets it again), and xfedctl events, the
# journal of every event kind, with --after and --follow (issue 14).
. "$XFED_SRC/tests/sh/lib.sh"
t_init
cli_init a.localhost
ctl user add romeo
put() {	# BODY: an inbox entry for romeo, as the daemon writes it
	sql "INSERT INTO inbox (user_id, kind, from_jid, to_jid, body)
	    SELECT id, 'message', 'juliet@b.example/x', 'romeo@a.localhost', '$1'
	    FROM users WHERE localpart = 'romeo'; SELECT last_insert_rowid();"
}
I1=$(put one) I2=$(put two) I3=$(put three)

ctl inbox romeo --after "$I1"
expect inbox_after 0 "two"
grep -q one "$OUT" && fail inbox_after_excludes "entry $I1 listed" ||
    ok inbox_after_excludes
ctl inbox romeo --after x
expect inbox_after_bad 2 '' 'invalid id "x" for --after'
for bad in 99999999999999999999 12x -1 ' 5' 0x5 ''; do
	ctl inbox romeo --after "$bad"
	expect "inbox_after_bad_$bad" 2 '' "invalid id \"$bad\" for --after.*usage:"
done
ctl inbox romeo --after 9223372036854775807
expect inbox_after_max 0
ctl inbox romeo --ack --consume
expect ack_consume_usage 2 '' '--consume and --ack do not go together'

# --ack without --follow: acknowledgements until stdin ends.
echo "$I2" | "$XFED_BUILD/xfedctl" -c "$CONF" inbox romeo --ack --json \
    > "$OUT" 2> "$ERR"
RC=$?
expect ack_reads_stdin 0 '"body":"three"'
check ack_consumed_upto [ "$(sql "SELECT group_concat(body) FROM inbox
    WHERE consumed IS NOT NULL ORDER BY id")" = "one,two" ]
echo "ack nonsense" | "$XFED_BUILD/xfedctl" -c "$CONF" inbox romeo --ack \
    > "$OUT" 2> "$ERR"
RC=$?
expect ack_bad_line 1 '' 'invalid acknowledgement "ack nonsense"'
for bad in 99999999999999999999 -1 12x 3.5 0 'ack 3 4'; do
	echo "$bad" | "$XFED_BUILD/xfedctl" -c "$CONF" inbox romeo --ack \
	    > "$OUT" 2> "$ERR"
	RC=$?
	expect "ack_bad_$bad" 1 '' "invalid acknowledgement \"$bad\""
done
ctl inbox romeo --ack -1
expect ack_takes_no_value 2 '' 'usage:'
check ack_bad_line_nothing [ "$(sql "SELECT count(*) FROM inbox
    WHERE consumed IS NULL")" = 1 ]

# --follow --ack: a consumer that acknowledges some, then dies.
$PY - "$XFED_BUILD/xfedctl" "$CONF" "$DB" > "$T/follow" 2>&1 <<'PY'
import json, sqlite3, subprocess, sys, time
ctl, conf, db = sys.argv[1:4]
p = subprocess.Popen([ctl, "-c", conf, "inbox", "romeo", "--follow", "--ack",
                      "--json"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     text=True, bufsize=1)
def line():
    return json.loads(p.stdout.readline())
first = line()                        # "three", still unacknowledged
con = sqlite3.connect(db, timeout=5)
for b in ("four", "five"):
    con.execute("INSERT INTO inbox (user_id, kind, from_jid, to_jid, body) "
                "SELECT id, 'message', 'j@b.example', 'romeo@a.localhost', ? "
                "FROM users WHERE localpart = 'romeo'", (b,))
    con.commit()
four, five = line(), line()
p.stdin.write("%d\n" % four["id"])    # three and four; not five
p.stdin.flush()
deadline = time.time() + 10
while time.time() < deadline:
    n = con.execute("SELECT count(*) FROM inbox WHERE consumed IS NULL") \
        .fetchone()[0]
    if n == 1:
        break
    time.sleep(0.05)
p.kill()                              # dies before acknowledging five
p.wait()
left = [r[0] for r in con.execute("SELECT body FROM inbox WHERE consumed "
                                  "IS NULL")]
print("bodies", first["body"], four["body"], five["body"], "left", left)
sys.exit(0 if [first["body"], four["body"], five["body"]] ==
         ["three", "four", "five"] and left == ["five"] else 1)
PY
check follow_ack_partial [ $? = 0 ] || sed 's/^/# /' "$T/follow"
ctl inbox romeo --json
expect unacked_again 0 '"body":"five"'

# events: every kind, with a cursor
ctl events --json
json_ok events_json
check events_have_kinds grep -q '"type":"inbox"' "$OUT"
check events_user_created grep -q '"type":"user".*"state":"created"' "$OUT"
N=$(tail -1 "$OUT" | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])')
ctl events --after "$N"
expect events_after_empty 0
check events_after_nothing [ ! -s "$OUT" ]
"$XFED_BUILD/xfedctl" -c "$CONF" events --follow --after "$N" > "$T/ev" 2>&1 &
EVPID=$!
T_PIDS="$T_PIDS $EVPID"
ctl user add mercutio
check events_follow_sees wait_for 10 grep -q "user mercutio@a.localhost created" "$T/ev"
grep -q "romeo@a.localhost created" "$T/ev" &&
    fail events_follow_after "events before the cursor printed" ||
    ok events_follow_after
kill -TERM "$EVPID"
wait "$EVPID"
check events_follow_exit0 [ $? = 0 ]
# A cursor behind retention (pruned as events_keep does, keeping the
# newest): said on stderr, the rest printed, exit status 3 (as the API's 410).
OLD=$(sql "SELECT min(id) FROM events")
sql "DELETE FROM events WHERE id <= $OLD + 1"
ctl events --after "$OLD"
expect events_behind_retention 3 "mercutio" "events after $OLD up to $((OLD + 1)) were pruned"
ctl events --after "$((OLD + 1))"
expect events_at_retention 0 "mercutio"
ctl events --after -3
expect events_after_bad 2 '' 'invalid id "-3" for --after'
ctl events --after 99999999999999999999
expect events_after_overflow 2 '' 'invalid id "99999999999999999999" for --after'
ctl events --after 12x
expect events_after_garbage 2 '' 'invalid id "12x" for --after'
t_exit
