#!/usr/bin/env bash
# smtp.sh [RUNS] [RTTS] - the SMTP submission benchmark of issue 14, by hand (never a timed
# test). Starts the test Dovecot and Postfix (tests/servers/) in a temporary directory and
# latency_proxy.py in front of Postfix, then measures, at each RTT in RTTS ("50 200"), the
# median of RUNS (5) runs of mailscope's own duration_ms for:
#   submissions (465, implicit TLS) alone, submission (587, STARTTLS) alone, both in
#   parallel, both with sign-in (--user alice on 465), and a bare host with --protocols all
#   (IMAP and POP3 through the proxy too: six endpoints),
# next to the protocol's lower bound in round trips (tests/bench/README.md, "SMTP").
# Ports: $MS_IMAP_PORT ... for Dovecot (default 35143 35993 35110 35995), Postfix
# $MS_SUBMISSION_PORT $MS_SUBMISSIONS_PORT $MS_SUBMISSION_WEAK_PORT (35587 35465 35588);
# the proxy listens on 127.0.0.51 ports 587, 465, 143, 993, 110 and 995.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
RUNS=${1:-5}
RTTS=${2:-"50 200"}
MAILSCOPE=${MAILSCOPE:-$top/build/mailscope}
export MS_IMAP_PORT=${MS_IMAP_PORT:-35143} MS_IMAPS_PORT=${MS_IMAPS_PORT:-35993}
export MS_POP3_PORT=${MS_POP3_PORT:-35110} MS_POP3S_PORT=${MS_POP3S_PORT:-35995}
export MS_SUBMISSION_PORT=${MS_SUBMISSION_PORT:-35587} MS_SUBMISSIONS_PORT=${MS_SUBMISSIONS_PORT:-35465}
export MS_SUBMISSION_WEAK_PORT=${MS_SUBMISSION_WEAK_PORT:-35588}
WORK=$(mktemp -d /tmp/mailscope-smtp-bench.XXXXXX)
chmod 755 "$WORK" # Postfix's own user must reach its data directory under it
proxy_pid=""
cleanup() {
  [[ -n $proxy_pid ]] && kill "$proxy_pid" 2>/dev/null || true
  bash "$top/tests/servers/postfix.sh" stop "$WORK/postfix" >/dev/null 2>&1 || true
  bash "$top/tests/servers/dovecot.sh" stop "$WORK/dovecot" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
bash "$top/tests/servers/certs.sh" "$WORK/certs" >/dev/null
bash "$top/tests/servers/dovecot.sh" start "$WORK/dovecot" "$WORK/certs" >/dev/null
MS_DOVECOT_DIR="$WORK/dovecot" bash "$top/tests/servers/postfix.sh" start "$WORK/postfix" "$WORK/certs" >/dev/null
A=127.0.0.51

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
duration() { # mailscope's own duration_ms of one run
  "$MAILSCOPE" --json --resolve "mail.test.example:$A" --ca-file "$WORK/certs/ca.pem" "$@" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["duration_ms"])'
}

printf '%-34s %6s %10s %8s %10s\n' "run" "RTT" "median ms" "bound" "x bound"
for rtt in $RTTS; do
  python3 "$here/latency_proxy.py" --max-seconds 900 --rtt-ms "$rtt" --ready-file "$WORK/ready.$rtt" \
    --map "$A:587=127.0.0.2:$MS_SUBMISSION_PORT" --map "$A:465=127.0.0.2:$MS_SUBMISSIONS_PORT" \
    --map "$A:143=127.0.0.2:$MS_IMAP_PORT" --map "$A:993=127.0.0.2:$MS_IMAPS_PORT" \
    --map "$A:110=127.0.0.2:$MS_POP3_PORT" --map "$A:995=127.0.0.2:$MS_POP3S_PORT" \
    >"$WORK/proxy.log" 2>&1 &
  proxy_pid=$!
  for ((i = 0; i < 100; i++)); do [[ -s $WORK/ready.$rtt ]] && break; sleep 0.1; done
  [[ -s $WORK/ready.$rtt ]] || { cat "$WORK/proxy.log" >&2; exit 1; }
  # name | round trips | arguments
  while IFS='|' read -r name trips args; do
    read -ra argv <<<"$args"
    ms=$(for ((r = 0; r < RUNS; r++)); do MAILSCOPE_PASSWORD=canary-pw-7Q2x duration "${argv[@]}"; done | median)
    python3 -c 'import sys; n,rtt,ms,t=sys.argv[1],float(sys.argv[2]),float(sys.argv[3]),int(sys.argv[4]); print("%-34s %6.0f %10.1f %8.0f %10.2f" % (n, rtt, ms, t*rtt, ms/(t*rtt)))' \
      "$name" "$rtt" "$ms" "$trips"
  done <<'EOF'
submissions 465|4|submissions://mail.test.example:465
submission 587 (STARTTLS)|6|submission://mail.test.example:587
both in parallel|6|submissions://mail.test.example:465 submission://mail.test.example:587
both, signing in on 465|6|--user alice submissions://mail.test.example:465 submission://mail.test.example:587
all six (4 receive + 2 send)|6|--protocols all mail.test.example
EOF
  kill "$proxy_pid" 2>/dev/null || true
  wait "$proxy_pid" 2>/dev/null || true
  proxy_pid=""
done
