# tests/sh/s2s_owed.sh: presence xfed owes a contact reaches it even when
# the contact's server is down at the moment it is owed (RFC 6121 4.5.2,
# 3.2.2; S2S 8.23). Two xfed processes on loopback: bob@b.localhost sees
# alice@a.localhost (alice has `from`).
#   - A stops while B is up: the unavailable reaches B and no row stays;
#   - alice goes offline, or is disabled, while B is down: the unavailable
#     is kept in `departed` until B is back;
#   - A stops while B is down: the unavailable is kept in A's `departed`
#     and sent by the next A, so bob does not keep seeing alice online;
#     a kept unavailable is void when alice is online again at start;
#   - alice is deleted while B is down: her farewell (unavailable,
#     unsubscribed) waits in `departed` until B is back, then B has it
#     and nothing is left to tell; a row older than outbound_retry_for is
#     given up;
#   - 1500 rows owed to a dead domain do not hold up one owed to bob.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

pair_init
for d in a b; do
	printf 'outbound_backoff_min 1s\nlog_level debug\n' >> "$T/$d/xfed.conf"
done
q() { sqlite3 -batch -cmd '.timeout 5000' "$1/xfed.db" "$2"; }
start_a() { start_xfed "$T/a" && PIDA=$XFED_PID; }
start_b() { start_xfed "$T/b" && PIDB=$XFED_PID; }
stop_a() { XFED_PID=$PIDA; stop_xfed; }
stop_b() { XFED_PID=$PIDB; stop_xfed; }
# alice as B has her for bob: available, unavailable, or "" (no row)
alice_on_b() {
	[ "$(q "$T/b" "SELECT show FROM remote_presence
	    WHERE bare = 'alice@a.localhost'")" = "$1" ]
}
departed_a() { [ "$(q "$T/a" "SELECT count(*) FROM departed")" = "$1" ]; }

start_a || { fail start_a "xfed A did not start"; exit 1; }
start_b || { fail start_b "xfed B did not start"; exit 1; }
actl approve alice bob@b.localhost > /dev/null
bctl subscribe bob alice@a.localhost > /dev/null
actl presence set alice available > /dev/null
check bob_sees_alice wait_for 20 alice_on_b available

# ---- xfed A stops while B is up: the unavailable is written before the
# stream ends, so no row is left (store/CONTRACT.md: a row goes once its
# stanzas are written) and the next A sends nothing again ----
stop_a
check clean_stop_told wait_for 20 alice_on_b unavailable
check clean_stop_no_row departed_a 0
check clean_stop_row_told grep -q "departed row [0-9]* told" "$T/a/xfed.log"
start_a || { fail restart_a0 "xfed A did not start"; exit 1; }
actl presence set alice available > /dev/null
check bob_sees_alice_back wait_for 20 alice_on_b available

# ---- xfed A stops while B is down ----
stop_b
stop_a
check unavailable_kept [ "$(q "$T/a" "SELECT localpart || ' ' || jid || ' ' ||
    state FROM departed")" = "alice bob@b.localhost directed" ]
actl presence set alice unavailable > /dev/null	# while A is stopped
start_b || { fail restart_b "xfed B did not start"; exit 1; }
check b_still_stale alice_on_b available
start_a || { fail restart_a "xfed A did not start"; exit 1; }
check unavailable_reached_b wait_for 20 alice_on_b unavailable
check nothing_owed_after_start wait_for 10 departed_a 0

# an owed unavailable is void once alice is online again
actl presence set alice available > /dev/null
check bob_sees_alice_again wait_for 20 alice_on_b available
stop_b
stop_a
check unavailable_kept_again departed_a 1
start_a || { fail restart_a2 "xfed A did not start"; exit 1; }
check void_when_online wait_for 10 departed_a 0
check void_logged wait_for 10 grep -q \
    "unavailable owed by alice@a.localhost to bob@b.localhost: online again" \
    "$T/a/xfed.log"
start_b || { fail restart_b2 "xfed B did not start"; exit 1; }
check bob_sees_alice_online wait_for 20 alice_on_b available

# ---- alice goes offline, then is disabled, while B is down: each
# unavailable is owed until B has it (RFC 6121 4.5.2) ----
# owed_while_down NAME OFF... ON...: OFF (a command) while B is down
# leaves a row until B is back and sees alice unavailable; ON (another)
# makes her available again
owed_while_down() {
	local name=$1
	stop_b
	actl $2 > /dev/null
	check ${name}_owed wait_for 20 departed_a 1
	start_b || { fail ${name}_restart_b "xfed B did not start"; exit 1; }
	check ${name}_reached_b wait_for 30 alice_on_b unavailable
	check ${name}_row_gone wait_for 20 departed_a 0
	actl $3 > /dev/null
	check ${name}_back_on_b wait_for 20 alice_on_b available
}
owed_while_down offline "presence set alice unavailable" \
    "presence set alice available"
owed_while_down disabled "user set alice --disable" \
    "user set alice --enable"

# ---- alice is deleted while B is down ----
stop_b
actl user del alice > /dev/null
check farewell_kept [ "$(q "$T/a" "SELECT jid || ' ' || state FROM
    departed")" = "bob@b.localhost from" ]
check farewell_tried wait_for 20 grep -q \
    "alice@a.localhost is gone: telling bob@b.localhost" "$T/a/xfed.log"
check farewell_failed wait_for 20 grep -q \
    "route a\.localhost -> b\.localhost: .*(failure [0-9]" \
    "$T/a/xfed.log"
check farewell_still_kept departed_a 1
start_b || { fail restart_b3 "xfed B did not start"; exit 1; }
unsubscribed_on_b() {
	[ "$(q "$T/b" "SELECT count(*) FROM inbox WHERE kind = 'unsubscribed'
	    AND from_jid LIKE 'alice@a.localhost%'")" -ge 1 ]
}
check farewell_reached_b wait_for 30 unsubscribed_on_b
check alice_gone_on_b wait_for 10 alice_on_b ""
check nothing_left_to_tell wait_for 10 departed_a 0

# a row older than outbound_retry_for (2d) is given up, as an outbox row
stop_a
q "$T/a" "INSERT INTO departed (localpart, domain, jid, state, created)
    VALUES ('old', 'a.localhost', 'bob@b.localhost', 'from',
    strftime('%s', 'now') - 3 * 86400)"
start_a || { fail restart_a3 "xfed A did not start"; exit 1; }
check old_farewell_given_up wait_for 10 departed_a 0
check given_up_logged grep -q \
    "gave up telling bob@b.localhost that old@a.localhost is gone" \
    "$T/a/xfed.log"

# ---- many rows owed to a dead domain hold no one else up ----
# 1500 unavailable owed by carl to dN@dead.localhost (a closed port), then
# one to bob: bob is told at once, not after the dead ones' 2 days
actl user add carl > /dev/null
actl approve carl bob@b.localhost > /dev/null
bctl subscribe bob carl@a.localhost > /dev/null
actl presence set carl available > /dev/null
carl_on_b() {
	[ "$(q "$T/b" "SELECT show FROM remote_presence
	    WHERE bare = 'carl@a.localhost'")" = "$1" ]
}
check bob_sees_carl wait_for 20 carl_on_b available
stop_b
stop_a
printf 'route dead.localhost 127.0.0.1:%s\n' "$(free_port)" >> "$T/a/xfed.conf"
q "$T/a" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
    WHERE i < 1500) INSERT INTO departed (localpart, domain, jid, state)
    SELECT 'carl', 'a.localhost', 'd' || i || '@dead.localhost', 'directed'
    FROM n"
q "$T/a" "DELETE FROM departed WHERE jid = 'bob@b.localhost'"
q "$T/a" "INSERT INTO departed (localpart, domain, jid, state)
    VALUES ('carl', 'a.localhost', 'bob@b.localhost', 'directed')"
actl presence set carl unavailable > /dev/null
start_b || { fail restart_b4 "xfed B did not start"; exit 1; }
start_a || { fail restart_a4 "xfed A did not start"; exit 1; }
check behind_dead_rows_told wait_for 30 carl_on_b unavailable
check dead_rows_kept [ "$(q "$T/a" "SELECT count(*) FROM departed
    WHERE jid LIKE '%@dead.localhost'")" = 1500 ]
check bob_row_gone wait_for 10 eval '[ "$(q "$T/a" "SELECT count(*) FROM
    departed WHERE jid = '"'"'bob@b.localhost'"'"'")" = 0 ]'

stop_b
stop_a
t_exit
