#!/usr/bin/env bash
# A throwaway Glewlwyd (Debian package `glewlwyd`) as the gateway's OpenID Provider, in one folder:
# sqlite database, configuration, signing key and a copy of the login web app. Nothing is installed
# as a service and nothing outside the folder is written. Two steps, with glewlwyd started between:
#
#   glewlwyd.sh init <folder> <port>     writes <folder>/glewlwyd.conf and the rest;
#                                        then: glewlwyd --config-file=<folder>/glewlwyd.conf
#   glewlwyd.sh configure <folder>       through the admin REST API (admin/password, the packaged
#                                        default): scopes, the OIDC plugin, the gateway's client, a user
#
# `configure` reads (defaults in brackets):
#   GATEWAY_URL            the gateway's PUBLIC_URL; redirect, post-logout and back-channel URIs hang off it
#   CLIENT_ID [sessiongate]  CLIENT_SECRET [interop-gateway-secret]
#   USER_NAME [alice]      USER_PASSWORD [alice-interop-password]
#   ACCESS_TOKEN_SECONDS [3600]   RESOURCES [https://todos.api.test] (space-separated, RFC 8707)
# The issuer is http://127.0.0.1:<port>/api/oidc.
set -euo pipefail

SHARE=/usr/share/glewlwyd
SCHEMA=/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz

die() {
  echo "glewlwyd.sh: $*" >&2
  exit 1
}

init() {
  local folder=$1 port=$2
  command -v glewlwyd >/dev/null || die "glewlwyd is not installed (apt-get install glewlwyd)"
  mkdir -p "$folder"
  folder=$(cd "$folder" && pwd)
  [ -e "$folder/glewlwyd.db" ] && die "$folder already holds a database"

  zcat "$SCHEMA" | sqlite3 "$folder/glewlwyd.db"
  # The packaged client backend declares `post_logout_redirect_uri` (one string), but the OIDC
  # plugin's end_session endpoint reads `post_logout_redirect_uris`, a list: declare that one too.
  sqlite3 "$folder/glewlwyd.db" "UPDATE g_client_module_instance SET gcmi_parameters =
    json_set(gcmi_parameters, '$.\"data-format\".post_logout_redirect_uris', json('{\"multiple\":true,\"read\":true,\"write\":true}'))
    WHERE gcmi_name = 'database';"

  # The package's web app is symlinks into other packages (Glewlwyd's file server refuses to follow
  # them) and its config.json links to a folder (/etc/glewlwyd/config-2.7.json/): copy it, resolved.
  cp -rL "$SHARE/webapp" "$folder/webapp" 2>/dev/null || true
  rm -rf "$folder/webapp/config.json"
  cp /etc/glewlwyd/config-2.7.json/config.json "$folder/webapp/config.json" 2>/dev/null ||
    cp "$SHARE/webapp/config.json" "$folder/webapp/config.json"
  [ -f "$folder/webapp/login.js" ] || die "no login web app under $SHARE/webapp"

  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$folder/signing-key.pem" 2>/dev/null
  openssl pkey -in "$folder/signing-key.pem" -pubout -out "$folder/signing-key.pub.pem"

  cat >"$folder/glewlwyd.conf" <<EOF
port=$port
bind_address="127.0.0.1"
external_url="http://127.0.0.1:$port"
login_url="login.html"
api_prefix="api"
static_files_path="$folder/webapp/"
allow_origin="*"
log_mode="console"
log_level="${GLEWLWYD_LOG_LEVEL:-INFO}"
cookie_secure=0
session_expiration=3600
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
allow_multiple_user_per_session=true
login_api_enabled=true
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="/usr/lib/glewlwyd/user"
client_module_path="/usr/lib/glewlwyd/client"
user_auth_scheme_module_path="/usr/lib/glewlwyd/scheme"
plugin_module_path="/usr/lib/glewlwyd/plugin"
hash_algorithm="SHA512"
database = { type = "sqlite3"; path = "$folder/glewlwyd.db"; };
static_files_mime_types = (
  { extension = ".html"; mime_type = "text/html"; },
  { extension = ".css"; mime_type = "text/css"; },
  { extension = ".js"; mime_type = "application/javascript"; },
  { extension = ".json"; mime_type = "application/json"; },
  { extension = ".png"; mime_type = "image/png"; },
  { extension = ".svg"; mime_type = "image/svg+xml"; },
  { extension = ".ico"; mime_type = "image/x-icon"; },
  { extension = ".ttf"; mime_type = "font/ttf"; },
  { extension = ".woff"; mime_type = "font/woff"; },
  { extension = ".woff2"; mime_type = "font/woff2"; },
  { extension = ".map"; mime_type = "application/octet-stream"; }
)
EOF
  echo "$folder/glewlwyd.conf"
}

# A JSON string literal of a file's text (PEM keys).
json_file() {
  awk 'BEGIN { printf "\"" } { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); printf "%s\\n", $0 } END { printf "\"" }' "$1"
}

# A JSON array of the space-separated words in $1.
json_words() {
  local out="" word
  for word in $1; do out+="${out:+,}\"$word\""; done
  echo "[$out]"
}

configure() {
  local folder
  folder=$(cd "$1" && pwd)
  local port
  port=$(sed -n 's/^port=//p' "$folder/glewlwyd.conf")
  local base="http://127.0.0.1:$port"
  : "${GATEWAY_URL:?GATEWAY_URL must be the gateway PUBLIC_URL}"
  local client_id=${CLIENT_ID:-sessiongate} client_secret=${CLIENT_SECRET:-interop-gateway-secret}
  local user=${USER_NAME:-alice} password=${USER_PASSWORD:-alice-interop-password}
  local access_seconds=${ACCESS_TOKEN_SECONDS:-3600} resources=${RESOURCES:-https://todos.api.test}
  local jar="$folder/admin.cookies"

  api() { # method path [json]
    local status
    status=$(curl -sS -o "$folder/api-response" -w '%{http_code}' -b "$jar" -c "$jar" -X "$1" \
      -H 'content-type: application/json' ${3:+--data-binary "$3"} "$base/api$2")
    [ "$status" = 200 ] || die "$1 $2 answered $status: $(cat "$folder/api-response")"
  }

  api POST /auth/ '{"username":"admin","password":"password"}'
  local scope
  for scope in profile email offline_access; do
    api POST /scope/ "{\"name\":\"$scope\",\"display_name\":\"$scope\",\"description\":\"OpenID Connect $scope\",\"password_required\":true,\"password_max_age\":0,\"scheme\":{}}"
  done

  local plugin
  plugin=$(
    cat <<EOF
{"module":"oidc","name":"oidc","display_name":"OpenID Connect","parameters":{
  "iss":"$base/api/oidc","jwt-type":"rsa","jwt-key-size":"256",
  "key":$(json_file "$folder/signing-key.pem"),"cert":$(json_file "$folder/signing-key.pub.pem"),
  "access-token-duration":$access_seconds,"refresh-token-duration":3600,"code-duration":60,
  "refresh-token-rolling":true,"refresh-token-one-use":"always","client-refresh-token-one-use-parameter":"refresh-token-one-use",
  "allow-non-oidc":false,"auth-type-code-enabled":true,"auth-type-code-revoke-replayed":true,"auth-type-token-enabled":false,
  "auth-type-id-token-enabled":true,"auth-type-none-enabled":false,"auth-type-password-enabled":false,
  "auth-type-client-enabled":false,"auth-type-device-enabled":false,"auth-type-refresh-enabled":true,
  "scope":[],"additional-parameters":[],"claims":[],"jwks-show":true,"secret-type":"public",
  "address-claim":{"type":"no","mandatory":false},
  "name-claim":"on-demand","name-claim-scope":["profile"],"email-claim":"on-demand","email-claim-scope":["email"],
  "scope-claim":"no","scope-claim-scope":[],"allowed-scope":["openid","profile","email","offline_access"],
  "pkce-allowed":true,"pkce-method-plain-allowed":false,"pkce-required":true,"pkce-required-public-client":true,"pkce-scopes":[],
  "request-parameter-allow":false,"request-maximum-exp":3600,
  "introspection-revocation-allowed":true,"introspection-revocation-auth-scope":[],"introspection-revocation-allow-target-client":true,
  "register-client-allowed":false,
  "session-management-allowed":true,"session-cookie-name":"GLEWLWYD2_OIDC_SID","session-cookie-expiration":3600,
  "front-channel-logout-allowed":false,"back-channel-logout-allowed":true,
  "client-pubkey-parameter":"","client-jwks-parameter":"jwks","client-jwks_uri-parameter":"jwks_uri",
  "encrypt-out-token-allow":false,"oauth-dpop-allowed":false,
  "resource-allowed":true,"resource-scope":{},"resource-client-property":"resource","resource-scope-and-client-property":false,
  "oauth-rar-allowed":false,"oauth-par-allowed":true,"oauth-par-duration":90,"oauth-par-required":false,
  "oauth-par-request_uri-prefix":"urn:ietf:params:oauth:request_uri:","oauth-ciba-allowed":false,
  "device-authorization-expiration":600,"device-authorization-interval":5}}
EOF
  )
  # POST stores the instance even when it refuses the parameters: a 400 here is fatal, never retried.
  api POST /mod/plugin/ "$plugin"

  api POST /client/ "{\"client_id\":\"$client_id\",\"name\":\"Sessiongate\",\"enabled\":true,\"confidential\":true,
    \"client_secret\":\"$client_secret\",\"redirect_uri\":[\"$GATEWAY_URL/bff/callback\"],
    \"authorization_type\":[\"code\",\"refresh_token\"],\"token_endpoint_auth_method\":[\"client_secret_basic\",\"client_secret_post\"],
    \"post_logout_redirect_uris\":[\"$GATEWAY_URL/\"],\"backchannel_logout_uri\":\"$GATEWAY_URL/bff/backchannel-logout\",
    \"backchannel_logout_session_required\":\"true\",\"scope\":[],\"resource\":$(json_words "$resources")}"

  api POST /user/ "{\"username\":\"$user\",\"name\":\"Alice Anderson\",\"email\":\"$user@example.test\",\"password\":\"$password\",
    \"scope\":[\"openid\",\"profile\",\"email\",\"offline_access\"],\"enabled\":true}"
  rm -f "$jar" "$folder/api-response"
  echo "$base/api/oidc"
}

case "${1:-}" in
init)
  [ $# -eq 3 ] || die "usage: glewlwyd.sh init <folder> <port>"
  init "$2" "$3"
  ;;
configure)
  [ $# -eq 2 ] || die "usage: glewlwyd.sh configure <folder>"
  configure "$2"
  ;;
*) die "usage: glewlwyd.sh init <folder> <port> | configure <folder>" ;;
esac
