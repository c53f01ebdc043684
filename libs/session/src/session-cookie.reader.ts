import type { IncomingHttpHeaders } from 'node:http';
import { Injectable } from '@nestjs/common';
import { SessionCookies } from '#sessiongate/http';
import { SessionService } from './session.service.js';
import type { Session } from './session.types.js';

const NO_SESSION: Promise<null> = Promise.resolve(null);

/** The session step of every request: the live session the Cookie header names, or null. */
@Injectable()
export class SessionCookieReader {
  constructor(
    private readonly sessions: SessionService,
    private readonly cookies: SessionCookies,
  ) {}

  /** Not async: every proxied request comes here, and the read's own promise will do. */
  /** `slide: false`: without sliding the idle expiry (see SessionService.read). */
  sessionOf(headers: IncomingHttpHeaders, options?: { readonly slide?: boolean }): Promise<Session | null> {
    const id = this.cookies.sessionId(headers.cookie);
    return id ? this.sessions.read(id, options) : NO_SESSION;
  }
}
