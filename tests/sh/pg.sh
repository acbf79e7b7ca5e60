# tests/sh/pg.sh: a PostgreSQL 15 of the tests' own, never the system's
# service. Sourced by scenario tests (after lib.sh), or run as a command by
# unit tests and wrappers:
#   pg_start DIR       initdb in DIR/data, postgres listening only on a Unix
#                      socket in DIR (no TCP), as nobody when run as root
#                      (initdb and postgres refuse root); waits at most 30 s
#                      for it to accept connections; sets PG_URI (database
#                      xfed, user xfed, trust auth on the socket) and PG_DIR
#   pg_stop DIR        fast shutdown of the postmaster by the PID in
#                      DIR/data/postmaster.pid, at most 30 s, then SIGKILL
#   pg_psql SQL...     psql on PG_URI, unaligned, tuples only, stops on error
#   pg_restart DIR     pg_stop then start the same data directory again
#   sh tests/sh/pg.sh start DIR | stop DIR
#                      the same as a command; start prints the URI
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# pg_as CMD...: runs CMD as the data directory's owner.
pg_as() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u nobody -- "$@"
	else
		"$@"
	fi
}

pg_up() {
	local d=$1 i pid
	pg_as "$PG_BIN/pg_ctl" -D "$d/data" -l "$d/log" -s -o "-k $d" \
	    start > /dev/null 2>&1 &
	pid=$!
	for i in $(seq 1 300); do
		if "$PG_BIN/pg_isready" -q -h "$d" -p 5432 -t 1; then
			wait "$pid"
			return 0
		fi
		sleep 0.1
	done
	wait "$pid"
	echo "pg.sh: postgres in $d not ready after 30 s:" >&2
	tail -5 "$d/log" >&2
	return 1
}

pg_start() {
	local d=$1
	mkdir -p "$d" || return 1
	if [ "$(id -u)" = 0 ]; then
		chown nobody "$d" || return 1
		# nobody must reach DIR through its parents
		chmod o+x "$(dirname "$d")" 2>/dev/null
	fi
	chmod 700 "$d"
	if ! pg_as "$PG_BIN/initdb" -D "$d/data" -U xfed -A trust -E UTF8 \
	    --locale=C.UTF-8 --no-sync > "$d/initdb.log" 2>&1; then
		echo "pg.sh: initdb failed:" >&2
		tail -5 "$d/initdb.log" >&2
		return 1
	fi
	cat >> "$d/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$d'
port = 5432
fsync = off
full_page_writes = off
max_connections = 40
shared_buffers = 32MB
EOF
	pg_up "$d" || return 1
	PG_DIR=$d
	PG_URI="postgresql:///xfed?host=$d&port=5432&user=xfed"
	"$PG_BIN/psql" -X -q -h "$d" -p 5432 -U xfed -d postgres \
	    -c 'CREATE DATABASE xfed' > /dev/null || return 1
	export PG_URI PG_DIR
}

pg_stop() {
	local d=$1 pid i
	[ -f "$d/data/postmaster.pid" ] || return 0
	pid=$(head -1 "$d/data/postmaster.pid")
	[ -n "$pid" ] || return 0
	kill -INT "$pid" 2>/dev/null || return 0
	for i in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "pg.sh: postgres $pid did not stop in 30 s: SIGKILL" >&2
	kill -KILL "$pid" 2>/dev/null
	return 1
}

pg_restart() {
	pg_stop "$1" && pg_up "$1"
}

pg_psql() {
	"$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$PG_URI" "$@"
}

if [ "${0##*/}" = pg.sh ]; then
	set -u
	case "${1:-}" in
	start)	pg_start "$2" || { pg_stop "$2"; exit 1; }
		echo "$PG_URI" ;;
	stop)	pg_stop "$2" ;;
	*)	echo "usage: pg.sh start|stop DIR" >&2; exit 2 ;;
	esac
fi
