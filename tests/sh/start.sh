# tests/sh/start.sh: what xfed -t finds before a start, and that a start
# that fails leaves nothing on disk: -h/--help; certificate and key that do
# not load or do not match; a store directory that is missing; a config
# error, a certificate error, a port in use (s2s or HTTP API) and a control
# socket that cannot be bound at start: exit 1, one line naming the
# problem, no store and no control socket made (they are bound before the
# store is made; a failure after it, a bad webhook URL, removes the store
# this start made); without -f the same, from
# the parent that waits for the daemon to be ready (exit 0 only then,
# with or without syslog). Readiness for
# systemd (Type=notify): READY=1 on $NOTIFY_SOCKET (a path or "@abstract")
# once listeners, store and control socket are up; RELOADING=1 and READY=1
# around SIGHUP; STOPPING=1 at SIGTERM.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

D=$T/d
mkdir -p "$D"
mkcert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -days 30 -subj "/CN=$1" -addext "subjectAltName=DNS:$1" \
	    -keyout "$D/$2.key" -out "$D/$2.crt" 2>/dev/null
}
mkcert example.org a && mkcert example.org b
check certs_made [ -s "$D/a.crt" -a -s "$D/b.key" ]
PORT=$(free_port)
conf() {
	printf 'domain example.org\nlisten 127.0.0.1:%s\nstore %s\ncontrol_socket ./x.sock\n' \
	    "$PORT" "${STORE:-./x.db}" > "$D/xfed.conf"
	printf '%s\n' "$@" >> "$D/xfed.conf"
}
# nothing_made NAME: no store, -wal, -shm or socket in $D
nothing_made() {
	if ls "$D" | grep -Eq '^x\.(db|sock)'; then
		fail "$1" "left behind: $(ls "$D" | tr '\n' ' ')"
	else
		ok "$1"
	fi
}
# xt NAME RC ERR-REGEX: xfed -t, its exit status and a stderr match
xt() {
	"$XFED_BUILD/xfed" -t -c "$D/xfed.conf" > "$T/out" 2> "$T/err"
	rc=$?
	if [ $rc != "$2" ]; then
		fail "$1" "exit $rc, want $2: $(cat "$T/err")"
	elif [ -n "${3:-}" ] && ! grep -Eq -- "$3" "$T/err"; then
		fail "$1" "stderr does not match /$3/: $(cat "$T/err")"
	else
		ok "$1"
	fi
}

"$XFED_BUILD/xfed" -h > "$T/out" 2> "$T/err"
check help_h [ $? = 0 -a ! -s "$T/err" ] && grep -q '^usage: xfed' "$T/out"
"$XFED_BUILD/xfed" --help > "$T/out" 2> "$T/err"
check help_long [ $? = 0 -a ! -s "$T/err" ] && grep -q -- '-t ' "$T/out"

conf "tls_certificate a.crt" "tls_key a.key"
xt t_ok 0
check t_ok_says grep -q "configuration OK" "$T/out"
conf "tls_certificate missing.crt" "tls_key a.key"
xt t_cert_missing 1 "cannot load certificate .*missing.crt: No such file or directory"
check t_cert_missing_not_ok [ ! -s "$T/out" ]
conf "tls_certificate a.crt" "tls_key missing.key"
xt t_key_missing 1 "cannot load key .*missing.key: No such file or directory"
conf "tls_certificate a.crt" "tls_key b.key"
xt t_key_mismatch 1 "key does not match certificate .*a.crt"
conf "tls_domain example.org a.crt b.key"
xt t_tls_domain_mismatch 1 "key does not match"
STORE=./none/x.db conf "require_encryption no"
xt t_store_dir_missing 1 "none/x.db: cannot open: directory .*none: No such file"
nothing_made t_made_nothing

# A failed start changes nothing on disk.
conf "tls_certificate a.crt" "tls_key b.key"
"$XFED_BUILD/xfed" -f -c "$D/xfed.conf" > "$T/out" 2> "$T/err"
check start_bad_key_exit [ $? = 1 ]
check start_bad_key_says grep -q "key does not match" "$T/err"
nothing_made start_bad_key_made_nothing
conf "tls_certificate a.crt" "tls_key a.key" "unknown_key 1"
"$XFED_BUILD/xfed" -f -c "$D/xfed.conf" > "$T/out" 2> "$T/err"
check start_bad_conf_exit [ $? = 1 ]
nothing_made start_bad_conf_made_nothing
$PY -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); print("up", flush=True)
time.sleep(30)' "$PORT" > "$T/busy" &
BUSY=$!
T_PIDS="$T_PIDS $BUSY"
wait_for 10 grep -q up "$T/busy"
conf "tls_certificate a.crt" "tls_key a.key"
"$XFED_BUILD/xfed" -f -c "$D/xfed.conf" > "$T/out" 2> "$T/err"
check start_port_busy_exit [ $? = 1 ]
check start_port_busy_says grep -q "listen 127.0.0.1:$PORT: bind: Address already in use" "$T/err"
nothing_made start_port_busy_made_nothing
# the HTTP API's port busy, the control socket's directory missing: both
# are bound before the store is made
P2=$(free_port)
conf "require_encryption no"
sed -i "s/^listen .*/listen 127.0.0.1:$P2/" "$D/xfed.conf"
echo "http_listen 127.0.0.1:$PORT" >> "$D/xfed.conf"
"$XFED_BUILD/xfed" -f -c "$D/xfed.conf" > "$T/out" 2> "$T/err"
check start_http_busy_exit [ $? = 1 ]
check start_http_busy_says grep -q "HTTP API's listeners" "$T/err"
nothing_made start_http_busy_made_nothing
conf "require_encryption no"
sed -i "s|^control_socket .*|control_socket ./nodir/x.sock|; s|^listen .*|listen 127.0.0.1:$P2|" "$D/xfed.conf"
"$XFED_BUILD/xfed" -f -c "$D/xfed.conf" > "$T/out" 2> "$T/err"
check start_ctlsock_unbound_exit [ $? = 1 ]
check start_ctlsock_unbound_says grep -q "nodir/x.sock: bind: No such file or directory" "$T/err"
nothing_made start_ctlsock_unbound_made_nothing
# a failure after the store is made (a webhook URL without a host, found
# when the webhooks start): the store this start made is removed
conf "require_encryption no" "webhook http:///x"
sed -i "s/^listen .*/listen 127.0.0.1:$P2/" "$D/xfed.conf"
"$XFED_BUILD/xfed" -f -c "$D/xfed.conf" > "$T/out" 2> "$T/err"
check start_after_store_exit [ $? = 1 ]
check start_after_store_says grep -q "webhook http:///x: not a URL" "$T/err"
check start_after_store_no_store_text sh -c "grep -q 'cannot start the webhooks' '$T/err' && ! grep -q 'no error' '$T/err'"
nothing_made start_after_store_made_nothing

# Without -f the parent waits for the daemon: exit 1 with the error on its
# stderr when the start fails, 0 only once listeners, store and control
# socket are up. Without /dev/log the daemon's own stderr says why.
conf "require_encryption no"
if [ -S /dev/log ]; then
	ok daemon_nosyslog_skipped_syslog_present
else
	"$XFED_BUILD/xfed" -c "$D/xfed.conf" > "$T/out" 2> "$T/err"
	check daemon_fail_exit1 [ $? = 1 ]
	check daemon_fail_says grep -q "listen 127.0.0.1:$PORT: bind: Address already in use" "$T/err"
	nothing_made daemon_fail_made_nothing
fi
# With a syslog socket (a private /dev in a mount namespace) the daemon's
# lines go to syslog: the parent prints the error it was sent, and the
# warnings before it that name the cause.
# syslog_start CONF: xfed without -f under a private /dev/log; $T/err, $T/rc
syslog_start() {
	cat > "$T/syslog.sh" <<EOF
mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 || exit 1
$PY -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(sys.argv[1], "w").close()
while True:
    s.recv(4096)' "$T/syslog.up" &
lpid=\$!
while [ ! -e "$T/syslog.up" ]; do sleep 0.05; done
"$XFED_BUILD/xfed" -c "$1" > "$T/out" 2> "$T/err"
echo \$? > "$T/rc"
kill \$lpid
EOF
	rm -f "$T/syslog.up" "$T/rc"
	timeout 60 unshare -m sh "$T/syslog.sh"
}
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	SYSLOG=1
	syslog_start "$D/xfed.conf"
	check daemon_syslog_fail_exit1 [ "$(cat "$T/rc")" = 1 ]
	check daemon_syslog_fail_says grep -qx "xfed: listen 127.0.0.1:$PORT: bind: Address already in use" "$T/err"
	nothing_made daemon_syslog_fail_made_nothing
	# the cause, a warning, reaches the parent with the fatal line
	conf "tls_certificate missing.crt" "tls_key a.key"
	syslog_start "$D/xfed.conf"
	check daemon_syslog_cert_exit1 [ "$(cat "$T/rc")" = 1 ]
	check daemon_syslog_cert_cause grep -q "xfed: cannot load certificate .*missing.crt: No such file or directory" "$T/err"
	check daemon_syslog_cert_fatal grep -q "xfed: cannot load the TLS certificates" "$T/err"
	nothing_made daemon_syslog_cert_made_nothing
	conf "require_encryption no"
else
	SYSLOG=
	ok daemon_syslog_skipped_not_root
fi
kill "$BUSY"
wait "$BUSY" 2>/dev/null
"$XFED_BUILD/xfed" -c "$D/xfed.conf" > "$T/out" 2> "$D/daemon.log"
check daemon_ready_exit0 [ $? = 0 ]
check daemon_ready_when_exit test -S "$D/x.sock" -a -s "$D/x.db"
# another xfed on the same control socket, without -f: the parent says why
if [ -n "$SYSLOG" ]; then
	sed "s/^listen .*/listen 127.0.0.1:$P2/" "$D/xfed.conf" > "$D/two.conf"
	syslog_start "$D/two.conf"
	check daemon_syslog_running_exit1 [ "$(cat "$T/rc")" = 1 ]
	check daemon_syslog_running_cause grep -q "xfed: control_socket .*x.sock: another xfed is running" "$T/err"
fi
pid=$("$XFED_BUILD/xfedctl" -c "$D/xfed.conf" status --json | $PY -c 'import json, sys
for l in sys.stdin:
    d = json.loads(l)
    if "pid" in d: print(d["pid"])')
if [ -n "$pid" ]; then
	kill "$pid"
	check daemon_ready_stopped wait_for 10 sh -c "! kill -0 $pid 2>/dev/null"
else
	fail daemon_ready_stopped "no pid from xfedctl status: $(cat "$D/daemon.log")"
fi
# many warnings before ready (a certificate that names none of 80 domains):
# the parent reads to the ready byte, whatever came before it
if [ -n "$SYSLOG" ]; then
	conf "tls_certificate a.crt" "tls_key a.key" \
	    $(for i in $(seq 80); do printf 'domain=d%s.example ' "$i"; done)
	sed -i 's/^domain=/domain /' "$D/xfed.conf"
	syslog_start "$D/xfed.conf"
	check daemon_syslog_warnings_ready_exit0 [ "$(cat "$T/rc")" = 0 ]
	pid=$("$XFED_BUILD/xfedctl" -c "$D/xfed.conf" status --json 2>/dev/null |
	    $PY -c 'import json, sys
for l in sys.stdin:
    d = json.loads(l)
    if "pid" in d: print(d["pid"])')
	check daemon_syslog_warnings_running [ -n "$pid" ]
	[ -n "$pid" ] && kill "$pid" &&
	    wait_for 10 sh -c "! kill -0 $pid 2>/dev/null"
	rm -f "$D"/x.db* "$D/x.sock"
	conf "require_encryption no"
fi

# notify_listen SOCKET: a datagram socket that writes what it gets to
# $T/notify.log, one datagram a line
notify_listen() {
	: > "$T/notify.log"
	t_bg $PY -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
a = sys.argv[1]
s.bind("\0" + a[1:] if a[0] == "@" else a)
open(sys.argv[2] + ".up", "w").close()
while True:
    with open(sys.argv[2], "a") as f:
        f.write(s.recv(4096).decode() + "\n")' "$1" "$T/notify.log"
	wait_for 10 test -e "$T/notify.log.up"
}
for sock in "$T/notify.sock" "@xfed-test-$$"; do
	n=$([ "${sock#@}" = "$sock" ] && echo path || echo abstract)
	rm -f "$D"/x.* "$T/notify.log.up"
	notify_listen "$sock"
	NOTIFY_SOCKET=$sock t_bg "$XFED_BUILD/xfed" -f -c "$D/xfed.conf" 2> "$D/xfed.log"
	XFED_PID=$T_LASTPID
	if wait_for 20 grep -qx READY=1 "$T/notify.log"; then
		ok "notify_ready_$n"
		check "notify_ready_after_listen_$n" grep -q "listening on" "$D/xfed.log"
		check "notify_ready_after_store_$n" test -S "$D/x.sock" -a -s "$D/x.db"
	else
		fail "notify_ready_$n" "no READY=1: $(cat "$T/notify.log") $(tail -3 "$D/xfed.log")"
	fi
	kill -HUP "$XFED_PID"
	wait_for 10 sh -c "grep -x READY=1 '$T/notify.log' | sed -n 2p | grep -q ." &&
	    [ "$(sed -n 2p "$T/notify.log")" = RELOADING=1 ]
	check "notify_reload_$n" [ $? = 0 ]
	stop_xfed
	check "notify_stopping_$n" grep -qx STOPPING=1 "$T/notify.log"
done
# a control_socket path that names a regular file: refused, the file kept
rm -f "$D"/x.*
conf "require_encryption no"
printf precious > "$D/x.sock"
timeout 20 "$XFED_BUILD/xfed" -f -c "$D/xfed.conf" 2> "$T/err"
check ctlsock_file_refused [ $? = 1 ]
check ctlsock_file_named grep -q "x.sock: exists and is not a socket" "$T/err"
check ctlsock_file_kept [ "$(cat "$D/x.sock")" = precious ]
rm -f "$D"/x.*
# an http_socket path that names the store (mistyped): xfed -t says so,
# a start refuses it and the store is kept (never unlinked)
"$XFED_BUILD/xfedctl" -c "$D/xfed.conf" user add alice@example.org > "$T/out" 2>&1
check http_sock_store_made [ -s "$D/x.db" ]
conf "require_encryption no" "http_socket ./x.db"
xt http_sock_store_t 1 "http_socket .*x.db: (is the store's path|exists and is not a socket)"
cp "$D/x.db" "$T/x.db.before"
timeout 20 "$XFED_BUILD/xfed" -f -c "$D/xfed.conf" 2> "$T/err"
check http_sock_store_refused [ $? = 1 ]
check http_sock_store_named grep -q "http_socket .*x.db: exists and is not a socket" "$T/err"
check http_sock_store_kept cmp -s "$D/x.db" "$T/x.db.before"
rm -f "$D"/x.*
# before the store exists: the same path is still the store's
conf "require_encryption no" "http_socket ./x.db"
xt http_sock_store_path_t 1 "http_socket .*x.db: is the store's path"
conf "require_encryption no" "http_socket $D/x.db"
xt http_sock_store_abs_t 1 "http_socket .*x.db: is the store's path"
conf "require_encryption no" "http_socket ./x.db-wal"
xt http_sock_wal_path_t 1 "http_socket .*x.db-wal: is the store's path"
# any other file there: refused by -t and by a start, kept
printf precious > "$D/x.conf"
conf "require_encryption no" "http_socket ./x.conf"
xt http_sock_file_t 1 "http_socket .*x.conf: exists and is not a socket"
timeout 20 "$XFED_BUILD/xfed" -f -c "$D/xfed.conf" 2> "$T/err"
check http_sock_file_refused [ $? = 1 ]
check http_sock_file_kept [ "$(cat "$D/x.conf")" = precious ]
rm -f "$D"/x.*
# http_socket on the control socket's path, a webhook URL a start refuses:
# xfed -t says so
conf "require_encryption no" "http_socket ./x.sock"
xt http_sock_ctl_t 1 "http_socket .*x.sock: is the control_socket.s path"
conf "require_encryption no" "webhook http:///nohost"
xt webhook_url_t 1 "webhook http:///nohost: not an http or https URL"
conf "require_encryption no"
# a store path that is a symbolic link to nothing: refused by -t, by a
# start and by xfedctl; nothing made at the target, the link kept
mkdir -p "$T/data"
ln -s "$T/data/x.db" "$D/x.db"
DANGLING="x.db: a symbolic link to .*data/x.db, which does not exist: set store to the target"
conf "require_encryption no"
xt store_dangling_t 1 "$DANGLING"
timeout 20 "$XFED_BUILD/xfed" -f -c "$D/xfed.conf" 2> "$T/err"
check store_dangling_start_exit [ $? = 1 ]
check store_dangling_start_says grep -Eq "$DANGLING" "$T/err"
"$XFED_BUILD/xfedctl" -c "$D/xfed.conf" user add alice@example.org > "$T/out" 2> "$T/err"
check store_dangling_ctl_exit [ $? = 1 ]
check store_dangling_ctl_says grep -Eq "$DANGLING" "$T/err"
check store_dangling_link_kept [ -L "$D/x.db" ]
check store_dangling_target_untouched [ -z "$(ls "$T/data")" ]
rm -f "$D"/x.*
t_exit
