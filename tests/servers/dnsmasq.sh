#!/usr/bin/env bash
# dnsmasq.sh start|stop|status DIR PORT
#
# A private DNS server for the tests: dnsmasq on 127.0.0.1:PORT (UDP and TCP), reading
# no /etc/resolv.conf, no /etc/hosts and no /etc/dnsmasq.conf, never forwarding a query.
# Everything under test.example is answered locally (unknown names are NXDOMAIN):
#   mail.test.example        A 127.0.0.2   (valid certificate in dovecot.sh)
#   expired.test.example     A 127.0.0.3   (expired certificate)
#   wronghost.test.example   A 127.0.0.4   (certificate for other.test.example)
#   selfsigned.test.example  A 127.0.0.5   (self-signed certificate)
#   soon.test.example        A 127.0.0.6   (certificate expiring in 5 days)
#   plaintext.test.example   A 127.0.0.7   (plaintext sign-in allowed before TLS)
#   notls.test.example       A 127.0.0.8   (no STARTTLS/STLS)
#   closed.test.example      A 127.0.0.9   (nothing listens there)
#   noaddr.test.example      TXT only      (for dns.no_address: NOERROR, no A/AAAA)
#   v6only.test.example      AAAA ::1 only (the test Dovecot listens on IPv4 only: refused)
#   dual.test.example        A 127.0.0.2 + AAAA ::1 (IPv4 works, IPv6 refused; the valid
#                            certificate does not name dual.test.example)
# Discovery zones (tests/integration/test_discovery.py). SRV ports are the test Dovecot's,
# from $MS_IMAP_PORT $MS_IMAPS_PORT $MS_POP3_PORT $MS_POP3S_PORT (dovecot.sh's defaults
# 10143 10993 10110 10995 when unset), and the test Postfix's submission ports, from
# $MS_SUBMISSIONS_PORT $MS_SUBMISSION_PORT (postfix.sh's defaults 10465 10587);
# guessed hosts (MX, conventional) need --ports:
#   srv.test.example     SRV for all four services and both submission services, MX:
#                        _imaps  0 10 closed.test.example (dead) / 10 5 mail.test.example
#                        _imap  20 0 mail; _pop3s 0 60 mail / 0 10 closed (weights);
#                        _pop3  10 0 mail; _submissions 0 1 mail (implicit TLS),
#                        _submission 0 1 mail (STARTTLS); MX 10 mail
#   nosubmission.test.example  _submission target "." (not offered); _submissions 0 1 mail;
#                        _imaps 0 1 mail (no _imap, _pop3s, _pop3, MX)
#   nopop.test.example   _pop3s/_pop3 target "." (not offered); _imaps/_imap -> mail;
#                        pop.nopop and mail.nopop resolve to 127.0.0.2 (must not be guessed)
#   badsrv.test.example  _imaps -> nowhere.badsrv.test.example (NXDOMAIN), _pop3s ->
#                        noaddr.test.example (no address); _imap/_pop3 -> mail
#   mxonly.test.example  MX 10 mail.test.example, MX 20 mx2.mxonly.test.example (NXDOMAIN)
#   conv.test.example    no SRV/MX: imap.conv and mail.conv -> 127.0.0.2 (certificate for
#                        mail.test.example: host name mismatch on purpose)
#   weights.test.example _imaps 0 10 mail / 0 60 soon.test.example (same priority)
#   families.test.example  _imaps -> dual.test.example, _pop3s -> v6only.test.example
#   many.test.example    16 _imaps and 16 _pop3s records (prio 0 -> mail, the others ->
#                        closed.test.example on distinct ports): more than the 24 candidates
#   manyrecv.test.example  20 _imaps and 20 _pop3s records -> closed.test.example (distinct
#                        ports, priorities 0-19) and one _submissions -> mail (the test
#                        Postfix, priority 0): dead receiving candidates beyond the endpoint
#                        cap must not starve the sending side (test_submission.py)
#   manyhosts.test.example  20 _imaps and 20 _pop3s records, each to its own host
#                        deadN.manyhosts.test.example (NXDOMAIN), and one _submission ->
#                        mail: the dead hosts must not fill the host table (test_submission.py)
#   dedup.test.example   _imaps twice to the same endpoint (priorities 0 and 5), _imap ->
#                        mail; MX 10 mail.dedup.test.example (-> 127.0.0.2), which is also
#                        the conventional mail.<domain>: each endpoint is listed once
#   nosuchdomain.test.example  nothing at all (NXDOMAIN)
# Deny-list zone (tests/integration/test_serve.py): names whose only address is one that
# `mailscope serve` must refuse (checked before connecting, so nothing is ever sent there):
#   loopback.deny 127.0.0.2, ten.deny 10.255.0.1, oneseventwo.deny 172.16.0.1,
#   oneninetwo.deny 192.168.0.1, cgnat.deny 100.64.0.1, linklocal.deny 169.254.0.1,
#   multicast.deny 224.0.0.1, unspecified.deny 0.0.0.0, ula.deny fd00::1,
#   linklocal6.deny fe80::1, multicast6.deny ff02::1, v6loopback.deny ::1,
#   mapped.deny ::ffff:127.0.0.2, mappedten.deny ::ffff:10.0.0.1, nat64.deny 64:ff9b::a00:1
# Autoconfig / Autodiscover zones (tests/integration/test_autoconfig.py; what each publishes:
# tests/servers/nginx.sh, which listens on 127.0.0.20): autoconfig.<d> and autodiscover.<d>
# -> 127.0.0.20 for d in acgood acclosed acplain achttp acredirect acother acdisagree
# acinvalid acuser acauth (ac*.test.example; the domains themselves have no address), and:
#   acgood       _imaps 0 1 mail, _pop3s 0 1 mail, _submission 0 1 mail (agrees with its
#                autoconfig file)
#   acdisagree   _imaps 0 1 mail, _submission 0 1 mail (its autoconfig names 127.0.0.2)
#   acmx         MX 10 mx.acprovider.example (-> 127.0.0.2): Thunderbird's MX-based
#                autoconfig asks autoconfig.acprovider.example (-> 127.0.0.20); the zone
#                acprovider.example is answered locally too
#   acfake       nothing (the hostile-HTTP tests pin its names with --resolve)
# TLS audit zones (issue 15; stunnel.sh's ports from $MS_LEGACY_PORT $MS_CHAIN_FULL_PORT):
#   pool.test.example    A 127.0.0.2 (valid certificate), 127.0.0.3 (expired certificate),
#                        127.0.0.9 (closed): a pool where one member is down and one differs
#   _$MS_CHAIN_FULL_PORT._tcp.mail.test.example  TLSA 3 1 1 of chained.pem's key (matches),
#                        when $MS_CERTS names the test certificates
#   _$MS_LEGACY_PORT._tcp.mail.test.example      TLSA 3 1 1 00..00 (matches nothing)
#   dnsmasq does not sign: its answers never carry the AD bit.
# Extra dnsmasq options may be appended one per line in DIR/extra.conf (or passed in
# $MS_DNSMASQ_EXTRA, one per line), e.g. srv-host= or mx-host= records.
# `stop` ends exactly the dnsmasq that `start` started (DIR/dnsmasq.pid).
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|status DIR PORT" >&2
  exit 2
}
[[ $# -ge 2 ]] || usage
cmd=$1
dir=$2
port=${3:-}
DNSMASQ=${MS_DNSMASQ_BIN:-/usr/sbin/dnsmasq}
IMAP_PORT=${MS_IMAP_PORT:-10143}
IMAPS_PORT=${MS_IMAPS_PORT:-10993}
POP3_PORT=${MS_POP3_PORT:-10110}
POP3S_PORT=${MS_POP3S_PORT:-10995}
SUBMISSION_PORT=${MS_SUBMISSION_PORT:-10587}
SUBMISSIONS_PORT=${MS_SUBMISSIONS_PORT:-10465}
LEGACY_PORT=${MS_LEGACY_PORT:-10990}
CHAIN_FULL_PORT=${MS_CHAIN_FULL_PORT:-10992}
log() { echo "dnsmasq.sh: $*" >&2; }

alive() { kill -0 "$1" 2>/dev/null && [[ "$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null)" != Z ]]; }

is_ours() {
  local pid=$1
  [[ -n "$pid" && -r /proc/$pid/cmdline ]] || return 1
  [[ "$(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null)" == *dnsmasq*"--conf-file=$dir/dnsmasq.conf"* ]]
}

do_stop() {
  local pidfile=$dir/dnsmasq.pid pid i
  [[ -f $pidfile ]] || return 0
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if is_ours "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      log "dnsmasq $pid did not stop in 10s, killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

# Does a DNS query for mail.test.example over UDP get an answer? (Python's standard library)
answers() {
  /usr/bin/python3 - "$port" <<'PY' 2>/dev/null
import socket, struct, sys
port = int(sys.argv[1])
q = struct.pack(">HHHHHH", 0x4d53, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(p)]) + p.encode() for p in "mail.test.example".split(".")) + b"\0"
q += struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.sendto(q, ("127.0.0.1", port))
r = s.recv(512)
sys.exit(0 if r[:2] == b"\x4d\x53" and (r[3] & 0xF) == 0 and struct.unpack(">H", r[6:8])[0] >= 1 else 1)
PY
}

do_start() {
  local pid i
  [[ -n $port ]] || usage
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  do_stop

  {
    cat <<CONF
# mailscope integration tests: private dnsmasq (generated by dnsmasq.sh)
port=$port
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
no-poll
no-negcache
cache-size=0
local=/test.example/
local=/acprovider.example/
domain-needed
log-queries
log-facility=$dir/dnsmasq.log
pid-file=$dir/dnsmasq.pid
host-record=mail.test.example,127.0.0.2
host-record=expired.test.example,127.0.0.3
host-record=wronghost.test.example,127.0.0.4
host-record=selfsigned.test.example,127.0.0.5
host-record=soon.test.example,127.0.0.6
host-record=plaintext.test.example,127.0.0.7
host-record=notls.test.example,127.0.0.8
host-record=closed.test.example,127.0.0.9
txt-record=noaddr.test.example,"mailscope test: this name has no address"
host-record=v6only.test.example,::1
host-record=dual.test.example,127.0.0.2,::1
# --- discovery zones (srv-host=NAME,TARGET,PORT,PRIORITY,WEIGHT; mx-host=NAME,HOST,PREF)
srv-host=_imaps._tcp.srv.test.example,closed.test.example,$IMAPS_PORT,0,10
srv-host=_imaps._tcp.srv.test.example,mail.test.example,$IMAPS_PORT,10,5
srv-host=_imap._tcp.srv.test.example,mail.test.example,$IMAP_PORT,20,0
srv-host=_pop3s._tcp.srv.test.example,mail.test.example,$POP3S_PORT,0,60
srv-host=_pop3s._tcp.srv.test.example,closed.test.example,$POP3S_PORT,0,10
srv-host=_pop3._tcp.srv.test.example,mail.test.example,$POP3_PORT,10,0
srv-host=_submissions._tcp.srv.test.example,mail.test.example,$SUBMISSIONS_PORT,0,1
srv-host=_submission._tcp.srv.test.example,mail.test.example,$SUBMISSION_PORT,0,1
mx-host=srv.test.example,mail.test.example,10
srv-host=_imaps._tcp.nopop.test.example,mail.test.example,$IMAPS_PORT,0,1
srv-host=_imap._tcp.nopop.test.example,mail.test.example,$IMAP_PORT,10,1
srv-host=_pop3s._tcp.nopop.test.example
srv-host=_pop3._tcp.nopop.test.example
host-record=pop.nopop.test.example,127.0.0.2
host-record=mail.nopop.test.example,127.0.0.2
srv-host=_imaps._tcp.badsrv.test.example,nowhere.badsrv.test.example,$IMAPS_PORT,0,1
srv-host=_pop3s._tcp.badsrv.test.example,noaddr.test.example,$POP3S_PORT,0,1
srv-host=_imap._tcp.badsrv.test.example,mail.test.example,$IMAP_PORT,0,1
srv-host=_pop3._tcp.badsrv.test.example,mail.test.example,$POP3_PORT,0,1
mx-host=mxonly.test.example,mail.test.example,10
mx-host=mxonly.test.example,mx2.mxonly.test.example,20
host-record=imap.conv.test.example,127.0.0.2
host-record=mail.conv.test.example,127.0.0.2
srv-host=_imaps._tcp.weights.test.example,mail.test.example,$IMAPS_PORT,0,10
srv-host=_imaps._tcp.weights.test.example,soon.test.example,$IMAPS_PORT,0,60
srv-host=_imaps._tcp.families.test.example,dual.test.example,$IMAPS_PORT,0,1
srv-host=_pop3s._tcp.families.test.example,v6only.test.example,$POP3S_PORT,0,1
srv-host=_imaps._tcp.many.test.example,mail.test.example,$IMAPS_PORT,0,1
srv-host=_pop3s._tcp.many.test.example,mail.test.example,$POP3S_PORT,0,1
srv-host=_imaps._tcp.dedup.test.example,mail.test.example,$IMAPS_PORT,0,1
srv-host=_imaps._tcp.dedup.test.example,mail.test.example,$IMAPS_PORT,5,1
srv-host=_imap._tcp.dedup.test.example,mail.test.example,$IMAP_PORT,0,1
mx-host=dedup.test.example,mail.dedup.test.example,10
host-record=mail.dedup.test.example,127.0.0.2
srv-host=_imaps._tcp.nosubmission.test.example,mail.test.example,$IMAPS_PORT,0,1
srv-host=_submissions._tcp.nosubmission.test.example,mail.test.example,$SUBMISSIONS_PORT,0,1
srv-host=_submission._tcp.nosubmission.test.example
# --- deny-list zone (mailscope serve)
host-record=loopback.deny.test.example,127.0.0.2
host-record=ten.deny.test.example,10.255.0.1
host-record=oneseventwo.deny.test.example,172.16.0.1
host-record=oneninetwo.deny.test.example,192.168.0.1
host-record=cgnat.deny.test.example,100.64.0.1
host-record=linklocal.deny.test.example,169.254.0.1
host-record=multicast.deny.test.example,224.0.0.1
host-record=unspecified.deny.test.example,0.0.0.0
host-record=ula.deny.test.example,fd00::1
host-record=linklocal6.deny.test.example,fe80::1
host-record=multicast6.deny.test.example,ff02::1
host-record=v6loopback.deny.test.example,::1
host-record=mapped.deny.test.example,::ffff:127.0.0.2
host-record=mappedten.deny.test.example,::ffff:10.0.0.1
host-record=nat64.deny.test.example,64:ff9b::a00:1
CONF
    echo "host-record=pool.test.example,127.0.0.2"
    echo "host-record=pool.test.example,127.0.0.3"
    echo "host-record=pool.test.example,127.0.0.9"
    echo "dns-rr=_$LEGACY_PORT._tcp.mail.test.example,52,030101$(printf '0%.0s' {1..64})"
    if [[ -n ${MS_CERTS:-} && -s ${MS_CERTS}/chained.pem ]]; then
      spki=$(openssl x509 -in "$MS_CERTS/chained.pem" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)
      echo "dns-rr=_$CHAIN_FULL_PORT._tcp.mail.test.example,52,030101$spki"
    fi
    for ((i = 0; i < 20; i++)); do
      echo "srv-host=_imaps._tcp.manyrecv.test.example,closed.test.example,$((3000 + i)),$i,1"
      echo "srv-host=_pop3s._tcp.manyrecv.test.example,closed.test.example,$((4000 + i)),$i,1"
    done
    echo "srv-host=_submissions._tcp.manyrecv.test.example,mail.test.example,$SUBMISSIONS_PORT,0,1"
    for ((i = 0; i < 20; i++)); do
      echo "srv-host=_imaps._tcp.manyhosts.test.example,dead$i.manyhosts.test.example,993,$i,1"
      echo "srv-host=_pop3s._tcp.manyhosts.test.example,dead$((i + 20)).manyhosts.test.example,995,$i,1"
    done
    echo "srv-host=_submission._tcp.manyhosts.test.example,mail.test.example,$SUBMISSION_PORT,0,1"
    for ((i = 1; i <= 15; i++)); do
      echo "srv-host=_imaps._tcp.many.test.example,closed.test.example,$((1000 + i)),$i,1"
      echo "srv-host=_pop3s._tcp.many.test.example,closed.test.example,$((2000 + i)),$i,1"
    done
    for d in acgood acclosed acplain achttp acredirect acother acdisagree acinvalid acuser acauth; do
      echo "host-record=autoconfig.$d.test.example,127.0.0.20"
      echo "host-record=autodiscover.$d.test.example,127.0.0.20"
    done
    echo "srv-host=_imaps._tcp.acgood.test.example,mail.test.example,$IMAPS_PORT,0,1"
    echo "srv-host=_pop3s._tcp.acgood.test.example,mail.test.example,$POP3S_PORT,0,1"
    echo "srv-host=_submission._tcp.acgood.test.example,mail.test.example,$SUBMISSION_PORT,0,1"
    echo "srv-host=_imaps._tcp.acdisagree.test.example,mail.test.example,$IMAPS_PORT,0,1"
    echo "srv-host=_submission._tcp.acdisagree.test.example,mail.test.example,$SUBMISSION_PORT,0,1"
    echo "mx-host=acmx.test.example,mx.acprovider.example,10"
    echo "host-record=mx.acprovider.example,127.0.0.2"
    echo "host-record=autoconfig.acprovider.example,127.0.0.20"
    [[ -f $dir/extra.conf ]] && cat "$dir/extra.conf"
    [[ -n ${MS_DNSMASQ_EXTRA:-} ]] && printf '%s\n' "$MS_DNSMASQ_EXTRA"
    true
  } >"$dir/dnsmasq.conf"

  local user_opt=()
  if (($(id -u) == 0)); then user_opt=(--user=root --group=root); fi
  rm -f "$dir/dnsmasq.pid"
  # dnsmasq daemonizes itself; its stdio goes away from the caller (ctest waits on pipes)
  if ! "$DNSMASQ" "--conf-file=$dir/dnsmasq.conf" "${user_opt[@]}" </dev/null >>"$dir/dnsmasq.out" 2>&1; then
    log "dnsmasq failed to start:"
    tail -n 20 "$dir/dnsmasq.out" >&2
    exit 1
  fi
  for ((i = 0; i < 100; i++)); do
    pid=$(cat "$dir/dnsmasq.pid" 2>/dev/null || true)
    if is_ours "$pid" && answers; then
      log "dnsmasq $pid ready on 127.0.0.1:$port (log: $dir/dnsmasq.log)"
      return 0
    fi
    sleep 0.1
  done
  log "dnsmasq did not answer on 127.0.0.1:$port in 10s"
  tail -n 20 "$dir/dnsmasq.out" "$dir/dnsmasq.log" >&2 || true
  do_stop
  exit 1
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
    pid=$(cat "$dir/dnsmasq.pid" 2>/dev/null || true)
    if is_ours "$pid"; then echo "running: $pid"; else echo "not running"; exit 1; fi
    ;;
  *) usage ;;
esac
