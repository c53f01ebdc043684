import { Telemetry, type TelemetryHandle } from './telemetry.js';

/** Reports nowhere: for the CLI, unit tests, and an application given no other Telemetry. */
export class NoopTelemetry extends Telemetry {
  requestStarted(): TelemetryHandle {
    return undefined;
  }

  requestEnded(): void {}

  sessionReadStarted(): TelemetryHandle {
    return undefined;
  }

  sessionReadEnded(): void {}

  tokenRequestStarted(): TelemetryHandle {
    return undefined;
  }

  tokenRequestEnded(): void {}

  lockWaitStarted(): TelemetryHandle {
    return undefined;
  }

  lockWaitEnded(): void {}

  upstreamStarted(): TelemetryHandle {
    return undefined;
  }

  upstreamEnded(): void {}

  outcome(): void {}

  sessionStoreOpened(): void {}
}
