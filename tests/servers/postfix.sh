#!/usr/bin/env bash
# postfix.sh start|stop|status DIR [CERTDIR]
#
# Runs the system's Postfix 3.7 (Debian `postfix`) with its OWN configuration directory
# (DIR/conf: main.cf, master.cf), queue directory, data directory and log file, all under
# DIR, listening on 127.0.0.2 only, for mailscope's SMTP submission tests. The system
# Postfix (/etc/postfix, /var/spool/postfix) is neither used nor touched, and nothing
# listens on port 25: master.cf has only the three listeners below. `stop` ends exactly
# the master that `start` started (its pid is kept in DIR/postfix.pid) and its children,
# and waits for them, bounded.
#
# Listeners, all on 127.0.0.2 with the valid certificate (CERTDIR/valid.pem: CN
# mail.test.example; CERTDIR defaults to DIR/certs, certs.sh fills it if needed):
#   $MS_SUBMISSION_PORT      (default 10587) submission, STARTTLS (RFC 3207): AUTH is
#                            offered only after TLS (smtpd_tls_auth_only), MAIL before
#                            STARTTLS gets "530 5.7.0 Must issue a STARTTLS command first"
#   $MS_SUBMISSIONS_PORT     (default 10465) submissions, implicit TLS (RFC 8314), same rules
#   $MS_SUBMISSION_WEAK_PORT (default 10588) deliberately weak: STARTTLS offered but not
#                            required, AUTH PLAIN LOGIN offered before TLS and accepted in
#                            clear text (also in the old "AUTH=PLAIN LOGIN" form), for the
#                            "AUTH before TLS confirmed" tests
# Sign-in: SASL through the test Dovecot's auth socket (dovecot.sh: DIR/auth-postfix.path
# of the Dovecot directory $MS_DOVECOT_DIR, default DIR/../dovecot; $MS_POSTFIX_SASL_PATH
# names the socket directly). Dovecot must run first. Its accounts and passwords sign in
# (alice / canary-pw-7Q2x, bob / bob-pw-3Kd9, ...: passdb dovecot/passwd.smtp); a wrong
# password gets "535 5.7.8 Error: authentication failed: ..." after Dovecot's
# auth_failure_delay (2 s).
# Mail: relaying only for signed-in clients (smtpd_relay_restrictions =
# permit_sasl_authenticated, reject_unauth_destination; no permit_mynetworks: the clients
# come from 127.0.0.1); no local domain; every transport is `discard`, so a message that
# were ever sent would be thrown away, never delivered or stored. SIZE is 26214400 (25 MiB).
#
# Layout: DIR/conf (config_directory), DIR/data (data_directory, owned by postfix),
# the queue directory DIR/queue (or /tmp/ms-postfix.XXXXXX when DIR's path is too long
# for the unix sockets under it; DIR/queue_dir_path then names it), the log DIR/postfix.log
# (maillog_file, written by Postfix's postlogd: no syslog). Postfix's processes run as
# its mail_owner `postfix` with setgid group `postdrop`, which Debian's package creates;
# Postfix must be started as root.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|status DIR [CERTDIR]" >&2
  exit 2
}
[[ $# -ge 2 ]] || usage
cmd=$1
dir=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

SUBMISSION_PORT=${MS_SUBMISSION_PORT:-10587}
SUBMISSIONS_PORT=${MS_SUBMISSIONS_PORT:-10465}
WEAK_PORT=${MS_SUBMISSION_WEAK_PORT:-10588}
ADDR=127.0.0.2
POSTFIX=${MS_POSTFIX_BIN:-/usr/sbin/postfix}
POSTCONF=${MS_POSTCONF_BIN:-/usr/sbin/postconf}
START_TIMEOUT=${MS_POSTFIX_START_TIMEOUT:-30}
STOP_TIMEOUT=${MS_POSTFIX_STOP_TIMEOUT:-15}
MAIL_OWNER=postfix
SETGID_GROUP=postdrop

log() { echo "postfix.sh: $*" >&2; }

# Is PID a live Postfix process of the instance configured in $conf? Our master is started
# as `master -c $conf`; its children inherit MAIL_CONFIG=$conf (import_environment).
is_ours() {
  local pid=$1
  [[ -n "$pid" && -r /proc/$pid/cmdline ]] || return 1
  local cmdline
  cmdline=$(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null) || return 1
  [[ "$cmdline" == *master*" -c $conf "* || "$cmdline" == *master*" -c $conf" ]]
}

# The children of PID (smtpd, qmgr, tlsmgr, anvil, postlogd, ...).
children_of() {
  local pid=$1 c
  # shellcheck disable=SC2013 # the file holds one line of pids separated by spaces
  for c in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
    echo "$c"
  done
}

alive() { kill -0 "$1" 2>/dev/null && [[ "$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null)" != Z ]]; }

wait_gone() { # wait_gone SECONDS PID...
  local limit=$1 i p left
  shift
  for ((i = 0; i < limit * 10; i++)); do
    left=0
    for p in "$@"; do alive "$p" && left=1; done
    ((left)) || return 0
    sleep 0.1
  done
  return 1
}

do_stop() {
  local pidfile=$dir/postfix.pid pid="" kids=() p
  [[ -f $pidfile ]] && pid=$(cat "$pidfile")
  if is_ours "$pid"; then
    mapfile -t kids < <(children_of "$pid")
    # SIGTERM: the master ends its children and exits (what `postfix stop` sends)
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$STOP_TIMEOUT" "$pid"; then
      log "master $pid did not stop in ${STOP_TIMEOUT}s, killing it"
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone 5 "$pid" || log "master $pid still alive"
    fi
    if ((${#kids[@]})); then
      if ! wait_gone 5 "${kids[@]}"; then
        for p in "${kids[@]}"; do
          if alive "$p"; then kill -KILL "$p" 2>/dev/null || true; fi
        done
        wait_gone 5 "${kids[@]}" || log "some children are still alive: ${kids[*]}"
      fi
    fi
  fi
  rm -f "$pidfile"
  if [[ -f $dir/queue_dir_path ]]; then
    local q
    q=$(cat "$dir/queue_dir_path")
    [[ $q == /tmp/ms-postfix.* ]] && rm -rf "$q"
    rm -f "$dir/queue_dir_path"
  fi
}

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# The Dovecot SASL socket Postfix signs in through.
sasl_path() {
  if [[ -n ${MS_POSTFIX_SASL_PATH:-} ]]; then
    echo "$MS_POSTFIX_SASL_PATH"
    return
  fi
  local ddir=${MS_DOVECOT_DIR:-$dir/../dovecot}
  if [[ ! -s $ddir/auth-postfix.path ]]; then
    log "no $ddir/auth-postfix.path: start the test Dovecot first (dovecot.sh start $ddir)"
    exit 1
  fi
  cat "$ddir/auth-postfix.path"
}

write_config() {
  local certdir=$1 queue=$2 sasl=$3 smtpd_common
  mkdir -p "$conf" "$dir/data" "$queue"
  cat >"$conf/main.cf" <<CONF
# mailscope integration tests: private Postfix instance (generated by postfix.sh)
compatibility_level = 3.6
queue_directory = $queue
data_directory = $dir/data
mail_owner = $MAIL_OWNER
setgid_group = $SETGID_GROUP
maillog_file = $dir/postfix.log
maillog_file_prefixes = $dir
alias_maps =
alias_database =

myhostname = mail.test.example
mydomain = test.example
myorigin = \$myhostname
# Postfix accepts only the addresses of an interface here (lo has 127.0.0.1/8); it opens
# no listener of its own from it: every listener below names 127.0.0.2 itself
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
# nothing is local or relayed by address: every client signs in to send
mydestination =
relay_domains =
mynetworks = $ADDR/32
local_recipient_maps =
# every message, were one ever sent, is thrown away
default_transport = discard:mailscope test instance: never delivered
relay_transport = discard:mailscope test instance: never delivered
local_transport = discard:mailscope test instance: never delivered
virtual_transport = discard:mailscope test instance: never delivered
message_size_limit = 26214400
biff = no
smtpd_peername_lookup = no

smtpd_tls_cert_file = $certdir/valid.pem
smtpd_tls_key_file = $certdir/valid.key
smtpd_tls_security_level = may
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_tls_session_cache_database =

smtpd_sasl_type = dovecot
smtpd_sasl_path = $sasl
smtpd_sasl_auth_enable = no
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_client_restrictions =
smtpd_helo_required = no
CONF

  smtpd_common="  -o smtpd_sasl_auth_enable=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject_unauth_destination"
  cat >"$conf/master.cf" <<CONF
# mailscope integration tests: private Postfix instance (generated by postfix.sh).
# No "smtp inet" service: nothing listens on port 25.
# service type  private unpriv  chroot  wakeup  maxproc command + args
$ADDR:$SUBMISSION_PORT inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
$smtpd_common
$ADDR:$SUBMISSIONS_PORT inet n - n - - smtpd
  -o syslog_name=postfix/submissions
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
$smtpd_common
$ADDR:$WEAK_PORT inet n - n - - smtpd
  -o syslog_name=postfix/submission-weak
  -o smtpd_tls_security_level=may
  -o smtpd_tls_auth_only=no
  -o broken_sasl_auth_clients=yes
$smtpd_common
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CONF
}

do_start() {
  local certdir=${1:-$dir/certs} queue sasl pid i p ok daemon_dir banner
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  conf=$dir/conf
  do_stop # a leftover instance of ours from an earlier run

  if (($(id -u) != 0)); then
    log "Postfix must be started as root (its processes then run as '$MAIL_OWNER')"
    exit 1
  fi
  if ! getent passwd "$MAIL_OWNER" >/dev/null || ! getent group "$SETGID_GROUP" >/dev/null; then
    log "no '$MAIL_OWNER' user or '$SETGID_GROUP' group: is Debian's postfix package installed?"
    exit 1
  fi
  if [[ ! -s $certdir/valid.pem ]] || [[ $certdir == "$dir/certs" ]]; then
    "$here/certs.sh" "$certdir"
  fi
  certdir=$(cd "$certdir" && pwd)
  sasl=$(sasl_path)
  if [[ ! -S $sasl ]]; then
    log "the Dovecot SASL socket $sasl does not exist: is the test Dovecot running?"
    exit 1
  fi

  # unix socket paths under the queue directory must stay short (sun_path is 108 bytes)
  queue=$dir/queue
  if ((${#queue} > 70)); then
    queue=$(mktemp -d /tmp/ms-postfix.XXXXXX)
    echo "$queue" >"$dir/queue_dir_path"
  fi

  for p in "$SUBMISSION_PORT" "$SUBMISSIONS_PORT" "$WEAK_PORT"; do
    if port_open "$ADDR" "$p"; then
      log "$ADDR:$p is already in use by another process; not starting"
      exit 1
    fi
  done

  write_config "$certdir" "$queue" "$sasl"
  : >>"$dir/postfix.log"
  chmod 755 "$dir" "$conf"
  # the queue directory is root's, data_directory the mail_owner's; Postfix creates the
  # queue's subdirectories itself (post-install create-missing) and checks the configuration
  chown root:root "$queue"
  chmod 755 "$queue"
  chown "$MAIL_OWNER:" "$dir/data"
  if ! "$POSTFIX" -c "$conf" check </dev/null >>"$dir/postfix.out" 2>&1; then
    log "postfix check failed:"
    tail -n 20 "$dir/postfix.out" >&2
    exit 1
  fi
  daemon_dir=$("$POSTCONF" -c "$conf" -h daemon_directory)
  rm -f "$queue/pid/master.pid"
  # master -w returns once the master is initialised (or has failed); stdio away from the
  # caller so ctest does not wait on our pipes
  if ! "$daemon_dir/master" -c "$conf" -w </dev/null >>"$dir/postfix.out" 2>&1; then
    log "the Postfix master failed to start; last lines:"
    tail -n 20 "$dir/postfix.out" "$dir/postfix.log" >&2
    exit 1
  fi
  for ((i = 0; i < 50; i++)); do
    [[ -s $queue/pid/master.pid ]] && break
    sleep 0.1
  done
  pid=$(tr -d ' \n' <"$queue/pid/master.pid" 2>/dev/null || true)
  if ! is_ours "$pid"; then
    log "the Postfix master did not write a usable $queue/pid/master.pid"
    tail -n 20 "$dir/postfix.log" >&2
    exit 1
  fi
  echo "$pid" >"$dir/postfix.pid"

  # Wait, bounded, until every listener accepts and the plain ones greet with 220
  for ((i = 0; i < START_TIMEOUT * 5; i++)); do
    ok=1
    for p in "$SUBMISSION_PORT" "$SUBMISSIONS_PORT" "$WEAK_PORT"; do
      port_open "$ADDR" "$p" || { ok=0; break; }
    done
    if ((ok)); then
      banner=$(timeout 3 bash -c "exec 3<>/dev/tcp/$ADDR/$SUBMISSION_PORT; IFS= read -r -t 2 line <&3; printf '%s' \"\$line\"; printf 'QUIT\r\n' >&3" 2>/dev/null || true)
      if [[ $banner == "220 "* ]]; then
        log "postfix $pid ready on $ADDR ports $SUBMISSION_PORT (submission), $SUBMISSIONS_PORT (submissions), $WEAK_PORT (weak) (log: $dir/postfix.log)"
        return 0
      fi
    fi
    alive "$pid" || break
    sleep 0.2
  done
  log "postfix did not become ready in ${START_TIMEOUT}s; last log lines:"
  tail -n 20 "$dir/postfix.log" >&2
  do_stop
  exit 1
}

case $cmd in
  start)
    do_start "${3:-}"
    ;;
  stop)
    [[ -d $dir ]] || exit 0
    dir=$(cd "$dir" && pwd)
    conf=$dir/conf
    do_stop
    ;;
  status)
    dir=$(cd "$dir" && pwd)
    conf=$dir/conf
    pid=$(cat "$dir/postfix.pid" 2>/dev/null || true)
    if is_ours "$pid"; then echo "running: $pid"; else echo "not running"; exit 1; fi
    ;;
  *) usage ;;
esac
