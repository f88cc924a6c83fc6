#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions run through `timed`, the trap and background jobs
# tests/bench/run.sh - mailscope's benchmarks: round trips against the protocol's lower
# bound (through latency_proxy.py), the same checks done with the tools people use today,
# and fleets (1,000 / 10,000 targets) against the TLS floor. Run by hand, as root or not;
# never registered as a ctest test. Loopback traffic only. About 2.5 minutes on 2 cores.
#
#   tests/bench/run.sh            build (RelWithDebInfo, /tmp/bench-build), run, print the table
#
# Environment (all optional):
#   MAILSCOPE=PATH             use this binary instead of building one
#   MS_BENCH_BUILD=DIR         build directory (default /tmp/bench-build)
#   MS_BENCH_RTTS="50 200"     round-trip times in ms for the latency part ("" = skip it)
#   MS_BENCH_RUNS=5            mailscope runs per latency point (median reported)
#   MS_BENCH_TOOL_RUNS=3       runs per other tool and latency point (median reported)
#   MS_BENCH_FLEETS="1000 10000"   fleet sizes ("" = skip the fleet part)
#   MS_BENCH_CONCURRENCY="100 1000"
#   MS_BENCH_PORT_BASE=23000   Dovecot ports: BASE+143/993/110/995 (as configured by
#                              tests/servers/dovecot.sh) and BASE+1143/1993/1110/1995 (the
#                              same with raised limits, for the fleets; see dovecot_tuned.sh)
#   MS_BENCH_PROXY_NET=127.0.0.6   the proxy listens on <NET><i>, i = 1, 2, ... one address
#                              per RTT, on the standard ports 143 993 110 995 (so nmap's
#                              scripts match by port number)
#   MS_BENCH_NO_INSTALL=1      do not apt-get install missing tools (their rows are skipped)
#   MS_BENCH_KEEP=1            keep the work directory (raw measurements, logs)
#   MS_BENCH_OUT=FILE          also write the table to FILE
#
# What it starts, and stops on exit (trap): two Dovecot instances via
# tests/servers/dovecot.sh in a temporary directory, and one latency_proxy.py.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
servers=$root/tests/servers

BUILD=${MS_BENCH_BUILD:-/tmp/bench-build}
RTTS=${MS_BENCH_RTTS-"50 200"}
RUNS=${MS_BENCH_RUNS:-5}
TOOL_RUNS=${MS_BENCH_TOOL_RUNS:-3}
FLEETS=${MS_BENCH_FLEETS-"1000 10000"}
CONCS=${MS_BENCH_CONCURRENCY:-"100 1000"}
PORT_BASE=${MS_BENCH_PORT_BASE:-23000}
PROXY_NET=${MS_BENCH_PROXY_NET:-127.0.0.6}
PLUGINS=/usr/lib/nagios/plugins
PASSWORD=canary-pw-7Q2x # the test Dovecot's alice (tests/servers/dovecot.sh)

log() { printf 'run.sh: %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

# ---- ports, work directory, cleanup ------------------------------------------------------
S_IMAP=$((PORT_BASE + 143)) S_IMAPS=$((PORT_BASE + 993)) S_POP3=$((PORT_BASE + 110)) S_POP3S=$((PORT_BASE + 995))
T_IMAP=$((PORT_BASE + 1143)) T_IMAPS=$((PORT_BASE + 1993)) T_POP3=$((PORT_BASE + 1110)) T_POP3S=$((PORT_BASE + 1995))

WORK=$(mktemp -d /tmp/ms-bench.XXXXXX)
chmod 755 "$WORK" # Dovecot's auth process (user dovecot) reads the passdb files under it
CERTS=$WORK/certs
CA=$CERTS/ca.pem
proxy_pid=""
started=()

cleanup() {
  local rc=$?
  set +e
  if [[ -n $proxy_pid ]]; then
    kill -TERM "$proxy_pid" 2>/dev/null
    wait "$proxy_pid" 2>/dev/null
  fi
  local d
  for d in "${started[@]}"; do
    "$servers/dovecot.sh" stop "$d" >/dev/null 2>&1
  done
  if [[ ${MS_BENCH_KEEP:-0} == 1 ]]; then
    log "work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- tools ------------------------------------------------------------------------------
have() { command -v "$1" >/dev/null 2>&1 || [[ -x $1 ]]; }
install_pkg() { # install_pkg PACKAGE: apt-get install, if allowed and possible
  [[ ${MS_BENCH_NO_INSTALL:-0} == 1 ]] && return 1
  [[ $(id -u) == 0 ]] && have apt-get || return 1
  log "installing $1 (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$1" >"$WORK/apt-$1.log" 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$1" >"$WORK/apt-$1.log" 2>&1; }
}
have /usr/sbin/dovecot || die "Dovecot is not installed (dovecot-imapd dovecot-pop3d; see tests/servers/dovecot.sh)"
have openssl || die "openssl is not installed"
have python3 || die "python3 is not installed"
have nmap || install_pkg nmap || log "nmap not available: its rows are skipped"
# check_imap, check_pop, check_simap, check_spop (all check_tcp) are in monitoring-plugins-basic
have "$PLUGINS/check_imap" || install_pkg monitoring-plugins-basic || log "monitoring-plugins not available: their rows are skipped"

if [[ -z ${MAILSCOPE:-} ]]; then
  log "building mailscope in $BUILD"
  cmake -S "$root" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$WORK/cmake.log" 2>&1 ||
    { tail -20 "$WORK/cmake.log" >&2; die "cmake configure failed"; }
  cmake --build "$BUILD" -j"$(nproc)" --target mailscope >>"$WORK/cmake.log" 2>&1 ||
    { tail -20 "$WORK/cmake.log" >&2; die "build failed"; }
  MAILSCOPE=$BUILD/mailscope
fi
[[ -x $MAILSCOPE ]] || die "no mailscope binary at $MAILSCOPE"

# Many descriptors for --concurrency 1000 (mailscope) and for Dovecot's login processes.
hard=$(ulimit -Hn)
if [[ $hard == unlimited ]]; then ulimit -n 65536; else ulimit -n "$hard"; fi
max_conc=0
for c in $CONCS; do ((c > max_conc)) && max_conc=$c; done
(($(ulimit -n) >= max_conc + 100)) || log "ulimit -n is $(ulimit -n): too low for --concurrency $max_conc"

# ---- servers ----------------------------------------------------------------------------
"$servers/certs.sh" "$CERTS"
start_dovecot() { # start_dovecot DIR IMAP IMAPS POP3 POP3S [BIN]
  local d=$1
  started+=("$d")
  MS_IMAP_PORT=$2 MS_IMAPS_PORT=$3 MS_POP3_PORT=$4 MS_POP3S_PORT=$5 MS_DOVECOT_BIN=${6:-/usr/sbin/dovecot} \
    "$servers/dovecot.sh" start "$d" "$CERTS" 2>>"$WORK/servers.log" || {
    tail -5 "$WORK/servers.log" >&2
    die "could not start Dovecot in $d (ports in use? set MS_BENCH_PORT_BASE)"
  }
}
log "starting Dovecot (as configured by tests/servers/dovecot.sh) on ports $S_IMAP,$S_IMAPS,$S_POP3,$S_POP3S"
start_dovecot "$WORK/dv" "$S_IMAP" "$S_IMAPS" "$S_POP3" "$S_POP3S"
if [[ -n $FLEETS ]]; then
  log "starting Dovecot with raised login limits (dovecot_tuned.sh) on ports $T_IMAP,$T_IMAPS,$T_POP3,$T_POP3S"
  start_dovecot "$WORK/dvt" "$T_IMAP" "$T_IMAPS" "$T_POP3" "$T_POP3S" "$here/dovecot_tuned.sh"
fi

# ---- latency ----------------------------------------------------------------------------
LAT=$WORK/latency.tsv
: >"$LAT"
now() { echo "$EPOCHREALTIME"; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.4f}')" "$1" "$2"; }
timed() { # timed RTT KEY LABEL CMD...: run once, append "rtt key label wall exit" to $LAT
  local rtt=$1 key=$2 label=$3 t0 t1 rc=0
  shift 3
  t0=$(now)
  "$@" >"$WORK/last.out" 2>"$WORK/last.err" || rc=$?
  t1=$(now)
  printf '%s\t%s\t%s\t%s\t%s\n' "$rtt" "$key" "$label" "$(elapsed "$t0" "$t1")" "$rc" >>"$LAT"
  cat "$WORK/last.out" "$WORK/last.err" >>"$WORK/latency-$key-$rtt.log"
}

# ms_probe ADDR [ARGS...]: the four standard endpoints of mail.test.example at ADDR
ms_probe() {
  local a=$1
  shift
  "$MAILSCOPE" --ca-file "$CA" --resolve "mail.test.example:$a" "$@" mail.test.example
}
ms_signin() { MAILSCOPE_PASSWORD=$PASSWORD ms_probe "$@" --user alice; }
# The same without the system CA bundle (SSL_CERT_FILE = the test CA, SSL_CERT_DIR = none):
# shows what parsing /etc/ssl/certs/ca-certificates.crt at start-up costs.
ms_probe_nosys() { SSL_CERT_FILE=$CA SSL_CERT_DIR=/nonexistent ms_probe "$@"; }
DIRECT_PORTS=imap=$S_IMAP,imaps=$S_IMAPS,pop3=$S_POP3,pop3s=$S_POP3S
# endpoint_rtts RTT MODE CMD...: one --json run; each endpoint's total time
ENDP=$WORK/endpoints.tsv
: >"$ENDP"
endpoint_rtts() {
  local rtt=$1 mode=$2
  shift 2
  "$@" --json >"$WORK/ep.json" 2>/dev/null || true
  python3 - "$WORK/ep.json" "$rtt" "$mode" >>"$ENDP" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for e in d["endpoints"]:
    kind = {("imap", "implicit"): "imaps", ("imap", "starttls"): "imap+starttls",
            ("pop3", "implicit"): "pop3s", ("pop3", "starttls"): "pop3+stls"}.get(
        (e["protocol"], e["security"]), e["id"])
    print(f"{sys.argv[2]}\t{sys.argv[3]}\t{kind}\t{e['timings_ms']['total']}")
EOF
}

# A helpdesk's script: one openssl s_client per endpoint, reading the capabilities.
# Commands are piped in at once (s_client writes them as soon as the session is up), so
# each run costs its handshakes plus one exchange, no sleeps.
s_client() { # s_client ADDR PORT INPUT [ARGS...]
  local a=$1 p=$2 in=$3
  shift 3
  openssl s_client -connect "$a:$p" -servername mail.test.example -verify_hostname mail.test.example \
    -CAfile "$CA" -verify_return_error -quiet -crlf "$@" <<<"$in"
}
openssl_one() { # openssl_one ADDR KIND
  case $2 in
    imaps) s_client "$1" 993 $'a CAPABILITY\na LOGOUT' ;;
    imap) s_client "$1" 143 $'a CAPABILITY\na LOGOUT' -starttls imap ;;
    pop3s) s_client "$1" 995 $'CAPA\nQUIT' ;;
    pop3) s_client "$1" 110 $'CAPA\nQUIT' -starttls pop3 ;;
  esac
}
openssl_seq() { local k rc=0; for k in imaps imap pop3s pop3; do openssl_one "$1" "$k" || rc=1; done; return "$rc"; }
openssl_par() {
  local k rc=0 pids=()
  for k in imaps imap pop3s pop3; do
    openssl_one "$1" "$k" >"$WORK/par-$k.out" 2>&1 &
    pids+=($!)
  done
  for k in "${pids[@]}"; do wait "$k" || rc=1; done
  cat "$WORK"/par-*.out
  return "$rc"
}
nmap_run() { nmap -Pn -n -p 110,143,993,995 --script imap-capabilities,pop3-capabilities,ssl-cert "$1"; }
plugins_one() {
  case $2 in
    imap) "$PLUGINS/check_imap" -H "$1" -p 143 ;;
    imaps) "$PLUGINS/check_simap" -H "$1" -p 993 -D 14 ;;
    pop3) "$PLUGINS/check_pop" -H "$1" -p 110 ;;
    pop3s) "$PLUGINS/check_spop" -H "$1" -p 995 -D 14 ;;
  esac
}
plugins_seq() { local k rc=0; for k in imap imaps pop3 pop3s; do plugins_one "$1" "$k" || rc=1; done; return "$rc"; }
plugins_par() {
  local k rc=0 pids=()
  for k in imap imaps pop3 pop3s; do
    plugins_one "$1" "$k" >"$WORK/ppar-$k.out" 2>&1 &
    pids+=($!)
  done
  for k in "${pids[@]}"; do wait "$k" || rc=1; done
  cat "$WORK"/ppar-*.out
  return "$rc"
}

if [[ -n $RTTS ]]; then
  maps=()
  i=0
  for rtt in $RTTS; do
    i=$((i + 1))
    a=$PROXY_NET$i
    maps+=(--map "$a:143=127.0.0.2:$S_IMAP,rtt=$rtt" --map "$a:993=127.0.0.2:$S_IMAPS,rtt=$rtt"
      --map "$a:110=127.0.0.2:$S_POP3,rtt=$rtt" --map "$a:995=127.0.0.2:$S_POP3S,rtt=$rtt")
  done
  python3 "$here/latency_proxy.py" --max-seconds 900 --ready-file "$WORK/proxy.ready" "${maps[@]}" \
    >"$WORK/proxy.log" 2>&1 &
  proxy_pid=$!
  for ((k = 0; k < 100; k++)); do
    [[ -s $WORK/proxy.ready ]] && break
    kill -0 "$proxy_pid" 2>/dev/null || { cat "$WORK/proxy.log" >&2; die "latency_proxy.py did not start"; }
    sleep 0.1
  done
  [[ -s $WORK/proxy.ready ]] || die "latency_proxy.py not ready"

  log "latency without the proxy (direct to 127.0.0.2: the fixed costs)"
  ms_probe 127.0.0.2 --ports "$DIRECT_PORTS" >"$WORK/check-0.txt" 2>&1 || die "mailscope failed against the test Dovecot: $(tail -5 "$WORK/check-0.txt")"
  for ((r = 0; r < RUNS; r++)); do
    timed 0 mailscope "mailscope, 4 endpoints in parallel" ms_probe 127.0.0.2 --ports "$DIRECT_PORTS"
    timed 0 mailscope_signin "mailscope --user alice (sign-in + account queries)" ms_signin 127.0.0.2 --ports "$DIRECT_PORTS"
    timed 0 mailscope_nosys "mailscope, without the system CA bundle" ms_probe_nosys 127.0.0.2 --ports "$DIRECT_PORTS"
    timed 0 refused "mailscope start-up: one refused connection" "$MAILSCOPE" --ca-file "$CA" imaps://127.0.0.9:1
  done

  i=0
  for rtt in $RTTS; do
    i=$((i + 1))
    a=$PROXY_NET$i
    log "latency at RTT $rtt ms (proxy on $a)"
    endpoint_rtts "$rtt" probe ms_probe "$a"
    endpoint_rtts "$rtt" signin ms_signin "$a"
    # warm-up (untimed) and a check that the probe works through the proxy
    ms_probe "$a" >"$WORK/check-$rtt.txt" 2>&1 || die "mailscope failed through the proxy: $(tail -5 "$WORK/check-$rtt.txt")"
    ms_signin "$a" >"$WORK/check-signin-$rtt.txt" 2>&1 || die "mailscope --user alice failed through the proxy"
    for ((r = 0; r < RUNS; r++)); do
      timed "$rtt" mailscope "mailscope, 4 endpoints in parallel" ms_probe "$a"
      timed "$rtt" mailscope_signin "mailscope --user alice (sign-in + account queries)" ms_signin "$a"
      timed "$rtt" mailscope_nosys "mailscope, without the system CA bundle" ms_probe_nosys "$a"
    done
    for ((r = 0; r < TOOL_RUNS; r++)); do
      timed "$rtt" openssl_seq "openssl s_client x4, sequential" openssl_seq "$a"
      timed "$rtt" openssl_par "openssl s_client x4, in parallel" openssl_par "$a"
      if have nmap; then
        timed "$rtt" nmap "nmap --script imap-/pop3-capabilities,ssl-cert" nmap_run "$a"
      fi
      if have "$PLUGINS/check_imap"; then
        timed "$rtt" plugins_seq "check_imap/simap/pop/spop, sequential" plugins_seq "$a"
        timed "$rtt" plugins_par "check_imap/simap/pop/spop, in parallel" plugins_par "$a"
      fi
    done
  done
  kill -TERM "$proxy_pid" 2>/dev/null || true
  wait "$proxy_pid" 2>/dev/null || true
  proxy_pid=""
fi

# ---- fleets -----------------------------------------------------------------------------
FLEET=$WORK/fleet.jsonl
: >"$FLEET"
fleet_run() { # fleet_run SERVER KIND FILE N CONC [extra mailscope args...]
  local server=$1 kind=$2 file=$3 n=$4 c=$5
  shift 5
  log "fleet: $n $kind targets, --concurrency $c ($server)"
  python3 "$here/measure.py" --interval 0.1 --json "$WORK/m.json" -- \
    "$MAILSCOPE" --targets-file "$file" --ca-file "$CA" --resolve mail.test.example:127.0.0.2 \
    --resolve localhost:127.0.0.7 --concurrency "$c" --format jsonl -q "$@" \
    >/dev/null 2>"$WORK/fleet.err" || true
  python3 - "$WORK/m.json" "$WORK/fleet.err" "$server" "$kind" "$n" "$c" >>"$FLEET" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
summary = [l.strip() for l in open(sys.argv[2]) if l.startswith("mailscope:")]
m.update(server=sys.argv[3], kind=sys.argv[4], n=int(sys.argv[5]), c=int(sys.argv[6]),
         summary=summary[-1] if summary else open(sys.argv[2]).read()[-300:])
print(json.dumps(m))
EOF
}
make_targets() { # make_targets KIND N FILE IMAP IMAPS POP3 POP3S
  python3 - "$@" <<'EOF'
import sys
kind, n, path, imap, imaps, pop3, pop3s = sys.argv[1], int(sys.argv[2]), sys.argv[3], *sys.argv[4:8]
if kind == "imaps":
    urls = [f"imaps://mail.test.example:{imaps}"]
else:  # four endpoint kinds on two addresses: mail.test.example -> 127.0.0.2, localhost -> 127.0.0.7
    urls = [f"{s}://{h}:{p}" for h in ("mail.test.example", "localhost")
            for s, p in (("imaps", imaps), ("pop3s", pop3s), ("imap", imap), ("pop3", pop3))]
with open(path, "w") as f:
    for i in range(n):
        f.write(urls[i % len(urls)] + "\n")
EOF
}
s_time_run() { # s_time_run LABEL [ARGS...]: the TLS floor, CPU of openssl s_time per connection
  local label=$1
  shift
  log "TLS floor: openssl s_time -new $* against 127.0.0.2:$T_IMAPS"
  python3 "$here/measure.py" --interval 0.5 --json "$WORK/m.json" -- \
    openssl s_time -connect "127.0.0.2:$T_IMAPS" -new -time 5 -CAfile "$CA" "$@" >"$WORK/s_time.out" 2>&1 || true
  python3 - "$WORK/m.json" "$WORK/s_time.out" "$label" >>"$FLEET" <<'EOF'
import json, re, sys
m = json.load(open(sys.argv[1]))
out = open(sys.argv[2], errors="replace").read()
conns = re.findall(r"(\d+) connections in [\d.]+ real seconds", out)
m.update(server="tuned", kind="s_time", label=sys.argv[3], n=int(conns[0]) if conns else 0, c=1)
print(json.dumps(m))
EOF
}

if [[ -n $FLEETS ]]; then
  for n in $FLEETS; do
    make_targets mixed "$n" "$WORK/mixed-$n.txt" "$T_IMAP" "$T_IMAPS" "$T_POP3" "$T_POP3S"
    make_targets imaps "$n" "$WORK/imaps-$n.txt" "$T_IMAP" "$T_IMAPS" "$T_POP3" "$T_POP3S"
  done
  make_targets imaps 300 "$WORK/imaps-300.txt" "$T_IMAP" "$T_IMAPS" "$T_POP3" "$T_POP3S"
  # one endpoint at a time: the fixed memory and the fixed descriptors
  fleet_run tuned imaps "$WORK/imaps-300.txt" 300 1
  s_time_run "openssl s_time -new (no chain verification)"
  for n in $FLEETS; do
    for c in $CONCS; do
      fleet_run tuned imaps "$WORK/imaps-$n.txt" "$n" "$c"
    done
  done
  s_time_run "openssl s_time -new -verify 2 (chain verified)" -verify 2
  for n in $FLEETS; do
    for c in $CONCS; do
      fleet_run tuned mixed "$WORK/mixed-$n.txt" "$n" "$c"
    done
  done
  # The same as the largest concurrency against the untouched test Dovecot (high-security
  # login processes, default_process_limit 100): what its limits do to a fleet.
  n0=${FLEETS%% *}
  make_targets imaps "$n0" "$WORK/stock-imaps-$n0.txt" "$S_IMAP" "$S_IMAPS" "$S_POP3" "$S_POP3S"
  fleet_run stock imaps "$WORK/stock-imaps-$n0.txt" "$n0" "$max_conc"
fi

# ---- the table --------------------------------------------------------------------------
{
  echo "mailscope benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')),"
  echo "$("$MAILSCOPE" --version 2>&1 | head -1), $(openssl version | cut -d' ' -f1-2), Dovecot $(/usr/sbin/dovecot --version | cut -d' ' -f1)$(have nmap && echo ", nmap $(nmap --version | awk 'NR==1{print $3}')")"
  python3 "$here/table.py" "$LAT" "$FLEET" "$ENDP"
} | tee "$WORK/table.txt"
[[ -n ${MS_BENCH_OUT:-} ]] && cp "$WORK/table.txt" "$MS_BENCH_OUT"
exit 0
