# tests/sh/store_lock.sh: one daemon per SQLite store (issue 13; store.h
# STORE_OPEN_LOCK, store/sqlite_lock.c):
#   - a second xfed on the same store file (its own port and control
#     socket) exits non-zero at start, naming the file and the first's PID;
#   - the first keeps serving, and xfedctl keeps working beside it;
#   - after kill -9 of the first, a new daemon starts (the lock died with
#     the process).
. "$XFED_SRC/tests/sh/lib.sh"
t_init

D=$T/a
D2=$T/b
mkdir -p "$D" "$D2"
conf() {	# DIR PORT
	cat > "$1/xfed.conf" <<CONF
domain a.localhost
listen 127.0.0.1:$2
store $D/xfed.db
control_socket $1/xfed.sock
require_encryption no
CONF
}
conf "$D" "$(free_port)"
conf "$D2" "$(free_port)"
actl() { "$XFED_BUILD/xfedctl" -c "$D/xfed.conf" "$@"; }
actl user add alice > /dev/null
check user_added [ $? = 0 ]

start_xfed "$D" || { fail start "xfed did not start"; exit 1; }
FIRST=$XFED_PID

# the second daemon: refused at start, with the file and the PID
timeout 20 "$XFED_BUILD/xfed" -f -c "$D2/xfed.conf" > "$T/second.out" \
    2> "$T/second.err"
rc=$?
sed 's/^/# second: /' "$T/second.err"
check second_refused [ "$rc" != 0 ] && [ "$rc" != 124 ]
check second_says_why grep -q \
    "$D/xfed.db: in use by another xfed (PID $FIRST); one daemon per store" \
    "$T/second.err"
check second_no_socket [ ! -e "$D2/xfed.sock" ]

# the first keeps serving: alive, and it notices what xfedctl changes
check first_alive kill -0 "$FIRST"
actl user add bob > /dev/null
check ctl_beside_daemon [ $? = 0 ]
check first_notices wait_for 10 grep -q "store: user bob@a.localhost changed" \
    "$D/xfed.log"
check ctl_reads_beside_daemon sh -c \
    "'$XFED_BUILD/xfedctl' -c '$D/xfed.conf' user list | grep -q bob"

# kill -9: the lock goes with the process; a new daemon starts
kill -KILL "$FIRST"
{ wait "$FIRST"; } 2> /dev/null
start_xfed "$D"
check restart_after_kill9 [ $? = 0 ]
check restarted_alive kill -0 "$XFED_PID"
stop_xfed
check clean_stop [ $? = 0 ]
t_exit
