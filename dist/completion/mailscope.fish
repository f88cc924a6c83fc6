# fish completion for mailscope(1)
#
# Options and their values are listed here (tests/completion checks them against
# `mailscope --help` and the values the program accepts). Finding codes (--forbid,
# --explain) are asked from the mailscope being completed, at completion time
# (`mailscope --explain all --format json`): always the codes of that very binary.

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

# A target: a host name (no files).
complete -c mailscope -f -a '(__fish_print_hostnames)'

complete -c mailscope -l discover -x -a '(__fish_print_hostnames)' -d 'Find the servers of a mail domain'
complete -c mailscope -l ports -x -a '(__mailscope_list imap= imaps= pop3= pop3s= submission= submissions= https= http=)' -d 'Ports for a bare host'
complete -c mailscope -l protocols -x -a '(__mailscope_list imap pop3 submission all)' -d 'Probe only these protocols'
complete -c mailscope -l resolve -x -d 'Use ADDRESS for HOST (HOST:ADDRESS)'
complete -c mailscope -l dns-server -x -d 'Ask this DNS server (IP[:PORT])'
complete -c mailscope -s 4 -l ipv4 -d 'Use only IPv4 addresses'
complete -c mailscope -s 6 -l ipv6 -d 'Use only IPv6 addresses'
complete -c mailscope -l ca-file -r -F -d 'Also trust the CA certificates in FILE'
complete -c mailscope -l user -x -d 'Sign in as NAME'
complete -c mailscope -l password-file -r -F -d 'Read the password from FILE'
complete -c mailscope -l oauth2-token-file -r -F -d 'Read an OAuth2 access token from FILE'
complete -c mailscope -l auth-mech -x -a 'PLAIN LOGIN XOAUTH2 OAUTHBEARER USER' -d 'Sign-in mechanism'
complete -c mailscope -l allow-insecure-auth -d 'Also send credentials without verified TLS'
complete -c mailscope -l no-confirm -d 'Do not confirm plaintext sign-in on a second connection'
complete -c mailscope -l no-autoconfig -d 'Do not fetch autoconfig or Autodiscover'
complete -c mailscope -l autoconfig-db -r -F -d 'Also ask an ISPDB-like database (DIR or URL)'
complete -c mailscope -l injection-test -d 'Test STARTTLS command injection'
complete -c mailscope -l tls-audit -d 'Test TLS versions, weak suites, chain, SNI, OCSP, DANE'
complete -c mailscope -l client -x -d 'With --tls-audit: report on this mail program only'
complete -c mailscope -l cert-warn-days -x -d 'Warn when a certificate expires within N days'
complete -c mailscope -l timeout -x -d 'Bound on each phase (seconds)'
complete -c mailscope -l deadline -x -d 'Bound on the whole run (seconds)'
complete -c mailscope -l format -x -a 'text json jsonl nagios prometheus' -d 'Report format'
complete -c mailscope -l json -d 'The same as --format json'
complete -c mailscope -l require -x -a "(__mailscope_list $items)" -d 'CRITICAL unless every item holds'
complete -c mailscope -l forbid -x -a "(__mailscope_list $items (__mailscope_codes))" -d 'CRITICAL if any item holds'
complete -c mailscope -s w -l warning -x -d 'WARNING when a check takes longer (seconds)'
complete -c mailscope -s c -l critical -x -d 'CRITICAL when a check takes longer (seconds)'
complete -c mailscope -l cert-crit-days -x -d 'CRITICAL when a certificate expires within N days'
complete -c mailscope -l targets-file -r -F -a - -d 'Many targets, one per line (- for stdin)'
complete -c mailscope -l concurrency -x -d 'Endpoints in flight at most'
complete -c mailscope -s q -l quiet -d 'No progress line'
complete -c mailscope -l trace -d 'Print the protocol transcript to stderr'
complete -c mailscope -l explain -x -a 'all (__mailscope_codes)' -d 'Explain a finding code'
complete -c mailscope -s h -l help -d 'Show the help'
complete -c mailscope -l version -d 'Show the version and the libraries'
