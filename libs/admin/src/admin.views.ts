import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AdminErrorCode } from './admin.errors.js';

// Response shapes of the admin API, for the OpenAPI description. Never a token or a cookie value.

export class HeldTokenView {
  @ApiPropertyOptional({
    description: 'The API (RFC 8707 resource / audience) the access token is for; absent for the token issued at login.',
  })
  readonly resource?: string;

  @ApiPropertyOptional({ description: 'The scopes it was asked for, when a route narrows them.' })
  readonly scopes?: string;

  @ApiProperty({ format: 'date-time' })
  readonly expiresAt!: string;

  @ApiProperty({ type: [String], description: 'The configured /api routes that use this token.', example: ['/api/todos'] })
  readonly routes!: string[];
}

export class AdminSessionView {
  @ApiProperty({ description: 'Public session id: safe to show and to put in URLs, unrelated to the cookie value.' })
  readonly id!: string;

  @ApiProperty({ description: 'The user (ID token `sub`).' })
  readonly sub!: string;

  @ApiPropertyOptional({ description: "The provider's session (`sid`), for back-channel logout." })
  readonly idpSessionId?: string;

  @ApiProperty({ format: 'date-time' })
  readonly createdAt!: string;

  @ApiProperty({ format: 'date-time', description: 'Last request, to within SESSION_TOUCH_INTERVAL.' })
  readonly lastSeenAt!: string;

  @ApiProperty({ format: 'date-time', description: 'When the session ends unless used again (idle), or at the latest (absolute).' })
  readonly expiresAt!: string;

  @ApiProperty({ format: 'date-time', description: 'When it ends however active.' })
  readonly absoluteExpiresAt!: string;

  @ApiPropertyOptional({ description: 'User-Agent at login.' })
  readonly userAgent?: string;

  @ApiPropertyOptional({ description: 'Address the login came from, as the gateway saw it.' })
  readonly ip?: string;

  @ApiProperty({ description: 'Whether the session holds a refresh token.' })
  readonly hasRefreshToken!: boolean;

  @ApiProperty({ type: [HeldTokenView], description: 'Access tokens held, by API.' })
  readonly accessTokens!: HeldTokenView[];

  @ApiProperty({
    type: [String],
    description: "Third-party connections (CONNECTIONS) the session can use: its own, and the user's `persist: user` ones. Never a token.",
    example: ['calendar'],
  })
  readonly connections!: string[];
}

export class AdminSessionPageView {
  @ApiProperty({ type: [AdminSessionView] })
  readonly sessions!: AdminSessionView[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page.' })
  readonly nextCursor!: string | null;
}

export class RevokedView {
  @ApiProperty({ type: [String], description: 'Public ids of the sessions that were ended.' })
  readonly revoked!: string[];

  @ApiPropertyOptional({ type: [String], description: "With `connections=true`: the user's `persist: user` connections that were ended." })
  readonly connections?: string[];
}

export class ErrorView {
  @ApiProperty({ example: AdminErrorCode.InvalidToken })
  readonly error!: string;

  @ApiProperty()
  readonly message!: string;

  @ApiProperty()
  readonly requestId!: string;
}
