#!/usr/bin/env bash
# dnssec.sh start|stop|status DIR [CERTDIR]
#
# A DNSSEC-signed test zone behind a validating resolver, for the DANE tests (issue 15):
#   NSD     authoritative, on 127.0.0.1:$MS_DNSSEC_AUTH_PORT (default 10056), serving
#           dane.test.example (signed) and insecure.dane.test.example (not signed,
#           delegated from the signed zone without a DS record: provably insecure)
#   Unbound validating resolver on 127.0.0.1:$MS_DNSSEC_PORT (default 10055), with
#           dane.test.example's key as its only trust anchor; it asks NSD (stub zones)
#           and nothing else (every other name is refused: it never leaves the machine)
# Both run from the system's binaries with their own configuration, pid files, logs and
# keys under DIR, without chroot and without changing user; the system services are
# neither used nor touched. The zone keys (ECDSA P-256) are made by ldns-keygen and the
# zone is signed by ldns-signzone at every start (signatures valid from yesterday for 30
# days).
#
# The zone (every host is 127.0.0.2, where the test Dovecot serves valid.pem, which names
# *.dane.test.example); TLSA records at _PORT._tcp.HOST for each of the test Dovecot's
# ports $MS_IMAP_PORT $MS_IMAPS_PORT $MS_POP3_PORT $MS_POP3S_PORT (dovecot.sh's
# defaults 10143 10993 10110 10995 when unset):
#   match.dane.test.example       TLSA 3 1 1 SHA-256 of valid.pem's public key (matches),
#                                 validated
#   mismatch.dane.test.example    TLSA 3 1 1 SHA-256 of wronghost.pem's public key (a
#                                 stale record: matches nothing the server sends), validated
#   bogus.dane.test.example       TLSA 3 1 1 of valid.pem's key, but the signatures of the
#                                 TLSA RRsets are broken: Unbound answers SERVFAIL (the
#                                 host's A record is signed correctly)
#   notlsa.dane.test.example      no TLSA at all (a validated NXDOMAIN for _PORT._tcp)
#   insecure.dane.test.example    (the unsigned child zone's apex) TLSA 3 1 1 of
#                                 valid.pem's key: found, but not validated (no AD bit)
# CERTDIR (default DIR/../certs) holds certs.sh's valid.pem and wronghost.pem.
#
# `stop` ends exactly the NSD and Unbound that `start` started (DIR/nsd.pid,
# DIR/unbound.pid). A port already in use fails `start` with a message naming it.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|status DIR [CERTDIR]" >&2
  exit 2
}
[[ $# -ge 2 ]] || usage
cmd=$1
dir=$2
certs=${3:-}
NSD=${MS_NSD_BIN:-/usr/sbin/nsd}
UNBOUND=${MS_UNBOUND_BIN:-/usr/sbin/unbound}
PORT=${MS_DNSSEC_PORT:-10055}
AUTH_PORT=${MS_DNSSEC_AUTH_PORT:-10056}
IMAP_PORT=${MS_IMAP_PORT:-10143}
IMAPS_PORT=${MS_IMAPS_PORT:-10993}
POP3_PORT=${MS_POP3_PORT:-10110}
POP3S_PORT=${MS_POP3S_PORT:-10995}
ZONE=dane.test.example
CHILD=insecure.dane.test.example
log() { echo "dnssec.sh: $*" >&2; }
# shellcheck source=tests/servers/proc.sh
source "$(dirname "${BASH_SOURCE[0]}")/proc.sh"

is_ours() { # is_ours PID CONF: PID runs a program with our configuration file
  local pid=$1 conf=$2
  [[ -n "$pid" && -r /proc/$pid/cmdline ]] || return 1
  [[ "$(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null)" == *" $conf"* ]]
}

stop_one() { # stop_one NAME: end the NAME (nsd|unbound) that DIR/NAME.pid names, if ours
  local name=$1 pidfile=$dir/$1.pid pid
  [[ -f $pidfile ]] || return 0
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if is_ours "$pid" "$dir/$name.conf"; then
    stop_tree "$pid" 10
  fi
  rm -f "$pidfile"
}

do_stop() {
  stop_one unbound
  stop_one nsd
}

# query PORT NAME TYPE: one UDP question (EDNS, DO and AD bits set) to 127.0.0.1:PORT;
# prints "RCODE AD ANCOUNT" or nothing when no answer came within a second.
query() {
  /usr/bin/python3 - "$@" <<'PY' 2>/dev/null
import random, socket, struct, sys
port, name, qtype = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
qid = random.randrange(65536)
q = struct.pack(">HHHHHH", qid, 0x0120, 1, 0, 0, 1)  # RD, AD; one question, one OPT
q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
q += struct.pack(">HH", qtype, 1)
q += b"\0" + struct.pack(">HHIH", 41, 1232, 0x8000, 0)  # OPT: 1232 bytes, DO
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.sendto(q, ("127.0.0.1", port))
r = s.recv(4096)
if r[:2] != struct.pack(">H", qid):
    sys.exit(1)
print(r[3] & 0xF, 1 if r[3] & 0x20 else 0, struct.unpack(">H", r[6:8])[0])
PY
}

port_free() { # port_free PORT: nothing is bound to 127.0.0.1:PORT (UDP nor TCP)
  /usr/bin/python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind(("127.0.0.1", int(sys.argv[1])))
    except OSError:
        sys.exit(1)
    finally:
        s.close()
PY
}

spki_sha256() { # spki_sha256 CERT: hex SHA-256 of the certificate's SubjectPublicKeyInfo
  openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64
}

write_zones() {
  local match stale p serial
  match=$(spki_sha256 "$certs/valid.pem")
  stale=$(spki_sha256 "$certs/wronghost.pem")
  serial=$(date -u +%s)
  {
    cat <<ZONE
\$ORIGIN $ZONE.
\$TTL 300
@        IN SOA ns.$ZONE. hostmaster.$ZONE. $serial 3600 600 86400 60
@        IN NS  ns.$ZONE.
ns       IN A   127.0.0.1
match    IN A   127.0.0.2
mismatch IN A   127.0.0.2
bogus    IN A   127.0.0.2
notlsa   IN A   127.0.0.2
; the unsigned child zone: a delegation without DS
insecure IN NS  ns.$ZONE.
ZONE
    for p in "$IMAP_PORT" "$IMAPS_PORT" "$POP3_PORT" "$POP3S_PORT"; do
      echo "_$p._tcp.match    IN TLSA 3 1 1 $match"
      echo "_$p._tcp.mismatch IN TLSA 3 1 1 $stale"
      echo "_$p._tcp.bogus    IN TLSA 3 1 1 $match"
    done
  } >"$dir/$ZONE.zone"
  {
    cat <<ZONE
\$ORIGIN $CHILD.
\$TTL 300
@        IN SOA ns.$ZONE. hostmaster.$ZONE. $serial 3600 600 86400 60
@        IN NS  ns.$ZONE.
@        IN A   127.0.0.2
ZONE
    for p in "$IMAP_PORT" "$IMAPS_PORT" "$POP3_PORT" "$POP3S_PORT"; do
      echo "_$p._tcp IN TLSA 3 1 1 $match"
    done
  } >"$dir/$CHILD.zone"
}

# Keys and signatures; then the signatures of bogus's TLSA RRsets are broken (one base64
# digit of each signature changed: still well-formed, no longer valid).
sign_zone() {
  local ksk zsk
  rm -rf "$dir/keys"
  mkdir -p "$dir/keys"
  ksk=$(cd "$dir/keys" && ldns-keygen -a ECDSAP256SHA256 -k "$ZONE")
  zsk=$(cd "$dir/keys" && ldns-keygen -a ECDSAP256SHA256 "$ZONE")
  ldns-signzone -i "$(date -u -d '-1 day' +%Y%m%d%H%M%S)" -e "$(date -u -d '+30 days' +%Y%m%d%H%M%S)" \
    -f "$dir/$ZONE.zone.signed" "$dir/$ZONE.zone" "$dir/keys/$zsk" "$dir/keys/$ksk"
  cp "$dir/keys/$ksk.ds" "$dir/trust-anchor.ds"
  awk '
    $1 ~ /^_[0-9]+\._tcp\.bogus\./ && $4 == "RRSIG" && $5 == "TLSA" {
      sig = $NF
      c = substr(sig, 1, 1)
      $NF = (c == "A" ? "B" : "A") substr(sig, 2)
      broken++
    }
    { print }
    END { if (broken != 4) { print "broke " broken + 0 " signatures, not 4" > "/dev/stderr"; exit 1 } }
  ' "$dir/$ZONE.zone.signed" >"$dir/$ZONE.zone.bogus"
  mv "$dir/$ZONE.zone.bogus" "$dir/$ZONE.zone.signed"
}

write_configs() {
  cat >"$dir/nsd.conf" <<CONF
# mailscope DANE tests: authoritative server (generated by dnssec.sh)
server:
  ip-address: 127.0.0.1@$AUTH_PORT
  do-ip4: yes
  do-ip6: no
  server-count: 1
  username: ""
  chroot: ""
  zonesdir: "$dir"
  database: ""
  zonelistfile: "$dir/nsd.zonelist"
  xfrdfile: "$dir/nsd.xfrd.state"
  xfrdir: "$dir"
  pidfile: "$dir/nsd.pid"
  logfile: "$dir/nsd.log"
  verbosity: 1
  hide-version: yes
remote-control:
  control-enable: no
zone:
  name: "$ZONE"
  zonefile: "$dir/$ZONE.zone.signed"
zone:
  name: "$CHILD"
  zonefile: "$dir/$CHILD.zone"
CONF
  cat >"$dir/unbound.conf" <<CONF
# mailscope DANE tests: validating resolver (generated by dnssec.sh)
server:
  interface: 127.0.0.1
  port: $PORT
  do-ip4: yes
  do-ip6: no
  do-udp: yes
  do-tcp: yes
  access-control: 127.0.0.0/8 allow
  num-threads: 1
  so-reuseport: no
  username: ""
  chroot: ""
  directory: "$dir"
  pidfile: "$dir/unbound.pid"
  logfile: "$dir/unbound.log"
  use-syslog: no
  verbosity: 1
  val-log-level: 2
  log-servfail: yes
  do-daemonize: yes
  do-not-query-localhost: no
  module-config: "validator iterator"
  trust-anchor-file: "$dir/trust-anchor.ds"
  # no root trust anchor, no root hints used: only the test zones are answered
  local-zone: "." refuse
  local-zone: "$ZONE." transparent
  val-bogus-ttl: 5
  cache-max-negative-ttl: 5
remote-control:
  control-enable: no
stub-zone:
  name: "$ZONE"
  stub-addr: 127.0.0.1@$AUTH_PORT
stub-zone:
  name: "$CHILD"
  stub-addr: 127.0.0.1@$AUTH_PORT
CONF
}

# wait_for NAME PORT QNAME QTYPE WANT: until `query` prints WANT ("RCODE AD"), 10 s at most
wait_for() {
  local name=$1 port=$2 qname=$3 qtype=$4 want=$5 i got=""
  for ((i = 0; i < 100; i++)); do
    got=$(query "$port" "$qname" "$qtype" || true)
    if [[ $got == "$want "* ]]; then
      return 0
    fi
    sleep 0.1
  done
  log "$name on 127.0.0.1:$port did not answer $qname/$qtype with rcode/AD '$want' in 10s (got: '${got:-no answer}')"
  return 1
}

# launch NAME BIN PORT QNAME QTYPE WANT: start NAME (it daemonizes; its stdio goes away from
# the caller, ctest waits on pipes), wait until PORT answers QNAME as wait_for says, and
# check that what answers is the NAME this script started; on failure stop all and exit 1
launch() {
  local name=$1 bin=$2 port=$3 qname=$4 qtype=$5 want=$6 pid
  if ! "$bin" -c "$dir/$name.conf" </dev/null >>"$dir/$name.out" 2>&1; then
    log "$name failed to start:"
    tail -n 20 "$dir/$name.out" "$dir/$name.log" >&2 || true
    do_stop
    exit 1
  fi
  if ! wait_for "$name" "$port" "$qname" "$qtype" "$want"; then
    tail -n 20 "$dir/$name.out" "$dir/$name.log" >&2 || true
    do_stop
    exit 1
  fi
  pid=$(cat "$dir/$name.pid" 2>/dev/null || true)
  if ! is_ours "$pid" "$dir/$name.conf"; then
    log "127.0.0.1:$port answers, but not with the $name this script started (pid file: '$pid')"
    do_stop
    exit 1
  fi
}

do_start() {
  local p pid
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  certs=${certs:-$dir/../certs}
  certs=$(cd "$certs" && pwd)
  for p in valid wronghost; do
    [[ -s $certs/$p.pem ]] || { log "no $certs/$p.pem (tests/servers/certs.sh makes it)"; exit 1; }
  done
  for p in "$NSD" "$UNBOUND" "$(command -v ldns-keygen || echo ldns-keygen)" "$(command -v ldns-signzone || echo ldns-signzone)"; do
    [[ -x $p ]] || { log "$p is missing (Debian packages nsd, unbound, ldnsutils: scripts/deps.sh test)"; exit 1; }
  done
  do_stop
  for p in "$AUTH_PORT" "$PORT"; do
    if ! port_free "$p"; then
      log "127.0.0.1:$p is already in use (another DNS server? pick other ports: MS_TEST_DNSSEC_PORT, MS_TEST_DNSSEC_AUTH_PORT)"
      exit 1
    fi
  done
  rm -f "$dir"/*.log "$dir"/*.out "$dir/nsd.zonelist" "$dir/nsd.xfrd.state"
  write_zones
  sign_zone
  write_configs

  launch nsd "$NSD" "$AUTH_PORT" "$ZONE" 6 "0"
  # ready when it validates: the signed zone's address with the AD bit
  launch unbound "$UNBOUND" "$PORT" "match.$ZONE" 1 "0 1"
  pid=$(cat "$dir/unbound.pid")
  log "nsd $(cat "$dir/nsd.pid") on 127.0.0.1:$AUTH_PORT, unbound $pid on 127.0.0.1:$PORT (logs: $dir/nsd.log, $dir/unbound.log)"
}

case $cmd in
  start) do_start ;;
  stop)
    [[ -d $dir ]] || exit 0
    dir=$(cd "$dir" && pwd)
    do_stop
    ;;
  status)
    dir=$(cd "$dir" && pwd)
    rc=0
    for n in nsd unbound; do
      pid=$(cat "$dir/$n.pid" 2>/dev/null || true)
      if is_ours "$pid" "$dir/$n.conf"; then echo "$n running: $pid"; else echo "$n not running"; rc=1; fi
    done
    exit $rc
    ;;
  *) usage ;;
esac
