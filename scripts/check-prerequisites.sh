#!/usr/bin/env bash
# Runs before `npm test`. The suites start their own servers: redis-server processes (the Cluster
# fixture joins nodes with redis-cli, the TLS fixture makes a throwaway CA with openssl), Debian's
# Chromium, nginx and caddy in front of the gateway (forward auth), and two independent OpenID
# Providers for test/interop: Glewlwyd (set up by scripts/interop/glewlwyd.sh with sqlite3 and
# curl) and a LemonLDAP::NG portal under plackup, which loads Perl modules its package only
# recommends (captcha, OIDC keys, mail). Installs what is missing when it can (root on
# Debian/Ubuntu), otherwise stops at once with one line naming the packages.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v caddy >/dev/null 2>&1 || missing+=(caddy)
command -v glewlwyd >/dev/null 2>&1 || missing+=(glewlwyd)
command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)
command -v curl >/dev/null 2>&1 || missing+=(curl)
[ -f /usr/share/lemonldap-ng/portal/htdocs/index.psgi ] || missing+=(liblemonldap-ng-portal-perl)
command -v plackup >/dev/null 2>&1 || missing+=(libplack-perl)
perl -MString::Random -e1 2>/dev/null || missing+=(libstring-random-perl)
perl -MGD::SecurityImage -e1 2>/dev/null || missing+=(libgd-securityimage-perl)
perl -MImage::Magick -e1 2>/dev/null || missing+=(libimage-magick-perl)
perl -MCrypt::OpenSSL::Bignum -e1 2>/dev/null || missing+=(libcrypt-openssl-bignum-perl)
perl -MMIME::Body -e1 2>/dev/null || missing+=(libmime-tools-perl)
perl -MEmail::Sender::Simple -e1 2>/dev/null || missing+=(libemail-sender-perl)
perl -MIO::String -e1 2>/dev/null || missing+=(libio-string-perl)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "npm test: installing ${missing[*]} with apt-get" >&2
  # Several of these packages start a system service (nginx and caddy on :80, Glewlwyd on 4593, the
  # portal's FastCGI server); the suites run private ones on loopback, so none is started.
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
