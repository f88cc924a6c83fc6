#!/usr/bin/env bash
# dovecot_tuned.sh - stand-in for /usr/sbin/dovecot (MS_DOVECOT_BIN) used by run.sh for the
# fleet benchmarks: the same configuration that tests/servers/dovecot.sh writes, plus
# limits that let one Dovecot hold 1000+ concurrent connections on a 2-core machine.
#
# Why: the test Dovecot runs its login services in Dovecot's default "high-security" mode
# (service_count = 1: one imap-login/pop3-login process per connection) with
# default_process_limit = 100, so each login service holds at most 100 connections and
# its listen backlog is 100 (process_limit x client_limit). With --concurrency 1000 the
# rest wait in the backlog or have their SYNs dropped (1 s, 3 s, ... retransmits), and
# the ones still queued after 10 s time out in mailscope's TLS phase (run.sh shows this
# once against the untouched configuration). Here the login services run in
# "high-performance" mode (service_count = 0: a few long-lived processes, each with many
# clients), the way a large installation is configured.
#
# dovecot.sh calls "$MS_DOVECOT_BIN -c DIR/dovecot.conf"; we write DIR/dovecot.conf.bench,
# which includes that file unchanged and overrides a few limits, and exec the real
# Dovecot with it. dovecot.sh recognises its instance by "dovecot" and DIR/dovecot.conf in
# the command line, which DIR/dovecot.conf.bench still contains, so `dovecot.sh stop`
# stops this instance as usual. Nothing under tests/servers is changed.
set -euo pipefail
real=${MS_BENCH_REAL_DOVECOT:-/usr/sbin/dovecot}
args=("$@")
conf=""
for ((i = 0; i < ${#args[@]}; i++)); do
  if [[ ${args[i]} == -c && $((i + 1)) -lt ${#args[@]} ]]; then
    conf=${args[i + 1]}
    args[i + 1]=$conf.bench
  fi
done
[[ -n $conf ]] || exec "$real" "$@"
clients=${MS_BENCH_LOGIN_CLIENTS:-4000}
cat >"$conf.bench" <<CONF
# run.sh fleet benchmarks: dovecot.sh's configuration, unchanged, plus higher limits
!include $conf
default_process_limit = 1000
default_client_limit = $((clients * 4))
service imap-login {
  service_count = 0
  client_limit = $clients
  process_min_avail = 2
  process_limit = 8
}
service pop3-login {
  service_count = 0
  client_limit = $clients
  process_min_avail = 2
  process_limit = 8
}
CONF
exec "$real" "${args[@]}"
