#!/usr/bin/env bash
# nginx.sh start|stop|status DIR CERTDIR
#
# A real web server for the autoconfig / Autodiscover tests (issue 16): the system's nginx
# binary with its OWN configuration, prefix, pid file, logs and temporary directories, all
# under DIR, listening on 127.0.0.20 only: https on $MS_HTTPS_PORT (default 10443) and http
# on $MS_HTTP_PORT (default 10080), never on 443/80 (mailscope is told with
# --ports https=...,http=...). The system nginx service is neither used nor touched. `stop`
# ends exactly the nginx that `start` started (DIR/nginx.pid).
#
# TLS: CERTDIR/web.pem (tests/servers/certs.sh: the test CA's certificate for every name
# below). The files name the test Dovecot ($MS_IMAP_PORT $MS_IMAPS_PORT $MS_POP3_PORT
# $MS_POP3S_PORT, defaults 10143 10993 10110 10995) and the test Postfix ($MS_SUBMISSION_PORT
# $MS_SUBMISSIONS_PORT, defaults 10587 10465) on mail.test.example (127.0.0.2). What each
# test domain publishes (tests/servers/dnsmasq.sh resolves the names to 127.0.0.20):
#   acgood       autoconfig (https): IMAPS, POP3S, SMTP submission (STARTTLS) on
#                mail.test.example, username %EMAILLOCALPART%; Autodiscover POX (https
#                autodiscover.acgood): the same IMAP/POP3/SMTP; agrees with its SRV records
#   acclosed     autoconfig: IMAPS and SMTP (SSL) on mail.test.example port $MS_CLOSED_PORT
#                (nothing there)
#   acplain      autoconfig: IMAP on mail.test.example:$MS_IMAP_PORT and SMTP on
#                mail.test.example:$MS_SUBMISSION_PORT, both with socketType plain
#   achttp       autoconfig over http only (https answers 404)
#   acredirect   Autodiscover: POST https://autodiscover.acredirect -> 302 to
#                https://autodiscover.acother.test.example/..., and the http redirect method
#                (http://autodiscover.acredirect -> 302 to the same): another domain
#   acother      Autodiscover POX with IMAPS and SMTP (SSL) on mail.test.example (the
#                redirect's target)
#   acdisagree   autoconfig: IMAPS and SMTP submission (STARTTLS) on 127.0.0.2 (verifies:
#                the certificate names the IP), while its SRV records say mail.test.example
#   acinvalid    autoconfig: XML that is not well-formed (an unclosed element on line 6)
#   acuser       autoconfig: IMAPS and SMTP (SSL) on mail.test.example, username
#                %EMAILADDRESS%
#   acauth       Autodiscover answers 401 (sign-in required), autoconfig 404
#   acprovider.example  autoconfig for domains whose MX is mx.acprovider.example (acmx):
#                IMAPS and SMTP (SSL) on mail.test.example
# The Autodiscover responses' LoginName is %EMAILLOCALPART% (mailscope expands placeholders
# there as in autoconfig files), so one file serves every test address.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|status DIR [CERTDIR]" >&2
  exit 2
}
[[ $# -ge 2 ]] || usage
cmd=$1
dir=$2
certdir=${3:-}
NGINX=${MS_NGINX_BIN:-/usr/sbin/nginx}
ADDR=127.0.0.20
HTTPS_PORT=${MS_HTTPS_PORT:-10443}
HTTP_PORT=${MS_HTTP_PORT:-10080}
IMAP_PORT=${MS_IMAP_PORT:-10143}
IMAPS_PORT=${MS_IMAPS_PORT:-10993}
POP3S_PORT=${MS_POP3S_PORT:-10995}
SUBMISSION_PORT=${MS_SUBMISSION_PORT:-10587}
SUBMISSIONS_PORT=${MS_SUBMISSIONS_PORT:-10465}
CLOSED_PORT=${MS_CLOSED_PORT:-10999}
log() { echo "nginx.sh: $*" >&2; }

# shellcheck source=tests/servers/proc.sh
source "$(dirname "${BASH_SOURCE[0]}")/proc.sh"

is_ours() {
  local pid=$1
  [[ -n "$pid" && -r /proc/$pid/cmdline ]] || return 1
  [[ "$(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null)" == *nginx*"$dir/nginx.conf"* ]]
}

do_stop() {
  local pidfile=$dir/nginx.pid pid
  [[ -f $pidfile ]] || return 0
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if is_ours "$pid"; then
    stop_tree "$pid" 10 nginx
  fi
  rm -f "$pidfile"
}

# autoconfig FILE HOST PORT SOCKET [USERNAME] [TYPE]: a clientConfig with one incoming server
autoconfig() {
  local file=$1 host=$2 port=$3 socket=$4 user=${5:-%EMAILLOCALPART%} type=${6:-imap}
  mkdir -p "$(dirname "$file")"
  cat >"$file" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="$(basename "$(dirname "$(dirname "$file")")")">
    <domain>%EMAILDOMAIN%</domain>
    <displayName>mailscope test</displayName>
    <incomingServer type="$type">
      <hostname>$host</hostname>
      <port>$port</port>
      <socketType>$socket</socketType>
      <authentication>password-cleartext</authentication>
      <username>$user</username>
    </incomingServer>
  </emailProvider>
</clientConfig>
XML
}

# outgoing FILE HOST PORT SOCKET: add an outgoing (SMTP) server to an autoconfig() file
outgoing() {
  local file=$1 host=$2 port=$3 socket=$4 user=${5:-%EMAILLOCALPART%} block
  block="    <outgoingServer type=\"smtp\">
      <hostname>$host</hostname>
      <port>$port</port>
      <socketType>$socket</socketType>
      <authentication>password-cleartext</authentication>
      <username>$user</username>
    </outgoingServer>"
  awk -v block="$block" '/^  <\/emailProvider>/ { print block } { print }' "$file" >"$file.new"
  mv "$file.new" "$file"
}

# pox FILE PROTOCOL-BLOCKS...: an Autodiscover POX response
pox() {
  local file=$1
  shift
  mkdir -p "$(dirname "$file")"
  {
    echo '<?xml version="1.0" encoding="utf-8"?>'
    echo '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">'
    echo '  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">'
    echo '    <Account><AccountType>email</AccountType><Action>settings</Action>'
    printf '%s\n' "$@"
    echo '    </Account>'
    echo '  </Response>'
    echo '</Autodiscover>'
  } >"$file"
}

proto() { # TYPE HOST PORT SSL [ENCRYPTION]
  local enc=""
  [[ -n ${5:-} ]] && enc="<Encryption>$5</Encryption>"
  echo "      <Protocol><Type>$1</Type><Server>$2</Server><Port>$3</Port><SSL>$4</SSL>$enc<LoginName>%EMAILLOCALPART%</LoginName><SPA>off</SPA></Protocol>"
}

write_site() {
  local www=$dir/www m=mail.test.example
  rm -rf "$www"
  mkdir -p "$www"
  # acgood: a correct file (IMAPS, POP3S, SMTP submission), and Autodiscover saying the same
  local f=$www/autoconfig.acgood.test.example/mail/config-v1.1.xml
  mkdir -p "$(dirname "$f")"
  cat >"$f" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="acgood.test.example">
    <domain>acgood.test.example</domain>
    <incomingServer type="imap">
      <hostname>$m</hostname>
      <port>$IMAPS_PORT</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILLOCALPART%</username>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>$m</hostname>
      <port>$POP3S_PORT</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILLOCALPART%</username>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>$m</hostname>
      <port>$SUBMISSION_PORT</port>
      <socketType>STARTTLS</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILLOCALPART%</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>
XML
  pox "$www/autodiscover.acgood.test.example/autodiscover/autodiscover.xml" \
    "$(proto IMAP $m "$IMAPS_PORT" on)" "$(proto POP3 $m "$POP3S_PORT" on)" \
    "$(proto SMTP $m "$SUBMISSION_PORT" on TLS)"
  f=$www/autoconfig.acclosed.test.example/mail/config-v1.1.xml
  autoconfig "$f" $m "$CLOSED_PORT" SSL
  outgoing "$f" $m "$CLOSED_PORT" SSL
  f=$www/autoconfig.acplain.test.example/mail/config-v1.1.xml
  autoconfig "$f" $m "$IMAP_PORT" plain
  outgoing "$f" $m "$SUBMISSION_PORT" plain
  f=$www/http/autoconfig.achttp.test.example/mail/config-v1.1.xml
  autoconfig "$f" $m "$IMAPS_PORT" SSL
  outgoing "$f" $m "$SUBMISSIONS_PORT" SSL
  pox "$www/autodiscover.acother.test.example/autodiscover/autodiscover.xml" \
    "$(proto IMAP $m "$IMAPS_PORT" on)" "$(proto SMTP $m "$SUBMISSIONS_PORT" on)"
  f=$www/autoconfig.acdisagree.test.example/mail/config-v1.1.xml
  autoconfig "$f" 127.0.0.2 "$IMAPS_PORT" SSL
  outgoing "$f" 127.0.0.2 "$SUBMISSION_PORT" STARTTLS
  f=$www/autoconfig.acinvalid.test.example/mail/config-v1.1.xml
  mkdir -p "$(dirname "$f")"
  printf '%s\n' '<?xml version="1.0"?>' '<clientConfig version="1.1">' \
    '  <emailProvider id="acinvalid.test.example">' '    <incomingServer type="imap">' \
    "      <hostname>$m</hostname>" "      <port>$IMAPS_PORT<port>" \
    '    </incomingServer>' '  </emailProvider>' '</clientConfig>' >"$f"
  f=$www/autoconfig.acuser.test.example/mail/config-v1.1.xml
  autoconfig "$f" $m "$IMAPS_PORT" SSL '%EMAILADDRESS%'
  outgoing "$f" $m "$SUBMISSIONS_PORT" SSL '%EMAILADDRESS%'
  f=$www/autoconfig.acprovider.example/mail/config-v1.1.xml
  autoconfig "$f" $m "$IMAPS_PORT" SSL
  outgoing "$f" $m "$SUBMISSIONS_PORT" SSL
  chmod -R a+rX "$www"
}

do_start() {
  local pid i
  [[ -n $certdir ]] || usage
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  certdir=$(cd "$certdir" && pwd)
  do_stop
  [[ -s $certdir/web.pem && -s $certdir/web.key ]] || {
    log "no $certdir/web.pem (run tests/servers/certs.sh)"
    exit 1
  }
  write_site
  mkdir -p "$dir/tmp" "$dir/logs"
  local user_line=""
  if (($(id -u) == 0)); then user_line="user root;"; fi
  cat >"$dir/nginx.conf" <<CONF
# mailscope tests: private nginx (generated by nginx.sh)
$user_line
worker_processes 1;
daemon on;
pid $dir/nginx.pid;
error_log $dir/logs/error.log info;
events { worker_connections 256; }
http {
  access_log $dir/logs/access.log;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  default_type application/xml;
  types { application/xml xml; }
  ssl_certificate $certdir/web.pem;
  ssl_certificate_key $certdir/web.key;
  server_tokens off;

  # https: one site per host name, from www/<host>/; POST (Autodiscover) serves the file
  server {
    listen $ADDR:$HTTPS_PORT ssl default_server;
    server_name _;
    root $dir/www/\$host;
    location / { error_page 405 =200 \$uri; }
  }
  server {
    listen $ADDR:$HTTPS_PORT ssl;
    server_name autodiscover.acredirect.test.example;
    location / { return 302 https://autodiscover.acother.test.example/autodiscover/autodiscover.xml; }
  }
  server {
    listen $ADDR:$HTTPS_PORT ssl;
    server_name autodiscover.acauth.test.example acauth.test.example;
    location / { return 401; }
  }
  # http: only what is published over http
  server {
    listen $ADDR:$HTTP_PORT default_server;
    server_name _;
    root $dir/www/http/\$host;
    location / { error_page 405 =200 \$uri; }
  }
  server {
    listen $ADDR:$HTTP_PORT;
    server_name autodiscover.acredirect.test.example;
    location / { return 302 https://autodiscover.acother.test.example/autodiscover/autodiscover.xml; }
  }
}
CONF
  rm -f "$dir/nginx.pid"
  if ! "$NGINX" -p "$dir" -c "$dir/nginx.conf" </dev/null >>"$dir/logs/nginx.out" 2>&1; then
    log "nginx failed to start:"
    tail -n 20 "$dir/logs/nginx.out" "$dir/logs/error.log" >&2 || true
    exit 1
  fi
  for ((i = 0; i < 100; i++)); do
    pid=$(cat "$dir/nginx.pid" 2>/dev/null || true)
    if is_ours "$pid" && port_open "$ADDR" "$HTTPS_PORT" && port_open "$ADDR" "$HTTP_PORT"; then
      log "nginx $pid ready on $ADDR:$HTTPS_PORT (https) and $ADDR:$HTTP_PORT (http)"
      return 0
    fi
    sleep 0.1
  done
  log "nginx did not listen on $ADDR:$HTTPS_PORT in 10s"
  tail -n 20 "$dir/logs/error.log" >&2 || true
  do_stop
  exit 1
}

case $cmd in
  start) do_start ;;
  stop)
    [[ -d $dir ]] || exit 0
    dir=$(cd "$dir" && pwd)
    do_stop
    ;;
  status)
    dir=$(cd "$dir" && pwd)
    pid=$(cat "$dir/nginx.pid" 2>/dev/null || true)
    if is_ours "$pid"; then echo "running: $pid"; else echo "not running"; exit 1; fi
    ;;
  *) usage ;;
esac
