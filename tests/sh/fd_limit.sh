# tests/sh/fd_limit.sh: at start xfed warns when the open file limit
# (RLIMIT_NOFILE, here set with ulimit -n) is not above what its settings
# let in at once (max_unauth_streams, plus http_max_connections with an
# HTTP listener, plus 64 for the store, listeners and other streams), names
# the settings to change, and still starts; within the limit it says
# nothing.
. "$XFED_SRC/tests/sh/lib.sh"
t_init
D=$T/a
mkdir -p "$D"
PORT=$(free_port)
HPORT=$(free_port)
# limited NAME LIMIT [CONF-LINE...]: xfed -d under ulimit -n LIMIT until it
# is ready, then stopped; its log is $D/NAME.log
limited() {
	local name=$1 limit=$2
	shift 2
	{ printf 'domain a.localhost\nlisten 127.0.0.1:%s\nstore %s/xfed.db\ncontrol_socket %s/xfed.sock\nrequire_encryption no\n' \
	    "$PORT" "$D" "$D"; printf '%s\n' "$@"; } > "$D/xfed.conf"
	t_bg sh -c 'ulimit -n "$1" && exec "$2" -d -c "$3"' sh "$limit" \
	    "$XFED_BUILD/xfed" "$D/xfed.conf" 2> "$D/$name.log"
	XFED_PID=$T_LASTPID
	check "${name}_ready" wait_for 20 grep -q "xfed ready:" "$D/$name.log"
	stop_xfed
}
W="open file limit 1000 \(RLIMIT_NOFILE\) is not above"
limited low 1000
check low_warns grep -Eq "$W max_unauth_streams 1024 \+ 64 for the store, listeners and other streams: raise it \(LimitNOFILE= in xfed.service, ulimit -n\) above 1088, or lower max_unauth_streams$" "$D/low.log"
limited http 1000 "max_unauth_streams 100" "http_listen 127.0.0.1:$HPORT" \
    "http_max_connections 900"
check http_warns grep -Eq "$W max_unauth_streams 100 \+ http_max_connections 900 \+ 64 .* above 1064, or lower max_unauth_streams or http_max_connections$" "$D/http.log"
limited enough 1000 "max_unauth_streams 100"
check enough_silent sh -c "! grep -q 'open file limit' '$D/enough.log'"
t_exit
