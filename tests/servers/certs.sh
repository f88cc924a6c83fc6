#!/usr/bin/env bash
# certs.sh OUTDIR - generate the test PKI for mailscope's integration tests.
#
# Writes into OUTDIR (EC P-256 keys, SHA-256 signatures):
#   ca.pem ca.key              "mailscope Test CA" (self-signed root, trust anchor for --ca-file)
#   valid.pem valid.key        CA-signed, CN/SAN mail.test.example (+ localhost, 127.0.0.1, 127.0.0.2,
#                              and *.dane.test.example: the DANE zones of dnssec.sh)
#   expired.pem expired.key    CA-signed for mail.test.example, valid 2020-01-01 .. 2021-01-01
#   wronghost.pem wronghost.key  CA-signed, CN/SAN other.test.example only
#   selfsigned.pem selfsigned.key  self-signed, CN/SAN mail.test.example
#   soon.pem soon.key          CA-signed for mail.test.example, expires 5 days from now
#   web.pem web.key            CA-signed for the test web server (nginx.sh): autoconfig.<d>,
#                              autodiscover.<d> and <d> of the autoconfig test domains
#                              (ac*.test.example), autoconfig.acprovider.example
#   inter.pem inter.key        "mailscope Test Intermediate CA", signed by the CA
#   chained.pem chained.key    signed by the intermediate, for mail.test.example, with an
#                              AIA caIssuers URL naming the intermediate (never fetched);
#                              chained-full.pem: the leaf followed by the intermediate
#   legacy.pem legacy.key      CA-signed RSA 2048 for mail.test.example (static-RSA suites)
#   dh1024.pem                 1024-bit DH parameters (a weak DHE server)
# Each host certificate also names its own <kind>.test.example (except wronghost).
#
# Idempotent: when every file exists, the valid certificates are good for 30 more days
# and soon.pem still has more than 4 days left, nothing is regenerated.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)

FILES=(ca valid expired wronghost selfsigned soon web inter chained legacy)
WEB_CHECK="autodiscover.acmx.test.example" # the last web name added: older sets lack it
VALID_CHECK="*.dane.test.example"          # the last name valid.pem gained: older sets lack it

up_to_date() {
  local f
  for f in "${FILES[@]}"; do
    [[ -s "$out/$f.pem" && -s "$out/$f.key" ]] || return 1
  done
  [[ -s "$out/chained-full.pem" && -s "$out/dh1024.pem" ]] || return 1
  openssl x509 -in "$out/ca.pem" -noout -checkend $((30 * 86400)) >/dev/null || return 1
  openssl x509 -in "$out/valid.pem" -noout -checkend $((30 * 86400)) >/dev/null || return 1
  openssl x509 -in "$out/wronghost.pem" -noout -checkend $((30 * 86400)) >/dev/null || return 1
  openssl x509 -in "$out/selfsigned.pem" -noout -checkend $((30 * 86400)) >/dev/null || return 1
  openssl x509 -in "$out/web.pem" -noout -checkend $((30 * 86400)) >/dev/null || return 1
  openssl x509 -in "$out/web.pem" -noout -ext subjectAltName 2>/dev/null | grep -q "$WEB_CHECK" || return 1
  openssl x509 -in "$out/valid.pem" -noout -ext subjectAltName 2>/dev/null | grep -qF "$VALID_CHECK" || return 1
  # soon.pem must still have more than 4 days left (so --cert-warn-days 2 stays quiet)
  openssl x509 -in "$out/soon.pem" -noout -checkend $((4 * 86400 + 3600)) >/dev/null || return 1
  openssl x509 -in "$out/soon.pem" -noout -checkend $((6 * 86400)) >/dev/null && return 1
  return 0
}

if up_to_date; then
  exit 0
fi

work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# Minimal `openssl ca` setup: it is the OpenSSL 3.0 tool that takes explicit
# -startdate/-enddate (x509 -not_before/-not_after only exist from 3.4 on).
mkdir -p "$work/newcerts"
: >"$work/index.txt"
printf '1000\n' >"$work/serial"
cat >"$work/ca.cnf" <<CNF
[ ca ]
default_ca = testca
[ testca ]
dir = $work
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
certificate = $work/ca.pem
private_key = $work/ca.key
default_md = sha256
default_days = 825
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ policy_any ]
commonName = supplied
organizationName = optional
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF

# --- CA -------------------------------------------------------------------
newkey "$work/ca.key"
openssl req -new -x509 -key "$work/ca.key" -sha256 -days 3650 \
  -subj "/O=mailscope tests/CN=mailscope Test CA" \
  -config "$work/ca.cnf" -extensions v3_ca -out "$work/ca.pem" 2>/dev/null

# host NAME CN SAN [ca-options...]
host() {
  local name=$1 cn=$2 san=$3
  shift 3
  newkey "$work/$name.key"
  openssl req -new -key "$work/$name.key" -subj "/O=mailscope tests/CN=$cn" \
    -config "$work/ca.cnf" -out "$work/$name.csr" 2>/dev/null
  cat >"$work/$name.ext" <<EXT
[ leaf ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $san
EXT
  openssl ca -batch -notext -preserveDN -config "$work/ca.cnf" -extfile "$work/$name.ext" -extensions leaf \
    -in "$work/$name.csr" -out "$work/$name.pem" "$@" 2>"$work/$name.err" || {
    cat "$work/$name.err" >&2
    return 1
  }
}

utc() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

web_san=""
for d in acgood acclosed acplain achttp acredirect acother acdisagree acinvalid acuser acauth acfake acmx; do
  web_san+="DNS:autoconfig.$d.test.example, DNS:autodiscover.$d.test.example, DNS:$d.test.example, "
done
web_san+="DNS:autoconfig.acprovider.example, IP:127.0.0.20"
host web autoconfig.acgood.test.example "$web_san" -days 825

host valid mail.test.example \
  "DNS:mail.test.example, DNS:localhost, IP:127.0.0.1, IP:127.0.0.2, DNS:*.dane.test.example" -days 825
host expired mail.test.example \
  "DNS:mail.test.example, DNS:expired.test.example, IP:127.0.0.3" \
  -startdate 20200101000000Z -enddate 20210101000000Z
host wronghost other.test.example "DNS:other.test.example" -days 825
host soon mail.test.example \
  "DNS:mail.test.example, DNS:soon.test.example, IP:127.0.0.6" \
  -startdate "$(utc '-1 day')" -enddate "$(utc '+5 days')"

# --- an intermediate CA and a leaf it signs (chain tests) ---------------------
newkey "$work/inter.key"
openssl req -new -key "$work/inter.key" -subj "/O=mailscope tests/CN=mailscope Test Intermediate CA" \
  -config "$work/ca.cnf" -out "$work/inter.csr" 2>/dev/null
cat >"$work/inter.ext" <<EXT
[ inter ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EXT
openssl ca -batch -notext -preserveDN -config "$work/ca.cnf" -extfile "$work/inter.ext" -extensions inter \
  -in "$work/inter.csr" -out "$work/inter.pem" -days 1825 2>"$work/inter.err" || {
  cat "$work/inter.err" >&2
  exit 1
}
newkey "$work/chained.key"
openssl req -new -key "$work/chained.key" -subj "/O=mailscope tests/CN=mail.test.example" \
  -config "$work/ca.cnf" -out "$work/chained.csr" 2>/dev/null
cat >"$work/chained.ext" <<EXT
[ leaf ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = caIssuers;URI:http://127.0.0.1:9/mailscope-test-intermediate.crt
subjectAltName = DNS:mail.test.example, DNS:chained.test.example, IP:127.0.0.1
EXT
openssl x509 -req -in "$work/chained.csr" -CA "$work/inter.pem" -CAkey "$work/inter.key" \
  -set_serial 4097 -days 825 -sha256 -extfile "$work/chained.ext" -extensions leaf \
  -out "$work/chained.pem" 2>/dev/null
cat "$work/chained.pem" "$work/inter.pem" >"$work/chained-full.pem"

# --- RSA (static-RSA key exchange needs an RSA key) and weak DH ----------------
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/legacy.key" 2>/dev/null
openssl req -new -key "$work/legacy.key" -subj "/O=mailscope tests/CN=mail.test.example" \
  -config "$work/ca.cnf" -out "$work/legacy.csr" 2>/dev/null
cat >"$work/legacy.ext" <<EXT
[ leaf ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:mail.test.example, DNS:legacy.test.example, IP:127.0.0.1
EXT
openssl ca -batch -notext -preserveDN -config "$work/ca.cnf" -extfile "$work/legacy.ext" -extensions leaf \
  -in "$work/legacy.csr" -out "$work/legacy.pem" -days 825 2>"$work/legacy.err" || {
  cat "$work/legacy.err" >&2
  exit 1
}
openssl dhparam -dsaparam -out "$work/dh1024.pem" 1024 2>/dev/null

# --- self-signed ------------------------------------------------------------
newkey "$work/selfsigned.key"
openssl req -new -x509 -key "$work/selfsigned.key" -sha256 -days 825 \
  -subj "/O=mailscope tests/CN=mail.test.example" \
  -addext "subjectAltName = DNS:mail.test.example, DNS:selfsigned.test.example, IP:127.0.0.5" \
  -addext "basicConstraints = critical, CA:false" \
  -addext "extendedKeyUsage = serverAuth" \
  -config "$work/ca.cnf" -out "$work/selfsigned.pem" 2>/dev/null

for f in "${FILES[@]}"; do
  chmod 644 "$work/$f.pem"
  chmod 600 "$work/$f.key"
  mv -f "$work/$f.key" "$out/$f.key"
  mv -f "$work/$f.pem" "$out/$f.pem"
done
chmod 644 "$work/chained-full.pem" "$work/dh1024.pem"
mv -f "$work/chained-full.pem" "$work/dh1024.pem" "$out/"
