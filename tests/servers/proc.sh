# shellcheck shell=bash
# proc.sh - process helpers shared by tests/servers/dovecot.sh and postfix.sh (sourced).
# The caller defines log() for messages.

# Is PID alive (and not a zombie)?
alive() { kill -0 "$1" 2>/dev/null && [[ "$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null)" != Z ]]; }

wait_gone() { # wait_gone SECONDS PID...
  local limit=$1 i p left
  shift
  for ((i = 0; i < limit * 10; i++)); do
    left=0
    for p in "$@"; do alive "$p" && left=1; done
    ((left)) || return 0
    sleep 0.1
  done
  return 1
}

# children_of PID [COMM_REGEX]: the child processes of PID (whose name matches the grep
# regex, when given).
children_of() {
  local pid=$1 re=${2:-} c
  # shellcheck disable=SC2013 # the file holds one line of pids separated by spaces
  for c in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
    if [[ -z $re ]] || { [[ -r /proc/$c/comm ]] && grep -q "$re" /proc/"$c"/comm 2>/dev/null; }; then
      echo "$c"
    fi
  done
}

# stop_tree PID SECONDS [COMM_REGEX]: SIGTERM to the master PID and wait for it (SIGKILL
# after SECONDS); then make sure its children (as they were before the signal) are gone.
stop_tree() {
  local pid=$1 limit=$2 re=${3:-} kids=() p
  mapfile -t kids < <(children_of "$pid" "$re")
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_gone "$limit" "$pid"; then
    log "master $pid did not stop in ${limit}s, killing it"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone 5 "$pid" || log "master $pid still alive"
  fi
  # the master normally takes its children with it; make sure of it
  if ((${#kids[@]})); then
    if ! wait_gone 5 "${kids[@]}"; then
      for p in "${kids[@]}"; do
        if alive "$p"; then kill -KILL "$p" 2>/dev/null || true; fi
      done
      wait_gone 5 "${kids[@]}" || log "some children are still alive: ${kids[*]}"
    fi
  fi
}

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
