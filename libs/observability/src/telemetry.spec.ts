import { combineTelemetry, CompositeTelemetry } from './composite.telemetry.js';
import { ErrorCode } from './error-catalogue.js';
import { GatewayError } from './gateway.error.js';
import { NoopTelemetry } from './noop.telemetry.js';
import type { OutcomeEvent, TelemetryHandle, TokenGrant } from './telemetry.js';

/** Records the hooks it is called with; its handles are `<name>#<n>`, so that pairing can be checked. */
class RecordingTelemetry extends NoopTelemetry {
  readonly calls: unknown[][] = [];
  private started = 0;

  constructor(private readonly name: string) {
    super();
  }

  override tokenRequestStarted(grant: TokenGrant): TelemetryHandle {
    return this.start('tokenRequestStarted', grant);
  }

  override tokenRequestEnded(handle: TelemetryHandle, grant: TokenGrant, outcome: string): void {
    this.calls.push(['tokenRequestEnded', handle, grant, outcome]);
  }

  override upstreamStarted(route: string, resendCount: number): TelemetryHandle {
    return this.start('upstreamStarted', route, resendCount);
  }

  override upstreamEnded(handle: TelemetryHandle, route: string, resendCount: number, outcome: number | string): void {
    this.calls.push(['upstreamEnded', handle, route, resendCount, outcome]);
  }

  override outcome(event: OutcomeEvent, outcome: string): void {
    this.calls.push(['outcome', event, outcome]);
  }

  override within<T>(handle: TelemetryHandle, work: () => T): T {
    this.calls.push(['within', handle]);
    const result = work();
    this.calls.push(['left', handle]);
    return result;
  }

  override propagate(headers: Record<string, string | string[]>, handle?: TelemetryHandle): void {
    headers[`x-${this.name}`] = String(handle);
  }

  private start(hook: string, ...args: unknown[]): TelemetryHandle {
    const handle = `${this.name}#${++this.started}`;
    this.calls.push([hook, ...args, handle]);
    return handle;
  }
}

describe('Telemetry.tokenRequest', () => {
  it('starts before the request is sent and ends it ok with the start hook’s handle', async () => {
    const telemetry = new RecordingTelemetry('t');
    const result = await telemetry.tokenRequest('refresh_token', async () => {
      expect(telemetry.calls).toEqual([
        ['tokenRequestStarted', 'refresh_token', 't#1'],
        ['within', 't#1'],
      ]);
      return 'issued';
    });
    expect(result).toBe('issued');
    expect(telemetry.calls.at(-1)).toEqual(['tokenRequestEnded', 't#1', 'refresh_token', 'ok']);
  });

  it.each([
    ['a gateway error', new GatewayError(ErrorCode.IdpUnavailable), 'idp_unavailable'],
    ['anything else', new Error('boom'), 'internal_error'],
  ])('ends with the code of %s, and rethrows it', async (_title, error, outcome) => {
    const telemetry = new RecordingTelemetry('t');
    await expect(telemetry.tokenRequest('client_credentials', () => Promise.reject(error))).rejects.toBe(error);
    expect(telemetry.calls.at(-1)).toEqual(['tokenRequestEnded', 't#1', 'client_credentials', outcome]);
  });
});

describe('combineTelemetry', () => {
  it('reports nowhere for no implementation, and hands a single one back as it is', () => {
    expect(combineTelemetry([])).toBeInstanceOf(NoopTelemetry);
    const only = new RecordingTelemetry('only');
    expect(combineTelemetry([only])).toBe(only);
  });

  it('gives every hook to each implementation, each end with the handle its own start returned', () => {
    const metrics = new RecordingTelemetry('m');
    const tracing = new RecordingTelemetry('t');
    const telemetry = combineTelemetry([metrics, tracing]);
    expect(telemetry).toBeInstanceOf(CompositeTelemetry);

    const first = telemetry.upstreamStarted('/api/echo', 0);
    const retry = telemetry.upstreamStarted('/api/echo', 1);
    telemetry.upstreamEnded(retry, '/api/echo', 1, 'upstream_timeout');
    telemetry.upstreamEnded(first, '/api/echo', 0, 401);
    telemetry.outcome('login', 'ok');

    for (const [part, name] of [
      [metrics, 'm'],
      [tracing, 't'],
    ] as const) {
      expect(part.calls).toEqual([
        ['upstreamStarted', '/api/echo', 0, `${name}#1`],
        ['upstreamStarted', '/api/echo', 1, `${name}#2`],
        ['upstreamEnded', `${name}#2`, '/api/echo', 1, 'upstream_timeout'],
        ['upstreamEnded', `${name}#1`, '/api/echo', 0, 401],
        ['outcome', 'login', 'ok'],
      ]);
    }
  });
});

describe('CompositeTelemetry.within and propagate', () => {
  it('runs the work inside every part, the first outermost, each with its own handle', async () => {
    const metrics = new RecordingTelemetry('m');
    const tracing = new RecordingTelemetry('t');
    const telemetry = combineTelemetry([metrics, tracing]);
    await telemetry.tokenRequest('refresh_token', async () => {
      expect(metrics.calls.at(-1)).toEqual(['within', 'm#1']);
      expect(tracing.calls.at(-1)).toEqual(['within', 't#1']);
      return 'issued';
    });
    expect(tracing.calls.map(([hook]) => hook)).toEqual(['tokenRequestStarted', 'within', 'left', 'tokenRequestEnded']);
  });

  it("hands each part its own handle, or none for the current operation's", () => {
    const telemetry = combineTelemetry([new RecordingTelemetry('m'), new RecordingTelemetry('t')]);
    const call = telemetry.upstreamStarted('/api/echo', 0);
    const headers: Record<string, string> = {};
    telemetry.propagate(headers, call);
    expect(headers).toEqual({ 'x-m': 'm#1', 'x-t': 't#1' });
    telemetry.propagate(headers);
    expect(headers).toEqual({ 'x-m': 'undefined', 'x-t': 'undefined' });
  });
});
