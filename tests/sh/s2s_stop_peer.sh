# tests/sh/s2s_stop_peer.sh: SIGTERM while a peer holds our outbound stream
# to the stop deadline, with rows queued for it (S2S 1.23, 1.24):
#   - silent: the peer accepts the stream and never answers db:result;
#   - noread: the peer answers db:result valid and never reads again.
# The route is forgotten before the stream is freed: xfed exits 0 under
# ASan (no use after free), says "xfed stopped" (store closed, last batch
# committed) and every row is still in the outbox, none lost.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

N=3000
for mode in silent noread; do
	PY_=$(free_port); PA=$(free_port)
	d=$T/$mode
	mkdir -p "$d"
	pair_conf_cert "$d" y.test "$PY_" p.test "$PA" "" \
	    'require_encryption no' 'inbox_quota 0' 'remote_stanza_rate 0'
	ysql() { sqlite3 -batch -cmd '.timeout 5000' "$d/xfed.db" "$@"; }
	"$XFED_BUILD/xfedctl" -c "$d/xfed.conf" user add yu > /dev/null
	t_bg $PY "$XFED_SRC/tests/sh/stoppeer.py" "$PA" "$mode" > "$d/peer.out"
	start_xfed "$d" || exit 1
	ysql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
	    WHERE i < $N) INSERT INTO outbox (user_id, to_jid, body)
	    SELECT 1, 'pu@p.test', 'r' || i || hex(zeroblob(3000)) FROM n"
	check "${mode}_held" wait_for 20 grep -q holding "$d/peer.out"
	stop_xfed; rc=$?
	echo "# $mode: exit $rc"
	check "${mode}_exit_0" [ "$rc" = 0 ]
	check "${mode}_stopped" grep -q "xfed stopped" "$d/xfed.log"
	check "${mode}_no_sanitizer" sh -c \
	    "! grep -E 'Sanitizer|runtime error' '$d/xfed.log'"
	total=$(ysql "SELECT count(*) FROM outbox WHERE state IN
	    ('queued', 'sent', 'delivered')")
	echo "# $mode: $(ysql "SELECT state || ' ' || count(*) FROM outbox
	    GROUP BY state" | tr '\n' ' ')"
	check "${mode}_rows_kept" [ "$total" = "$N" ]
done
t_exit
