#!/bin/sh
# GIT_ASKPASS helper of start-notebook.sh: git runs it with the prompt as its argument and
# reads the answer from its output. The token comes from the environment, never from an
# argument, so it is not visible in the process list.
#
# It answers only for the repository's own host (NOTEBOOK_GIT_HOST, host[:port] of
# NOTEBOOK_GIT_REPOSITORY): git follows a redirect of its first request to another host and
# asks for credentials there too, which would hand the token to whoever the repository's
# server redirects to. The prompts read "Username for 'https://HOST': " and
# "Password for 'https://USER@HOST': ".
url="$(printf '%s' "$1" | sed -n "s/^[A-Za-z]* for '\([^']*\)'.*$/\1/p")"
host="${url#*://}"
host="${host#*@}"
host="${host%%/*}"
if [ -z "${NOTEBOOK_GIT_HOST:-}" ] || [ "$host" != "$NOTEBOOK_GIT_HOST" ]; then
  printf '\n'
  exit 0
fi
case "$1" in
  Username*) printf '%s\n' "${NOTEBOOK_GIT_USERNAME:-x-access-token}" ;;
  *) printf '%s\n' "${NOTEBOOK_GIT_TOKEN:-}" ;;
esac
