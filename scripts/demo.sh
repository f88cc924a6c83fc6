#!/usr/bin/env bash
# scripts/demo.sh - see mailscope work in one command on a fresh Debian 12 machine.
#
# Installs what the demo needs if missing (scripts/deps.sh demo: a C compiler, cmake,
# pkg-config, OpenSSL, c-ares, jansson, scdoc, openssl and Dovecot; not the test suite's
# packages), builds mailscope, generates a test CA and a certificate for
# mail.test.example, starts a throwaway Dovecot (IMAP + POP3) on 127.0.0.2 with its own
# config and ports, probes it with mailscope, and stops that Dovecot again on exit.
# Nothing listens beyond loopback; the system Dovecot is not used.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/deps.sh demo

# The test suite's build needs packages the demo does not install (cmocka, python3): build
# it only where they are all there, so the demo neither fails without them nor turns the
# tests off in a developer's build/.
tests=OFF
if bash scripts/deps.sh --check test; then tests=ON; fi

echo "=== building mailscope (build/) ==="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMS_TESTS="$tests" >/dev/null
cmake --build build --target mailscope -j "$(nproc 2>/dev/null || echo 2)"
bin=$(find build -maxdepth 2 -type f -name mailscope -perm -u+x | head -n 1)
[[ -n $bin ]] || { echo "demo.sh: build/mailscope not found" >&2; exit 1; }

demo=$(mktemp -d /tmp/mailscope-demo.XXXXXX)
chmod 755 "$demo" # Dovecot's auth process (user dovecot) reads the account files under it
# ports of their own, so the demo never collides with a running test suite
export MS_DOVECOT_ADDRS=127.0.0.2 MS_IMAP_PORT=11143 MS_IMAPS_PORT=11993 MS_POP3_PORT=11110 MS_POP3S_PORT=11995
# shellcheck disable=SC2317 # called by the trap
stop_demo() {
  bash tests/servers/dovecot.sh stop "$demo/dovecot" || true
  rm -rf "$demo"
}
trap stop_demo EXIT
trap 'exit 130' INT TERM

echo "=== starting a throwaway Dovecot on 127.0.0.2 (IMAP 11143/11993, POP3 11110/11995) ==="
bash tests/servers/certs.sh "$demo/certs"
bash tests/servers/dovecot.sh start "$demo/dovecot" "$demo/certs"

ports=imap=11143,imaps=11993,pop3=11110,pop3s=11995
common=(--resolve mail.test.example:127.0.0.2 --ports "$ports")

echo
echo "=== 1. the healthy server, with the test CA trusted ==="
echo "\$ mailscope --resolve mail.test.example:127.0.0.2 --ca-file ca.pem --ports $ports mail.test.example"
rc=0
"$bin" "${common[@]}" --ca-file "$demo/certs/ca.pem" mail.test.example || rc=$?
echo "(exit code $rc)"

echo
echo "=== 2. the helpdesk question: sign in as alice and say what her account can do ==="
echo "\$ MAILSCOPE_PASSWORD=... mailscope --user alice --resolve mail.test.example:127.0.0.2 --ca-file ca.pem --ports $ports mail.test.example"
rc_signin=0
# alice's password is the throwaway test account's (tests/servers/dovecot.sh)
MAILSCOPE_PASSWORD=canary-pw-7Q2x "$bin" "${common[@]}" --ca-file "$demo/certs/ca.pem" --user alice \
  mail.test.example || rc_signin=$?
echo "(exit code $rc_signin)"

echo
echo "=== 3. the same server as a client without the test CA sees it (certificate untrusted) ==="
echo "\$ mailscope --resolve mail.test.example:127.0.0.2 --ports $ports --protocols imap mail.test.example"
rc2=0
"$bin" "${common[@]}" --protocols imap mail.test.example || rc2=$?
echo "(exit code $rc2)"

echo
echo "=== 4. JSON for scripts (first lines) ==="
echo "\$ mailscope --json ... imaps://mail.test.example:11993"
"$bin" "${common[@]}" --ca-file "$demo/certs/ca.pem" --json imaps://mail.test.example:11993 | head -n 25 || true

echo
echo "demo done; stopping the throwaway Dovecot."
exit "$rc"
