#!/usr/bin/env bash
# Runs before `npm test`: the suites start their own redis-server processes (the Cluster fixture
# joins nodes with redis-cli, the TLS fixture makes a throwaway CA with openssl) and drive
# Debian's Chromium; test/interop runs private Glewlwyd OpenID Providers, set up by
# scripts/interop/glewlwyd.sh with sqlite3 and curl. Installs what is missing when it can (root on
# Debian/Ubuntu), otherwise stops at once with one line naming the packages.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v glewlwyd >/dev/null 2>&1 || missing+=(glewlwyd)
command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)
command -v curl >/dev/null 2>&1 || missing+=(curl)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "npm test: installing ${missing[*]} with apt-get" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The package starts a system-wide Glewlwyd on port 4593; the suite runs private ones instead.
  if [[ " ${missing[*]} " == *" glewlwyd "* ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now glewlwyd >/dev/null 2>&1 || true
  fi
  exit 0
fi

echo "npm test needs these packages first: ${missing[*]} (Debian/Ubuntu: sudo apt-get install ${missing[*]})" >&2
exit 1
