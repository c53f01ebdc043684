import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';

/**
 * An exporter whose failures are logged: OpenTelemetry's SDK reports them only to its own diagnostic
 * logger, which the gateway leaves silent. One warning when exports start failing, one line when they
 * work again, so that a collector that is down does not flood the log. The collector's answer is not
 * logged (it may echo what it was sent); the exporter's message names the failure.
 */
export class LoggedSpanExporter implements SpanExporter {
  private failing = false;

  constructor(
    private readonly inner: SpanExporter,
    private readonly logger: Logger,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS && !this.failing) {
        this.failing = true;
        this.logger.warn({ spans: spans.length, failure: result.error?.name ?? 'unknown' }, 'trace export failed: spans are dropped');
      } else if (result.code === ExportResultCode.SUCCESS && this.failing) {
        this.failing = false;
        this.logger.info('trace export works again');
      }
      resultCallback(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
