import { Module } from '@nestjs/common';
import { SessionCookies } from './session.cookies.js';

/** The gateway's cookies (names, attributes, reading them back). Needs the global GATEWAY_CONFIG. */
@Module({
  providers: [SessionCookies],
  exports: [SessionCookies],
})
export class HttpPolicyModule {}
