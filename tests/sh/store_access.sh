# tests/sh/store_access.sh: the access model of a safe install. The store
# and its -wal/-shm are 0640 (0660 with store_group_write yes), group of the
# daemon's user, whether xfed or xfedctl makes them; as root, a new store
# belongs to its directory's owner (the first `xfedctl user add` of an
# install); the control socket is 0660 and a member of the group reaches
# it; a store this user cannot write gets one line naming owner, mode and
# the fix, from xfed and from xfedctl, instead of SQLite's "attempt to
# write a readonly database". Users are switched with setpriv (root only).
. "$XFED_SRC/tests/sh/lib.sh"
t_init
if [ "$(id -u)" != 0 ]; then
	ok store_access_skipped_not_root
	exit 0
fi
chmod 755 "$T"
SVC=65534		# the daemon's user and group (nobody, nogroup)
APP=64999		# the native system's user, in group $SVC when allowed
L=$T/lib
mkdir "$L"
chown $SVC:$SVC "$L"
chmod 750 "$L"
PORT=$(free_port)
conf() {
	printf 'domain example.org\nlisten 127.0.0.1:%s\nstore %s/x.db\ncontrol_socket %s/x.sock\nrequire_encryption no\n' \
	    "$PORT" "$L" "$L" > "$T/xfed.conf"
	printf '%s\n' "$@" >> "$T/xfed.conf"
	chmod 644 "$T/xfed.conf"
}
as_svc() { setpriv --reuid=$SVC --regid=$SVC --clear-groups "$@"; }
as_app() { setpriv --reuid=$APP --regid=$APP --groups=$SVC "$@"; }
as_other() { setpriv --reuid=$APP --regid=$APP --clear-groups "$@"; }
# mode_is NAME FILE MODE OWNER:GROUP (numeric)
mode_is() {
	local got
	got=$(stat -c '%a %u:%g' "$2" 2>&1)
	if [ "$got" = "$3 $4" ]; then ok "$1"; else fail "$1" "$2 is $got, want $3 $4"; fi
}
ctl() { "$@" "$XFED_BUILD/xfedctl" -c "$T/xfed.conf" $ARGS > "$T/out" 2> "$T/err"; RC=$?; }
# start_svc: xfed as the daemon's user (setpriv execs it: the pid is
# xfed's), until it listens
start_svc() {
	t_bg setpriv --reuid=$SVC --regid=$SVC --clear-groups \
	    "$XFED_BUILD/xfed" -d -c "$T/xfed.conf" 2> "$T/xfed.log"
	XFED_PID=$T_LASTPID
	wait_for 20 grep -q "listening on" "$T/xfed.log"
}

# xfedctl as root makes the store of a fresh install: the directory's owner's.
conf
ARGS="user add alice@example.org" ctl
check root_ctl_add [ $RC = 0 ]
mode_is root_ctl_store_mode "$L/x.db" 640 $SVC:$SVC

# xfed as its user: -wal, -shm and the socket while it runs.
start_svc || fail xfed_start "$(cat "$T/xfed.log")"
wait_for 10 test -e "$L/x.db-wal" -a -e "$L/x.db-shm"
mode_is wal_mode "$L/x.db-wal" 640 $SVC:$SVC
mode_is shm_mode "$L/x.db-shm" 640 $SVC:$SVC
mode_is socket_mode "$L/x.sock" 660 $SVC:$SVC
# a member of the group reaches the socket, others do not
ARGS="status" ctl as_app
check group_reaches_socket [ $RC = 0 ]
ARGS="status" ctl as_other
check other_no_socket [ $RC = 1 ]
# ... but does not write the store by default: the error says what to do.
ARGS="user add bob@example.org" ctl as_app
check group_write_refused [ $RC = 1 ]
check group_write_says grep -Eq "x.db: not writable by user $APP \(owned by nobody:nogroup, mode 0640\): run as user nobody, or set store_group_write yes in xfed.conf and restart xfed \(the store becomes 0660\)$" "$T/err"
check group_write_no_chown sh -c "! grep -q chown '$T/err'"
check group_write_not_readonly_db sh -c "! grep -q readonly '$T/err'"
stop_xfed
rm -f "$L/x.sock"

# store_group_write yes: 0660 for the store (an existing one the daemon
# owns too), -wal and -shm, and the group member writes.
conf "store_group_write yes"
start_svc || fail xfed_start_gw "$(cat "$T/xfed.log")"
wait_for 10 test -e "$L/x.db-wal" -a -e "$L/x.db-shm"
mode_is gw_store_mode "$L/x.db" 660 $SVC:$SVC
mode_is gw_wal_mode "$L/x.db-wal" 660 $SVC:$SVC
mode_is gw_shm_mode "$L/x.db-shm" 660 $SVC:$SVC
ARGS="user add bob@example.org" ctl as_app
check gw_group_writes [ $RC = 0 ]
stop_xfed
rm -f "$L/x.sock"

# A store that root made elsewhere, root:root 0644, then used as the daemon.
conf
rm -f "$L"/x.db*
ARGS="user list" ctl env
chown 0:0 "$L/x.db"
chmod 644 "$L/x.db"
as_svc "$XFED_BUILD/xfed" -f -c "$T/xfed.conf" > "$T/out" 2> "$T/err"
check daemon_foreign_store_exit [ $? = 1 ]
cat "$T/err"
check daemon_foreign_store_says grep -Eq "x.db: not writable by user nobody \(owned by root:root, mode 0644\): run as user root, or chown nobody: .*x.db\*$" "$T/err"
as_svc "$XFED_BUILD/xfed" -t -c "$T/xfed.conf" > "$T/out" 2> "$T/err"
check t_foreign_store [ $? = 1 ] && grep -q "not writable by user nobody" "$T/err"
ARGS="user add carol@example.org" ctl as_svc
check ctl_foreign_store_exit [ $RC = 1 ] && [ "$(wc -l < "$T/err")" = 1 ]
check ctl_foreign_store_says grep -q "owned by root:root, mode 0644" "$T/err"
# xfed as root fixes the mode of a store it owns: 0644 -> 0640
"$XFED_BUILD/xfed" -t -c "$T/xfed.conf" > /dev/null 2>&1
ARGS="user list" ctl env
mode_is owner_fixes_mode "$L/x.db" 640 0:0

# A directory the daemon cannot write: SQLite could not make -wal/-shm.
chown $SVC:$SVC "$L/x.db"
chown 0:0 "$L"
chmod 755 "$L"
as_svc "$XFED_BUILD/xfed" -t -c "$T/xfed.conf" > "$T/out" 2> "$T/err"
check t_dir_not_writable [ $? = 1 ]
check t_dir_says grep -Eq "x.db: directory .*lib is not writable by user nobody \(owned by root:root, mode 0755\), and SQLite makes .*x.db-wal and -shm there: run as user root, or chown nobody .*lib$" "$T/err"
t_exit
