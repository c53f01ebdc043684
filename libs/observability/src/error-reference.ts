import { CLOSE_REASONS, type CloseReasonDefinition, ERROR_CATALOGUE, type ErrorDefinition } from './error-catalogue.js';

/** Where the generated reference is committed, from the repository root. */
export const ERROR_REFERENCE_PATH = 'docs/ERRORS.md';

/**
 * docs/ERRORS.md, from ERROR_CATALOGUE and CLOSE_REASONS and nothing else, so the reference cannot
 * drift from what the gateway answers. Deterministic (the catalogue's order, no date): a test
 * compares the committed file with this output.
 */
export function errorReference(): string {
  const errors = (Object.entries(ERROR_CATALOGUE) as [string, ErrorDefinition][]).map(
    ([code, error]) =>
      `| \`${code}\` | ${error.status} | ${error.retryAfter ? 'yes' : 'no'} | ${cell(messagesOf(error))} | ${cell(error.description + bodyFieldsOf(error))} |`,
  );
  const closeReasons = (Object.entries(CLOSE_REASONS) as [string, CloseReasonDefinition][]).map(
    ([reason, close]) => `| \`${reason}\` | ${close.closeCode} | ${cell(close.description)} |`,
  );
  return [
    '# Error reference',
    '',
    '<!-- Generated from libs/observability/src/error-catalogue.ts by `npm run docs:errors`: edit the catalogue, not this file. -->',
    '',
    'Every error the gateway answers itself has one shape, `{ "error": code, "message": …, "requestId": … }`, with',
    '`Cache-Control: no-store` (a code whose row names more fields adds them); the request id is the `X-Request-Id` of the response and of every log line about it. The',
    'code is stable: branch on it, never on the message, which is for people and may be worded otherwise for the same',
    'code. Anything unexpected is a plain 500 `internal_error`: neither its cause nor an upstream body ever reaches the',
    'client. Where Retry-After applies, the response carries it when waiting can help. Errors of a proxied API (its own',
    '4xx and 5xx) are passed on as the API sent them; `/healthz` and `/readyz` answer with their own health-check body.',
    '',
    '| Code | Status | Retry-After | Message | Meaning |',
    '|---|---|---|---|---|',
    ...errors,
    '',
    '## WebSocket close reasons',
    '',
    'A WebSocket the gateway refuses at the handshake gets one of the errors above. One it closes once open gets a',
    'close frame (to both ends) with one of these reasons:',
    '',
    '| Reason | Close code | Meaning |',
    '|---|---|---|',
    ...closeReasons,
    '',
  ].join('\n');
}

function bodyFieldsOf(error: ErrorDefinition): string {
  const fields = Object.entries(error.bodyFields ?? {}).map(([name, meaning]) => `\`${name}\`: ${meaning}`);
  return fields.length === 0 ? '' : ` The body also has ${fields.join('; ')}.`;
}

function messagesOf(error: ErrorDefinition): string {
  if (error.explained) return `which parameter is wrong and what it must be (else: ${error.message})`;
  return [error.message, ...Object.values(error.variants ?? {})].join(' / ');
}

// A description is one line of Markdown; a `|` inside it would end the table cell.
function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}
