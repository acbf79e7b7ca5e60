#!/bin/bash
# tests/bench/prosody.sh BUILD-DIR OUT: tools/bench's "prosody" part. In the
# interop lab's network namespace (tests/interop/lab.sh: dnsmasq, Prosody
# 0.12 from Debian with its own data dir, plain S2S with dialback), the
# presence fan-out of tools/bench measured through Prosody: its user
# alice@p.test has BENCH_PRESENCE_N contacts (subscription 'from', written
# into Prosody's internal storage) on BENCH_DOMAINS domains r0.gen.test ...,
# whose SRV records point to loadgen.py's receiving server (the one the xfed
# figure uses, with real dialback). A client logs in over c2s and sends
# presence: cold (no S2S stream up), then a change (warm); each time is from
# the write of <presence/> to the last presence received. "key value" lines
# into OUT: prosody_* for Prosody; xfed_* for xfed (x.test) in the same
# namespace, found by the same DNS, timed from its presence row's commit.
set -eu
B=$(cd "$1" && pwd)
OUT=$2
PN=${BENCH_PRESENCE_N:-1000}
PD=${BENCH_DOMAINS:-100}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$SRC"
. tests/interop/lab.sh
lab_init || { echo "prosody bench: no lab (root? packages?)" >&2; exit 1; }
AP=5299
lab_dns "host-record=gen.test,127.0.0.1"
for i in $(seq 0 $((PD - 1))); do
	lab_dns "srv-host=_xmpp-server._tcp.r$i.gen.test,gen.test,$AP,0,0"
done
# what is measured, not what is logged: no debug log, no stanza log
lab_prosody_conf "log = { { levels = { min = \"warn\" }, to = \"file\", filename = \"$LAB_DIR/prosody/prosody.log\" } }" \
    'modules_disabled = { "stanza_debug" }' \
    'c2s_require_encryption = false' 'allow_unencrypted_plain_auth = true'
lab_up plain prosody >&2 || exit 1
lab_user p.test alice bench-pw >&2 || exit 1
# the roster, in Prosody's internal storage (util.serialization's shape)
R=$LAB_DIR/prosody/data/p%2etest/roster
mkdir -p "$R"
{
	echo 'return {'
	echo '	[false] = { ["version"] = 1; ["pending"] = {}; };'
	for i in $(seq 0 $((PN - 1))); do
		echo "	[\"c$i@r$((i % PD)).gen.test\"] = { [\"subscription\"] = \"from\"; [\"groups\"] = {}; };"
	done
	echo '};'
} > "$R/alice.dat"
chown -R prosody:prosody "$LAB_DIR/prosody/data"
PPID_=$(cat "$LAB_DIR/pids/prosody.pid")
lab_exec timeout 120 /usr/bin/python3 tests/bench/loadgen.py presence-c2s "$PN" \
    --domains "$PD" --frm gen.test --to p.test --host "$LAB_P_IP" --port 5269 \
    --c2s-port 5222 --auth-port "$AP" --user alice --password bench-pw \
    --pid "$PPID_" --settle 0.5 --timeout 60 > "$LAB_DIR/prosody.out" || {
	tail -n 20 "$LAB_DIR/prosody/prosody.log" >&2
	lab_fail "prosody bench" "loadgen presence-c2s failed"
	exit 1
}
sed 's/^presence_/prosody_presence_/' "$LAB_DIR/prosody.out" > "$OUT"
lab_kill prosody

# xfed the same way, beside it: x.test, its peers found through the same
# DNS (SRV, no `route`), the abuse limits off as in tools/bench
lab_xfed_conf "$B" "log_level warn" "inbox_quota 0" "remote_stanza_rate 0" \
    "stream_read_rate 0" "max_unauth_per_ip 0" "max_pending_per_ip 0" \
    "max_pending_per_domain 0" "max_pending_per_net 0" \
    "max_unauth_per_net 0" "verify_rate_per_domain 0" \
    "max_verify_per_target 0" \
    "dialback_secret bench-x.test-0123456789abcdef0123456789abcdef"
sed -i '/^log_level debug$/d' "$LAB_XD/xfed.conf"
lab_xctl user add alice > /dev/null
lab_spawn xfed "$B/xfed" -f -c "$LAB_XD/xfed.conf"
XPID=$(cat "$LAB_DIR/pids/xfed.pid")
lab_wait_port "$LAB_X_IP" 5269 10 "$XPID" || exit 1
lab_exec timeout 120 /usr/bin/python3 tests/bench/loadgen.py presence "$PN" \
    --domains "$PD" --frm gen.test --to x.test --host "$LAB_X_IP" --port 5269 \
    --auth-port "$AP" --store "$LAB_XD/xfed.db" --pid "$XPID" --settle 0.5 \
    --timeout 60 > "$LAB_DIR/xfed.out" || {
	tail -n 20 "$LAB_DIR/log/xfed.log" >&2
	lab_fail "prosody bench" "loadgen presence (xfed) failed"
	exit 1
}
sed 's/^presence_/xfed_presence_/' "$LAB_DIR/xfed.out" >> "$OUT"
