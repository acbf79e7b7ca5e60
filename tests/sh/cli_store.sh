# tests/sh/cli_store.sh: xfedctl against databases it must refuse: not a
# database, unreadable, corrupt, from a newer xfed, another program's;
# each gets one line naming the file and the problem, exit 1, and the file
# is left as it was. Also: a fresh store is created at the current version.
. "$(dirname "$0")/lib.sh"
t_init
cli_init

ctl user list
expect store_created 0
[ "$(sql 'PRAGMA user_version')" = 8 ] && [ "$(sql 'PRAGMA journal_mode')" = wal ] &&
    ok store_version_wal || fail store_version_wal "$(sql 'PRAGMA user_version')"
ctl user add romeo

refused() {	# NAME ERR-REGEX: every kind of command refuses the file
	local name=$1 err=$2 sum
	sum=$(md5sum < "$DB")
	ctl user add juliet
	expect "${name}_write" 1 '' "$err"
	ctl inbox --json
	expect "${name}_read" 1 '' "$err"
	[ "$(md5sum < "$DB")" = "$sum" ] && ok "${name}_untouched" ||
	    fail "${name}_untouched" "the file changed"
}

cp "$DB" "$T/good.db"
rm -f "$DB-wal" "$DB-shm"

printf 'not a database, just some text that is long enough\n%.0s' $(seq 100) > "$DB"
refused not_a_database "x.db: file is not a database$"

cp "$T/good.db" "$DB"
sql "PRAGMA user_version = 9"
refused newer_schema "x.db: schema version 9 is newer than this xfed's \(8\)"

rm -f "$DB" "$DB-wal" "$DB-shm"
sqlite3 "$DB" "CREATE TABLE accounts (id INTEGER)"
refused foreign_database "x.db: not an xfed store"

# A corrupt file: enough rows for several pages, then garbage over some.
# (-wal and -shm go with the file: a -wal without it is refused)
rm -f "$DB" "$DB-wal" "$DB-shm"
ctl user list
for i in $(seq 300); do echo "INSERT INTO users (localpart, domain, name) VALUES ('u$i', 'example.test', 'a name long enough to need pages $i');"; done | sql
sql "PRAGMA wal_checkpoint(TRUNCATE)" > /dev/null
$PY -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(4096 * 3)
    f.write(b"\x5a" * 4096 * 3)' "$DB"
refused corrupt "x.db: integrity check failed: .*restore a backup"

cp "$T/good.db" "$DB"
chmod 000 "$DB"
if [ "$(id -u)" != 0 ]; then
	ctl user list
	expect unreadable 1 '' "x.db: cannot open: Permission denied"
elif command -v setpriv > /dev/null; then
	# root reads anything: run it as nobody.
	chmod 755 "$T"
	chmod 644 "$CONF"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$XFED_BUILD/xfedctl" -c "$CONF" user list > "$OUT" 2> "$ERR"
	RC=$?
	expect unreadable 1 '' "x.db: cannot open: Permission denied"
	chmod 700 "$T"
else
	ok unreadable_skipped_as_root
fi
chmod 600 "$DB"

mkdir "$T/dir.db"
sed -i 's|^store .*|store ./dir.db|' "$CONF"
ctl user list
expect store_is_directory 1 '' 'dir.db: '
sed -i 's|^store .*|store ./missing/x.db|' "$CONF"
ctl user list
expect store_dir_missing 1 '' 'missing/x.db: cannot open'

# A PostgreSQL URI in a build without libpq: refused by xfedctl, xfed -t
# and xfed, saying so; the URI is not taken for a path (nothing made).
if ! grep -q '^#define HAVE_LIBPQ' "$XFED_SRC/config.h"; then
	sed -i 's|^store .*|store postgresql://xfed@127.0.0.1:1/xfed|' "$CONF"
	echo "listen 127.0.0.1:$(free_port)" >> "$CONF"
	ctl user list
	expect pg_without_libpq 1 '' ': xfed was built without PostgreSQL support$'
	"$XFED_BUILD/xfed" -t -c "$CONF" > "$OUT" 2> "$ERR"
	RC=$?
	expect pg_without_libpq_test 1 '' 'without PostgreSQL support'
	"$XFED_BUILD/xfed" -f -c "$CONF" > "$OUT" 2> "$ERR"
	RC=$?
	check pg_without_libpq_start [ "$RC" = 1 ]
	check pg_without_libpq_says grep -q 'without PostgreSQL support' "$ERR"
	check pg_uri_not_a_path [ ! -e "$T/postgresql:" ]
else
	ok pg_without_libpq_skipped
fi
t_exit
