# tests/interop/lab.sh: the interop lab, a bash library sourced by scenario
# tests.  It runs real Prosody (p.test) and ejabberd (e.test) inside a private
# network namespace made for one test run, with its own DNS (dnsmasq serving
# SRV and A records for *.test) and its own certificate authority, so that
# xfed (x.test, y.test) can federate with them without touching the host.
#
# Everything the lab starts is recorded by pid and stopped by pid; the
# namespace, /etc/netns/NAME and the processes go away when the sourcing
# script exits, whatever the reason.  The run directory (configs, logs,
# data) is kept when a case failed, and its path is printed.
#
#	. tests/interop/lab.sh
#	lab_init || exit 1		# root, packages, run dir, namespace, trap
#	lab_up plain			# or tls; PKI, DNS, Prosody, ejabberd
#	lab_user p.test alice alice-pw
#	lab_case "name" lab_client alice@p.test alice-pw 'ping e.test'
#
# See tests/interop/README.md for the whole interface.

# Addresses, all on the namespace's loopback (nothing else exists there).
LAB_DNS_IP=127.0.0.53
LAB_P=p.test	LAB_P_IP=127.0.0.2	# Prosody
LAB_E=e.test	LAB_E_IP=127.0.0.3	# ejabberd
LAB_X=x.test	LAB_X_IP=127.0.0.4	# xfed
LAB_Y=y.test	LAB_Y_IP=127.0.0.5	# a second xfed
LAB_PY=/usr/bin/python3			# Debian's python, the one with slixmpp
LAB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

LAB_NS=			# namespace name, set by lab_init
LAB_DIR=		# run directory, set by lab_init
LAB_MODE=		# plain or tls, set by lab_up
LAB_TIMEOUT=${LAB_TIMEOUT:-30}	# bound in seconds for each wait
LAB_PASSED=0
LAB_FAILED=0
LAB_KEEP=${LAB_KEEP:-0}	# 1: keep the run directory even if all passed
LAB_DNS_EXTRA=()	# dnsmasq lines added by lab_dns before lab_up
LAB_PROSODY_MODULES=()	# Prosody modules added by lab_prosody_module
LAB_PROSODY_EXTRA=()	# Prosody global options added by lab_prosody_conf
LAB_STDOUT=1		# the script's own stdout and stderr, saved by lab_init
LAB_STDERR=2

lab_log() { printf 'lab: %s\n' "$*" >&2; }
lab_now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ------------------------------------------------------------ processes

# lab_alive PID: the process exists and is not a zombie.  `kill -0` is true
# for zombies, which an init that reaps late leaves around for a while.
lab_alive() {
	local st
	[ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
	st=$(sed -n 's/^.*) \([A-Za-z]\) .*$/\1/p' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# lab_in_ns PID: the process lives in our namespace.  Guards every kill
# against a pid that was reused by something else on the host.
lab_in_ns() {
	[ -n "$LAB_NS" ] && [ "$(ip netns identify "$1" 2>/dev/null)" = "$LAB_NS" ]
}

# lab_stop_pid PID NAME [SECS]: SIGTERM, bounded wait, then SIGKILL.
lab_stop_pid() {
	local pid=$1 name=$2 secs=${3:-5} end
	lab_alive "$pid" || return 0
	if ! lab_in_ns "$pid"; then
		lab_log "$name: pid $pid is not in $LAB_NS, left alone"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null
	end=$(( $(lab_now_ms) + secs * 1000 ))
	while lab_alive "$pid" && [ "$(lab_now_ms)" -lt "$end" ]; do
		sleep 0.05
	done
	lab_alive "$pid" || return 0
	lab_log "$name (pid $pid) ignored SIGTERM for ${secs}s: SIGKILL"
	kill -KILL "$pid" 2>/dev/null
	end=$(( $(lab_now_ms) + 3000 ))
	while lab_alive "$pid" && [ "$(lab_now_ms)" -lt "$end" ]; do
		sleep 0.05
	done
	! lab_alive "$pid"
}

# lab_record NAME PID: remember a process the lab started.
lab_record() { echo "$2" > "$LAB_DIR/pids/$1.pid"; }

# lab_exec CMD...: run CMD inside the namespace, with LAB_DIR and LAB_CA set.
lab_exec() {
	ip netns exec "$LAB_NS" env LAB_NS="$LAB_NS" LAB_DIR="$LAB_DIR" \
	    LAB_CA="$LAB_DIR/pki/ca.pem" "$@"
}

# lab_spawn NAME CMD...: start CMD in the background inside the namespace,
# output to $LAB_DIR/log/NAME.log, pid recorded for teardown.  This is how
# a test starts xfed.
lab_spawn() {
	local name=$1
	shift
	# exec: the recorded pid must be the command itself, not a subshell.
	(exec ip netns exec "$LAB_NS" env LAB_NS="$LAB_NS" LAB_DIR="$LAB_DIR" \
	    LAB_CA="$LAB_DIR/pki/ca.pem" "$@") </dev/null \
	    >"$LAB_DIR/log/$name.log" 2>&1 &
	lab_record "$name" $!
}

# lab_kill NAME: stop a process started by lab_spawn (or by lab_up).
lab_kill() {
	local f=$LAB_DIR/pids/$1.pid
	[ -f "$f" ] || return 0
	lab_stop_pid "$(cat "$f")" "$1" "${2:-5}" && rm -f "$f"
}

# lab_bounded SECS CMD...: CMD until it succeeds, every 50 ms, at most SECS.
lab_bounded() {
	local end=$(( $(lab_now_ms) + $1 * 1000 ))
	shift
	until "$@"; do
		[ "$(lab_now_ms)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

# lab_listening ADDR PORT: something listens on ADDR:PORT/tcp in the namespace.
lab_listening() {
	[ -n "$(ip netns exec "$LAB_NS" ss -Hltn "src $1:$2" 2>/dev/null)" ]
}

# lab_wait_port ADDR PORT [SECS] [PID]: bounded wait until ADDR:PORT listens;
# gives up at once if PID (the process expected to listen) died.
lab_wait_port() {
	local addr=$1 port=$2 secs=${3:-$LAB_TIMEOUT} pid=${4:-} end
	end=$(( $(lab_now_ms) + secs * 1000 ))
	until lab_listening "$addr" "$port"; do
		if [ -n "$pid" ] && ! lab_alive "$pid"; then
			lab_log "pid $pid died before listening on $addr:$port"
			return 1
		fi
		if [ "$(lab_now_ms)" -ge "$end" ]; then
			lab_log "nothing listens on $addr:$port after ${secs}s"
			return 1
		fi
		sleep 0.05
	done
}

# lab_wait_log FILE REGEX [SECS]: bounded wait until FILE has a line matching
# the extended REGEX.
lab_wait_log() {
	local file=$1 re=$2 secs=${3:-$LAB_TIMEOUT} end
	end=$(( $(lab_now_ms) + secs * 1000 ))
	until grep -Eq -- "$re" "$file" 2>/dev/null; do
		if [ "$(lab_now_ms)" -ge "$end" ]; then
			lab_log "no /$re/ in $file after ${secs}s"
			return 1
		fi
		sleep 0.05
	done
}

# ------------------------------------------------------------ set up

# lab_init: checks root and the tools, makes the run directory and the
# namespace, and arranges for lab_teardown to run on exit.  On failure it
# prints why and returns 1 (the caller reports FAIL).
lab_init() {
	local c missing=
	if [ "$(id -u)" != 0 ]; then
		lab_log "must run as root (network namespaces); CI runs as root"
		return 1
	fi
	for c in ip ss setpriv openssl dnsmasq prosody prosodyctl ejabberdctl \
	    od timeout; do
		command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
	done
	"$LAB_PY" -c 'import slixmpp' 2>/dev/null || missing="$missing slixmpp($LAB_PY)"
	id prosody >/dev/null 2>&1 || missing="$missing user:prosody"
	id ejabberd >/dev/null 2>&1 || missing="$missing user:ejabberd"
	if [ -n "$missing" ]; then
		lab_log "missing:$missing (run tools/deps check as root)"
		return 1
	fi

	LAB_NS=xfedt-$$
	# The servers run as their own users and must reach the directory, so
	# it lives in /tmp (world-searchable) whatever TMPDIR says.
	LAB_DIR=$(mktemp -d /tmp/xfedt.XXXXXX) || return 1
	chmod 755 "$LAB_DIR"
	mkdir -p "$LAB_DIR/pids" "$LAB_DIR/log" "$LAB_DIR/out"
	# The traps may fire while a case's output is redirected to a file;
	# keep the script's own stdout/stderr for what teardown has to say.
	exec {LAB_STDOUT}>&1 {LAB_STDERR}>&2
	trap _lab_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	if ip netns list | awk '{ print $1 }' | grep -qx "$LAB_NS"; then
		lab_log "namespace $LAB_NS exists already (left by a dead run?)"
		LAB_NS=
		return 1
	fi
	ip netns add "$LAB_NS" || { LAB_NS=; return 1; }
	ip netns exec "$LAB_NS" ip link set lo up || return 1
	# `ip netns exec` bind-mounts these over /etc/resolv.conf and /etc/hosts,
	# so every resolver in the namespace asks the lab's dnsmasq.
	mkdir -p "/etc/netns/$LAB_NS"
	printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$LAB_DNS_IP" \
	    > "/etc/netns/$LAB_NS/resolv.conf"
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' \
	    > "/etc/netns/$LAB_NS/hosts"
}

# lab_dns LINE...: extra dnsmasq configuration lines, e.g.
# 'srv-host=_xmpp-server._tcp.z.test,x.test,5269,0,0'.  Call before lab_up.
lab_dns() { LAB_DNS_EXTRA+=("$@"); }
# lab_prosody_module NAME...: Prosody loads these modules too (before lab_up)
lab_prosody_module() { LAB_PROSODY_MODULES+=("$@"); }
# lab_prosody_conf LINE...: global Prosody options after the lab's own,
# which they override (before lab_up)
lab_prosody_conf() { LAB_PROSODY_EXTRA+=("$@"); }

# _lab_cert DIR NAME CA SAN... [-- openssl-ca options]: key + certificate
# NAME.key/NAME.crt signed by CA (CA.pem/CA.key in DIR); "self" as CA makes
# a self-signed one.  Validity dates need `openssl ca` (OpenSSL 3.0's x509
# has no option for notBefore), which is used for every certificate.
_lab_cert() {
	local dir=$1 name=$2 ca=$3 san= d
	shift 3
	local dates=()
	while [ $# -gt 0 ]; do
		case "$1" in
		--dates) dates=(-startdate "$2" -enddate "$3"); shift 3; continue ;;
		esac
		san="${san:+$san,}DNS:$1"
		shift
	done
	[ ${#dates[@]} -gt 0 ] || dates=(-days 30)
	(
	cd "$dir" || exit 1
	printf '%s\n' "basicConstraints=critical,CA:false" \
	    "keyUsage=critical,digitalSignature" \
	    "extendedKeyUsage=serverAuth,clientAuth" \
	    "subjectAltName=$san" > "$name.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=${san%%,*}" \
	    2>/dev/null || exit 1
	d=$name.ca
	mkdir -p "$d" && : > "$d/index" && echo 01 > "$d/serial"
	printf '%s\n' '[ca]' 'default_ca = lab' '[lab]' "database = $d/index" \
	    "new_certs_dir = $d" "serial = $d/serial" 'default_md = sha256' \
	    'policy = any' 'unique_subject = no' '[any]' 'commonName = supplied' \
	    > "$d/conf"
	if [ "$ca" = self ]; then
		openssl ca -batch -config "$d/conf" -selfsign -keyfile "$name.key" \
		    -in "$name.csr" -out "$name.crt" -extfile "$name.ext" -notext \
		    "${dates[@]}" 2>"$d/err" || { cat "$d/err" >&2; exit 1; }
	else
		openssl ca -batch -config "$d/conf" -cert "$ca.pem" \
		    -keyfile "$ca.key" -in "$name.csr" -out "$name.crt" \
		    -extfile "$name.ext" -notext "${dates[@]}" 2>"$d/err" ||
		    { cat "$d/err" >&2; exit 1; }
	fi
	rm -rf "$d" "$name.csr" "$name.ext"
	)
}

_lab_ca() {	# _lab_ca DIR NAME CN
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$1/$2.key" -out "$1/$2.pem" -days 30 -sha256 \
	    -subj "/CN=$3" -addext "basicConstraints=critical,CA:true" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# lab_pki: the lab CA and every certificate, in $LAB_DIR/pki:
#   ca.pem                       the CA all servers trust
#   D.crt D.key                  D in p.test e.test x.test y.test (SAN D)
#   e.test.pem                   ejabberd wants certificate + key in one file
#   bad/untrusted-ca.pem         a CA nobody trusts, and from it:
#   bad/untrusted.crt/.key       x.test
#   bad/wrongname.crt/.key       lab CA, but for wrong.test (used as x.test)
#   bad/expired.crt/.key         lab CA, x.test, expired in 2020
#   bad/selfsigned.crt/.key      x.test, self-signed
lab_pki() {
	local p=$LAB_DIR/pki d
	mkdir -p "$p/bad"
	_lab_ca "$p" ca "xfed interop test CA" || return 1
	for d in $LAB_P $LAB_E $LAB_X $LAB_Y; do
		_lab_cert "$p" "$d" ca "$d" || return 1
	done
	cat "$p/$LAB_E.crt" "$p/$LAB_E.key" > "$p/$LAB_E.pem"
	_lab_ca "$p/bad" untrusted-ca "untrusted test CA" || return 1
	_lab_cert "$p/bad" untrusted untrusted-ca $LAB_X || return 1
	_lab_cert "$p" wrongname ca wrong.test || return 1
	_lab_cert "$p" expired ca $LAB_X \
	    --dates 20200101000000Z 20200201000000Z || return 1
	mv "$p/wrongname.crt" "$p/wrongname.key" "$p/expired.crt" \
	    "$p/expired.key" "$p/bad/"
	_lab_cert "$p/bad" selfsigned self $LAB_X || return 1
	chmod 755 "$p" "$p/bad"
	chmod 644 "$p"/*.crt "$p"/*.pem "$p"/bad/*.crt "$p"/bad/*.pem
	# Test keys for xfed, which may run as any user; the CAs' keys stay root's.
	chmod 644 "$p/$LAB_X.key" "$p/$LAB_Y.key" "$p"/bad/*.key
	chmod 600 "$p/ca.key" "$p/bad/untrusted-ca.key"
	chown root:prosody "$p/$LAB_P.key"
	chown root:ejabberd "$p/$LAB_E.key" "$p/$LAB_E.pem"
	chmod 640 "$p/$LAB_P.key" "$p/$LAB_E.key" "$p/$LAB_E.pem"
}

# lab_start_dns: dnsmasq on $LAB_DNS_IP:53, answering for .test only.
lab_start_dns() {
	local d=$LAB_DIR/dns n ip
	mkdir -p "$d"
	{
	echo "# dnsmasq of the interop lab: *.test only, nothing forwarded"
	echo "listen-address=$LAB_DNS_IP"
	echo "bind-interfaces"
	echo "no-resolv"
	echo "no-hosts"
	echo "no-poll"
	echo "local=/test/"
	echo "log-queries"
	echo "log-facility=$d/dnsmasq.log"
	echo "pid-file=$d/dnsmasq.pid"
	for n in "$LAB_P:$LAB_P_IP" "$LAB_E:$LAB_E_IP" "$LAB_X:$LAB_X_IP" \
	    "$LAB_Y:$LAB_Y_IP"; do
		ip=${n#*:} n=${n%%:*}
		echo "host-record=$n,$ip"
		echo "srv-host=_xmpp-server._tcp.$n,$n,5269,0,0"
		echo "srv-host=_xmpp-client._tcp.$n,$n,5222,0,0"
	done
	if [ ${#LAB_DNS_EXTRA[@]} -gt 0 ]; then
		echo "# added by the test (lab_dns)"
		printf '%s\n' "${LAB_DNS_EXTRA[@]}"
	fi
	} > "$d/dnsmasq.conf"
	# Without -k dnsmasq forks; the parent returns once the daemon listens
	# (or says why it cannot), so there is nothing to wait for.
	ip netns exec "$LAB_NS" dnsmasq -C "$d/dnsmasq.conf" </dev/null \
	    >"$d/console.log" 2>&1 || { cat "$d/console.log" >&2; return 1; }
	lab_record dnsmasq "$(cat "$d/dnsmasq.pid")"
	lab_listening "$LAB_DNS_IP" 53
}

_lab_prosody_conf() {
	local d=$1 s2s
	if [ "$LAB_MODE" = plain ]; then
		s2s='-- plain: S2S over TCP, dialback only.  require=false alone
-- would still offer STARTTLS; allow=false stops it.
s2s_require_encryption = false
s2s_allow_encryption = false
s2s_secure_auth = false'
	else
		s2s='-- tls: STARTTLS required, peers need a certificate from the lab CA
s2s_require_encryption = true
s2s_secure_auth = true'
	fi
	cat <<EOF
-- Prosody for $LAB_P in the interop lab ($LAB_MODE mode)
pidfile = "$d/prosody.pid"
data_path = "$d/data"
log = { { levels = { min = "debug" }, to = "file", filename = "$d/prosody.log" } }
certificates = "$LAB_DIR/pki"
interfaces = { "$LAB_P_IP" }
c2s_ports = { 5222 }
s2s_ports = { 5269 }
http_ports = { }
https_ports = { }
modules_enabled = {
	"roster"; "saslauth"; "tls"; "dialback"; "disco"; "posix";
	"version"; "ping"; "offline"; "stanza_debug";
$(for m in "${LAB_PROSODY_MODULES[@]}"; do printf '\t"%s";\n' "$m"; done)
}
authentication = "internal_hashed"
storage = "internal"
-- libunbound answers NXDOMAIN for the special-use .test by itself; make it
-- forward .test to the lab DNS like any other name.
unbound = { options = { ["local-zone:"] = "test. transparent" } }
ssl = { cafile = "$LAB_DIR/pki/ca.pem" }
c2s_require_encryption = true
$s2s

VirtualHost "$LAB_P"
	ssl = { certificate = "$LAB_DIR/pki/$LAB_P.crt"; key = "$LAB_DIR/pki/$LAB_P.key" }
EOF
}

# lab_start_prosody: Prosody for p.test, as user prosody.
lab_start_prosody() {
	local d=$LAB_DIR/prosody pid
	mkdir -p "$d/data"
	# lab_prosody_conf's lines replace the lab's options of the same name
	_lab_prosody_conf "$d" | X=$(printf '%s\n' "${LAB_PROSODY_EXTRA[@]}") awk '
	    function name(l) { sub(/^[ \t]+/, "", l); sub(/[ \t=].*/, "", l); return l }
	    BEGIN { k = split(ENVIRON["X"], e, "\n"); for (i = 1; i <= k; i++) if (e[i] != "") x[name(e[i])] = 1 }
	    /^VirtualHost/ { for (i = 1; i <= k; i++) if (e[i] != "") print e[i] }
	    !(name($0) in x) { print }' \
	    > "$d/prosody.cfg.lua"
	: > "$d/prosody.log"
	chown -R prosody:prosody "$d"
	# Prosody refuses to run as root; setpriv execs (no fork), so $! is
	# Prosody itself.
	ip netns exec "$LAB_NS" setpriv --reuid=prosody --regid=prosody \
	    --init-groups -- prosody --config "$d/prosody.cfg.lua" -F \
	    </dev/null >"$d/console.log" 2>&1 &
	pid=$!
	lab_record prosody $pid
	lab_wait_port $LAB_P_IP 5269 "$LAB_TIMEOUT" $pid &&
	    lab_wait_port $LAB_P_IP 5222 "$LAB_TIMEOUT" $pid || {
		tail -n 20 "$d/console.log" "$d/prosody.log" >&2
		return 1
	}
}

_lab_ejabberd_conf() {
	local s2s
	if [ "$LAB_MODE" = plain ]; then
		s2s='# plain: no STARTTLS on S2S, dialback only
s2s_use_starttls: false'
	else
		s2s="# tls: STARTTLS required; SASL EXTERNAL with the lab CA, else dialback
s2s_use_starttls: required
ca_file: \"$LAB_DIR/pki/ca.pem\""
	fi
	cat <<EOF
# ejabberd for $LAB_E in the interop lab ($LAB_MODE mode)
hosts:
  - $LAB_E
loglevel: debug
log_rotate_count: 0
# startup at debug level exceeds the default burst limit, which drops lines
log_burst_limit_count: 1000000
certfiles:
  - "$LAB_DIR/pki/$LAB_E.pem"
$s2s
listen:
  -
    port: 5222
    ip: "$LAB_E_IP"
    module: ejabberd_c2s
    starttls_required: true
    backlog: 128
  -
    port: 5269
    ip: "$LAB_E_IP"
    module: ejabberd_s2s_in
    backlog: 128
auth_password_format: scram
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
api_permissions:
  "console commands":
    from:
      - ejabberd_ctl
    who: all
    what: "*"
modules:
  mod_disco: {}
  mod_offline: {}
  mod_ping: {}
  mod_roster: {}
  mod_s2s_dialback: {}
  mod_version: {}
EOF
}

# lab_ejabberdctl ARGS...: ejabberdctl against the lab's ejabberd.  It must
# run inside the namespace (the node's distribution port is there); as root
# it switches to the ejabberd user by itself.
lab_ejabberdctl() {
	local d=$LAB_DIR/ejabberd
	(cd / && ip netns exec "$LAB_NS" ejabberdctl --config-dir "$d/etc" \
	    --spool "$d/spool" --logs "$d/log" "$@")
}

# lab_start_ejabberd: ejabberd for e.test (it runs as user ejabberd).
lab_start_ejabberd() {
	local d=$LAB_DIR/ejabberd cookie end pid=
	mkdir -p "$d/etc" "$d/spool" "$d/log"
	_lab_ejabberd_conf > "$d/etc/ejabberd.yml"
	cookie=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	# ERL_DIST_PORT: a fixed distribution port, so neither the server nor
	# ejabberdctl starts an epmd daemon (which would outlive the lab).
	cat > "$d/etc/ejabberdctl.cfg" <<EOF
ERLANG_NODE=xfedt@localhost
ERL_DIST_PORT=4370
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0 -setcookie $cookie"
EJABBERD_PID_PATH=$d/ejabberd.pid
EOF
	cat > "$d/etc/inetrc" <<EOF
{lookup, ["file", "native"]}.
{host, {127,0,0,1}, ["localhost"]}.
{file, resolv, "/etc/resolv.conf"}.
EOF
	: > "$d/log/ejabberd.log"
	chown -R ejabberd:ejabberd "$d"
	chmod 700 "$d/etc"
	lab_ejabberdctl start </dev/null >"$d/log/console.log" 2>&1 ||
	    { cat "$d/log/console.log" >&2; return 1; }
	# `erl -detached` returns at once; the pid file comes a little later.
	end=$(( $(lab_now_ms) + LAB_TIMEOUT * 1000 ))
	while [ "$(lab_now_ms)" -lt "$end" ]; do
		pid=$(cat "$d/ejabberd.pid" 2>/dev/null)
		[ -n "$pid" ] && break
		sleep 0.05
	done
	if [ -z "$pid" ]; then
		lab_log "ejabberd wrote no pid file"
		tail -n 20 "$d/log/console.log" "$d/log/ejabberd.log" >&2
		return 1
	fi
	lab_record ejabberd "$pid"
	# Listeners open last; the log (written asynchronously) says "started"
	# a little after.  Stopping ejabberd before that can hang Mnesia.
	lab_wait_port $LAB_E_IP 5269 "$LAB_TIMEOUT" "$pid" &&
	    lab_wait_port $LAB_E_IP 5222 "$LAB_TIMEOUT" "$pid" &&
	    lab_wait_log "$d/log/ejabberd.log" "is started in the node" || {
		tail -n 20 "$d/log/console.log" "$d/log/ejabberd.log" >&2
		return 1
	}
}

# lab_up [plain|tls] [SERVERS]: certificates, DNS and the peers (default
# both: "prosody ejabberd"), started in parallel and waited for.
lab_up() {
	local s t0 rc=0 pids=()
	LAB_MODE=${1:-plain}
	case "$LAB_MODE" in plain|tls) ;; *) lab_log "bad mode $LAB_MODE"; return 1 ;; esac
	t0=$(lab_now_ms)
	lab_pki || { lab_log "certificate generation failed"; return 1; }
	lab_start_dns || { lab_log "dnsmasq did not start"; return 1; }
	for s in ${2:-prosody ejabberd}; do
		case "$s" in
		prosody|ejabberd)
			lab_start_$s > "$LAB_DIR/log/start-$s.log" 2>&1 &
			pids+=($!) ;;
		*) lab_log "unknown server $s"; return 1 ;;
		esac
	done
	# The starts run in subshells, which recorded their pids in files.
	for s in "${pids[@]}"; do wait "$s" || rc=1; done
	if [ $rc != 0 ]; then
		cat "$LAB_DIR"/log/start-*.log >&2
		lab_log "a peer did not start"
		return 1
	fi
	lab_log "up in $(( $(lab_now_ms) - t0 )) ms: $LAB_MODE mode, namespace $LAB_NS, dir $LAB_DIR"
}

# lab_user DOMAIN USER PASSWORD: a client account on the peer hosting DOMAIN.
lab_user() {
	case "$1" in
	"$LAB_P")
		# prosodyctl switches to the prosody user when run as root.
		lab_exec prosodyctl --config "$LAB_DIR/prosody/prosody.cfg.lua" \
		    register "$2" "$1" "$3" </dev/null ;;
	"$LAB_E")
		lab_ejabberdctl register "$2" "$1" "$3" </dev/null >/dev/null ;;
	*)
		lab_log "no peer hosts $1"
		return 1 ;;
	esac
}

# lab_client JID PASSWORD STEP...: client.py inside the namespace.
lab_client() {
	lab_exec timeout -k 2 $((LAB_TIMEOUT * 4)) "$LAB_PY" \
	    "$LAB_HERE/client.py" -t "$LAB_TIMEOUT" "$@" </dev/null
}

# lab_rawpeer ARGS...: rawpeer.py inside the namespace.
lab_rawpeer() {
	lab_exec timeout -k 2 $((LAB_TIMEOUT * 4)) "$LAB_PY" \
	    "$LAB_HERE/rawpeer.py" "$@" </dev/null
}

# ------------------------------------------------------------ xfed

# lab_xfed_conf BUILD [LINE...]: $LAB_DIR/xfed/xfed.conf for x.test (plain
# S2S on $LAB_X_IP, the lab's DNS, debug log) plus the LINEs; sets LAB_XB
# (the build directory) and LAB_XD (xfed's folder) for lab_xfed_start and
# lab_xctl.
lab_xfed_conf() {
	LAB_XB=$(cd "$1" && pwd)
	shift
	LAB_XD=$LAB_DIR/xfed
	mkdir -p "$LAB_XD"
	{
		printf '%s\n' "domain $LAB_X" "listen $LAB_X_IP:5269" \
		    "store xfed.db" "control_socket xfed.sock" \
		    "require_encryption no" "resolver $LAB_DNS_IP" \
		    "log_level debug"
		[ $# -gt 0 ] && printf '%s\n' "$@"
	} > "$LAB_XD/xfed.conf"
}

# lab_xctl ARGS...: xfedctl on that config.
lab_xctl() { "$LAB_XB/xfedctl" -c "$LAB_XD/xfed.conf" "$@"; }

# lab_xfed_start [NAME]: xfed in the namespace, logging to
# $LAB_DIR/log/NAME.log (default xfed), until it listens; sets LAB_XPID and
# LAB_XLOG.
lab_xfed_start() {
	local name=${1:-xfed}
	lab_spawn "$name" "$LAB_XB/xfed" -d -c "$LAB_XD/xfed.conf"
	LAB_XPID=$(cat "$LAB_DIR/pids/$name.pid")
	LAB_XLOG=$LAB_DIR/log/$name.log
	lab_wait_port "$LAB_X_IP" 5269 10 "$LAB_XPID"
}

# lab_xfed_stop [NAME]: SIGTERM, then xfed must exit 0 with no sanitizer
# report in its log.
lab_xfed_stop() {
	local name=${1:-xfed} pid=$LAB_XPID rc
	lab_kill "$name" 5
	wait "$pid"
	rc=$?
	[ $rc = 0 ] || { echo "xfed exited with $rc"; tail -n 20 "$LAB_XLOG"; }
	! grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$LAB_XLOG" &&
	    [ $rc = 0 ]
}

# ------------------------------------------------------------ results

# lab_ok NAME / lab_fail NAME [WHY]: one result line, counted.
lab_ok() { echo "ok $1"; LAB_PASSED=$((LAB_PASSED + 1)); }
lab_fail() {
	echo "FAIL $1${2:+: $2}"
	LAB_FAILED=$((LAB_FAILED + 1))
}

# lab_case NAME CMD...: runs CMD, output to $LAB_DIR/out/NAME.log; prints
# `ok NAME` or `FAIL NAME` followed by the output, indented.
lab_case() {
	local name=$1 t0 rc f
	shift
	f=$LAB_DIR/out/$(printf '%s' "$name" | tr -c 'A-Za-z0-9_.-' _).log
	t0=$(lab_now_ms)
	"$@" > "$f" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		lab_ok "$name"
	else
		lab_fail "$name" "exit $rc after $(( $(lab_now_ms) - t0 )) ms"
		sed 's/^/    | /' "$f"
	fi
	return $rc
}

# lab_steps PREFIX FILE RC: turns client.py's per-step lines in FILE into
# case results (`ok PREFIX: STEP` / `FAIL PREFIX: STEP`); a failed run
# (RC not 0) without any FAIL line counts as one failure.
lab_steps() {
	local prefix=$1 file=$2 rc=$3 l nfail=0 text
	while IFS= read -r l; do
		case "$l" in
		"  PASS "*|"  FAIL "*)
			# "  PASS   123 ms  who  step  -> info": keep step and info
			text=$(printf '%s\n' "$l" | sed -E 's/^  (PASS|FAIL) +[0-9]+ ms  [^ ]+  //')
			if [ "${l:2:4}" = PASS ]; then
				lab_ok "$prefix: ${text%%  -> *}"
			else
				lab_fail "$prefix: $text"
				nfail=$((nfail + 1))
			fi ;;
		*)	printf '    | %s\n' "$l" ;;
		esac
	done < "$file"
	if [ "$rc" != 0 ] && [ $nfail = 0 ]; then
		lab_fail "$prefix" "exit $rc"
	fi
}

# ------------------------------------------------------------ tear down

# lab_teardown: stops what the lab started (recorded pids, then whatever is
# still in the namespace), removes the namespace and /etc/netns/NAME.  The
# EXIT trap calls it; a test may call it earlier.  Safe to call twice.
lab_teardown() {
	local f pid left=
	[ -n "$LAB_DIR" ] && [ -d "$LAB_DIR/pids" ] || return 0
	# ejabberd first: its clean stop takes longest.
	for f in "$LAB_DIR/pids/ejabberd.pid" "$LAB_DIR"/pids/*.pid; do
		[ -f "$f" ] || continue
		lab_stop_pid "$(cat "$f")" "$(basename "$f" .pid)" 5
		rm -f "$f"
	done
	if [ -n "$LAB_NS" ] && ip netns list | awk '{ print $1 }' | grep -qx "$LAB_NS"; then
		# Helpers of the servers, clients left in the background: all
		# started through the lab, since nothing else enters our namespace.
		for pid in $(ip netns pids "$LAB_NS" 2>/dev/null); do
			lab_alive "$pid" || continue
			lab_log "stopping pid $pid left in $LAB_NS: $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-70)"
			lab_stop_pid "$pid" "leftover" 3
		done
		for pid in $(ip netns pids "$LAB_NS" 2>/dev/null); do
			lab_alive "$pid" && left="$left $pid"
		done
		if [ -n "$left" ]; then
			lab_fail "lab teardown" "processes still in $LAB_NS:$left; namespace kept"
		elif ! ip netns del "$LAB_NS"; then
			lab_fail "lab teardown" "ip netns del $LAB_NS failed"
		fi
	fi
	[ -n "$LAB_NS" ] && rm -rf "/etc/netns/$LAB_NS"
	if [ "$LAB_FAILED" != 0 ] || [ "${1:-0}" != 0 ] || [ "$LAB_KEEP" = 1 ]; then
		echo "# lab run directory kept: $LAB_DIR"
	else
		rm -rf "$LAB_DIR"
	fi
	LAB_DIR=
}

# The EXIT trap: tear down, keep the run directory if anything failed, and
# make the exit status non-zero if a case failed.
_lab_exit() {
	local rc=$?
	trap - EXIT INT TERM
	exec 1>&"$LAB_STDOUT" 2>&"$LAB_STDERR"
	case $rc in
	130|143) lab_fail "interop lab" "interrupted by a signal" ;;
	esac
	lab_teardown "$rc"
	[ "$rc" = 0 ] && [ "$LAB_FAILED" != 0 ] && rc=1
	exit "$rc"
}
