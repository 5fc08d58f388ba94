#!/usr/bin/env bash
# The notebook container's command: preload a git repository, start Jupyter with the token
# ECS injected, and after an idle shutdown (only then) scale the notebook's ECS service to 0.
#
# Environment (set by the notebook stack):
#   JUPYTER_TOKEN            required; from Secrets Manager. Jupyter Server reads it itself,
#                            so it never appears on a command line.
#   NOTEBOOK_IDLE_MINUTES    > 0: cull idle kernels and terminals and stop the server after
#                            that many idle minutes (decimals allowed); 0 or unset: never.
#   NOTEBOOK_ECS_CLUSTER     cluster and service to scale to 0 after an idle stop.
#   NOTEBOOK_ECS_SERVICE
#   NOTEBOOK_GIT_REPOSITORY  https URL cloned into the work directory before the server starts.
#   NOTEBOOK_GIT_TOKEN       token for a private repository (secret-injected); given to git
#                            through GIT_ASKPASS, never in a URL, a log or an argument.
#   NOTEBOOK_WORK_DIR        default: ~/work (the Jupyter Docker Stacks' work directory)
#   NOTEBOOK_PORT            default: 8888
#   NOTEBOOK_ALLOW_ROOT      1: let Jupyter run as root (only for running this script outside
#                            the image, e.g. in tests; the image runs as jovyan)
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work_dir="${NOTEBOOK_WORK_DIR:-$HOME/work}"
port="${NOTEBOOK_PORT:-8888}"

log() { printf '[start-notebook] %s\n' "$*" >&2; }

# A stop by ECS (SIGTERM) is forwarded to the server once it runs; before that (during the
# git clone, say) it just ends the start. Either way it never scales anything down.
stopped_by_signal=0
server_pid=""
# shellcheck disable=SC2317  # called by the traps below
on_signal() {
  stopped_by_signal=1
  if [[ -n "$server_pid" ]]; then
    log "received $1: stopping the server"
    kill -s "$1" "$server_pid" 2>/dev/null
  else
    log "received $1 before the server started: exiting"
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

mkdir -p "$work_dir"

# --- git preload -------------------------------------------------------------------------
preload_repository() {
  local url="$1" name target
  name="$(basename "${url%/}")"
  name="${name%.git}"
  if [[ -z "$name" || "$name" == "." || "$name" == ".." ]]; then
    log "cannot derive a directory name from NOTEBOOK_GIT_REPOSITORY; not cloning"
    return 1
  fi
  target="$work_dir/$name"
  if [[ -e "$target/.git" ]]; then
    log "keeping the existing checkout in $target"
    return 0
  fi
  if [[ -e "$target" ]] && [[ -n "$(ls -A "$target" 2>/dev/null)" ]]; then
    log "$target exists and is not a git checkout; not cloning over it"
    return 1
  fi
  log "cloning $url into $target"
  # The token reaches git only through the askpass helper's environment: not in the URL
  # (so not in .git/config), not in an argument (so not in the process list).
  if GIT_TERMINAL_PROMPT=0 GIT_ASKPASS="$here/git-askpass.sh" \
    git -c credential.helper= clone --quiet -- "$url" "$target" 2> >(sed -e 's/^/[git] /' >&2); then
    log "cloned into $target"
  else
    log "git clone failed; starting the server without the repository"
    rm -rf -- "$target"
    return 1
  fi
}

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
