import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import { LoggedSpanExporter } from './logged-span.exporter.js';

/** An exporter answering the results it is given, in order. */
function answering(...results: ExportResult[]): SpanExporter {
  return {
    export: (_spans, done) => done(results.shift()!),
    shutdown: () => Promise.resolve(),
  };
}

describe('LoggedSpanExporter', () => {
  it('warns once when exports start failing and says when they work again, passing every result on', () => {
    const lines: [string, string][] = [];
    const logger = {
      warn: (_fields: unknown, message: string) => lines.push(['warn', message]),
      info: (message: string) => lines.push(['info', message]),
    } as unknown as Logger;
    const failure = { code: ExportResultCode.FAILED, error: new Error('connect ECONNREFUSED') };
    const ok = { code: ExportResultCode.SUCCESS };
    const exporter = new LoggedSpanExporter(answering(failure, failure, ok, ok), logger);
    const passed: ExportResult[] = [];
    for (let index = 0; index < 4; index++) exporter.export([] as ReadableSpan[], (result) => passed.push(result));
    expect(passed).toEqual([failure, failure, ok, ok]);
    expect(lines).toEqual([
      ['warn', 'trace export failed: spans are dropped'],
      ['info', 'trace export works again'],
    ]);
  });
});
