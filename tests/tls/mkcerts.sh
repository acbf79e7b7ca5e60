#!/bin/sh
# tests/tls/mkcerts.sh DIR: makes the test PKI the TLS tests use, with the
# openssl CLI only (EC P-256 keys). A test CA signs one leaf per case; the
# expired leaf gets dates in the past through "openssl ca -startdate
# -enddate", which OpenSSL 3.0's "x509 -req" cannot set.
#
#   ca.pem            test CA (also ca.key)
#   x.pem  y.pem      DNS-ID x.test / y.test, serverAuth+clientAuth
#   wild.pem          DNS-ID *.x.test
#   xmppaddr.pem      only an XmppAddr otherName for x.test
#   srv.pem           only an SRV-ID _xmpp-server.x.test
#   wrong.pem         DNS-ID wrong.test
#   expired.pem       x.test, expired in 2020
#   self.pem          x.test, self-signed
#   serveronly.pem    x.test, EKU serverAuth only
#   clientonly.pem    x.test, EKU clientAuth only
#   cnonly.pem        subject CN x.test and no subjectAltName
#   idn.pem           DNS-ID xn--bcher-kva.test (bücher.test)
#   badwild.pem       only wildcards RFC 9525 6.3 refuses
# Each NAME.pem has its key in NAME.key.
set -e
dir=${1:?usage: mkcerts.sh DIR}
mkdir -p "$dir"
cd "$dir"

key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$1.key" 2>/dev/null
}

: > index.txt
echo 1000 > serial
cat > ca.cnf <<'CNF'
[ca]
default_ca = test_ca
[test_ca]
dir = .
database = ./index.txt
serial = ./serial
new_certs_dir = .
certificate = ./ca.pem
private_key = ./ca.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
[req]
distinguished_name = dn
[dn]
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF

key ca
openssl req -new -x509 -config ca.cnf -extensions v3_ca -key ca.key \
    -subj /CN=xfed-test-ca -days 3650 -out ca.pem

# leaf NAME CN SAN EKU [STARTDATE ENDDATE]
leaf() {
	key "$1"
	{
		echo "[leaf]"
		echo "basicConstraints = critical, CA:FALSE"
		echo "keyUsage = critical, digitalSignature"
		echo "extendedKeyUsage = $4"
		if [ -n "$3" ]; then echo "subjectAltName = $3"; fi
	} > "$1.ext"
	openssl req -new -config ca.cnf -key "$1.key" -subj "/CN=$2" \
	    -out "$1.csr"
	if [ -n "$5" ]; then
		dates="-startdate $5 -enddate $6"
	else
		dates="-days 30"
	fi
	# shellcheck disable=SC2086
	openssl ca -batch -config ca.cnf -notext -extfile "$1.ext" \
	    -extensions leaf $dates -in "$1.csr" -out "$1.pem" 2>/dev/null
}

both=serverAuth,clientAuth
leaf x x.test DNS:x.test $both
leaf y y.test DNS:y.test $both
leaf wild '*.x.test' 'DNS:*.x.test' $both
leaf xmppaddr xmpp-addr-only 'otherName:1.3.6.1.5.5.7.8.5;UTF8:x.test' $both
leaf srv srv-id-only 'otherName:1.3.6.1.5.5.7.8.7;IA5:_xmpp-server.x.test' $both
leaf wrong wrong.test DNS:wrong.test $both
leaf expired x.test DNS:x.test $both 20200101000000Z 20200201000000Z
leaf serveronly x.test DNS:x.test serverAuth
leaf clientonly x.test DNS:x.test clientAuth
leaf cnonly x.test '' $both
leaf idn xn--bcher-kva.test DNS:xn--bcher-kva.test $both
leaf badwild badwild 'DNS:f*o.x.test,DNS:a.*.x.test,DNS:*.test,DNS:*.*.x.test,DNS:x*.x.test,DNS:*' $both

key self
openssl req -new -x509 -config ca.cnf -key self.key -subj /CN=x.test \
    -addext subjectAltName=DNS:x.test -days 30 -out self.pem
