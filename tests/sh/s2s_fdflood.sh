# tests/sh/s2s_fdflood.sh: out of descriptors on the S2S listeners (issue
# 12). xfed's descriptor limit is lowered to 64 while it runs; a client
# then holds 200 connections to the plain listener and 20 to the direct
# TLS one: accept() fails with EMFILE. xfed stays up, pauses its
# listeners for a second at a time instead of spinning, and logs the
# failure once per 10 s at most; once the client lets go, a new stream is
# answered again.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

PA=$(free_port)
PT=$(free_port)
mkdir -p "$T/a"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/a/a.key" -out "$T/a/a.crt" -days 2 -subj /CN=a.localhost \
    -addext subjectAltName=DNS:a.localhost >/dev/null 2>&1
cat > "$T/a/xfed.conf" <<CONF
domain a.localhost
listen 127.0.0.1:$PA
listen_tls 127.0.0.1:$PT
tls_certificate a.crt
tls_key a.key
store xfed.db
control_socket xfed.sock
require_encryption no
max_unauth_streams 0
max_unauth_per_ip 0
CONF
start_xfed "$T/a" || { fail start "xfed did not start"; exit 1; }
prlimit --nofile=64:64 --pid "$XFED_PID"
check limit_lowered grep -q '^Max open files *64 *64' "/proc/$XFED_PID/limits"

cat > "$T/hold.py" <<'PYEOF'
import socket, sys, time
port, tport = int(sys.argv[1]), int(sys.argv[2])
held = []
for p, n in ((port, 200), (tport, 20)):
    for i in range(n):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", p))
        except OSError:
            pass
        held.append(s)
time.sleep(4)
for s in held:
    s.close()
PYEOF
$PY "$T/hold.py" "$PA" "$PT"
check xfed_alive kill -0 "$XFED_PID"
n=$(grep -c 'accept on a S2S listener' "$T/a/xfed.log")
echo "# accept failure lines: $n"
check accept_logged [ "$n" -ge 1 ]
check accept_log_bounded [ "$n" -le 2 ]
check accept_paused grep -q 'listeners paused for 1 s' "$T/a/xfed.log"

# served again: a stream header gets one back
cat > "$T/hello.py" <<'PYEOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
    b"xmlns:stream='http://etherx.jabber.org/streams' "
    b"xmlns:db='jabber:server:dialback' to='a.localhost' version='1.0'>")
data = b""
while b"<stream:stream" not in data:
    b = s.recv(4096)
    if not b:
        break
    data += b
sys.exit(0 if b"<stream:stream" in data else 1)
PYEOF
check served_again wait_for 10 $PY "$T/hello.py" "$PA"
stop_xfed
check stopped_clean [ $? = 0 ]
check no_sanitizer_report sh -c "! grep -Eq 'AddressSanitizer|runtime error:' '$T/a/xfed.log'"
[ "$t_fails" = 0 ] || grep -v debug "$T/a/xfed.log" | tail -20 | sed "s/^/# /"
t_exit
