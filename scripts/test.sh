#!/usr/bin/env bash
# scripts/test.sh - install what is missing, build, and run the whole test suite twice:
#   build/       normal build                      (ctest: unit, fuzz corpora, integration,
#                                                   and package.deb: the Debian package)
#   build-asan/  ASan+UBSan build (-DMS_SANITIZE=ON, -fno-sanitize-recover): unit, fuzz,
#                integration and fake tests (not docs/style/completion/package)
# The integration tests start their own Dovecot and dnsmasq on loopback (ctest fixtures)
# and stop them again. Exits non-zero when anything fails.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=$(nproc 2>/dev/null || echo 2)

bash scripts/deps.sh all

# Whatever happens, leave no test server running (each script stops only its own).
cleanup() {
  local b
  for b in build build-asan; do
    if [[ -d $b/testenv ]]; then
      bash tests/servers/dovecot.sh stop "$b/testenv/dovecot" || true
      bash tests/servers/dnsmasq.sh stop "$b/testenv/dnsmasq" || true
      bash tests/servers/dnssec.sh stop "$b/testenv/dnssec" || true
    fi
  done
}
trap cleanup EXIT

failed=()
run_suite() { # run_suite DIR CMAKE-ARGS...
  local dir=$1
  shift
  echo "=== $dir: configure and build ==="
  if ! cmake -S . -B "$dir" "$@" || ! cmake --build "$dir" -j "$jobs"; then
    echo "test.sh: $dir: the build failed" >&2
    failed+=("$dir(build)")
    return 0
  fi
  echo "=== $dir: ctest ${MS_CTEST_ARGS[*]} ==="
  if ! ctest --test-dir "$dir" --output-on-failure -j "$jobs" "${MS_CTEST_ARGS[@]}"; then
    failed+=("$dir")
  fi
}

# MS_TESTS=ON: build/ may have been configured by scripts/demo.sh without the tests.
MS_CTEST_ARGS=()
run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMS_TESTS=ON

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# The sanitizers watch mailscope's own code: the ASan build runs the unit, integration, fake
# and fuzz-replay tests; the documentation, style, completion and packaging checks (which
# read files and --help) run in the normal build only.
MS_CTEST_ARGS=(-E '^(docs|style|completion|package)\.')
run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DMS_SANITIZE=ON -DMS_TESTS=ON

if ((${#failed[@]})); then
  echo "test.sh: FAILED in: ${failed[*]}" >&2
  exit 1
fi
echo "test.sh: all tests passed (normal and ASan+UBSan builds)"
