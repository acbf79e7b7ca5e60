# tests/sh/store_reader.sh: a real user in the daemon's group reads a 0640
# store with xfedctl (CONTRACT.md "Access"): `status` through the control
# socket, `user show`, `inbox` without acknowledgements and `outbox` open
# the store read-only and work; a write (`user add`, `inbox --ack`) is
# refused with one line that names the real fix (store_group_write, or
# running as the daemon's user), never a chown that would lock xfed out;
# a user outside the group is told to join it. The users and the group are
# made here with useradd/groupadd and removed at exit (root only).
. "$XFED_SRC/tests/sh/lib.sh"
t_init
if [ "$(id -u)" != 0 ]; then
	ok store_reader_skipped_not_root
	exit 0
fi
chmod 755 "$T"
G=xfedg$$		# the daemon's group
S=xfeds$$		# the daemon's user
R=xfedr$$		# the native system's user, in group $G
O=xfedo$$		# another local user, not in it
drop_users() {
	userdel "$S" 2>/dev/null; userdel "$R" 2>/dev/null
	userdel "$O" 2>/dev/null; groupdel "$G" 2>/dev/null
}
trap 'drop_users; t_cleanup' EXIT
groupadd "$G" && useradd -M -N -g "$G" -s /usr/sbin/nologin "$S" &&
    useradd -M -N -G "$G" -s /usr/sbin/nologin "$R" &&
    useradd -M -N -s /usr/sbin/nologin "$O"
check users_made [ $? = 0 ]
L=$T/lib
mkdir "$L"
chown "$S:$G" "$L"
chmod 750 "$L"
PORT=$(free_port)
printf 'domain example.org\nlisten 127.0.0.1:%s\nstore %s/x.db\ncontrol_socket %s/x.sock\nrequire_encryption no\n' \
    "$PORT" "$L" "$L" > "$T/xfed.conf"
chmod 644 "$T/xfed.conf"
# as USER ARGS...: xfedctl as that user with its groups; $RC, $T/out, $T/err
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups \
	    "$XFED_BUILD/xfedctl" -c "$T/xfed.conf" "$@" > "$T/out" 2> "$T/err"
	RC=$?
}

# root makes the store of a fresh install (the directory's owner's, 0640)
"$XFED_BUILD/xfedctl" -c "$T/xfed.conf" user add alice@example.org > /dev/null
check root_add [ $? = 0 ]
"$XFED_BUILD/xfedctl" -c "$T/xfed.conf" send alice@example.org juliet@remote.example hello > /dev/null
check root_send [ $? = 0 ]
"$XFED_BUILD/xfedctl" -c "$T/xfed.conf" webhook add http://127.0.0.1:9/hook > /dev/null
check root_webhook_add [ $? = 0 ]
sqlite3 "$L/x.db" "INSERT INTO inbox (user_id, kind, from_jid, to_jid, body)
    VALUES ((SELECT id FROM users WHERE localpart = 'alice'), 'message',
    'juliet@remote.example/balcony', 'alice@example.org', 'hi alice')"
chown "$S:$G" "$L"/x.db*
t_bg setpriv --reuid="$S" --regid="$G" --init-groups \
    "$XFED_BUILD/xfed" -d -c "$T/xfed.conf" 2> "$T/xfed.log"
XFED_PID=$T_LASTPID
check xfed_started wait_for 20 grep -q "listening on" "$T/xfed.log"
wait_for 10 test -S "$L/x.sock"
got=$(stat -c '%a %U:%G' "$L/x.db" "$L/x.db-wal" "$L/x.db-shm" | sort -u)
check store_0640 [ "$got" = "640 $S:$G" ]

# the group member reads
as "$R" status
check reader_status [ $RC = 0 ] && grep -q "example.org" "$T/out"
as "$R" user show alice
check reader_user_show [ $RC = 0 -a ! -s "$T/err" ] && grep -q "alice@example.org" "$T/out"
as "$R" inbox alice
check reader_inbox [ $RC = 0 -a ! -s "$T/err" ] && grep -q "hi alice" "$T/out"
as "$R" outbox alice
check reader_outbox [ $RC = 0 -a ! -s "$T/err" ] && grep -q "juliet@remote.example" "$T/out"
as "$R" outbox --json
check reader_outbox_json [ $RC = 0 ] && grep -q hello "$T/out"
# every command that only reads opens read-only too
for c in "user list" "presence show alice" "roster alice" "events" \
    "block list" "block list alice" "token list" "webhook list"; do
	as "$R" $c
	# (events: the daemon runs without a journal reader, and says so)
	grep -v 'the events journal is off' "$T/err" > "$T/err2"
	check "reader_$(echo "$c" | tr ' ' _)" [ $RC = 0 -a ! -s "$T/err2" ]
done
as "$R" user list
check reader_user_list_says grep -q "alice@example.org" "$T/out"
as "$R" webhook list
check reader_webhook_list_says grep -q "http://127.0.0.1:9/hook managed" "$T/out"
check reader_store_unchanged [ "$(stat -c '%a %U:%G' "$L/x.db" "$L/x.db-wal" "$L/x.db-shm" | sort -u)" = "640 $S:$G" ]

# ... but does not write: the fix named is group write or the daemon's user
FIX="x.db: not writable by user $R \(owned by $S:$G, mode 0640\): run as user $S, or set store_group_write yes in xfed.conf and restart xfed \(the store becomes 0660\)$"
as "$R" user add bob@example.org
check reader_add_refused [ $RC = 1 ] && [ "$(wc -l < "$T/err")" = 1 ]
check reader_add_says grep -Eq "$FIX" "$T/err"
check reader_no_chown sh -c "! grep -q chown '$T/err'"
echo 1 | as "$R" inbox alice --ack
check reader_ack_refused [ $RC = 1 ] && grep -Eq "$FIX" "$T/err"
check reader_ack_kept [ "$(sqlite3 "$L/x.db" 'SELECT count(*) FROM inbox WHERE consumed IS NULL OR consumed = 0')" = 1 ]

# a user outside the group: not readable, join the group
as "$O" user show alice
check other_refused [ $RC = 1 ]
check other_says grep -Eq "x.db: directory .*lib is not searchable by user $O \(owned by $S:$G, mode 0750\): run as user $S, or add user $O to group $G \(adduser $O $G, then log in again\)" "$T/err"
as "$O" status
check other_no_socket [ $RC = 1 ]
stop_xfed

# -wal and -shm gone (root's sqlite3 checkpointed and removed them): the
# member cannot make -shm in the daemon's directory; told to start xfed
sqlite3 "$L/x.db" "PRAGMA wal_checkpoint(TRUNCATE)" > /dev/null
rm -f "$L/x.db-wal" "$L/x.db-shm"
as "$R" user show alice
check reader_noshm_refused [ $RC = 1 ] && [ "$(wc -l < "$T/err")" = 1 ]
check reader_noshm_says grep -Eq "x.db: directory .*lib is not writable by user $R \(owned by $S:$G, mode 0750\), and SQLite makes .*x.db-wal and -shm there: run as user $S, or start xfed once" "$T/err"
check reader_noshm_not_sqlite sh -c "! grep -q 'readonly database' '$T/err'"
check reader_noshm_made_nothing [ ! -e "$L/x.db-shm" -a ! -e "$L/x.db-wal" ]

# the store file gone but a -wal left (moved without it): reader and writer
# are told what is there, and nothing new is made beside the old journal
mv "$L/x.db" "$T/x.db.moved"
printf 'stale' > "$L/x.db-wal"
chown "$S:$G" "$L/x.db-wal"
chmod 640 "$L/x.db-wal"
ORPHAN="x.db: no such file, but .*x.db-wal is there \(the store was moved or deleted without it\): put the store file back, or remove .*x.db-wal and .*x.db-shm to start an empty store$"
as "$R" user show alice
check reader_orphan_wal_refused [ $RC = 1 ] && [ "$(wc -l < "$T/err")" = 1 ]
check reader_orphan_wal_says grep -Eq "$ORPHAN" "$T/err"
"$XFED_BUILD/xfedctl" -c "$T/xfed.conf" user list > "$T/out" 2> "$T/err"
check writer_orphan_wal_refused [ $? = 1 ] && grep -Eq "$ORPHAN" "$T/err"
check orphan_wal_made_nothing [ ! -e "$L/x.db" -a "$(cat "$L/x.db-wal")" = stale ]
t_exit
