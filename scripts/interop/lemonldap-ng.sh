#!/usr/bin/env bash
# A throwaway LemonLDAP::NG portal (Debian package `liblemonldap-ng-portal-perl`) as the gateway's
# OpenID Provider, in one folder: its File configuration backend, session stores, caches and a
# signing key. No web server and no service: plackup serves the portal's PSGI app.
#
#   lemonldap-ng.sh init <folder> <port>
#   LLNG_DEFAULTCONFFILE=<folder>/lemonldap-ng.ini plackup -s HTTP::Server::PSGI \
#     --host 127.0.0.1 --port <port> <folder>/portal.psgi
#
# `init` reads (defaults in brackets):
#   GATEWAY_URL            the gateway's PUBLIC_URL; redirect and post-logout URIs hang off it
#   CLIENT_ID [sessiongate]  CLIENT_SECRET [interop-gateway-secret]  ACCESS_TOKEN_SECONDS [3600]
# The issuer is http://127.0.0.1:<port>. Users come from the Demo backend (dwho, rtyler, msmith;
# each one's password is its login).
set -euo pipefail

PACKAGED_CONF=/var/lib/lemonldap-ng/conf/lmConf-1.json
PACKAGED_INI=/etc/lemonldap-ng/lemonldap-ng.ini
STATIC=/usr/share/lemonldap-ng/portal/htdocs/static

die() {
  echo "lemonldap-ng.sh: $*" >&2
  exit 1
}

[ "${1:-}" = init ] && [ $# -eq 3 ] || die "usage: lemonldap-ng.sh init <folder> <port>"
folder=$2
port=$3
: "${GATEWAY_URL:?GATEWAY_URL must be the gateway PUBLIC_URL}"
[ -f "$PACKAGED_CONF" ] && [ -f "$PACKAGED_INI" ] || die "LemonLDAP::NG is not installed (apt-get install lemonldap-ng)"
mkdir -p "$folder"
folder=$(cd "$folder" && pwd)
[ -e "$folder/conf" ] && die "$folder already holds a configuration"
mkdir -p "$folder"/{conf,cache,sessions/lock,psessions/lock,notifications}

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$folder/signing-key.pem" 2>/dev/null
openssl pkey -in "$folder/signing-key.pem" -pubout -out "$folder/signing-key.pub.pem"

# The packaged demonstration configuration, pointed at this folder, with the OpenID Connect issuer
# on and the gateway as its one relying party.
FOLDER=$folder PORT=$port CLIENT_ID=${CLIENT_ID:-sessiongate} CLIENT_SECRET=${CLIENT_SECRET:-interop-gateway-secret} \
  ACCESS_TOKEN_SECONDS=${ACCESS_TOKEN_SECONDS:-3600} perl -MJSON::PP -e '
  my ($in, $out) = @ARGV;
  local $/;
  open my $fh, "<", $in or die "$in: $!"; my $conf = decode_json(<$fh>); close $fh;
  my $slurp = sub { open my $f, "<", $_[0] or die "$_[0]: $!"; my $text = <$f>; close $f; $text };
  my ($folder, $gateway) = @ENV{qw(FOLDER GATEWAY_URL)};
  $conf->{portal} = "http://127.0.0.1:$ENV{PORT}/";
  $conf->{domain} = "127.0.0.1";
  $conf->{globalStorageOptions}{Directory} = "$folder/sessions";
  $conf->{globalStorageOptions}{LockDirectory} = "$folder/sessions/lock";
  $conf->{persistentStorageOptions} = { Directory => "$folder/psessions", LockDirectory => "$folder/psessions/lock" };
  $conf->{localSessionStorageOptions}{cache_root} = "$folder/cache";
  $conf->{notificationStorageOptions} = { dirName => "$folder/notifications" };
  $conf->{issuerDBOpenIDConnectActivation} = 1;
  $conf->{oidcServiceMetaDataIssuer} = "http://127.0.0.1:$ENV{PORT}";
  $conf->{oidcServicePrivateKeySig} = $slurp->("$folder/signing-key.pem");
  $conf->{oidcServicePublicKeySig} = $slurp->("$folder/signing-key.pub.pem");
  $conf->{oidcServiceKeyIdSig} = "interop-1";
  $conf->{oidcRPMetaDataExportedVars} = { gateway => { name => "cn", email => "mail", preferred_username => "uid" } };
  $conf->{oidcRPMetaDataOptions} = { gateway => {
    oidcRPMetaDataOptionsClientID => $ENV{CLIENT_ID},
    oidcRPMetaDataOptionsClientSecret => $ENV{CLIENT_SECRET},
    oidcRPMetaDataOptionsPublic => 0,
    oidcRPMetaDataOptionsRedirectUris => "$gateway/bff/callback",
    oidcRPMetaDataOptionsPostLogoutRedirectUris => "$gateway/",
    oidcRPMetaDataOptionsRequirePKCE => 1,
    oidcRPMetaDataOptionsIDTokenSignAlg => "RS256",
    oidcRPMetaDataOptionsAccessTokenJWT => 1,
    oidcRPMetaDataOptionsAccessTokenSignAlg => "RS256",
    oidcRPMetaDataOptionsAccessTokenExpiration => 0 + $ENV{ACCESS_TOKEN_SECONDS},
    oidcRPMetaDataOptionsAllowOffline => 1,
    oidcRPMetaDataOptionsRefreshToken => 1,
    oidcRPMetaDataOptionsBypassConsent => 1,
    # No oidcRPMetaDataOptionsIDTokenForceClaims: scope claims (name, email) go to userinfo only, as
    # by default, and the gateway fetches them there (OIDC_FETCH_USERINFO=true).
    # Asked for, but 2.16 sends no back-channel logout (its Issuer::OpenIDConnect logout is a TODO).
    oidcRPMetaDataOptionsLogoutUrl => "$gateway/bff/backchannel-logout",
    oidcRPMetaDataOptionsLogoutType => "back",
    oidcRPMetaDataOptionsLogoutSessionRequired => 1,
  } };
  open $fh, ">", $out or die "$out: $!"; print $fh JSON::PP->new->pretty->canonical->encode($conf); close $fh;
' "$PACKAGED_CONF" "$folder/conf/lmConf-1.json"

sed -e "s#/var/lib/lemonldap-ng/conf#$folder/conf#g" -e "s#/var/lib/lemonldap-ng/cache#$folder/cache#g" \
  -e "s#^logLevel .*#logLevel = ${LLNG_LOG_LEVEL:-notice}#" "$PACKAGED_INI" >"$folder/lemonldap-ng.ini"

# The portal's static files are served by nginx or Apache in a packaged setup; here the PSGI app does it.
cat >"$folder/portal.psgi" <<EOF
use Plack::Builder;
use Plack::App::File;
use Lemonldap::NG::Portal::Main;
my \$portal = Lemonldap::NG::Portal::Main->run({});
builder {
  mount '/static' => Plack::App::File->new(root => '$STATIC')->to_app;
  mount '/' => \$portal;
};
EOF
echo "$folder/lemonldap-ng.ini"
