import type { IncomingHttpHeaders } from 'node:http';
import type { Session } from '#sessiongate/session';

/** A connection's access token, and the scopes the user granted at its provider. */
export interface ConnectedToken {
  readonly value: string;
  readonly scopes: string;
}

/**
 * Where `connected:<name>` routes get their token: the user's access token at that third-party provider
 * (the connections capability, which registers itself with UserTokenAuthorizer.useConnectedTokens).
 */
export interface ConnectedTokenSource {
  /**
   * The session's (or its user's) access token at connection `name`, refreshed when it nears expiry or was
   * `rejectedToken`; throws 401 connection_required when the user has not connected it (any longer).
   * `headers` are the request's, for where to send the browser back after connecting.
   */
  accessTokenFor(session: Session, name: string, headers: IncomingHttpHeaders, rejectedToken?: string): Promise<ConnectedToken>;
}
