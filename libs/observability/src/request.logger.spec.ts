import { Writable } from 'node:stream';
import { jest } from '@jest/globals';
import pino from 'pino';
import { RequestLogger } from './request.logger.js';

function capture(level: string): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, sink), lines };
}

describe('RequestLogger', () => {
  it('writes lines bound to the request at or above the level', () => {
    const { logger, lines } = capture('info');
    const log = new RequestLogger(logger, { reqId: 'r-1' });
    log.info({ status: 200 }, 'request completed');
    log.error('request failed');
    log.debug('dropped');
    expect(lines.map(({ reqId, level, msg, status }) => ({ reqId, level, msg, status }))).toEqual([
      { reqId: 'r-1', level: 30, msg: 'request completed', status: 200 },
      { reqId: 'r-1', level: 50, msg: 'request failed', status: undefined },
    ]);
  });

  it('makes no pino child while nothing is written', () => {
    const { logger } = capture('warn');
    const child = jest.spyOn(logger, 'child');
    const log = new RequestLogger(logger, { reqId: 'r-2' });
    log.info('dropped');
    expect(log.isLevelEnabled('info')).toBe(false);
    expect(log.level).toBe('warn');
    expect(child).not.toHaveBeenCalled();
    log.warn('kept');
    log.warn('kept again');
    expect(child).toHaveBeenCalledTimes(1);
  });

  it('hands out children that keep the request binding', () => {
    const { logger, lines } = capture('info');
    new RequestLogger(logger, { reqId: 'r-3' }).child({ part: 'proxy' }).info('hello');
    expect(lines[0]).toMatchObject({ reqId: 'r-3', part: 'proxy', msg: 'hello' });
  });
});
