import type { TracingConfig } from './config.types.js';
import type { ParsedSettings } from './config-rules.js';
import { type SettingValues, settings } from './settings.js';

type TracingSettings = Pick<
  SettingValues,
  'otlpEndpoint' | 'otlpTracesEndpoint' | 'serviceName' | 'traceSampler' | 'traceSamplerArg' | 'traceExportDelay' | 'trustIncomingTrace'
>;

/**
 * The tracing settings as one group, or undefined (tracing off) without an endpoint. As OpenTelemetry's
 * SDKs do: the traces endpoint is used as it is, the base endpoint gets `v1/traces` appended.
 */
export function tracingConfig(v: TracingSettings): TracingConfig | undefined {
  const tracesUrl = v.otlpTracesEndpoint ?? (v.otlpEndpoint && new URL('v1/traces', withTrailingSlash(v.otlpEndpoint)));
  if (tracesUrl === undefined) return undefined;
  return {
    tracesUrl,
    serviceName: v.serviceName,
    sampler: v.traceSampler,
    ratio: v.traceSamplerArg ?? 1,
    exportDelayMs: v.traceExportDelay,
    trustIncoming: v.trustIncomingTrace,
  };
}

/** A ratio given to a sampler that takes none would be silently ignored: reported instead. */
export function samplerArgProblem(v: ParsedSettings): string | undefined {
  if (v.traceSamplerArg === undefined || v.traceSampler === undefined || v.traceSampler.endsWith('traceidratio')) return undefined;
  return `${settings.traceSamplerArg.env}: only applies with OTEL_TRACES_SAMPLER=traceidratio or parentbased_traceidratio`;
}

function withTrailingSlash(url: URL): URL {
  return url.pathname.endsWith('/') ? url : new URL(`${url.pathname}/`, url);
}
