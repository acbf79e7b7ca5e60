# tests/sh/s2s_fanout.sh: a user's presence broadcast to contacts on many
# remote domains at once (RFC 6121 4.4.2): xfed opens one outbound stream
# per domain in parallel, each authenticated by real dialback with the
# remote's verification stream back to xfed (XEP-0220 2.1.2, S2S 4.13-4.27),
# and every change of the presence row, committed by another process,
# reaches every subscriber exactly once: cold (no stream up), warm, and
# warm again after more subscribers were added. Then 600 contacts on one
# domain: all of them wait in memory while its stream is set up, none
# dropped (they once were beyond 256 a route). The remote side is
# tests/bench/loadgen.py --exact, which parses every stanza.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

D=20		# remote domains
N=200		# subscribers, spread over them
M=500		# subscribers of the last change
P=$(free_port); AP=$(free_port)
mkdir -p "$T/x"
cat > "$T/x/xfed.conf" <<CONF
domain xfed.localhost
listen 127.0.0.1:$P
store xfed.db
control_socket xfed.sock
require_encryption no
dialback_secret 0123456789abcdef0123456789abcdef
# all the remote domains' verification streams come from 127.0.0.1
max_unauth_per_ip 0
max_pending_per_ip 0
CONF
for i in $(seq 0 $((D - 1))); do
	echo "route r$i.gen.localhost 127.0.0.1:$AP" >> "$T/x/xfed.conf"
done
"$XFED_BUILD/xfedctl" -c "$T/x/xfed.conf" user add alice > /dev/null
start_xfed "$T/x" || { fail start "xfed did not start"; exit 1; }

if timeout 120 $PY "$XFED_SRC/tests/bench/loadgen.py" presence "$N" \
    --warm-n "$M" --exact --domains "$D" --frm gen.localhost \
    --port "$P" --auth-port "$AP" --to xfed.localhost \
    --store "$T/x/xfed.db" --settle 0.5 --timeout 60 > "$T/gen.out" \
    2> "$T/gen.err"; then
	ok each_change_once_to_each_subscriber
else
	fail each_change_once_to_each_subscriber "$(cat "$T/gen.err")"
fi
# one stream per domain, each verified once by the remote
check one_stream_per_domain grep -qx "presence_streams $D" "$T/gen.out"
check out_streams_ready [ "$(grep -c "out#.*dialback verified" \
    "$T/x/xfed.log")" = "$D" ]
check broadcast_logged grep -q \
    "presence: alice@xfed.localhost is away: sent to $N contacts" \
    "$T/x/xfed.log"
check broadcast_logged_more grep -q \
    "presence: alice@xfed.localhost is xa: sent to $M contacts" \
    "$T/x/xfed.log"

stop_xfed

# one domain, 600 contacts, cold: a fresh xfed
P=$(free_port); AP=$(free_port)
mkdir -p "$T/y"
sed -e "s/^listen .*/listen 127.0.0.1:$P/" -e '/^route /d' \
    "$T/x/xfed.conf" > "$T/y/xfed.conf"
echo "route r0.gen.localhost 127.0.0.1:$AP" >> "$T/y/xfed.conf"
"$XFED_BUILD/xfedctl" -c "$T/y/xfed.conf" user add alice > /dev/null
start_xfed "$T/y" || { fail start_y "xfed did not start"; exit 1; }
if timeout 120 $PY "$XFED_SRC/tests/bench/loadgen.py" presence 600 \
    --exact --domains 1 --frm gen.localhost --port "$P" --auth-port "$AP" \
    --to xfed.localhost --store "$T/y/xfed.db" --settle 0.5 --timeout 60 \
    > "$T/gen1.out" 2> "$T/gen1.err"; then
	ok one_domain_600_contacts_cold
else
	fail one_domain_600_contacts_cold "$(cat "$T/gen1.err")"
fi
check no_queue_full sh -c "! grep -q 'queue full' '$T/y/xfed.log'"
stop_xfed
check no_sanitizer_report sh -c "! grep -Eq 'AddressSanitizer|runtime error:|LeakSanitizer' '$T/x/xfed.log' '$T/y/xfed.log'"
t_exit
