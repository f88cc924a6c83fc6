#!/usr/bin/env bash
# tls_audit.sh [RTT_MS] [RUNS] - the --tls-audit benchmark of issue 15, by hand (never a
# timed test). Starts a tuned test Dovecot (dovecot_tuned.sh) and latency_proxy.py in a
# temporary directory, then measures side by side, at RTT_MS (100) per round trip:
#   1. mailscope on the four standard endpoints, plain (median of RUNS, default 5);
#   2. the same with --tls-audit (all audit handshakes in parallel);
#   3. testssl.sh -p -S (protocols and server defaults) on ONE endpoint (993), once.
# Target (issue 15): 2 <= 1.5 x 1, and 3 >= 20 x 2 (per endpoint, 2 covers four).
# Ports: $MS_IMAP_PORT $MS_IMAPS_PORT $MS_POP3_PORT $MS_POP3S_PORT for Dovecot (default
# 31143 31993 31110 31995); the proxy listens on 127.0.0.50 ports 143/993/110/995.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
RTT=${1:-100}
RUNS=${2:-5}
MAILSCOPE=${MAILSCOPE:-$top/build/mailscope}
export MS_IMAP_PORT=${MS_IMAP_PORT:-31143} MS_IMAPS_PORT=${MS_IMAPS_PORT:-31993}
export MS_POP3_PORT=${MS_POP3_PORT:-31110} MS_POP3S_PORT=${MS_POP3S_PORT:-31995}
WORK=$(mktemp -d /tmp/mailscope-audit-bench.XXXXXX)
proxy_pid=""
cleanup() {
  [[ -n $proxy_pid ]] && kill "$proxy_pid" 2>/dev/null || true
  bash "$top/tests/servers/dovecot.sh" stop "$WORK/dovecot" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
bash "$top/tests/servers/certs.sh" "$WORK/certs"
MS_DOVECOT_BIN="$here/dovecot_tuned.sh" bash "$top/tests/servers/dovecot.sh" start "$WORK/dovecot" "$WORK/certs" >/dev/null
A=127.0.0.50
python3 "$here/latency_proxy.py" --max-seconds 900 --rtt-ms "$RTT" --ready-file "$WORK/ready" \
  --map "$A:143=127.0.0.2:$MS_IMAP_PORT" --map "$A:993=127.0.0.2:$MS_IMAPS_PORT" \
  --map "$A:110=127.0.0.2:$MS_POP3_PORT" --map "$A:995=127.0.0.2:$MS_POP3S_PORT" >"$WORK/proxy.log" 2>&1 &
proxy_pid=$!
for ((i = 0; i < 100; i++)); do [[ -s $WORK/ready ]] && break; sleep 0.1; done
[[ -s $WORK/ready ]] || { cat "$WORK/proxy.log" >&2; exit 1; }

probe() { "$MAILSCOPE" --resolve "mail.test.example:$A" --ca-file "$WORK/certs/ca.pem" "$@" mail.test.example >/dev/null || true; }
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
plain=() audit=()
for ((r = 0; r < RUNS; r++)); do
  t0=$(now); probe; t1=$(now); plain+=("$(echo "$t1 - $t0" | bc)")
  t0=$(now); probe --tls-audit; t1=$(now); audit+=("$(echo "$t1 - $t0" | bc)")
done
p=$(printf '%s\n' "${plain[@]}" | median)
a=$(printf '%s\n' "${audit[@]}" | median)
t0=$(now)
testssl --quiet --color 0 --warnings off -p -S "$A:993" >"$WORK/testssl.txt" 2>&1 || true
t1=$(now)
ts=$(echo "$t1 - $t0" | bc)
printf 'RTT %s ms, %s runs (median)\n' "$RTT" "$RUNS"
printf '  mailscope, 4 endpoints, plain          %6.2f s\n' "$p"
printf '  mailscope, 4 endpoints, --tls-audit    %6.2f s   (%.2f x plain; target <= 1.5)\n' "$a" "$(echo "$a / $p" | bc -l)"
printf '  testssl.sh -p -S, 1 endpoint (993)     %6.2f s   (%.1f x the audit of all four; target >= 20)\n' "$ts" "$(echo "$ts / $a" | bc -l)"
