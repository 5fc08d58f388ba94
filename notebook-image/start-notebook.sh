#!/usr/bin/env bash
# The notebook container's command: preload a git repository, start Jupyter with the token
# ECS injected, and after an idle shutdown (only then) scale the notebook's ECS service to 0.
#
# Environment (set by the notebook stack):
#   JUPYTER_TOKEN            required; from Secrets Manager. Jupyter Server reads it itself,
#                            so it never appears on a command line.
#   NOTEBOOK_IDLE_MINUTES    > 0: stop the server once nothing was in use for that many
#                            minutes (notebook_idle.py says what counts; decimals allowed);
#                            0 or unset: never.
#   NOTEBOOK_ECS_CLUSTER     cluster and service to scale to 0 after an idle stop.
#   NOTEBOOK_ECS_SERVICE
#   NOTEBOOK_GIT_REPOSITORY  https URL cloned into the work directory before the server starts.
#   NOTEBOOK_GIT_TOKEN       token for a private repository (secret-injected); given to git
#                            through GIT_ASKPASS, never in a URL, a log or an argument.
#   NOTEBOOK_GIT_TIMEOUT_SECONDS
#                            > 0, default 90: the clone is abandoned after that long and the
#                            server starts without the repository. The default leaves Jupyter
#                            time to answer the load balancer within the service's 120-second
#                            health check grace period; raise both together. Besides, git
#                            itself gives up on a transfer slower than 1000 bytes/s for 30 s
#                            (http.lowSpeedLimit and http.lowSpeedTime below; the variables
#                            GIT_HTTP_LOW_SPEED_LIMIT and GIT_HTTP_LOW_SPEED_TIME override them).
#                            A clone is made in a hidden sibling directory
#                            (.notebook-git-clone.*) and renamed into place only once complete;
#                            a start removes what an interrupted one left of those.
#   NOTEBOOK_WORK_DIR        default: ~/work (the Jupyter Docker Stacks' work directory)
#   NOTEBOOK_PORT            default: 8888
#   NOTEBOOK_ALLOW_ROOT      1: let Jupyter run as root (only for running this script outside
#                            the image, e.g. in tests; the image runs as jovyan)
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work_dir="${NOTEBOOK_WORK_DIR:-$HOME/work}"
port="${NOTEBOOK_PORT:-8888}"

log() { printf '[start-notebook] %s\n' "$*" >&2; }

# A stop by ECS (SIGTERM) is forwarded to the server once it runs; before that it ends the
# start at once, stopping the git clone (or removal) under way first: ECS sends SIGKILL after
# its stop timeout, which would leave the clone half-made. Either way it never scales anything.
# Long steps run in the background (see run_job) because bash runs a trap only after the
# foreground command ends, but interrupts `wait`.
stopped_by_signal=0
server_pid=""
job_pid=""    # the background step the start is waiting for
clone_dir=""  # the temporary directory of the clone under way
# shellcheck disable=SC2317  # called by the traps below
on_signal() {
  stopped_by_signal=1
  if [[ -n "$server_pid" ]]; then
    log "received $1: stopping the server"
    kill -s "$1" "$server_pid" 2>/dev/null
  else
    log "received $1 before the server started: exiting"
    if [[ -n "$job_pid" ]]; then
      # For the clone this is `timeout`, which passes the signal on to git and its helpers
      # (its own process group) and kills them 2 s later if they are still there.
      kill -s TERM "$job_pid" 2>/dev/null
      wait "$job_pid" 2>/dev/null
    fi
    if [[ -n "$clone_dir" ]]; then
      rm -rf -- "$clone_dir"
    fi
    exit 0
  fi
}
trap 'on_signal TERM' TERM
trap 'on_signal INT' INT

if [[ -z "${JUPYTER_TOKEN:-}" ]]; then
  log "JUPYTER_TOKEN is empty: refusing to start a server that nobody could reach through the notebook URL"
  exit 64
fi

idle_minutes="${NOTEBOOK_IDLE_MINUTES:-0}"
if ! [[ "$idle_minutes" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  log "NOTEBOOK_IDLE_MINUTES must be a number of minutes (0 disables idle stop), got '$idle_minutes'"
  exit 64
fi

git_timeout="${NOTEBOOK_GIT_TIMEOUT_SECONDS:-90}"
if ! [[ "$git_timeout" =~ ^[0-9]+([.][0-9]+)?$ ]] || [[ "$git_timeout" =~ ^0+([.]0+)?$ ]]; then
  log "NOTEBOOK_GIT_TIMEOUT_SECONDS must be a number of seconds greater than 0, got '$git_timeout'"
  exit 64
fi

mkdir -p "$work_dir"

# --- git preload -------------------------------------------------------------------------
# Temporary clone directories: in the work directory, so that the finished clone is renamed
# into place on the same file system, and hidden, so that Jupyter does not list them.
clone_prefix="$work_dir/.notebook-git-clone."

# Runs "$@" in the background and waits for it, so that a SIGTERM is handled at once (the
# trap stops it); returns its status.
run_job() {
  local status
  "$@" &
  job_pid=$!
  # `wait` also returns when a trapped signal arrives; the trap exits, but be sure anyway.
  while true; do
    wait "$job_pid"
    status=$?
    kill -0 "$job_pid" 2>/dev/null || break
  done
  job_pid=""
  return "$status"
}

# What an interrupted start left (killed before its clone finished): never the user's work,
# only directories this script created under its own prefix.
remove_clone_leftovers() {
  local leftovers=() minutes
  # Only those older than the time limit: a clone still under way is younger. (Two notebooks
  # of one user, in two environments, share the EFS home and may start at the same time.)
  minutes=$((10#${git_timeout%.*} / 60 + 1)) # 10#: "090" is ninety, not bad octal
  mapfile -t leftovers < <(find "$work_dir" -mindepth 1 -maxdepth 1 -name "${clone_prefix##*/}*" -mmin +"$minutes" 2>/dev/null)
  if ((${#leftovers[@]} > 0)); then
    log "removing ${#leftovers[@]} unfinished clone(s) left by an earlier start"
    run_job rm -rf -- "${leftovers[@]}" || log "could not remove all of ${leftovers[*]}"
  fi
}

# Run as a background job: the subshell becomes `timeout` (exec), so that the trap's signal
# reaches it, and only git's error output goes through sed, not the script's own log lines.
# shellcheck disable=SC2317  # run through run_job
clone_within_limit() {
  # The askpass helper gives the token to this host (and port) only, not to a redirect's.
  local host="${1#*://}"
  host="${host#*@}"
  export NOTEBOOK_GIT_HOST="${host%%/*}"
  export GIT_TERMINAL_PROMPT=0 GIT_ASKPASS="$here/git-askpass.sh"
  exec timeout --kill-after=2 "$git_timeout" \
    git -c credential.helper= -c http.lowSpeedLimit=1000 -c http.lowSpeedTime=30 \
    clone --quiet -- "$1" "$2" 2> >(sed -e 's/^/[git] /' >&2)
}

preload_repository() {
  local url="$1" name target status aside
  name="$(basename "${url%/}")"
  name="${name%.git}"
  if [[ -z "$name" || "$name" == "." || "$name" == ".." ]]; then
    log "cannot derive a directory name from NOTEBOOK_GIT_REPOSITORY; not cloning"
    return 1
  fi
  target="$work_dir/$name"
  if [[ -e "$target/.git" ]]; then
    # --git-dir: no search upwards, should this .git not be a repository at all.
    if git --git-dir="$target/.git" rev-parse --verify --quiet 'HEAD^{commit}' >/dev/null 2>&1; then
      log "keeping the existing checkout in $target"
      return 0
    fi
    # No commit checked out: what an older start script left when it was killed mid-clone
    # (it cloned in place). Only a bare .git is that; anything besides it may be user work.
    if [[ "$(ls -A "$target" 2>/dev/null)" != ".git" ]]; then
      log "$target has no valid HEAD but holds other files than .git: keeping it untouched, not cloning"
      return 1
    fi
    log "$target holds only the .git of an unfinished clone: removing it and cloning again"
    # Renamed aside first, so that an interrupted removal is finished by the next start
    # (not by the trap: that could take long).
    if ! { aside="$(mktemp -d "${clone_prefix}XXXXXX")" && mv -T -- "$target" "$aside/$name" &&
      run_job rm -rf -- "$aside"; }; then
      log "could not remove $target; not cloning"
      return 1
    fi
  fi
  if [[ -e "$target" ]] && [[ -n "$(ls -A "$target" 2>/dev/null)" ]]; then
    log "$target exists and is not a git checkout; not cloning over it"
    return 1
  fi
  if ! clone_dir="$(mktemp -d "${clone_prefix}XXXXXX")"; then
    clone_dir=""
    log "cannot create a temporary directory in $work_dir; starting the server without the repository"
    return 1
  fi
  log "cloning $url into $target (giving up after $git_timeout seconds)"
  # The token reaches git only through the askpass helper's environment: not in the URL
  # (so not in .git/config), not in an argument (so not in the process list). `timeout`
  # bounds the whole clone (a server that accepts the connection and never answers would
  # hold it forever); git's low-speed limit ends a stalled transfer sooner.
  run_job clone_within_limit "$url" "$clone_dir/$name"
  status=$?
  if ((status == 0)) && mv -T -- "$clone_dir/$name" "$target"; then
    rm -rf -- "$clone_dir"
    clone_dir=""
    log "cloned into $target"
    return 0
  fi
  # 124: the time limit ended it; 137: it had to be killed after that.
  if ((status == 124 || status == 137)); then
    log "git clone did not finish within $git_timeout seconds; starting the server without the repository"
  elif ((status == 0)); then
    log "could not move the clone into $target; starting the server without the repository"
  else
    log "git clone failed; starting the server without the repository"
  fi
  rm -rf -- "$clone_dir"
  clone_dir=""
  return 1
}

remove_clone_leftovers
if [[ -n "${NOTEBOOK_GIT_REPOSITORY:-}" ]]; then
  preload_repository "$NOTEBOOK_GIT_REPOSITORY" || true
fi
# Not passed on to the server and its kernels (the container's first process still holds
# it in its environment, as ECS injected it there).
unset NOTEBOOK_GIT_TOKEN

# --- the server ----------------------------------------------------------------------------
if command -v jupyter-lab >/dev/null 2>&1; then
  server=(jupyter-lab)
elif command -v jupyter-server >/dev/null 2>&1; then
  server=(jupyter-server)
else
  server=(python3 -m jupyter_server)
fi

idle_marker="$(mktemp -t notebook-idle.XXXXXX)"
rm -f -- "$idle_marker"
export NOTEBOOK_IDLE_MARKER="$idle_marker" NOTEBOOK_IDLE_MINUTES="$idle_minutes"
# This folder is a config directory (jupyter_server_config.py, read besides the image's own
# /etc/jupyter config, which --config would replace) and holds the notebook_idle extension.
export JUPYTER_CONFIG_PATH="$here${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1

extra=()
if [[ "${NOTEBOOK_ALLOW_ROOT:-0}" == 1 ]]; then
  extra+=(--ServerApp.allow_root=True)
fi

log "starting ${server[*]} on port $port (idle stop after $idle_minutes minutes; 0 = never)"
"${server[@]}" \
  --ServerApp.ip=0.0.0.0 \
  --ServerApp.port="$port" \
  --ServerApp.port_retries=0 \
  --ServerApp.open_browser=False \
  --ServerApp.root_dir="$work_dir" \
  "${extra[@]}" &
server_pid=$!

# `wait` returns early when a trapped signal arrives: wait again until the server is gone.
status=0
while true; do
  wait "$server_pid"
  status=$?
  kill -0 "$server_pid" 2>/dev/null || break
done

if [[ "$stopped_by_signal" == 0 && -e "$idle_marker" ]]; then
  rm -f -- "$idle_marker"
  log "the server stopped after being idle: scaling the ECS service to 0 so that it stays stopped"
  if ! python3 "$here/scale_down.py"; then
    log "could not scale the service to 0; ECS will start the notebook again"
    exit 70
  fi
  exit 0
fi
rm -f -- "$idle_marker"
log "the server exited with status $status"
exit "$status"
