import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { CsrfError } from '#sessiongate/http';
import { Requires } from './requires.decorator.js';
import type { RouteRequirements } from './route-requirements.js';
import { RouteGuard } from './route.guard.js';
import type { SessionCookieReader } from './session-cookie.reader.js';
import type { Session } from './session.types.js';

const SESSION = { id: 'secret-id', publicId: 'public-id' } as Session;

function contextFor(requirements: RouteRequirements | undefined, headers: Record<string, string>, url = '/bff/user') {
  class Routes {
    handler(): void {}
  }
  if (requirements) Requires(requirements)(Routes.prototype, 'handler', Object.getOwnPropertyDescriptor(Routes.prototype, 'handler')!);
  const request = { headers, url, sessionPublicId: null as string | null };
  const context = {
    getHandler: () => Routes.prototype.handler,
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
  return { context, request };
}

function guardReading(session: Session | null) {
  const reads: unknown[] = [];
  const options: unknown[] = [];
  const sessionOf = async (headers: unknown, option: unknown) => {
    reads.push(headers);
    options.push(option);
    return session;
  };
  const reader = { sessionOf } as unknown as SessionCookieReader;
  return { guard: new RouteGuard(new Reflector(), reader), reads, options };
}

describe('RouteGuard', () => {
  it('checks the CSRF header before it reads any session', async () => {
    const { guard, reads } = guardReading(SESSION);
    const { context } = contextFor({ csrf: true, session: 'required' }, {});
    await expect(guard.canActivate(context)).rejects.toBeInstanceOf(CsrfError);
    expect(reads).toHaveLength(0);
  });

  it('refuses a required session that is not there with 401 unauthenticated', async () => {
    const { guard } = guardReading(null);
    const { context, request } = contextFor({ csrf: true, session: 'required' }, { 'x-csrf': '1' });
    await expect(guard.canActivate(context)).rejects.toMatchObject({ code: 'unauthenticated', status: 401 });
    expect(request.sessionPublicId).toBeNull();
  });

  it('passes an optional session that is not there', async () => {
    const { guard } = guardReading(null);
    await expect(guard.canActivate(contextFor({ csrf: false, session: 'optional' }, {}).context)).resolves.toBe(true);
  });

  it("records the session's public id for the logs", async () => {
    const { guard } = guardReading(SESSION);
    const { context, request } = contextFor({ csrf: true, session: 'required' }, { 'x-csrf': '1' });
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(request.sessionPublicId).toBe('public-id');
  });

  it('reads without sliding on slide=false only where the route allows it', async () => {
    const { guard, options } = guardReading(SESSION);
    const polling = { csrf: true, session: 'required', slideOptional: true } as const;
    await guard.canActivate(contextFor(polling, { 'x-csrf': '1' }, '/bff/user?slide=false').context);
    await guard.canActivate(contextFor(polling, { 'x-csrf': '1' }, '/bff/user?slide=no').context);
    await guard.canActivate(contextFor({ csrf: true, session: 'required' }, { 'x-csrf': '1' }, '/bff/sessions?slide=false').context);
    expect(options).toEqual([{ slide: false }, { slide: true }, { slide: true }]);
  });

  it('lets a route that declares nothing through without reading a session', async () => {
    const { guard, reads } = guardReading(SESSION);
    await expect(guard.canActivate(contextFor(undefined, {}).context)).resolves.toBe(true);
    expect(reads).toHaveLength(0);
  });
});
