import { Readable } from 'node:stream';
import { ProxyError, ProxyErrorCode } from './proxy.errors.js';
import { isReplayable, readDeclaredBody, REPLAYABLE_BODY_LIMIT } from './replayable-body.js';

describe('isReplayable', () => {
  it.each([
    [{}, true],
    [{ 'content-length': '0' }, true],
    [{ 'content-length': '12', 'content-type': 'application/json' }, true],
    [{ 'content-length': String(REPLAYABLE_BODY_LIMIT) }, true],
    [{ 'content-length': String(REPLAYABLE_BODY_LIMIT + 1) }, false],
    [{ 'transfer-encoding': 'chunked' }, false],
    [{ 'transfer-encoding': 'chunked', 'content-length': '5' }, false],
    [{ 'content-length': 'abc' }, false],
  ])('%j: %s', (headers, replayable) => {
    expect(isReplayable(headers)).toBe(replayable);
  });
});

describe('readDeclaredBody', () => {
  const chunks = (...texts: string[]) => Readable.from(texts.map((text) => Buffer.from(text)));

  it('reads a body of the declared length, in however many chunks', async () => {
    expect((await readDeclaredBody(chunks('{"a"', ':1}'), 7)).toString()).toBe('{"a":1}');
    expect((await readDeclaredBody(chunks(), 0)).length).toBe(0);
  });

  it.each([
    ['more', ['hello', ' world'], 5],
    ['less', ['hel'], 5],
  ])('refuses %s than declared with 400 bad_body, having read the stream to its end', async (_, texts, declared) => {
    const body = chunks(...texts);
    const refusal = readDeclaredBody(body, declared);
    await expect(refusal).rejects.toBeInstanceOf(ProxyError);
    await expect(refusal).rejects.toMatchObject({ proxyCode: ProxyErrorCode.BadBody, code: 'bad_body', status: 400 });
    expect(body.readableEnded).toBe(true);
  });
});
