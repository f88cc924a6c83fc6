#!/usr/bin/env bash
# Install mailscope's build and test dependencies from Debian 12's packages, if missing.
#
# Runs `apt-get update` only when something is missing. While installing, a
# /usr/sbin/policy-rc.d that exits 101 keeps apt from starting the system Dovecot on the
# standard ports 110/143/993/995 or the system Postfix (the tests run their own Dovecot and
# Postfix); the file is removed afterwards only if this script created it. Postfix is
# installed with debconf's "No configuration": no /etc/postfix/main.cf, no listener.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libssl-dev libc-ares-dev libjansson-dev libcmocka-dev libmicrohttpd-dev
  dovecot-imapd dovecot-pop3d dnsmasq-base postfix
  python3 python3-jsonschema openssl valgrind clang-format
  prometheus prometheus-node-exporter
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "deps.sh: missing packages: ${missing[*]}" >&2
  echo "deps.sh: run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

echo "deps.sh: installing ${missing[*]}" >&2
policy=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
  if ((created_policy)); then rm -f "$policy"; fi
}
trap cleanup EXIT
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\n# created by mailscope scripts/deps.sh: do not start services during install\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  created_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
# Postfix: no system mail server set up (the tests start their own, on loopback)
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null

# The tests start their own servers on loopback. Services these packages install would
# listen on all interfaces at the next boot (Dovecot on 110/143/993/995, Prometheus on
# 9090, the node exporter on 9100, Postfix on 25 once configured): leave the ones
# installed here disabled.
if command -v systemctl >/dev/null 2>&1; then
  for unit in dovecot prometheus prometheus-node-exporter postfix; do
    for p in "${missing[@]}"; do
      case "$p" in
        dovecot-*) [[ $unit == dovecot ]] || continue ;;
        "$unit") ;;
        *) continue ;;
      esac
      systemctl disable "$unit" >/dev/null 2>&1 || true
      break
    done
  done
fi
