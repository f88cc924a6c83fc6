# bash completion for mailscope(1)                                   -*- shell-script -*-
#
# Options and their values are listed here (tests/completion checks them against
# `mailscope --help`, `mailscope serve --help` and the values the program accepts).
# Finding codes (--forbid, --explain) are asked from the mailscope being completed, at
# completion time (`mailscope --explain all --format json`): always the codes of that
# very binary.

# The finding codes of mailscope binary $1, one per line.
_mailscope_codes()
{
    "$1" --explain all --format json 2>/dev/null |
        command sed -n 's/^[[:space:]]*"code":[[:space:]]*"\([a-z0-9_.]*\)".*/\1/p'
}

# Complete the last item of the comma-separated list in $cur (the caller's) from words $1.
_mailscope_list()
{
    local prefix=
    [[ $cur == *,* ]] && prefix=${cur%,*},
    COMPREPLY=($(compgen -P "$prefix" -W "$1" -- "${cur##*,}"))
}

# `mailscope serve ...`: the HTTP service's options (`mailscope serve --help`); it takes no
# targets.
_mailscope_serve()
{
    case $prev in
        --config | --check-config | --tls-cert | --tls-key | --ca-file)
            _filedir
            return
            ;;
        --listen | --dns-server | --timeout | --deadline | --concurrency)
            return # a value of the user's own
            ;;
    esac
    $split && return
    COMPREPLY=($(compgen -W '--listen --config --check-config --allow-private --tls-cert
        --tls-key --ca-file --dns-server --timeout --deadline --concurrency -h --help
        --version' -- "$cur"))
}

_mailscope()
{
    local cur prev words cword split
    _init_completion -s -n : || return

    if ((cword > 1)) && [[ ${words[1]} == serve ]]; then
        _mailscope_serve
        return
    fi

    local cmd=${words[0]}
    [[ $cmd == */* || -z $cmd ]] || cmd=$(type -P -- "$cmd") || cmd=mailscope
    [[ -n $cmd ]] || cmd=mailscope

    local items='imap pop3 submission imaps imap+starttls pop3s pop3+stls submissions
        submission+starttls login imap: pop3: smtp:
        protocol_enabled leave_mail_on_server server_folders sent_items_on_server
        shared_folders headers_only_download push_mail min_poll_interval
        secure_connection sign_in_methods quota can_send max_message_size'

    case $prev in
        --ca-file | --password-file | --oauth2-token-file)
            _filedir
            return
            ;;
        --targets-file)
            _filedir
            [[ -z $cur || $cur == - ]] && COMPREPLY+=(-)
            return
            ;;
        --format)
            COMPREPLY=($(compgen -W 'text json jsonl nagios prometheus' -- "$cur"))
            return
            ;;
        --protocols)
            _mailscope_list 'imap pop3 submission all'
            return
            ;;
        --auth-mech)
            COMPREPLY=($(compgen -W 'PLAIN LOGIN XOAUTH2 OAUTHBEARER USER' -- "$cur"))
            return
            ;;
        --ports)
            _mailscope_list 'imap= imaps= pop3= pop3s= submission= submissions= https= http='
            compopt -o nospace
            return
            ;;
        --require | --forbid)
            local candidates=$items
            [[ $prev == --forbid ]] && candidates+=" $(_mailscope_codes "$cmd")"
            _mailscope_list "$candidates"
            [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *: ]] && compopt -o nospace
            __ltrim_colon_completions "$cur"
            return
            ;;
        --explain)
            COMPREPLY=($(compgen -W "all $(_mailscope_codes "$cmd")" -- "$cur"))
            return
            ;;
        --discover | --resolve | --dns-server | --user | --timeout | --deadline | --client | \
            --cert-warn-days | --cert-crit-days | --concurrency | --warning | -w | \
            --critical | -c)
            return # a value of the user's own
            ;;
    esac
    $split && return

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '--discover --ports --protocols --resolve --dns-server
            -4 --ipv4 -6 --ipv6 --ca-file --user --password-file --oauth2-token-file
            --auth-mech --allow-insecure-auth --no-confirm --no-autoconfig --autoconfig-db
            --injection-test --tls-audit --client
            --cert-warn-days --timeout --deadline --format --json --require --forbid
            -w --warning -c --critical --cert-crit-days --targets-file --concurrency
            -q --quiet --trace --explain -h --help --version' -- "$cur"))
        [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
    fi
    # A target: a host name the user has connected to before (ssh's known hosts, /etc/hosts);
    # first, also the subcommand.
    if [[ $cur != -* ]]; then
        _known_hosts_real -- "$cur"
        ((cword == 1)) && COMPREPLY+=($(compgen -W serve -- "$cur"))
    fi
} &&
    complete -F _mailscope mailscope

# ex: filetype=sh
