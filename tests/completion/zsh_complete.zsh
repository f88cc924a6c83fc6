#!/usr/bin/env zsh
# Print, one per line, what zsh's completion system offers for a command line, using the
# completion functions in FPATH_DIR (after the system's):
#   zsh -f zsh_complete.zsh FPATH_DIR DUMP_FILE 'mailscope --format '
# DUMP_FILE is compinit's cache (made by the first call: compinit takes seconds without it).
# An interactive zsh runs in a pseudo-terminal (zsh/zpty); compadd is wrapped to print each
# match (after zsh's own matching, `compadd -A`) between two marker lines; the shell exits
# right after the completion. Same technique as zsh-capture-completion.
zmodload zsh/zpty || exit 2
zpty z zsh -f -i
zpty -w z "PROMPT=''; RPROMPT=''; fpath=(${(q)1} \$fpath); autoload -Uz compinit; compinit -u -d ${(q)2}"
zpty -w z "bindkey '^I' complete-word"
zpty -w z "zstyle ':completion:*' list-grouped false; zstyle ':completion:*' insert-tab false"
zpty -w z "__ms_mark() { print -r -- '<<<MA''RK>>>' }; compprefuncs=(__ms_mark); comppostfuncs=(__ms_mark exit)"
zpty -w z 'compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi
  typeset -a __hits; builtin compadd -A __hits "$@"; local __ret=$?
  local __h; for __h in $__hits; do print -r -- "<<<HI""T>>>$__h"; done
  builtin compadd "$@"; return __ret
}'
zpty -w -n z "$3"$'\t'
integer marks=0
local out line
while zpty -r z line; do
  out+=$line
  [[ $line == *'<<<MARK>>>'* ]] && (( ++marks >= 2 )) && break
done
zpty -d z
local -a hits=(${(M)${(f)out//$'\r'/}:#<<<HIT>>>*})
print -rl -- ${hits#<<<HIT>>>}
