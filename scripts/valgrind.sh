#!/usr/bin/env bash
# scripts/valgrind.sh [BUILD_DIR] [TEST_SCRIPT...] - run integration test scripts with every
# mailscope invocation under valgrind (memcheck, full leak check), then report the
# invocations that had errors or leaks. By hand, not in CI (slow: ~10x). The ctest fixtures
# start the test servers from BUILD_DIR (default build/) and stop them at the end.
#
#   scripts/valgrind.sh build test_valid test_signin test_certs
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
shift || true
scripts=("$@")
((${#scripts[@]})) || scripts=(test_valid test_certs test_signin test_secrets test_discovery test_discovery_bugs test_dns test_schema test_network test_cli)

logs=$(mktemp -d /tmp/mailscope-valgrind.XXXXXX)
wrapper=$logs/mailscope
cat >"$wrapper" <<WRAP
#!/bin/sh
exec valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite,indirect --log-file=$logs/vg.%p.log "$build/mailscope" "\$@"
WRAP
chmod +x "$wrapper"

cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
export MAILSCOPE=$wrapper MS_TESTENV=$build/testenv MS_SCHEMA=$root/report/schema.json
export MS_DNS_PORT=$(cache MS_TEST_DNS_PORT) MS_IMAP_PORT=$(cache MS_TEST_IMAP_PORT)
export MS_IMAPS_PORT=$(cache MS_TEST_IMAPS_PORT) MS_POP3_PORT=$(cache MS_TEST_POP3_PORT)
export MS_POP3S_PORT=$(cache MS_TEST_POP3S_PORT) MS_DNSSEC_PORT=$(cache MS_TEST_DNSSEC_PORT)
export MS_VERSION=$("$build/mailscope" --version | awk '{print $2}')
export MS_RUN_TIMEOUT=300 PYTHONDONTWRITEBYTECODE=1 MS_UNDER_VALGRIND=1

stop() {
  ctest --test-dir "$build" -R 'integration.cleanup' >/dev/null || true
}
trap stop EXIT
ctest --test-dir "$build" -R 'integration.setup' >/dev/null

status=0
for s in "${scripts[@]}"; do
  echo "=== $s under valgrind ==="
  (cd "$root/tests/integration" && python3 -B "$s.py" 2>&1 | grep -E "^(FAIL|ERROR|AssertionError|Ran |OK|FAILED)" | head -n 20) || status=1
done
runs=$(find "$logs" -name 'vg.*.log' | wc -l)
bad=$(grep -l -E 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]|indirectly lost: [1-9]|Invalid (read|write)|uninitialised' "$logs"/vg.*.log || true)
echo "valgrind: $runs mailscope runs, logs in $logs"
if [[ -n $bad ]]; then
  echo "valgrind: errors or leaks in:"
  for f in $bad; do echo "--- $f"; head -n 40 "$f"; done
  exit 1
fi
echo "valgrind: no errors, no leaks"
exit $status
