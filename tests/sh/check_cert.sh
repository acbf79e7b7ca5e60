# tests/sh/check_cert.sh: "xfedctl check --only cert", the certificate part
# of the deployment doctor, on certificates made here with openssl
# (tests/tls/mkcerts.sh plus an intermediate CA): each mistake a deployment
# makes gets its FAIL or WARN line, its fix and the exit status (0 all OK,
# 1 warnings, 2 failures); S2S 2.18, 2.25, 2.27.
. "$XFED_SRC/tests/sh/lib.sh"
t_init
P=$T/pki
sh "$XFED_SRC/tests/tls/mkcerts.sh" "$P" > /dev/null 2>&1 ||
    { fail pki "mkcerts.sh failed"; exit 1; }

# An intermediate CA under the test CA, and leaves it signs: the chain is
# complete only when the file carries the intermediate after the leaf.
(
	cd "$P" || exit 1
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout int.key -subj /CN=xfed-test-intermediate -out int.csr \
	    2>/dev/null &&
	printf '%s\n' 'basicConstraints=critical,CA:TRUE' \
	    'keyUsage=critical,keyCertSign,cRLSign' > int.ext &&
	openssl x509 -req -in int.csr -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -days 30 -extfile int.ext -out int.pem \
	    2>/dev/null || exit 1
	# leaf NAME DAYS EKU
	for l in "viaint 30 serverAuth,clientAuth" "soon 5 serverAuth,clientAuth"; do
		set -- $l
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout "$1.key" -subj /CN=x.test -out "$1.csr" \
		    2>/dev/null &&
		printf '%s\n' 'basicConstraints=critical,CA:FALSE' \
		    'keyUsage=critical,digitalSignature' \
		    "extendedKeyUsage=$3" 'subjectAltName=DNS:x.test' > "$1.ext" &&
		openssl x509 -req -in "$1.csr" -CA int.pem -CAkey int.key \
		    -CAcreateserial -days "$2" -extfile "$1.ext" \
		    -out "$1.pem" 2>/dev/null || exit 1
	done
	cat viaint.pem int.pem > full.pem
	cat soon.pem int.pem > soonfull.pem
	# the same intermediate (name and key) out of date: expired in 2020,
	# valid only from 2099 ("openssl ca" sets the dates)
	openssl ca -batch -config ca.cnf -notext -extensions v3_ca \
	    -startdate 20200101000000Z -enddate 20200201000000Z \
	    -in int.csr -out intold.pem 2>/dev/null &&
	openssl ca -batch -config ca.cnf -notext -extensions v3_ca \
	    -startdate 20990101000000Z -enddate 20991231000000Z \
	    -in int.csr -out intnew.pem 2>/dev/null || exit 1
	cat viaint.pem intold.pem > oldint.pem
	cat viaint.pem intnew.pem > newint.pem
	# a CA store that also trusts the current intermediate: a path valid
	# today exists past the file's out-of-date one
	cat ca.pem int.pem > caint.pem
) || { fail pki "intermediate CA"; exit 1; }

cli_init x.test
# cert NAME [KEY]: x.test with P/NAME.pem and P/KEY.key, trusting only the
# test CA
cert() {
	printf 'domain x.test\nstore ./x.db\ncontrol_socket ./x.sock\n' > "$CONF"
	printf 'tls_certificate %s\ntls_key %s\ntls_ca_file %s\n' \
	    "$P/$1.pem" "$P/${2:-$1}.key" "$P/ca.pem" >> "$CONF"
}
# got NAME RC REGEX...: the exit status, and each REGEX on some stdout line
got() {
	local name=$1 rc=$2 re
	shift 2
	if [ "$RC" != "$rc" ]; then
		fail "$name" "exit $RC, want $rc: $(grep -v '^OK' "$OUT" | head -4)"
		return
	fi
	for re in "$@"; do
		if ! grep -Eq -- "$re" "$OUT"; then
			fail "$name" "no /$re/ in: $(head -12 "$OUT")"
			return
		fi
	done
	ok "$name"
}

cert x
ctl check --only cert
got "cert: a good certificate is all OK, exit 0" 0 \
    '^OK   cert x.test .*chain .*verifies' '^OK   cert x.test .*key .* matches' \
    '^OK   cert x.test .*DNS-ID' '^OK   cert x.test .*in [0-9]+ days' \
    '^5 OK, 0 WARN, 0 FAIL$'

cert full viaint
ctl check --only cert
got "cert: leaf + intermediate in the file verifies" 0 \
    'chain \(2 certificates in the file\) verifies'

cert viaint
ctl check --only cert
got "cert: a missing intermediate is an incomplete chain" 2 \
    '^FAIL cert x.test .*incomplete chain: no certificate for the issuer "CN ?= ?xfed-test-intermediate"' \
    '^     fix: append the intermediate certificate\(s\) to'

# an out-of-date intermediate in the file: FAIL when it is the only path,
# WARN when the CA store gives a path valid today (RFC 5280 6.1.3)
cert oldint viaint
ctl check --only cert
got "cert: an expired intermediate is a FAIL" 2 \
    '^FAIL cert x.test .*the intermediate "CN ?= ?xfed-test-intermediate" \(certificate 2 in the file\) expired on 2020-02-01.*: peers refuse the chain' \
    '^     fix: replace it in .*oldint.pem with the CA.s current chain'
cert newint viaint
ctl check --only cert
got "cert: a not yet valid intermediate is a FAIL" 2 \
    '^FAIL cert x.test .*the intermediate "CN ?= ?xfed-test-intermediate" \(certificate 2 in the file\) is not valid until 2099-01-01.*: peers refuse the chain'
cert oldint viaint
sed -i "s|^tls_ca_file .*|tls_ca_file $P/caint.pem|" "$CONF"
ctl check --only cert
got "cert: an expired intermediate with a valid path through the CA store is a WARN" 1 \
    '^WARN cert x.test .*expired on 2020-02-01.*: a path valid today through .*caint.pem exists' \
    '^5 OK, 1 WARN, 0 FAIL$'
cert newint viaint
sed -i "s|^tls_ca_file .*|tls_ca_file $P/caint.pem|" "$CONF"
ctl check --only cert
got "cert: a not yet valid intermediate with a valid path is a WARN" 1 \
    '^WARN cert x.test .*is not valid until 2099-01-01.*: a path valid today'

cert wrong
ctl check --only cert
got "cert: wrong name" 2 \
    '^FAIL cert x.test .*wrong name: the certificate is for wrong.test, not x.test' \
    '^     fix: get a certificate with DNS:x.test in its subjectAltName'

cert expired
ctl check --only cert
got "cert: expired" 2 '^FAIL cert x.test .*expired on 2020-02-01' \
    '^     fix: renew it .*SIGHUP'

cert soonfull soon
ctl check --only cert
got "cert: expiring in under 14 days is a WARN, exit 1" 1 \
    '^WARN cert x.test .*in [45] days' '^4 OK, 1 WARN, 0 FAIL$'

cert x y
ctl check --only cert
got "cert: key mismatch" 2 \
    "^FAIL cert x.test .*the key $P/y.key does not match the certificate"

cert serveronly
ctl check --only cert
got "cert: serverAuth only is a WARN" 1 \
    '^WARN cert x.test .*serverAuth only' '^     fix: ask the CA for serverAuth and clientAuth'

cert self
ctl check --only cert
got "cert: self-signed" 2 '^FAIL cert x.test .*self.signed.*peers will not trust it'

cert srv
ctl check --only cert
got "cert: an SRV-ID without a DNS-ID is a WARN" 1 \
    '^WARN cert x.test .*SRV-ID or XmppAddr only'

printf 'domain x.test\nstore ./x.db\nrequire_encryption no\n' > "$CONF"
ctl check --only cert
got "cert: no certificate at all" 2 '^FAIL cert x.test: no certificate' \
    '^     fix: set tls_certificate and tls_key'

cert missing
ctl check --only cert --json
got "cert: unreadable file, --json" 2 '"status":"FAIL","check":"cert".*cannot read'
json_ok "cert: --json lines parse"
if [ "$(json_get 2 fail)" = 1 ] && [ "$(json_get 1 fix)" != null ]; then
	ok "cert: --json summary and fix"
else
	fail "cert: --json summary and fix" "$(cat "$OUT")"
fi

cert x
ctl check y.test --only cert
expect "check: a domain not hosted is refused, exit 2 (1 means warnings)" 2 "" "y.test is not a hosted domain; for a peer use --peer y.test"
ctl check --only bogus
expect "check: --only takes dns, cert or dial" 2 "" "--only takes dns, cert or dial"
ctl check y.test --peer z.test
expect "check: DOMAIN with --peer must be hosted (the one the dial speaks for)" 2 "" "y.test is not a hosted domain: with --peer, DOMAIN names the one the dial speaks for"
# Text from outside (peers, the native system) reaches the terminal
# escaped: bidi and zero-width characters that would reorder or hide what
# follows show as \u{...}; other UTF-8 stays as it is.
ctl user add rtl --name "$(printf 'a\342\200\256b\342\200\213c\303\251\302\205')"
ctl user list
if grep -qF 'a\u{202e}b\u{200b}c'"$(printf '\303\251')"'\u{0085}' "$OUT"; then
	ok "text output: U+202E, U+200B, C1 escaped, other UTF-8 kept"
else
	fail "text output: U+202E, U+200B, C1 escaped, other UTF-8 kept" "$(cat "$OUT")"
fi
echo 'no_such_key yes' >> "$CONF"
ctl check --only cert
expect "check: a config that does not load exits 2, not 1 (warnings)" 2 "" "no_such_key"
t_exit
