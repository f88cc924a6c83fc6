#!/usr/bin/env bash
# dovecot.sh start|stop|status DIR [CERTDIR]
#
# Runs the system's Dovecot 2.3 binary with its OWN configuration, base_dir, state_dir,
# log file and mail store, all under DIR, listening on loopback only. The system
# Dovecot service is neither used nor touched. `stop` ends exactly the Dovecot that
# `start` started (its pid is kept in DIR/dovecot.pid) and waits for it, bounded.
#
# Layout: one instance listens on several loopback addresses and picks the certificate
# by local address (CERTDIR defaults to DIR/certs; certs.sh fills it if needed):
#   127.0.0.2 valid.pem     127.0.0.3 expired.pem     127.0.0.4 wronghost.pem
#   127.0.0.5 selfsigned.pem                          127.0.0.6 soon.pem
#   127.0.0.7 valid.pem, but plaintext sign-in allowed before TLS (disable_plaintext_auth=no)
#   127.0.0.8 no TLS at all (ssl=no): no STARTTLS/STLS offered, implicit-TLS ports fail
#   127.0.0.10 no TLS at all AND plaintext sign-in allowed (ssl=no, disable_plaintext_auth=no):
#             the only place where credentials can travel in clear text (sign-in tests of
#             --allow-insecure-auth); 127.0.0.9 stays closed (dnsmasq.sh: closed.test.example)
#   127.0.0.11 valid.pem, ssl=required with disable_plaintext_auth=no: POP3 lists USER
#             before STLS but refuses it ("Plaintext authentication disallowed ..."), the
#             real server that advertises a password before TLS and refuses it
# on every address: IMAP  $MS_IMAP_PORT  (default 10143, STARTTLS)
#                   IMAPS $MS_IMAPS_PORT (default 10993, implicit TLS)
#                   POP3  $MS_POP3_PORT  (default 10110, STLS)
#                   POP3S $MS_POP3S_PORT (default 10995, implicit TLS)
# $MS_DOVECOT_ADDRS overrides the address list (e.g. "127.0.0.2" for the demo).
#
# Clients must connect from another address than the one Dovecot listens on (they do:
# a client's source on loopback is 127.0.0.1): Dovecot counts a connection whose remote
# address equals its local address as secured and then drops LOGINDISABLED.
#
# Test users (userdb: passwd-file DIR/users; passdb: DIR/passwd.imap and DIR/passwd.pop3,
# chosen per service by the %s variable, so an account can be denied one protocol):
#   alice    / canary-pw-7Q2x    IMAP and POP3; the mailbox below
#   bob      / bob-pw-3Kd9       IMAP and POP3; an empty mailbox
#   imaponly / imaponly-pw-5Rm2  IMAP only: POP3 refuses the correct password with
#                                "POP3 access is disabled for this account" (nologin=y reason=)
#   pop3only / pop3only-pw-8Vt4  POP3 only: IMAP refuses the correct password with
#                                "IMAP access is disabled for this account"
# (passwd-file splits extra fields at spaces, so the reason texts reach the auth process
# through its environment: import_environment + reason=%{env:...}.)
# The same accounts and passwords may send mail through the test Postfix (passdb
# DIR/passwd.smtp, service "smtp"): Dovecot's base_dir holds a SASL listener auth-postfix
# for it (owned by the postfix user when running as root), and DIR/auth-postfix.path names
# that socket while Dovecot runs.
# A wrong password gets Dovecot's usual "Authentication failed." after
# auth_failure_delay (2 s); the anvil auth penalty is switched off (see service anvil),
# so that one test's failures do not slow the next test's sign-in from 127.0.0.1.
#
# alice's mailbox is written afresh by every `start` (deterministic: fixed file names,
# flags and dates; tests/integration/mstest.py ALICE_* describes it):
#   INBOX 5 messages, 2 unseen (\Seen: 3); Sent 2, Drafts 1, Trash 1, Junk 1, Archive 2
#   with RFC 6154 special-use flags (\Sent \Drafts \Trash \Junk \Archive);
#   Projects 1 and Projects/2026 1 (ordinary, one nested); hierarchy separator "/".
#   A public namespace "Public/" (type=public, list=yes) with the folder
#   Public/Announcements (1 message): NAMESPACE shows it as the shared namespace.
#   Quota (count backend, imap_quota): "User quota" root, 10 MiB storage limit
#   (GETQUOTAROOT INBOX -> STORAGE <used> 10240).
# Every message file is in cur/ with its final flags, so a read-only client changes no
# file name (Dovecot only adds its own dovecot* index files).
#
# Not covered by Dovecot 2.3: it cannot advertise the POP3 EXPIRE or LOGIN-DELAY
# capabilities (RFC 2449) at all, neither before nor after sign-in; the fake server
# (tests/fake) covers those.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|status DIR [CERTDIR]" >&2
  exit 2
}
[[ $# -ge 2 ]] || usage
cmd=$1
dir=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/servers/proc.sh
source "$here/proc.sh"

IMAP_PORT=${MS_IMAP_PORT:-10143}
IMAPS_PORT=${MS_IMAPS_PORT:-10993}
POP3_PORT=${MS_POP3_PORT:-10110}
POP3S_PORT=${MS_POP3S_PORT:-10995}
ADDRS=${MS_DOVECOT_ADDRS:-"127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6 127.0.0.7 127.0.0.8 127.0.0.10 127.0.0.11"}
DOVECOT=${MS_DOVECOT_BIN:-/usr/sbin/dovecot}
START_TIMEOUT=${MS_DOVECOT_START_TIMEOUT:-30}
# The words a denied protocol answers with (also read by tests/integration/mstest.py)
MS_DENY_IMAP_TEXT=${MS_DENY_IMAP_TEXT:-"IMAP access is disabled for this account"}
MS_DENY_POP3_TEXT=${MS_DENY_POP3_TEXT:-"POP3 access is disabled for this account"}
export MS_DENY_IMAP_TEXT MS_DENY_POP3_TEXT
STOP_TIMEOUT=${MS_DOVECOT_STOP_TIMEOUT:-15}

cert_for() {
  case $1 in
    127.0.0.2) echo valid ;;
    127.0.0.3) echo expired ;;
    127.0.0.4) echo wronghost ;;
    127.0.0.5) echo selfsigned ;;
    127.0.0.6) echo soon ;;
    *) echo valid ;;
  esac
}

log() { echo "dovecot.sh: $*" >&2; }

# Is PID a live process of the Dovecot instance configured in $conf?
is_ours() {
  local pid=$1
  [[ -n "$pid" && -r /proc/$pid/cmdline ]] || return 1
  local cmdline
  cmdline=$(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null) || return 1
  [[ "$cmdline" == *dovecot*"$conf"* ]]
}

do_stop() {
  local pidfile=$dir/dovecot.pid pid=""
  [[ -f $pidfile ]] && pid=$(cat "$pidfile")
  if is_ours "$pid"; then
    stop_tree "$pid" "$STOP_TIMEOUT" '^dovecot\|^imap\|^pop3\|^auth\|^anvil\|^log\|^config\|^stats'
  fi
  rm -f "$pidfile" "$dir/auth-postfix.path"
  if [[ -f $dir/base_dir_path ]]; then
    local base
    base=$(cat "$dir/base_dir_path")
    [[ $base == /tmp/ms-dovecot.* ]] && rm -rf "$base"
    rm -f "$dir/base_dir_path"
  fi
}

# msg MAILDIR N FLAGS SUBJECT - write message N into MAILDIR/cur with the maildir flags
# FLAGS ("S" seen, "F" flagged, "R" answered, "D" draft, "" unseen); fixed name and date
msg() {
  local md=$1 n=$2 flags=$3 subject=$4 t file
  t=$((1767261600 + n * 3600)) # 2026-01-01 10:00 UTC + n hours
  mkdir -p "$md/cur" "$md/new" "$md/tmp"
  file=$md/cur/$t.M${n}P1000.mailscope-test:2,$flags
  {
    printf 'Return-Path: <sender@test.example>\n'
    printf 'Date: %s\n' "$(LC_ALL=C date -u -d "@$t" '+%a, %d %b %Y %H:%M:%S +0000')"
    printf 'From: Sender %d <sender@test.example>\n' "$n"
    printf 'To: Alice <alice@test.example>\n'
    printf 'Subject: %s\n' "$subject"
    printf 'Message-ID: <%d.mailscope-test@test.example>\n' "$n"
    printf 'MIME-Version: 1.0\n'
    printf 'Content-Type: text/plain; charset=us-ascii\n'
    printf '\n'
    printf 'Message %d of the mailscope test mailbox.\n' "$n"
    printf 'Line two of the body.\nLine three of the body.\n'
  } >"$file"
  touch -d "@$t" "$file"
}

# folder MAILDIR NAME - an empty Maildir++ folder (NAME uses "." for the hierarchy)
folder() {
  mkdir -p "$1/.$2/cur" "$1/.$2/new" "$1/.$2/tmp"
  : >"$1/.$2/maildirfolder"
}

# write_mail UID GID - the mail store, afresh: alice's mailbox, the public namespace,
# empty Maildirs for the others
write_mail() {
  local muid=$1 mgid=$2 m u
  rm -rf "$dir/mail" "$dir/public"
  mkdir -p "$dir/mail" "$dir/public"
  m=$dir/mail/alice/Maildir
  msg "$m" 1 S "Welcome to the test mailbox"
  msg "$m" 2 RS "Re: Lunch on Friday"
  msg "$m" 3 FS "Invoice 2026-001"
  msg "$m" 4 "" "Unread: meeting notes"
  msg "$m" 5 F "Unread and flagged: contract draft"
  folder "$m" Sent
  msg "$m/.Sent" 11 S "Sent: reply to Bob"
  msg "$m/.Sent" 12 S "Sent: holiday plans"
  folder "$m" Drafts
  msg "$m/.Drafts" 21 DS "Draft: quarterly report"
  folder "$m" Trash
  msg "$m/.Trash" 31 S "Deleted: old newsletter"
  folder "$m" Junk
  msg "$m/.Junk" 41 "" "You have won"
  folder "$m" Archive
  msg "$m/.Archive" 51 S "Archived: 2025 taxes"
  msg "$m/.Archive" 52 S "Archived: 2025 travel"
  folder "$m" Projects
  msg "$m/.Projects" 61 S "Project overview"
  folder "$m" Projects.2026
  msg "$m/.Projects.2026" 71 "" "Plan for 2026"
  printf '%s\n' Sent Drafts Trash Junk Archive Projects Projects/2026 >"$m/subscriptions"
  for u in bob imaponly pop3only; do
    mkdir -p "$dir/mail/$u/Maildir/cur" "$dir/mail/$u/Maildir/new" "$dir/mail/$u/Maildir/tmp"
  done
  folder "$dir/public" Announcements
  msg "$dir/public/.Announcements" 81 "" "Office closed on 1 May"
  chown -R "$muid:$mgid" "$dir/mail" "$dir/public"
}

write_config() {
  local certdir=$1 base=$2 uid user group login_user a kind listen chroot_line=""
  uid=$(id -u)
  if ((uid == 0)); then
    user=dovecot group=dovecot login_user=dovenull
    getent passwd dovecot >/dev/null || { log "no 'dovecot' user: is dovecot-core installed?"; exit 1; }
    getent passwd dovenull >/dev/null || login_user=dovecot
  else
    # unprivileged run: every Dovecot process runs as the calling user, no chroot
    user=$(id -un) group=$(id -gn) login_user=$(id -un)
    chroot_line="chroot ="
  fi
  # the owner of the Postfix SASL socket: Postfix's mail_owner when Postfix is installed
  local sasl_user=$user sasl_group=$group
  if ((uid == 0)) && getent passwd postfix >/dev/null && getent group postfix >/dev/null; then
    sasl_user=postfix sasl_group=postfix
  fi
  local muid mgid
  muid=$(id -u "$user")
  mgid=$(getent group "$group" | cut -d: -f3)

  local addrs
  read -r -a addrs <<<"$ADDRS"
  listen=$(IFS=,; echo "${addrs[*]}")
  listen=${listen//,/, }
  mkdir -p "$dir/state" "$dir/mail" "$base"
  chown "$muid:$mgid" "$dir/mail"

  # userdb: name:{scheme}password:uid:gid::home::extra
  cat >"$dir/users" <<USERS
alice:{PLAIN}canary-pw-7Q2x:$muid:$mgid::$dir/mail/alice::
bob:{PLAIN}bob-pw-3Kd9:$muid:$mgid::$dir/mail/bob::
imaponly:{PLAIN}imaponly-pw-5Rm2:$muid:$mgid::$dir/mail/imaponly::
pop3only:{PLAIN}pop3only-pw-8Vt4:$muid:$mgid::$dir/mail/pop3only::
USERS
  # passdb, one file per service (%s): the denied account passes the password check and
  # is then refused with nologin=y and the reason (expanded from the auth environment)
  cat >"$dir/passwd.imap" <<'USERS'
alice:{PLAIN}canary-pw-7Q2x
bob:{PLAIN}bob-pw-3Kd9
imaponly:{PLAIN}imaponly-pw-5Rm2
pop3only:{PLAIN}pop3only-pw-8Vt4::::::nologin=y reason=%{env:MS_DENY_IMAP_TEXT}
USERS
  cat >"$dir/passwd.pop3" <<'USERS'
alice:{PLAIN}canary-pw-7Q2x
bob:{PLAIN}bob-pw-3Kd9
imaponly:{PLAIN}imaponly-pw-5Rm2::::::nologin=y reason=%{env:MS_DENY_POP3_TEXT}
pop3only:{PLAIN}pop3only-pw-8Vt4
USERS
  # SMTP submission: Postfix (postfix.sh) asks this Dovecot through the auth-postfix
  # listener below, with the service name "smtp"; every account may send
  cat >"$dir/passwd.smtp" <<'USERS'
alice:{PLAIN}canary-pw-7Q2x
bob:{PLAIN}bob-pw-3Kd9
imaponly:{PLAIN}imaponly-pw-5Rm2
pop3only:{PLAIN}pop3only-pw-8Vt4
USERS
  local f
  for f in users passwd.imap passwd.pop3 passwd.smtp; do
    chmod 640 "$dir/$f"
    chgrp "$mgid" "$dir/$f" 2>/dev/null || true
  done
  write_mail "$muid" "$mgid"

  # RFC 7919 ffdhe2048 group, generated instantly (no prime search)
  [[ -s $dir/dh.pem ]] || openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out "$dir/dh.pem" 2>/dev/null

  {
    cat <<CONF
# mailscope integration tests: private Dovecot instance (generated by dovecot.sh)
instance_name = mailscope-test
base_dir = $base
state_dir = $dir/state
protocols = imap pop3
listen = $listen
shutdown_clients = yes

log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log
auth_verbose = yes

default_internal_user = $user
default_internal_group = $group
default_login_user = $login_user
first_valid_uid = $muid
last_valid_uid = 0
first_valid_gid = 0

ssl = yes
ssl_cert = <$certdir/valid.pem
ssl_key = <$certdir/valid.key
ssl_dh = <$dir/dh.pem
ssl_min_protocol = TLSv1.2
ssl_prefer_server_ciphers = yes

disable_plaintext_auth = yes
login_trusted_networks =
auth_mechanisms = plain login

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/passwd.%s
}
userdb {
  driver = passwd-file
  args = username_format=%u $dir/users
}
# the reasons of the per-protocol denials (passwd-file cannot hold a value with spaces)
import_environment = TZ CORE_OUTOFMEM CORE_ERROR LISTEN_PID LISTEN_FDS MS_DENY_IMAP_TEXT MS_DENY_POP3_TEXT

mail_location = maildir:~/Maildir
pop3_uidl_format = %08Xu%08Xv
mail_plugins = \$mail_plugins quota
protocol imap {
  mail_plugins = \$mail_plugins imap_quota
}
plugin {
  quota = count:User quota
  quota_rule = *:storage=10M
  quota_vsizes = yes
}

namespace inbox {
  type = private
  separator = /
  prefix =
  inbox = yes
  list = yes
  subscriptions = yes
  mailbox Sent {
    special_use = \\Sent
  }
  mailbox Drafts {
    special_use = \\Drafts
  }
  mailbox Trash {
    special_use = \\Trash
  }
  mailbox Junk {
    special_use = \\Junk
  }
  mailbox Archive {
    special_use = \\Archive
  }
}
namespace public {
  type = public
  separator = /
  prefix = Public/
  location = maildir:$dir/public:INDEX=~/public-index
  list = yes
  subscriptions = no
}

service imap-login {
  inet_listener imap {
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = $IMAPS_PORT
    ssl = yes
  }
  process_min_avail = 2
  $chroot_line
}
service pop3-login {
  inet_listener pop3 {
    port = $POP3_PORT
  }
  inet_listener pop3s {
    port = $POP3S_PORT
    ssl = yes
  }
  process_min_avail = 2
  $chroot_line
}
service anvil {
  $chroot_line
  # no auth penalty: failed sign-ins in one test must not delay the next test's sign-in
  # from the same client address (127.0.0.1) beyond mailscope's timeouts
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service auth {
  unix_listener auth-userdb {
    mode = 0600
    user = $user
  }
  # the SASL socket of the test Postfix (tests/servers/postfix.sh): its smtpd runs as
  # the postfix user (its path is also in DIR/auth-postfix.path)
  unix_listener auth-postfix {
    mode = 0660
    user = $sasl_user
    group = $sasl_group
  }
}
CONF
    for a in $ADDRS; do
      kind=$(cert_for "$a")
      echo "local $a {"
      echo "  ssl_cert = <$certdir/$kind.pem"
      echo "  ssl_key = <$certdir/$kind.key"
      case $a in
        127.0.0.7) echo "  disable_plaintext_auth = no" ;;
        127.0.0.8) echo "  ssl = no" ;;        127.0.0.10)
          echo "  ssl = no"
          echo "  disable_plaintext_auth = no"
          ;;
        127.0.0.11)
          echo "  ssl = required"
          echo "  disable_plaintext_auth = no"
          ;;
      esac
      echo "}"
    done
  } >"$dir/dovecot.conf"
}

do_start() {
  local certdir=${1:-$dir/certs} base pid i a p greeting ok
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  conf=$dir/dovecot.conf
  do_stop # a leftover instance of ours from an earlier run

  if [[ ! -s $certdir/valid.pem ]] || [[ $certdir == "$dir/certs" ]]; then
    "$here/certs.sh" "$certdir"
  fi
  certdir=$(cd "$certdir" && pwd)

  # unix socket paths must stay short (sun_path is 108 bytes)
  base=$dir/run
  if ((${#base} > 60)); then
    base=$(mktemp -d /tmp/ms-dovecot.XXXXXX)
    echo "$base" >"$dir/base_dir_path"
  fi

  for a in $ADDRS; do
    for p in "$IMAP_PORT" "$IMAPS_PORT" "$POP3_PORT" "$POP3S_PORT"; do
      if port_open "$a" "$p"; then
        log "$a:$p is already in use by another process; not starting"
        exit 1
      fi
    done
  done

  write_config "$certdir" "$base"
  : >>"$dir/dovecot.log"
  # Daemon mode; stdio away from the caller so ctest does not wait on our pipes.
  if ! "$DOVECOT" -c "$conf" </dev/null >>"$dir/dovecot.log" 2>&1; then
    log "dovecot failed to start; last log lines:"
    tail -n 20 "$dir/dovecot.log" >&2
    exit 1
  fi
  for ((i = 0; i < 50; i++)); do
    [[ -s $base/master.pid ]] && break
    sleep 0.1
  done
  pid=$(cat "$base/master.pid" 2>/dev/null || true)
  if ! is_ours "$pid"; then
    log "dovecot did not write a usable $base/master.pid"
    tail -n 20 "$dir/dovecot.log" >&2
    exit 1
  fi
  echo "$pid" >"$dir/dovecot.pid"

  # Wait, bounded, until every listener accepts and login processes are warm
  # (a cold imap-login may greet with "Waiting for authentication process to respond..").
  for ((i = 0; i < START_TIMEOUT * 5; i++)); do
    ok=1
    for a in $ADDRS; do
      for p in "$IMAP_PORT" "$IMAPS_PORT" "$POP3_PORT" "$POP3S_PORT"; do
        port_open "$a" "$p" || { ok=0; break 2; }
      done
    done
    if ((ok)); then
      a=${ADDRS%% *}
      greeting=$(timeout 3 bash -c "exec 3<>/dev/tcp/$a/$IMAP_PORT; IFS= read -r -t 2 line <&3; printf '%s' \"\$line\"; printf 'x LOGOUT\r\n' >&3" 2>/dev/null || true)
      if [[ $greeting == "* OK "* && $greeting != *"Waiting for authentication"* ]]; then
        echo "$base/auth-postfix" >"$dir/auth-postfix.path"
        log "dovecot $pid ready on ${ADDRS// /,} ports $IMAP_PORT,$IMAPS_PORT,$POP3_PORT,$POP3S_PORT (log: $dir/dovecot.log)"
        return 0
      fi
    fi
    alive "$pid" || break
    sleep 0.2
  done
  log "dovecot did not become ready in ${START_TIMEOUT}s; last log lines:"
  tail -n 20 "$dir/dovecot.log" >&2
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
    conf=$dir/dovecot.conf
    do_stop
    ;;
  status)
    dir=$(cd "$dir" && pwd)
    conf=$dir/dovecot.conf
    pid=$(cat "$dir/dovecot.pid" 2>/dev/null || true)
    if is_ours "$pid"; then echo "running: $pid"; else echo "not running"; exit 1; fi
    ;;
  *) usage ;;
esac
