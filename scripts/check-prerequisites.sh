#!/usr/bin/env bash
# Runs before `npm test`: the suites start their own redis-server processes (the Cluster fixture
# joins nodes with redis-cli, the TLS fixture makes a throwaway CA with openssl), drive Debian's
# Chromium, and run nginx and caddy in front of the gateway (the forward-auth fixtures). Installs
# what is missing when it can (root on Debian/Ubuntu), otherwise stops at once with one line naming
# the packages.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v caddy >/dev/null 2>&1 || missing+=(caddy)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "npm test: installing ${missing[*]} with apt-get" >&2
  # The nginx and caddy packages start a system service on :80; the tests run their own, on loopback.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

echo "npm test needs these packages first: ${missing[*]} (Debian/Ubuntu: sudo apt-get install ${missing[*]})" >&2
exit 1
