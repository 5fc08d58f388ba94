#!/bin/sh
# GIT_ASKPASS helper of start-notebook.sh: git runs it with the prompt as its argument and
# reads the answer from its output. The token comes from the environment, never from an
# argument, so it is not visible in the process list.
case "$1" in
  Username*) printf '%s\n' "${NOTEBOOK_GIT_USERNAME:-x-access-token}" ;;
  *) printf '%s\n' "${NOTEBOOK_GIT_TOKEN:-}" ;;
esac
