#!/usr/bin/env bash
# Print, one per line, what a bash completion script offers for a command line:
#   bash_complete.sh SCRIPT LINE WORD...
# SCRIPT is sourced after bash-completion's bash_completion (its helpers: _init_completion,
# _filedir, ...); LINE is the command line up to the cursor and WORD... the words bash makes
# of it (split at blanks and at the characters of COMP_WORDBREAKS, as readline does).
# The function that SCRIPT registers for the command (complete -F) is called as bash would.
set -u
script=$1 line=$2
shift 2
# shellcheck source=/dev/null
source /usr/share/bash-completion/bash_completion || exit 2
# shellcheck source=/dev/null
source "$script" || exit 2
# compopt works only inside a completion bash runs itself: record what is asked instead.
compopt() { printf 'compopt %s\n' "$*" >&2; }
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE=$line
COMP_POINT=${#line}
COMP_TYPE=9 # TAB
COMP_KEY=9
spec=$(complete -p -- "${COMP_WORDS[0]##*/}") || exit 3
func=$(sed -n 's/.* -F \([^ ]*\) .*/\1/p' <<<"$spec")
[[ -n $func ]] || exit 3
COMPREPLY=()
"$func" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
((${#COMPREPLY[@]})) && printf '%s\n' "${COMPREPLY[@]}"
exit 0
