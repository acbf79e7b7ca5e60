# tests/sh/s2s_tls.sh: TLS between two xfed processes on loopback (issue:
# STARTTLS, SASL EXTERNAL, dialback over TLS, require_encryption,
# secure_auth), with certificates made by tests/tls/mkcerts.sh; and what
# openssl s_client sees (S2S 2.x, 3.x, 11.5).
. "$XFED_SRC/tests/sh/lib.sh"
t_init
sh "$XFED_SRC/tests/tls/mkcerts.sh" "$T/pki" > /dev/null 2>&1 ||
    { fail pki "mkcerts.sh failed"; exit 1; }
# a second CA nobody trusts, for certificates that do not verify
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 2 -subj /CN=other-ca -keyout "$T/pki/other.key" \
    -out "$T/pki/other.pem" 2>/dev/null

PX=$(free_port)
PY_=$(free_port)
mkdir -p "$T/x" "$T/y"
# conf DIR DOMAIN PORT PEER PEERPORT CERT [EXTRA...]: CERT "" for no TLS
conf() { pair_conf_cert "$@" 'outbound_retry_for 1h'; }
xctl() { "$XFED_BUILD/xfedctl" -c "$T/x/xfed.conf" "$@"; }
yctl() { "$XFED_BUILD/xfedctl" -c "$T/y/xfed.conf" "$@"; }
inbox_has() { "$XFED_BUILD/xfedctl" -c "$1" inbox --json | grep -qF "$2"; }
# start both, with users; a fresh store each time
up() {
	rm -f "$T"/x/xfed.db* "$T"/y/xfed.db* "$T"/x/xfed.log "$T"/y/xfed.log
	xctl user add xu > /dev/null && yctl user add yu > /dev/null || return 1
	start_xfed "$T/x" || return 1
	PIDX=$XFED_PID
	start_xfed "$T/y" || return 1
	PIDY=$XFED_PID
}
down() {
	XFED_PID=$PIDX; stop_xfed
	XFED_PID=$PIDY; stop_xfed
}
row_error() {	# CTL-FUNC: the last_error of the newest outbox row
	$1 outbox --json | head -1 | $PY -c 'import json,sys
r = json.loads(sys.stdin.read()); print(r.get("error_stage") or "", r.get("last_error") or "", r["attempts"])'
}

# 1. CA-signed certificates on both sides: SASL EXTERNAL both ways
conf "$T/x" x.test "$PX" y.test "$PY_" x "tls_ca_file $T/pki/ca.pem"
conf "$T/y" y.test "$PY_" x.test "$PX" y "tls_ca_file $T/pki/ca.pem"
up || { fail tls_start "xfed did not start"; exit 1; }
xctl send xu yu@y.test 'over TLS x->y' > /dev/null
yctl send yu xu@x.test 'over TLS y->x' > /dev/null
check external_x_to_y wait_for 20 inbox_has "$T/y/xfed.conf" 'over TLS x->y'
check external_y_to_x wait_for 20 inbox_has "$T/x/xfed.conf" 'over TLS y->x'
check external_out_logged grep -q "out#.*SASL EXTERNAL verified pair=x.test/y.test tls=TLSv1.3" "$T/x/xfed.log"
check external_in_logged grep -q "in#.*SASL EXTERNAL verified pair=y.test/x.test" "$T/y/xfed.log"
st=$(xctl status)
echo "$st" | grep -q "auth=sasl-external tls=TLSv1.3"
check status_shows_tls [ $? = 0 ]
# openssl s_client speaks STARTTLS to xfed and gets TLS 1.3
r=$(echo | timeout 10 openssl s_client -starttls xmpp-server -xmpphost y.test \
    -connect 127.0.0.1:$PY_ -CAfile "$T/pki/ca.pem" 2>&1)
echo "$r" | grep -Eq "Protocol *: TLSv1.3|New, TLSv1.3"
check s_client_tls13 [ $? = 0 ]
echo "$r" | grep -q "Verify return code: 0 (ok)"
check s_client_verifies [ $? = 0 ]
# a peer drops its TLS stream without close_notify: a FIN is the peer
# closing, an RST a reset, as on a plain socket (not "Success")
drop_logged() {	# fin|rst REASON
	n=$(grep -c "closed reason=\"$2\"" "$T/y/xfed.log")
	$PY "$XFED_SRC/tests/sh/tlsdrop.py" "$PY_" "$T/pki/ca.pem" "$1" ||
	    return 1
	wait_for 10 sh -c '[ "$(grep -c "closed reason=\"$1\"" "$2")" -gt "$3" ]' \
	    - "$2" "$T/y/xfed.log" "$n"
}
check tls_fin_logged drop_logged fin \
    "connection closed by peer without TLS close_notify"
check tls_rst_logged drop_logged rst "Connection reset by peer"
check tls_drop_no_success sh -c '! grep -q "reason=\"Success\"" "$1"' - \
    "$T/y/xfed.log"
down

# 2. self-signed certificates: dialback over TLS (S2S 11.5)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 2 -subj /CN=y.test -addext subjectAltName=DNS:y.test \
    -keyout "$T/pki/yself.key" -out "$T/pki/yself.pem" 2>/dev/null
conf "$T/x" x.test "$PX" y.test "$PY_" self "tls_ca_file $T/pki/ca.pem"
conf "$T/y" y.test "$PY_" x.test "$PX" yself "tls_ca_file $T/pki/ca.pem"
up || { fail tls_start2 "xfed did not start"; exit 1; }
xctl send xu yu@y.test 'dialback over TLS' > /dev/null
check dialback_tls_delivered wait_for 20 inbox_has "$T/y/xfed.conf" 'dialback over TLS'
check dialback_tls_logged grep -q "out#.*dialback verified pair=x.test/y.test tls=TLSv1" "$T/x/xfed.log"
check cert_not_verified_logged grep -q "peer certificate not verified: self-signed" "$T/y/xfed.log"
down

# 3. require_encryption on x, no TLS at all on y: nothing is exchanged
conf "$T/x" x.test "$PX" y.test "$PY_" x "tls_ca_file $T/pki/ca.pem"
conf "$T/y" y.test "$PY_" x.test "$PX" "" "require_encryption no"
up || { fail tls_start3 "xfed did not start"; exit 1; }
xctl send xu yu@y.test 'must not pass' > /dev/null
yctl send yu xu@x.test 'must not pass either' > /dev/null
stage_tls() { row_error "$1" | grep -q "^tls .*STARTTLS"; }
check plain_peer_refused_out wait_for 20 stage_tls xctl
check plain_peer_refused_in wait_for 20 stage_tls yctl
echo "# x outbox: $(row_error xctl)"
echo "# y outbox: $(row_error yctl)"
! inbox_has "$T/y/xfed.conf" 'must not pass' && ! inbox_has "$T/x/xfed.conf" 'must not pass'
check nothing_exchanged [ $? = 0 ]
down

# 4. secure_auth on y; x shows a certificate for another name: refused
conf "$T/x" x.test "$PX" y.test "$PY_" wrong "tls_ca_file $T/pki/ca.pem"
conf "$T/y" y.test "$PY_" x.test "$PX" y "tls_ca_file $T/pki/ca.pem" "secure_auth yes"
up || { fail tls_start4 "xfed did not start"; exit 1; }
xctl send xu yu@y.test 'wrong name' > /dev/null
check secure_auth_refused wait_for 20 grep -q "dialback refused for x.test: secure_auth" "$T/y/xfed.log"
check secure_auth_name_logged grep -q "name mismatch" "$T/y/xfed.log"
! inbox_has "$T/y/xfed.conf" 'wrong name'
check secure_auth_nothing_stored [ $? = 0 ]
echo "# x outbox: $(row_error xctl)"
down

# 5. direct TLS (XEP-0368): x finds y through _xmpps-server._tcp only; y
# serves y.test from a tls_domain certificate; then y's certificate is
# replaced and SIGHUP makes new connections use it.
PT=$(free_port)
PD=$(free_port)
dnsmasq -k --port="$PD" --listen-address=127.0.0.1 --bind-interfaces \
    --no-resolv --no-hosts --conf-file=/dev/null --user=root \
    --pid-file="$T/dnsmasq.pid" --log-facility="$T/dnsmasq.log" --log-queries \
    --local=/test/ \
    --srv-host=_xmpps-server._tcp.y.test,ytls.test,$PT,0,5 \
    --host-record=ytls.test,127.0.0.1 2> "$T/dnsmasq.err" &
T_PIDS="$T_PIDS $!"
check dnsmasq_up wait_for 10 test -s "$T/dnsmasq.pid"
conf "$T/x" x.test "$PX" other.test 1 x "tls_ca_file $T/pki/ca.pem" \
    "resolver 127.0.0.1:$PD"
conf "$T/y" y.test "$PY_" x.test "$PX" wrong "tls_ca_file $T/pki/ca.pem" \
    "tls_domain y.test $T/pki/y.pem $T/pki/y.key" "listen_tls 127.0.0.1:$PT"
up || { fail tls_start5 "xfed did not start"; exit 1; }
check listen_tls_logged grep -q "listening on 127.0.0.1:$PT (direct TLS)" "$T/y/xfed.log"
xctl send xu yu@y.test 'direct TLS' > /dev/null
check direct_tls_delivered wait_for 20 inbox_has "$T/y/xfed.conf" 'direct TLS'
check direct_tls_connected grep -q "connected (direct TLS)" "$T/x/xfed.log"
check direct_tls_external grep -q "SASL EXTERNAL verified pair=x.test/y.test" "$T/x/xfed.log"
check srv_xmpps_queried grep -q "_xmpps-server._tcp.y.test" "$T/dnsmasq.log"
serial() {
	echo | timeout 10 openssl s_client -connect 127.0.0.1:$PT -servername y.test \
	    -alpn xmpp-server 2>/dev/null | openssl x509 -noout -serial 2>/dev/null
}
s1=$(serial)
cp "$T/pki/x.pem" "$T/pki/y.pem.new"	# any other CA-signed certificate
cp "$T/pki/y.pem" "$T/pki/y.pem.old"
openssl req -new -key "$T/pki/y.key" -subj /CN=y.test -out "$T/pki/y2.csr" 2>/dev/null
printf 'subjectAltName=DNS:y.test\nextendedKeyUsage=serverAuth,clientAuth\n' > "$T/pki/y2.ext"
openssl x509 -req -in "$T/pki/y2.csr" -CA "$T/pki/ca.pem" -CAkey "$T/pki/ca.key" \
    -set_serial 4242 -days 2 -extfile "$T/pki/y2.ext" -out "$T/pki/y.pem" 2>/dev/null
kill -HUP "$PIDY"
check sighup_tls_reloaded wait_for 10 grep -q "TLS certificates reloaded" "$T/y/xfed.log"
s2=$(serial)
echo "# serial before $s1, after $s2"
check sighup_new_certificate [ -n "$s1" ] && [ "$s2" = "serial=1092" ]
check sighup_streams_kept kill -0 "$PIDY"
down
t_exit
