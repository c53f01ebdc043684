import { errorHeaderValue } from './error-header.codec.js';

describe('errorHeaderValue', () => {
  it('is the JSON body itself when it is ASCII', () => {
    const body = JSON.stringify({ error: 'csrf', message: 'Missing X-CSRF: 1 header.', requestId: 'r-1' });
    expect(errorHeaderValue(body)).toBe(body);
  });

  it('escapes every character outside printable ASCII, so that it parses back to the same body', () => {
    const body = JSON.stringify({ error: 'x', message: 'Non disponible — réessayez 🙂\u007f\u2028', requestId: 'r' });
    const header = errorHeaderValue(body)!;
    expect(header).toMatch(/^[\x20-\x7e]+$/);
    expect(header).toContain('\\u2014');
    expect(JSON.parse(header)).toEqual(JSON.parse(body));
  });

  it('drops the message, never the code, when the copy would be too long for nginx', () => {
    const body = JSON.stringify({ error: 'x', message: 'é'.repeat(400), requestId: 'r' });
    expect(JSON.parse(errorHeaderValue(body)!)).toEqual({ error: 'x', message: '', requestId: 'r' });
  });

  it('is undefined for what is not a JSON error', () => {
    expect(errorHeaderValue('not json')).toBeUndefined();
    expect(errorHeaderValue('"text"')).toBeUndefined();
    expect(errorHeaderValue('{"message":"no code"}')).toBeUndefined();
  });
});
