import { NoopTelemetry } from './noop.telemetry.js';
import {
  type ObservedRequest,
  type ObservedSessionStore,
  type OutcomeEvent,
  type SessionReadSource,
  Telemetry,
  type TelemetryHandle,
  type TokenGrant,
} from './telemetry.js';

/**
 * Several implementations at once (metrics and a tracer): every hook goes to each, in order, and a
 * start hook's handle is the list of theirs. That list is an allocation per operation, which is why
 * combineTelemetry hands a single implementation back as it is.
 */
export class CompositeTelemetry extends Telemetry {
  constructor(private readonly parts: readonly Telemetry[]) {
    super();
  }

  requestStarted(request: ObservedRequest): TelemetryHandle {
    return this.parts.map((part) => part.requestStarted(request));
  }

  requestEnded(
    handle: TelemetryHandle,
    route: string,
    status: number,
    durationMs: number,
    errorCode: string | null,
    sessionPublicId: string | null,
  ): void {
    this.each(handle, (part, own) => part.requestEnded(own, route, status, durationMs, errorCode, sessionPublicId));
  }

  sessionReadStarted(): TelemetryHandle {
    return this.parts.map((part) => part.sessionReadStarted());
  }

  sessionReadEnded(handle: TelemetryHandle, source: SessionReadSource, outcome: string): void {
    this.each(handle, (part, own) => part.sessionReadEnded(own, source, outcome));
  }

  tokenRequestStarted(grant: TokenGrant): TelemetryHandle {
    return this.parts.map((part) => part.tokenRequestStarted(grant));
  }

  tokenRequestEnded(handle: TelemetryHandle, grant: TokenGrant, outcome: string): void {
    this.each(handle, (part, own) => part.tokenRequestEnded(own, grant, outcome));
  }

  lockWaitStarted(): TelemetryHandle {
    return this.parts.map((part) => part.lockWaitStarted());
  }

  lockWaitEnded(handle: TelemetryHandle, outcome: string): void {
    this.each(handle, (part, own) => part.lockWaitEnded(own, outcome));
  }

  upstreamStarted(route: string, resendCount: number): TelemetryHandle {
    return this.parts.map((part) => part.upstreamStarted(route, resendCount));
  }

  upstreamEnded(handle: TelemetryHandle, route: string, resendCount: number, outcome: number | string): void {
    this.each(handle, (part, own) => part.upstreamEnded(own, route, resendCount, outcome));
  }

  /** Nested: the first part's context outermost. Off the per-request path (token requests), so the closures are affordable. */
  override within<T>(handle: TelemetryHandle, work: () => T): T {
    const handles = handle as readonly TelemetryHandle[];
    let run = work;
    for (let index = this.parts.length - 1; index >= 0; index--) {
      const part = this.parts[index]!;
      const inner = run;
      run = () => part.within(handles[index], inner);
    }
    return run();
  }

  override serving<T>(handle: TelemetryHandle, work: () => T): T {
    const handles = handle as readonly TelemetryHandle[];
    let run = work;
    for (let index = this.parts.length - 1; index >= 0; index--) {
      const part = this.parts[index]!;
      const inner = run;
      run = () => part.serving(handles[index], inner);
    }
    return run();
  }

  override propagate(headers: Record<string, string | string[]>, handle?: TelemetryHandle): void {
    const handles = handle as readonly TelemetryHandle[] | undefined;
    for (let index = 0; index < this.parts.length; index++) this.parts[index]!.propagate(headers, handles?.[index]);
  }

  outcome(event: OutcomeEvent, outcome: string): void {
    for (const part of this.parts) part.outcome(event, outcome);
  }

  sessionStoreOpened(store: ObservedSessionStore): void {
    for (const part of this.parts) part.sessionStoreOpened(store);
  }

  /** Calls `end` for each part with the handle its start hook returned. */
  private each(handle: TelemetryHandle, end: (part: Telemetry, own: TelemetryHandle) => void): void {
    const handles = handle as readonly TelemetryHandle[];
    for (let index = 0; index < this.parts.length; index++) end(this.parts[index]!, handles[index]);
  }
}

/** The Telemetry to inject: nothing reports for none, one implementation is used directly, several are combined. */
export function combineTelemetry(parts: readonly Telemetry[]): Telemetry {
  if (parts.length === 0) return new NoopTelemetry();
  if (parts.length === 1) return parts[0]!;
  return new CompositeTelemetry(parts);
}
