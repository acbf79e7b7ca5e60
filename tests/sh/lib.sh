# tests/sh/lib.sh: helpers for scenario tests, sourced by tests/sh/*.sh,
# which tests/run starts from the repo root with XFED_BUILD (the binaries)
# and XFED_SRC set. Each case prints "ok NAME" or "FAIL NAME: why".
#   t_init             a private temp dir $T, removed (and children killed)
#                      at exit
#   ok NAME, fail NAME WHY
#   wait_for SECS CMD  runs CMD every 50 ms until it succeeds; 1 when the
#                      deadline passes
#   t_bg CMD...        starts CMD in the background, remembered for cleanup
#   T_MOUNT            a mount point the test made: unmounted at exit
# For xfedctl (cli_*.sh):
#   cli_init [DOMAIN...] a config in $T (store ./x.db, control_socket
#                      ./x.sock), $CONF
#   ctl ARGS...        runs xfedctl -c $CONF; sets $RC, $OUT, $ERR (files)
#   expect NAME RC [OUT-REGEX [ERR-REGEX]]
#                      checks the last ctl: exit status, a stdout match,
#                      and for failures exactly one stderr line matching
#   unchanged NAME RC ERR-REGEX ARGS...
#                      runs ctl ARGS and also checks the database dump is
#                      the same before and after
#   json_ok NAME       every stdout line of the last ctl parses as JSON
#   sql SQL            runs SQL on the store with the sqlite3 shell

set -u
: "${XFED_BUILD:?XFED_BUILD is the build directory}"
PY=/usr/bin/python3
T_PIDS=""
t_fails=0

t_cleanup() {
	local p
	for p in $T_PIDS; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	if [ -n "${T_MOUNT:-}" ]; then
		umount -l "$T_MOUNT"
	fi
	if [ "$t_fails" != 0 ] && [ -n "${T:-}" ]; then
		echo "# kept $T"
	elif [ -n "${T:-}" ]; then
		rm -rf "$T"
	fi
}

t_init() {
	T=$(mktemp -d /tmp/xfed-sh.XXXXXX) || exit 1
	trap t_cleanup EXIT
}

ok() {
	echo "ok $1"
}

fail() {
	echo "FAIL $1: $2"
	t_fails=$((t_fails + 1))
}

wait_for() {
	local secs=$1 end
	shift
	end=$(($(date +%s%N) + secs * 1000000000))
	until "$@"; do
		[ "$(date +%s%N)" -ge "$end" ] && return 1
		sleep 0.05
	done
	return 0
}

t_bg() {
	"$@" &
	T_PIDS="$T_PIDS $!"
	T_LASTPID=$!
}

cli_init() {
	local d
	CONF=$T/x.conf
	: > "$CONF"
	for d in "${@:-example.test}"; do
		echo "domain $d" >> "$CONF"
	done
	printf 'store ./x.db\ncontrol_socket ./x.sock\nrequire_encryption no\n' >> "$CONF"
	DB=$T/x.db
	OUT=$T/out
	ERR=$T/err
}

ctl() {
	"$XFED_BUILD/xfedctl" -c "$CONF" "$@" > "$OUT" 2> "$ERR"
	RC=$?
}

expect() {
	local name=$1 rc=$2 out=${3:-} err=${4:-} n
	if [ "$RC" != "$rc" ]; then
		fail "$name" "exit $RC, want $rc; stderr: $(head -3 "$ERR")"
		return 1
	fi
	if [ -n "$out" ] && ! grep -Eq -- "$out" "$OUT"; then
		fail "$name" "stdout does not match /$out/: $(head -5 "$OUT")"
		return 1
	fi
	if [ "$rc" != 0 ]; then
		n=$(wc -l < "$ERR")
		if [ "$n" != 1 ]; then
			fail "$name" "$n lines on stderr, want 1: $(head -3 "$ERR")"
			return 1
		fi
		if [ -n "$err" ] && ! grep -Eq -- "$err" "$ERR"; then
			fail "$name" "stderr does not match /$err/: $(cat "$ERR")"
			return 1
		fi
	elif [ -s "$ERR" ]; then
		fail "$name" "unexpected stderr: $(head -3 "$ERR")"
		return 1
	fi
	ok "$name"
}

sql() {
	sqlite3 -batch "$DB" "$@"
}

unchanged() {
	local name=$1 rc=$2 err=$3
	shift 3
	sqlite3 "$DB" .dump > "$T/before.sql" 2>&1
	ctl "$@"
	sqlite3 "$DB" .dump > "$T/after.sql" 2>&1
	if ! cmp -s "$T/before.sql" "$T/after.sql"; then
		fail "$name" "the database changed: $(diff "$T/before.sql" \
		    "$T/after.sql" | head -5)"
		return 1
	fi
	expect "$name" "$rc" "" "$err"
}

json_ok() {
	if [ ! -s "$OUT" ]; then
		fail "$1" "no output"
		return 1
	fi
	if ! $PY -c 'import json, sys
for l in sys.stdin:
    json.loads(l)' < "$OUT" 2> "$T/json.err"; then
		fail "$1" "invalid JSON: $(tail -1 "$T/json.err")"
		return 1
	fi
	ok "$1"
}

# The value of a JSON field on stdout line N (1-based) of the last ctl.
json_get() {
	$PY -c 'import json, sys
lines = open(sys.argv[1]).read().splitlines()
v = json.loads(lines[int(sys.argv[2]) - 1])
for k in sys.argv[3:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print("null" if v is None else v)' "$OUT" "$@"
}

t_exit() {
	[ "$t_fails" = 0 ]
}

# For the daemon (daemon.sh, s2s_*.sh):
#   check NAME CMD...  ok when CMD succeeds, else fail
#   free_port          a TCP port nothing listens on now
#   start_xfed DIR     xfed -d -c DIR/xfed.conf in the background, log in
#                      DIR/xfed.log; waits until it listens; sets XFED_PID
#   stop_xfed          SIGTERM, then its exit status (bounded wait)
#   probe ARGS...      tests/sh/probe.py: raw bytes to a port, answer out
#   pair_conf DIR DOMAIN PORT PEER PEERPORT
#                      DIR/xfed.conf for one of two xfed on loopback: plain
#                      TCP, dialback, a route to the other (append more)
#   pair_init          $T/a (a.localhost, user alice, port $PA) and $T/b
#                      (b.localhost, user bob, port $PB) configured with
#                      pair_conf; actl and bctl run xfedctl on each
#   pair_conf_cert DIR DOMAIN PORT PEER PEERPORT CERT [LINE...]
#                      the same with TLS: CERT names $T/pki/CERT.pem and
#                      .key ("" for none); each LINE added to the config
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name" "failed: $*"; fi
}

free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_xfed() {
	local d=$1
	t_bg "$XFED_BUILD/xfed" -d -c "$d/xfed.conf" 2> "$d/xfed.log"
	XFED_PID=$T_LASTPID
	# ready: listeners bound, store open, control socket up
	if ! wait_for 20 grep -q "xfed ready:" "$d/xfed.log"; then
		sed 's/^/# /' "$d/xfed.log"
		return 1
	fi
}

stop_xfed() {
	local i
	kill -TERM "$XFED_PID" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$XFED_PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$XFED_PID"
}

pair_conf() {
	mkdir -p "$1"
	cat > "$1/xfed.conf" <<CONF
domain $2
listen 127.0.0.1:$3
store xfed.db
control_socket xfed.sock
require_encryption no
route $4 127.0.0.1:$5
CONF
}

actl() { "$XFED_BUILD/xfedctl" -c "$T/a/xfed.conf" "$@"; }
bctl() { "$XFED_BUILD/xfedctl" -c "$T/b/xfed.conf" "$@"; }

pair_init() {
	PA=$(free_port)
	PB=$(free_port)
	mkdir -p "$T/a" "$T/b"
	pair_conf "$T/a" a.localhost "$PA" b.localhost "$PB"
	pair_conf "$T/b" b.localhost "$PB" a.localhost "$PA"
	actl user add alice > /dev/null && bctl user add bob > /dev/null
	check users_added [ $? = 0 ]
}

probe() {
	$PY "$XFED_SRC/tests/sh/probe.py" "$@"
}

pair_conf_cert() {
	local d=$1 dom=$2 port=$3 peer=$4 pport=$5 cert=$6
	shift 6
	{
		printf 'domain %s\nlisten 127.0.0.1:%s\nstore xfed.db\n' "$dom" "$port"
		printf 'control_socket xfed.sock\nroute %s 127.0.0.1:%s\n' "$peer" "$pport"
		if [ -n "$cert" ]; then
			printf 'tls_certificate %s\ntls_key %s\n' \
			    "$T/pki/$cert.pem" "$T/pki/$cert.key"
		fi
		for l in "$@"; do echo "$l"; done
	} > "$d/xfed.conf"
}

# For the HTTP API (http_*.sh):
#   http_conf DIR [LINE...]  DIR/xfed.conf: a.localhost, S2S on a free port,
#                      store, control socket, http_listen on $PH (set here),
#                      no inbox_quota nor remote_stanza_rate, then each LINE
#   http_tokens CONF FILE  read, write and admin tokens into FILE, one
#                      "scope token" a line
#   start_api DIR      start_xfed, then waits for the HTTP listeners
http_conf() {
	local d=$1 l
	shift
	PH=$(free_port)
	mkdir -p "$d"
	printf 'domain a.localhost\nlisten 127.0.0.1:%s\nstore xfed.db\ncontrol_socket xfed.sock\nhttp_listen 127.0.0.1:%s\ninbox_quota 0\nremote_stanza_rate 0\n' \
	    "$(free_port)" "$PH" > "$d/xfed.conf"
	for l in "$@"; do
		echo "$l" >> "$d/xfed.conf"
	done
}

http_cert() {	# DIR: cert.pem and key.pem for a.localhost (self-signed)
	mkdir -p "$1"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1/key.pem" \
	    -out "$1/cert.pem" -days 2 -subj /CN=a.localhost \
	    -addext subjectAltName=DNS:a.localhost 2>/dev/null
}

http_tokens() {
	local s
	: > "$2"
	for s in read write admin; do
		echo "$s $("$XFED_BUILD/xfedctl" -c "$1" token add "t-$s" \
		    --scope $s)" >> "$2"
	done
}

start_api() {
	start_xfed "$1" && wait_for 10 grep -q "HTTP API listening" "$1/xfed.log"
}
