#!/usr/bin/env bash
# tests/bench/autoconfig.sh [BUILD_DIR] - by hand, never a timed test: what the
# autoconfig/Autodiscover audit (issue 16) adds to discovery + probe at 100 ms RTT.
#
# Starts the test dnsmasq, Dovecot and nginx (tests/servers/*.sh) in a temporary directory
# on ports 39xxx, and latency_proxy.py on 127.0.0.30 in front of Dovecot and nginx (DNS is
# local and instant: the proxy delays TCP only). Then, 5 times each:
#   alice@acgood.test.example             SRV, autoconfig and Autodiscover name the same
#                                         servers: the audit runs beside the probes
#                                         (IMAP and POP3: no Postfix runs here)
#   alice@acgood.test.example --no-autoconfig
#   alice@acuser.test.example             only autoconfig names the server: its HTTPS
#                                         chain comes before the probe
# and prints mailscope's own duration_ms of each run. Stops everything it started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
M=$build/mailscope
WORK=$(mktemp -d /tmp/ms-bench-ac.XXXXXX)
export MS_IMAP_PORT=39143 MS_IMAPS_PORT=39993 MS_POP3_PORT=39110 MS_POP3S_PORT=39995
export MS_HTTPS_PORT=39443 MS_HTTP_PORT=39080
DNS_PORT=39053
proxy_pid=
cleanup() {
  [[ -n $proxy_pid ]] && kill "$proxy_pid" 2>/dev/null || true
  bash "$root/tests/servers/nginx.sh" stop "$WORK/nginx" || true
  bash "$root/tests/servers/dovecot.sh" stop "$WORK/dovecot" >/dev/null 2>&1 || true
  bash "$root/tests/servers/dnsmasq.sh" stop "$WORK/dnsmasq" || true
  rm -rf "$WORK"
}
trap cleanup EXIT
bash "$root/tests/servers/certs.sh" "$WORK/certs"
bash "$root/tests/servers/dnsmasq.sh" start "$WORK/dnsmasq" "$DNS_PORT"
bash "$root/tests/servers/dovecot.sh" start "$WORK/dovecot" "$WORK/certs" >/dev/null
bash "$root/tests/servers/nginx.sh" start "$WORK/nginx" "$WORK/certs"
maps=()
for p in $MS_IMAP_PORT $MS_IMAPS_PORT $MS_POP3_PORT $MS_POP3S_PORT; do
  maps+=(--map "127.0.0.30:$p=127.0.0.2:$p")
done
for p in $MS_HTTPS_PORT $MS_HTTP_PORT; do maps+=(--map "127.0.0.30:$p=127.0.0.20:$p"); done
python3 "$here/latency_proxy.py" --rtt-ms 100 --max-seconds 600 --ready-file "$WORK/ready" \
  "${maps[@]}" >"$WORK/proxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 50); do [[ -s $WORK/ready ]] && break; sleep 0.1; done

run() { # DOMAIN [OPTIONS...]
  local d=$1
  shift
  "$M" --json --dns-server "127.0.0.1:$DNS_PORT" --ca-file "$WORK/certs/ca.pem" \
    --ports "imap=$MS_IMAP_PORT,imaps=$MS_IMAPS_PORT,pop3=$MS_POP3_PORT,pop3s=$MS_POP3S_PORT,https=$MS_HTTPS_PORT,http=$MS_HTTP_PORT" \
    --resolve mail.test.example:127.0.0.30 --resolve "autoconfig.$d:127.0.0.30" \
    --resolve "autodiscover.$d:127.0.0.30" "$@" "alice@$d" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["duration_ms"])'
}
# receiving only: no Postfix runs here, while acgood's SRV records and files name one
for label in "acgood.test.example --protocols imap,pop3" "acgood.test.example --protocols imap,pop3 --no-autoconfig" "acuser.test.example --protocols imap"; do
  # shellcheck disable=SC2086 # the label holds the domain and its options
  printf '%-40s' "$label"; for _ in 1 2 3 4 5; do printf ' %7s' "$(run $label)"; done; echo " ms"
done
