# fish completion for mailscope(1)
#
# Options and their values are listed here (tests/completion checks them against
# `mailscope --help`, `mailscope serve --help` and the values the program accepts).
# Finding codes (--forbid, --explain) are asked from the mailscope being completed, at
# completion time (`mailscope --explain all --format json`): always the codes of that
# very binary.

function __mailscope_codes --description 'the finding codes of the mailscope being completed'
    set -l cmd (commandline -opc)[1]
    test -n "$cmd"; or set cmd mailscope
    $cmd --explain all --format json 2>/dev/null | string match -rg '^\s*"code":\s*"([a-z0-9_.]+)"'
end

function __mailscope_list --description 'complete the last item of a comma-separated list'
    set -l prefix (string replace -r '[^,]*$' '' -- (commandline -ct))
    printf '%s\n' $prefix$argv
end

set -l items imap pop3 submission imaps imap+starttls pop3s pop3+stls submissions \
    submission+starttls login imap: pop3: smtp: \
    protocol_enabled leave_mail_on_server server_folders sent_items_on_server \
    shared_folders headers_only_download push_mail min_poll_interval \
    secure_connection sign_in_methods quota can_send max_message_size

function __mailscope_serve --description 'whether the command line is `mailscope serve ...`'
    set -l tokens (commandline -opc)
    test (count $tokens) -ge 2; and test "$tokens[2]" = serve
end

# A target: a host name (no files); first, also the subcommand.
complete -c mailscope -f
complete -c mailscope -n "not __mailscope_serve" -a '(__fish_print_hostnames)'
complete -c mailscope -n 'test (count (commandline -opc)) -eq 1' -a serve -d 'Run as an HTTP service (mailscope-serve)'

complete -c mailscope -n "not __mailscope_serve" -l discover -x -a '(__fish_print_hostnames)' -d 'Find the servers of a mail domain'
complete -c mailscope -n "not __mailscope_serve" -l ports -x -a '(__mailscope_list imap= imaps= pop3= pop3s= submission= submissions= https= http=)' -d 'Ports for a bare host'
complete -c mailscope -n "not __mailscope_serve" -l protocols -x -a '(__mailscope_list imap pop3 submission all)' -d 'Probe only these protocols'
complete -c mailscope -n "not __mailscope_serve" -l resolve -x -d 'Use ADDRESS for HOST (HOST:ADDRESS)'
complete -c mailscope -n "not __mailscope_serve" -l dns-server -x -d 'Ask this DNS server (IP[:PORT])'
complete -c mailscope -n "not __mailscope_serve" -s 4 -l ipv4 -d 'Use only IPv4 addresses'
complete -c mailscope -n "not __mailscope_serve" -s 6 -l ipv6 -d 'Use only IPv6 addresses'
complete -c mailscope -n "not __mailscope_serve" -l ca-file -r -F -d 'Also trust the CA certificates in FILE'
complete -c mailscope -n "not __mailscope_serve" -l user -x -d 'Sign in as NAME'
complete -c mailscope -n "not __mailscope_serve" -l password-file -r -F -d 'Read the password from FILE'
complete -c mailscope -n "not __mailscope_serve" -l oauth2-token-file -r -F -d 'Read an OAuth2 access token from FILE'
complete -c mailscope -n "not __mailscope_serve" -l auth-mech -x -a 'PLAIN LOGIN XOAUTH2 OAUTHBEARER USER' -d 'Sign-in mechanism'
complete -c mailscope -n "not __mailscope_serve" -l allow-insecure-auth -d 'Also send credentials without verified TLS'
complete -c mailscope -n "not __mailscope_serve" -l no-confirm -d 'Do not confirm plaintext sign-in on a second connection'
complete -c mailscope -n "not __mailscope_serve" -l no-autoconfig -d 'Do not fetch autoconfig or Autodiscover'
complete -c mailscope -n "not __mailscope_serve" -l autoconfig-db -r -F -d 'Also ask an ISPDB-like database (DIR or URL)'
complete -c mailscope -n "not __mailscope_serve" -l injection-test -d 'Test STARTTLS command injection'
complete -c mailscope -n "not __mailscope_serve" -l tls-audit -d 'Test TLS versions, weak suites, chain, SNI, OCSP, DANE'
complete -c mailscope -n "not __mailscope_serve" -l client -x -d 'With --tls-audit: report on this mail program only'
complete -c mailscope -n "not __mailscope_serve" -l cert-warn-days -x -d 'Warn when a certificate expires within N days'
complete -c mailscope -n "not __mailscope_serve" -l timeout -x -d 'Bound on each phase (seconds)'
complete -c mailscope -n "not __mailscope_serve" -l deadline -x -d 'Bound on the whole run (seconds)'
complete -c mailscope -n "not __mailscope_serve" -l format -x -a 'text json jsonl nagios prometheus' -d 'Report format'
complete -c mailscope -n "not __mailscope_serve" -l json -d 'The same as --format json'
complete -c mailscope -n "not __mailscope_serve" -l require -x -a "(__mailscope_list $items)" -d 'CRITICAL unless every item holds'
complete -c mailscope -n "not __mailscope_serve" -l forbid -x -a "(__mailscope_list $items (__mailscope_codes))" -d 'CRITICAL if any item holds'
complete -c mailscope -n "not __mailscope_serve" -s w -l warning -x -d 'WARNING when a check takes longer (seconds)'
complete -c mailscope -n "not __mailscope_serve" -s c -l critical -x -d 'CRITICAL when a check takes longer (seconds)'
complete -c mailscope -n "not __mailscope_serve" -l cert-crit-days -x -d 'CRITICAL when a certificate expires within N days'
complete -c mailscope -n "not __mailscope_serve" -l targets-file -r -F -a - -d 'Many targets, one per line (- for stdin)'
complete -c mailscope -n "not __mailscope_serve" -l concurrency -x -d 'Endpoints in flight at most'
complete -c mailscope -n "not __mailscope_serve" -s q -l quiet -d 'No progress line'
complete -c mailscope -n "not __mailscope_serve" -l trace -d 'Print the protocol transcript to stderr'
complete -c mailscope -n "not __mailscope_serve" -l explain -x -a 'all (__mailscope_codes)' -d 'Explain a finding code'
complete -c mailscope -n "not __mailscope_serve" -s h -l help -d 'Show the help'
complete -c mailscope -n "not __mailscope_serve" -l version -d 'Show the version and the libraries'

# `mailscope serve ...`: the HTTP service's options (`mailscope serve --help`); no targets.
complete -c mailscope -n __mailscope_serve -l listen -x -d 'Listen here (ADDR:PORT, IPv6 as [ADDR]:PORT)'
complete -c mailscope -n __mailscope_serve -l config -r -F -d 'Settings and modules from a JSON file'
complete -c mailscope -n __mailscope_serve -l check-config -r -F -d 'Validate a config file and exit'
complete -c mailscope -n __mailscope_serve -l allow-private -d 'Also probe loopback and private addresses'
complete -c mailscope -n __mailscope_serve -l tls-cert -r -F -d 'Serve HTTPS with this certificate'
complete -c mailscope -n __mailscope_serve -l tls-key -r -F -d '... and this key'
complete -c mailscope -n __mailscope_serve -l ca-file -r -F -d 'Also trust the CA certificates in FILE'
complete -c mailscope -n __mailscope_serve -l dns-server -x -d 'Ask this DNS server (IP[:PORT])'
complete -c mailscope -n __mailscope_serve -l timeout -x -d 'Bound on each phase (seconds)'
complete -c mailscope -n __mailscope_serve -l deadline -x -d 'Bound on each probe (seconds)'
complete -c mailscope -n __mailscope_serve -l concurrency -x -d 'Endpoints probed at once'
complete -c mailscope -n __mailscope_serve -s h -l help -d 'Show the help'
complete -c mailscope -n __mailscope_serve -l version -d 'Show the version and the libraries'
