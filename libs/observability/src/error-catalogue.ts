/**
 * Every error code the gateway answers with. Each capability raises its own share of them through
 * its exception class (`SessionError`, `ProxyError` …); this is the only place a code is spelled.
 */
export enum ErrorCode {
  BadRequest = 'bad_request',
  HeadersTooLarge = 'headers_too_large',
  NotFound = 'not_found',
  MethodNotAllowed = 'method_not_allowed',
  PayloadTooLarge = 'payload_too_large',
  UnsupportedMediaType = 'unsupported_media_type',
  TooManyRequests = 'too_many_requests',
  InvalidRequest = 'invalid_request',
  InternalError = 'internal_error',
  Csrf = 'csrf',
  Unauthenticated = 'unauthenticated',
  SessionStoreUnavailable = 'session_store_unavailable',
  SessionCorrupt = 'session_corrupt',
  InvalidCursor = 'invalid_cursor',
  SessionNotFound = 'session_not_found',
  SessionExpired = 'session_expired',
  RefreshTimeout = 'refresh_timeout',
  LoginExpired = 'login_expired',
  InvalidState = 'invalid_state',
  IdpError = 'idp_error',
  TokenExchangeFailed = 'token_exchange_failed',
  InvalidIdToken = 'invalid_id_token',
  RefreshRejected = 'refresh_rejected',
  IdpUnavailable = 'idp_unavailable',
  DpopNotBound = 'dpop_not_bound',
  ExchangeRefused = 'exchange_refused',
  ResourceRefused = 'resource_refused',
  InvalidLogoutRequest = 'invalid_logout_request',
  InvalidLogoutToken = 'invalid_logout_token',
  RateLimited = 'rate_limited',
  InvalidToken = 'invalid_token',
  InsufficientScope = 'insufficient_scope',
  Forbidden = 'forbidden',
  AmbiguousCredentials = 'ambiguous_credentials',
  NoRoute = 'no_route',
  BadPath = 'bad_path',
  BadBody = 'bad_body',
  UpstreamUnavailable = 'upstream_unavailable',
  UpstreamTimeout = 'upstream_timeout',
  UpgradeNotAllowed = 'upgrade_not_allowed',
  ShuttingDown = 'shutting_down',
  NotAdmin = 'not_admin',
  ConnectionRequired = 'connection_required',
  ConnectionNotFound = 'connection_not_found',
  ConnectExpired = 'connect_expired',
  ConnectInvalidState = 'connect_invalid_state',
  ConnectRefused = 'connect_refused',
  ConnectionUnavailable = 'connection_unavailable',
  UntrustedProxy = 'untrusted_proxy',
  BadOriginalRequest = 'bad_original_request',
  StepUpRequired = 'step_up_required',
  StepUpSubjectMismatch = 'step_up_subject_mismatch',
  InsufficientUserAuthentication = 'insufficient_user_authentication',
}

export interface ErrorDefinition {
  readonly status: number;
  /** What the client is told. Never a token, cookie, code, state, secret, upstream body or the failure's text. */
  readonly message: string;
  /** Other client-safe wordings of the same refusal, chosen by name where it is raised. */
  readonly variants?: Readonly<Record<string, string>>;
  /** The message is the validation's own, naming what is wrong (`message` is its fallback). */
  readonly explained?: true;
  /** The answer may carry Retry-After: waiting, not changing the request, can make it succeed. */
  readonly retryAfter: boolean;
  /** One line for docs/ERRORS.md. */
  readonly description: string;
  /** Client-safe fields the body carries besides `error`, `message` and `requestId`, each with what it holds. */
  readonly bodyFields?: Readonly<Record<string, string>>;
}

/** The framework's own refusal of a request, whatever its status (see GatewayExceptionFilter). */
const NOT_ACCEPTED = 'The request was not accepted.';

/** Code, HTTP status, client message and meaning of every error; docs/ERRORS.md is generated from it. */
export const ERROR_CATALOGUE = {
  [ErrorCode.BadRequest]: {
    status: 400,
    message: 'The request is malformed.',
    variants: { notAccepted: NOT_ACCEPTED },
    retryAfter: false,
    description:
      "Refused before any route ran: Node's HTTP parser or Fastify found the request malformed (a bad URL or header, an unparsable body). Another 4xx the framework raises keeps its status under this code.",
  },
  [ErrorCode.HeadersTooLarge]: {
    status: 431,
    message: 'The request headers are too large.',
    retryAfter: false,
    description: "The request's headers exceed Node's limit; the connection is closed.",
  },
  [ErrorCode.NotFound]: {
    status: 404,
    message: NOT_ACCEPTED,
    retryAfter: false,
    description: 'No endpoint of the gateway at this path (under /api, see `no_route`).',
  },
  [ErrorCode.MethodNotAllowed]: {
    status: 405,
    message: NOT_ACCEPTED,
    variants: { route: 'This API does not take this method.' },
    retryAfter: false,
    description:
      "The endpoint exists but not with this method; on /api, a method the route's `methods` leave out (the `Allow` header lists the others).",
  },
  [ErrorCode.PayloadTooLarge]: {
    status: 413,
    message: 'The request body is larger than this API accepts.',
    variants: { notAccepted: NOT_ACCEPTED },
    retryAfter: false,
    description: "The request body is larger than the API route's `maxBodyBytes`, or than the gateway's own endpoints accept.",
  },
  [ErrorCode.UnsupportedMediaType]: {
    status: 415,
    message: NOT_ACCEPTED,
    retryAfter: false,
    description: "A body whose Content-Type the gateway's own endpoint does not take.",
  },
  [ErrorCode.TooManyRequests]: {
    status: 429,
    message: NOT_ACCEPTED,
    retryAfter: false,
    description: 'A 429 raised by the framework (the login rate limit answers `rate_limited`).',
  },
  [ErrorCode.InvalidRequest]: {
    status: 400,
    message: 'The request is not valid.',
    explained: true,
    retryAfter: false,
    description:
      'A malformed query parameter of a listing (`limit`, `cursor`, `sub`) or of `/bff/login` (`prompt`, `acr_values`, `max_age`, `login_hint`, `ui_locales`); the message names it.',
  },
  [ErrorCode.InternalError]: {
    status: 500,
    message: 'The gateway could not handle this request.',
    retryAfter: false,
    description: 'Anything unexpected: the log has the cause (under the same request id), the client nothing more.',
  },
  [ErrorCode.Csrf]: {
    status: 403,
    message: 'Missing X-CSRF: 1 header.',
    variants: {
      crossOrigin: 'Cross-origin requests are not accepted.',
      crossOriginWebSocket: 'Cross-origin WebSocket connections are not accepted.',
    },
    retryAfter: false,
    description:
      'A /bff or /api call that uses the session without `X-CSRF: 1`, or one from an origin other than PUBLIC_URL and CORS_ALLOWED_ORIGINS (a WebSocket handshake: also one without Origin).',
  },
  [ErrorCode.Unauthenticated]: {
    status: 401,
    message: 'Log in first.',
    retryAfter: false,
    description: 'No valid session cookie: never logged in, logged out, or the session expired.',
  },
  [ErrorCode.SessionStoreUnavailable]: {
    status: 503,
    message: 'Sessions are temporarily unavailable. Try again shortly.',
    retryAfter: true,
    description: 'Redis could not be reached or did not answer in time.',
  },
  [ErrorCode.SessionCorrupt]: {
    status: 500,
    message: 'The session could not be read.',
    retryAfter: false,
    description: 'A stored session failed to decrypt (tampered, copied under another key, or a key the gateway no longer has).',
  },
  [ErrorCode.InvalidCursor]: {
    status: 400,
    message: 'The cursor is not valid. Start from the first page.',
    retryAfter: false,
    description: "A listing's `cursor` is not one the gateway handed out.",
  },
  [ErrorCode.SessionNotFound]: {
    status: 404,
    message: 'No such session.',
    retryAfter: false,
    description: "No session with this id (a user asking for another user's session gets this too).",
  },
  [ErrorCode.SessionExpired]: {
    status: 401,
    message: 'Your session has ended. Log in again.',
    retryAfter: false,
    description:
      'An access token was due and the refresh token was refused (expired, revoked, reused) or missing: the session is gone, log in again.',
  },
  [ErrorCode.RefreshTimeout]: {
    status: 503,
    message: 'Your tokens are being refreshed. Try again shortly.',
    retryAfter: true,
    description: "Another request or instance is refreshing this session's tokens and did not finish in time.",
  },
  [ErrorCode.LoginExpired]: {
    status: 400,
    message: 'This login has expired or was already used. Start again.',
    retryAfter: false,
    description: 'The callback found no pending login for this browser: never started, expired, or already used.',
  },
  [ErrorCode.InvalidState]: {
    status: 400,
    message: 'The login response does not belong to this browser. Start again.',
    variants: { otherIssuer: 'The login response did not come from the expected provider.' },
    retryAfter: false,
    description: 'The `state` (or, RFC 9207, the `iss`) returned to the callback does not match the pending login.',
  },
  [ErrorCode.IdpError]: {
    status: 400,
    message: 'The identity provider did not complete the login.',
    retryAfter: false,
    description: 'The provider answered the authorization request with `error=`.',
  },
  [ErrorCode.TokenExchangeFailed]: {
    status: 400,
    message: 'The login could not be completed. Try again.',
    retryAfter: false,
    description: 'The provider refused to exchange the authorization code.',
  },
  [ErrorCode.InvalidIdToken]: {
    status: 400,
    message: 'The identity provider sent an invalid ID token.',
    variants: {
      tokenResponse: 'The identity provider sent an invalid token response.',
      missing: 'The identity provider sent no ID token.',
      userinfoSubject: 'The identity provider sent user information about another user.',
      acr: 'The identity provider did not authenticate you as strongly as asked.',
    },
    retryAfter: false,
    description:
      'The ID token, or the token response around it, failed validation; with OIDC_FETCH_USERINFO, also a userinfo response that is not JSON claims or names another `sub` than the ID token (OIDC Core §5.3.4); and an ID token whose `acr` is not one of the `acr_values` the login asked for, or whose `auth_time` is older than its `max_age` (docs/STEP-UP.md).',
  },
  [ErrorCode.RefreshRejected]: {
    status: 401,
    message: 'Your session has ended. Log in again.',
    retryAfter: false,
    description:
      "The provider refused a refresh token (`invalid_grant`), or the refreshed ID token names another user: the session is ended and the request answered `session_expired` (this code is the token metrics' outcome).",
  },
  [ErrorCode.IdpUnavailable]: {
    status: 503,
    message: 'The identity provider is not reachable. Try again shortly.',
    retryAfter: true,
    description:
      'The provider is not discovered yet, could not be reached, timed out or answered 5xx (at login, refresh, client credentials, or fetching its keys); the session is kept.',
  },
  [ErrorCode.DpopNotBound]: {
    status: 502,
    message: 'The identity provider issued a token the gateway may not use.',
    retryAfter: false,
    description:
      'OIDC_DPOP=true (or a `"dpop": true` route) and the provider answered a DPoP-proven token request with a Bearer token: it ignores DPoP. The log says so; set OIDC_DPOP=optional to accept Bearer tokens.',
  },
  [ErrorCode.ExchangeRefused]: {
    status: 403,
    message: 'The identity provider refused a token for this API.',
    retryAfter: false,
    description:
      'A `"token": "exchange"` route: the provider refused to exchange the user\'s token for one meant for this API (RFC 8693, e.g. `invalid_grant`, `invalid_target`). The session is kept.',
  },
  [ErrorCode.ResourceRefused]: {
    status: 403,
    message: 'The identity provider will not issue a token for this API.',
    retryAfter: false,
    description:
      "The provider answered `invalid_target` (RFC 8707): it will not issue this client a token for the route's `resource` (on a refresh or client-credentials grant), or for OIDC_AUTHORIZATION_RESOURCES (at login). A configuration error at the provider or the gateway, not an outage: the session is kept, and retrying will not help.",
  },
  [ErrorCode.InvalidLogoutRequest]: {
    status: 400,
    message: 'Log out through the logoutUrl given by /bff/user.',
    retryAfter: false,
    description: "/bff/logout without the session's own `sid`: a cross-site link cannot log anyone out.",
  },
  [ErrorCode.InvalidLogoutToken]: {
    status: 400,
    message: 'The logout token is not valid.',
    variants: { notFormEncoded: 'Send one logout_token, form-encoded.' },
    retryAfter: false,
    description: 'A back-channel logout without exactly one valid, unused logout token.',
  },
  [ErrorCode.RateLimited]: {
    status: 429,
    message: 'Too many requests from this address. Try again later.',
    retryAfter: true,
    description: 'Too many logins or callbacks from one client address in RATE_LIMIT_WINDOW.',
  },
  [ErrorCode.InvalidToken]: {
    status: 401,
    message: 'A valid admin bearer token is required.',
    variants: { bearer: 'A valid bearer token is required.' },
    retryAfter: false,
    description:
      'An /admin call without a bearer token, or with one that failed verification (signature, algorithm, issuer, audience, expiry); on a `bearer` API route, a bearer token that failed verification.',
  },
  [ErrorCode.InsufficientScope]: {
    status: 403,
    message: 'The token lacks the scope or role this API requires.',
    retryAfter: false,
    description: "A valid admin token without ADMIN_REQUIRED_SCOPE; a valid bearer token without the API route's `bearer.scopes`.",
  },
  [ErrorCode.Forbidden]: {
    status: 403,
    message: 'You may not call this API.',
    retryAfter: false,
    description:
      "A condition of the API route's `require` (or ROUTES_DEFAULT_REQUIRE) does not hold on the caller's claims, or the route's token lacks its `scope`; which one is logged, not sent.",
  },
  [ErrorCode.AmbiguousCredentials]: {
    status: 400,
    message: 'Send either the session cookie or a bearer token, not both.',
    retryAfter: false,
    description: 'A request to a `bearer` API route carrying both the session cookie and `Authorization: Bearer`.',
  },
  [ErrorCode.NoRoute]: {
    status: 404,
    message: 'No API is configured at this path.',
    retryAfter: false,
    description: 'No API route has a prefix the path starts with (on a segment boundary).',
  },
  [ErrorCode.BadPath]: {
    status: 400,
    message: 'The request path is not accepted.',
    retryAfter: false,
    description: "The path could leave the route's base path upstream (dot segments, encoded separators, control characters).",
  },
  [ErrorCode.BadBody]: {
    status: 400,
    message: 'The request body does not match its Content-Length.',
    retryAfter: false,
    description: 'A request body held for a possible retry did not have the length its Content-Length declared.',
  },
  [ErrorCode.UpstreamUnavailable]: {
    status: 502,
    message: 'The API could not be reached.',
    retryAfter: false,
    description: 'The API could not be reached, refused or dropped the connection, or did not connect in time.',
  },
  [ErrorCode.UpstreamTimeout]: {
    status: 504,
    message: 'The API did not answer in time.',
    retryAfter: false,
    description: "The API did not send its response headers (or a WebSocket handshake's answer) in time.",
  },
  [ErrorCode.UpgradeNotAllowed]: {
    status: 400,
    message: 'This API does not accept WebSocket connections.',
    retryAfter: false,
    description: 'An upgrade other than a WebSocket handshake, or one to a route without `websocket: true`.',
  },
  [ErrorCode.ShuttingDown]: {
    status: 503,
    message: 'The gateway is restarting. Try again shortly.',
    retryAfter: false,
    description: 'The gateway is shutting down and opens no more WebSockets.',
  },
  [ErrorCode.NotAdmin]: {
    status: 403,
    message: 'You are not allowed to use the admin console.',
    retryAfter: false,
    description:
      "The admin console's login or call by a user whose claims do not meet ADMIN_CONSOLE_REQUIRE (which condition is logged, not sent); no console session is made or kept.",
  },
  [ErrorCode.ConnectionRequired]: {
    status: 401,
    message: 'Connect your account at this provider first.',
    retryAfter: false,
    description:
      'A `connected:<name>` route, and the user has not connected that provider, or it refused the refresh token (the connection is dropped, the session kept). `connectUrl` in the body starts the connection.',
    bodyFields: { connectUrl: 'the gateway path (`/bff/connect/<name>?returnTo=…`) that starts the connection' },
  },
  [ErrorCode.ConnectionNotFound]: {
    status: 404,
    message: 'No such connection.',
    retryAfter: false,
    description:
      'A /bff/connect or /bff/connections call naming a connection CONNECTIONS does not list, or (DELETE) one the user has not connected.',
  },
  [ErrorCode.ConnectExpired]: {
    status: 400,
    message: 'This connection attempt has expired or was already used. Start again.',
    retryAfter: false,
    description:
      'The connect callback found no pending connection for this browser: never started, expired (LOGIN_TIMEOUT), or already used.',
  },
  [ErrorCode.ConnectInvalidState]: {
    status: 400,
    message: 'The provider response does not belong to this connection attempt. Start again.',
    variants: {
      otherSession: 'This connection was started in another session. Start again.',
      otherIssuer: 'The provider response did not come from the expected provider.',
    },
    retryAfter: false,
    description:
      'The `state` (or, RFC 9207, the `iss`) returned to the connect callback does not match the pending connection, or the connection was started in another session.',
  },
  [ErrorCode.ConnectRefused]: {
    status: 400,
    message: 'The provider did not grant access.',
    variants: { exchange: 'The connection could not be completed. Try again.' },
    retryAfter: false,
    description:
      'The third-party provider answered the authorization request with `error=` (e.g. the user denied consent), or refused to exchange the code.',
  },
  [ErrorCode.ConnectionUnavailable]: {
    status: 503,
    message: 'The connected provider is not reachable. Try again shortly.',
    retryAfter: true,
    description:
      'The third-party provider of a connection is not discovered yet, could not be reached, timed out or answered 5xx; the connection and the session are kept.',
  },
  [ErrorCode.UntrustedProxy]: {
    status: 403,
    message: 'This endpoint answers only the ingress.',
    retryAfter: false,
    description:
      'Forward-auth: the check came from an address outside `TRUST_PROXY`. Only the ingress may ask: the answer carries an access token.',
  },
  [ErrorCode.BadOriginalRequest]: {
    status: 400,
    message: 'The request to check is missing or malformed.',
    retryAfter: false,
    description:
      'Forward-auth: the check names no original request, names it in two forms (a browser’s own `X-Original-URI` or `X-Forwarded-Uri` passed on by the ingress), or names a method `/api` does not serve or a target that is not a path.',
  },
  [ErrorCode.StepUpRequired]: {
    status: 401,
    message: 'This action needs a stronger or more recent login. Log in again at loginUrl.',
    retryAfter: false,
    bodyFields: { loginUrl: 'the gateway path (`/bff/login?acr_values=…&max_age=…&returnTo=/`) that starts the login asked for' },
    description:
      "Step-up (RFC 9470): the session's `acr` or `auth_time` does not meet the route's `acr` / `maxAge`, or the API answered `insufficient_user_authentication`. The body's `loginUrl` starts the login that does (docs/STEP-UP.md); the API was not called, or its refusal is not retried.",
  },
  [ErrorCode.StepUpSubjectMismatch]: {
    status: 403,
    message: 'The new login is for another user than this session. Log in again as the same user.',
    retryAfter: false,
    description:
      'A step-up login came back as another user (or from another issuer) than the session it steps up: the session is kept as it was.',
  },
  [ErrorCode.InsufficientUserAuthentication]: {
    status: 401,
    message: "The access token's authentication is too weak or too old for this route.",
    retryAfter: false,
    description:
      "A bearer caller's JWT does not meet the route's `acr` / `maxAge` (its `acr`, `auth_time` claims): the RFC 9470 §3 challenge is in `WWW-Authenticate` (`acr_values`, `max_age`), for the caller to get a token from a stronger login.",
  },
} as const satisfies Readonly<Record<ErrorCode, ErrorDefinition>>;

type DefinitionOf<C extends ErrorCode> = (typeof ERROR_CATALOGUE)[C];

/** The names of a code's other wordings (none for most codes). */
export type ErrorVariant<C extends ErrorCode> = C extends ErrorCode
  ? DefinitionOf<C> extends { readonly variants: infer V }
    ? keyof V & string
    : never
  : never;

/** Codes whose answer may carry Retry-After. */
export type RetryableErrorCode = { [C in ErrorCode]: DefinitionOf<C>['retryAfter'] extends true ? C : never }[ErrorCode];

/** The extra body fields a code declares (`bodyFields`), by name. */
export type ErrorBodyFields<C extends ErrorCode> = C extends ErrorCode
  ? DefinitionOf<C> extends { readonly bodyFields: infer F }
    ? { readonly [N in keyof F]: string }
    : never
  : never;

/** Codes whose message is the validation's own. */
export type ExplainedErrorCode = { [C in ErrorCode]: DefinitionOf<C> extends { readonly explained: true } ? C : never }[ErrorCode];

export interface CloseReasonDefinition {
  /** RFC 6455 §7.4.1. */
  readonly closeCode: number;
  readonly description: string;
}

/** The reasons the gateway closes an open WebSocket with (in the close frame, to both ends). */
export const CLOSE_REASONS = {
  session_ended: {
    closeCode: 1008,
    description: 'The session ended (logged out, revoked or expired, on any instance): log in again before reconnecting.',
  },
  [ErrorCode.ShuttingDown]: { closeCode: 1001, description: 'The gateway is shutting down: reconnect, to another instance.' },
} as const satisfies Readonly<Record<string, CloseReasonDefinition>>;

export type CloseReason = keyof typeof CLOSE_REASONS;
