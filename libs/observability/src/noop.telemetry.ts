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
 * Reports nowhere: for the CLI, unit tests, and an application given no other Telemetry. An
 * implementation that needs only some hooks may extend it and override those.
 */
export class NoopTelemetry extends Telemetry {
  requestStarted(_request: ObservedRequest): TelemetryHandle {
    return undefined;
  }

  requestEnded(
    _handle: TelemetryHandle,
    _route: string,
    _status: number,
    _durationMs: number,
    _errorCode: string | null,
    _sessionPublicId: string | null,
  ): void {}

  sessionReadStarted(): TelemetryHandle {
    return undefined;
  }

  sessionReadEnded(_handle: TelemetryHandle, _source: SessionReadSource, _outcome: string): void {}

  tokenRequestStarted(_grant: TokenGrant): TelemetryHandle {
    return undefined;
  }

  tokenRequestEnded(_handle: TelemetryHandle, _grant: TokenGrant, _outcome: string): void {}

  lockWaitStarted(): TelemetryHandle {
    return undefined;
  }

  lockWaitEnded(_handle: TelemetryHandle, _outcome: string): void {}

  upstreamStarted(_route: string, _resendCount: number): TelemetryHandle {
    return undefined;
  }

  upstreamEnded(_handle: TelemetryHandle, _route: string, _resendCount: number, _outcome: number | string): void {}

  outcome(_event: OutcomeEvent, _outcome: string): void {}

  sessionStoreOpened(_store: ObservedSessionStore): void {}
}
