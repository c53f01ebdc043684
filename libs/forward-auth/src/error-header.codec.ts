/** The header that carries a refusal's JSON body for an ingress that drops bodies (nginx's auth_request). */
export const ERROR_HEADER = 'x-sessiongate-error';

/**
 * nginx keeps all of an answer's headers in proxy_buffer_size (4 KiB by default) and fails an answer
 * whose headers do not fit: the copy of the body stays far below that, beside the other headers.
 */
const MAX_ERROR_HEADER_LENGTH = 1024;
// DEL too: Node refuses it in a header value. JSON.stringify has escaped every control character below it.
const NOT_ASCII = /[\x7f-\uffff]/g;

interface ErrorBody {
  readonly error: string;
  readonly message?: unknown;
  readonly requestId?: unknown;
}

/**
 * The value of X-Sessiongate-Error for a refusal's body: the same JSON, ASCII only (a header value is
 * bytes on the wire, which nginx copies as they are), every other character a `\u` escape, which leaves
 * it the same JSON. Too long (a message quoting something large), it keeps the code and request id and
 * drops the message. Undefined when the body is not a JSON error (`{ "error": code, ... }`).
 */
export function errorHeaderValue(body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as ErrorBody).error !== 'string') return undefined;
  // Compact, as the gateway writes it: control characters exist only escaped, and only inside strings.
  const header = asciiJson(JSON.stringify(parsed));
  if (header.length <= MAX_ERROR_HEADER_LENGTH) return header;
  const { error, requestId } = parsed as ErrorBody;
  const short = asciiJson(JSON.stringify({ error, message: '', requestId }));
  return short.length <= MAX_ERROR_HEADER_LENGTH ? short : undefined;
}

/** These characters can only stand inside JSON strings, where a `\u` escape is the character it replaces. */
function asciiJson(json: string): string {
  return json.replace(NOT_ASCII, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
