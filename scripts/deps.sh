#!/usr/bin/env bash
# scripts/deps.sh [demo|test|all] - install what mailscope needs from Debian 12's packages,
# if missing.
#
#   demo   what ./scripts/demo.sh needs: a C compiler, cmake, pkg-config, the
#          libraries it links, scdoc (the man page), openssl (the demo's certificates) and
#          Dovecot (IMAP + POP3)
#   test   demo + what the test suite (ctest) needs: its build, the servers it starts, the
#          tools its tests call
#   all    test + the tools used by hand (the default; scripts/test.sh and .ci/run)
#
#   deps.sh --check GROUP   exit 0 when every package of GROUP is installed, else 1;
#                           installs nothing
#
# Runs `apt-get update` only when something is missing. While installing, a
# /usr/sbin/policy-rc.d that exits 101 keeps apt from starting the daemons it installs
# (the system Dovecot on 110/143/993/995, the system Postfix, ...; the tests and the demo
# run their own); the file is removed afterwards only if this script created it, and the
# services installed here are left disabled. Postfix is installed with debconf's "No
# configuration": no /etc/postfix/main.cf, no listener.
set -euo pipefail

# To add a package: put it in the first group that needs it, with why. A package that
# installs a daemon also gets a PACKAGE=UNIT line in SERVICES.
DEMO_PACKAGES=(
  gcc make libc6-dev            # the C11 compiler (build-essential without C++/dpkg-dev)
  cmake pkg-config              # the build
  libssl-dev                    # OpenSSL 3: TLS, certificate checks
  libc-ares-dev                 # c-ares: DNS inside the event loop
  libjansson-dev                # jansson: the JSON report
  libmicrohttpd-dev             # libmicrohttpd: mailscope serve's HTTP server (built with the rest)
  libgnutls28-dev               # GnuTLS: libmicrohttpd's HTTPS; serve --version names its version
  scdoc                         # the man pages (docs/man/*.scd), built with the program
  libcurl4-openssl-dev          # libcurl: autoconfig/Autodiscover over HTTP(S), in the loop
  libexpat1-dev                 # expat: the autoconfig/Autodiscover XML (no DTDs, no entities)
  libpsl-dev                    # libpsl: the MX host's base domain (MX-based autoconfig)
  openssl                       # tests/servers/certs.sh: the test CA and certificates
  dovecot-imapd dovecot-pop3d   # the real IMAP and POP3 server the demo (and tests) probe
)
TEST_PACKAGES=(
  build-essential               # the full tool chain (CI's build)
  libcmocka-dev                 # unit tests
  dnsmasq-base                  # the private DNS server of the integration tests
  postfix                       # the test submission server (tests/servers/postfix.sh)
  python3 python3-jsonschema    # integration and fake-server tests, JSON Schema checks
  clang-format                  # style.clang_format
  prometheus                    # promtool check metrics (--format prometheus)
  prometheus-node-exporter      # serves mailscope's textfile metrics back in a test
  man-db groff-base             # docs.man: man/groff render the man pages without warnings
  bash-completion zsh fish      # completion.shells: each shell runs mailscope's completion
  dpkg-dev debhelper lintian    # package.deb: dpkg-buildpackage (debian/), lintian
  nginx                         # the test web server of autoconfig/Autodiscover (nginx.sh)
  stunnel4                      # TLS endpoints for the --tls-audit tests (tests/servers/stunnel.sh)
  testssl.sh                    # the peer that cross-checks the versions --tls-audit finds
  nsd unbound ldnsutils         # DANE tests: a DNSSEC-signed zone (NSD, keys and signatures
                                # from ldns-keygen/ldns-signzone) behind a validating
                                # resolver (Unbound): tests/servers/dnssec.sh
  chromium                      # test_serve_page.py: the helpdesk page in a headless browser
  python3-websocket             # ... driven over the DevTools protocol
)
BY_HAND_PACKAGES=(
  valgrind                      # scripts/valgrind.sh
)
# Daemons the packages above bring (directly or as a dependency): PACKAGE=UNIT. A unit
# whose package this script installed is disabled afterwards, so it does not listen on
# all interfaces at the next boot.
SERVICES=(
  dovecot-core=dovecot
  prometheus=prometheus
  prometheus-node-exporter=prometheus-node-exporter
  postfix=postfix
  nginx=nginx
  stunnel4=stunnel4
  nsd=nsd
  unbound=unbound
)

usage() {
  echo "usage: scripts/deps.sh [--check] [demo|test|all]" >&2
  exit 2
}

check_only=0
if [[ ${1:-} == --check ]]; then
  check_only=1
  shift
fi
group=${1:-all}
(($# <= 1)) || usage
case "$group" in
  demo) PACKAGES=("${DEMO_PACKAGES[@]}") ;;
  test) PACKAGES=("${DEMO_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
  all) PACKAGES=("${DEMO_PACKAGES[@]}" "${TEST_PACKAGES[@]}" "${BY_HAND_PACKAGES[@]}") ;;
  *) usage ;;
esac

installed() { # installed PACKAGE: true when dpkg has it fully installed
  [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]
}

missing=()
for p in "${PACKAGES[@]}"; do
  installed "$p" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi
if ((check_only)); then
  exit 1
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "deps.sh: missing packages ($group): ${missing[*]}" >&2
  echo "deps.sh: run as root (or: sudo apt-get install --no-install-recommends ${missing[*]})" >&2
  exit 1
fi

echo "deps.sh: installing ($group) ${missing[*]}" >&2
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

absent_before=() # the SERVICES entries whose package is not installed yet
for pair in "${SERVICES[@]}"; do
  installed "${pair%%=*}" || absent_before+=("$pair")
done

export DEBIAN_FRONTEND=noninteractive
# Postfix: no system mail server set up (the tests start their own, on loopback)
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null

# The tests and the demo start their own servers on loopback. Services installed here
# would listen on all interfaces at the next boot (Dovecot on 110/143/993/995, Prometheus
# on 9090, the node exporter on 9100, Postfix on 25 once configured, ...): leave them
# disabled.
if command -v systemctl >/dev/null 2>&1; then
  for pair in "${absent_before[@]}"; do
    if installed "${pair%%=*}"; then
      systemctl disable "${pair#*=}" >/dev/null 2>&1 || true
    fi
  done
fi
