import { CLOSE_REASONS, ERROR_CATALOGUE, ERROR_REFERENCE_PATH, errorReference } from '#sessiongate/observability';
import { expectGeneratedDocCommitted } from '#sessiongate/testing';

// docs/ERRORS.md is generated from the error catalogue: this fails as soon as they differ.

test('the committed error reference is what the catalogue generates', () => {
  expectGeneratedDocCommitted(ERROR_REFERENCE_PATH, errorReference(), 'npm run docs:errors');
});

test('the reference names every code once with its status, and every WebSocket close reason once with its close code', () => {
  const [errors, closeReasons] = errorReference().split('## WebSocket close reasons');
  const tables: [string, Record<string, { readonly status: number } | { readonly closeCode: number }>][] = [
    [errors!, ERROR_CATALOGUE],
    [closeReasons!, CLOSE_REASONS],
  ];
  for (const [table, entries] of tables) {
    for (const [code, entry] of Object.entries(entries)) {
      const rows = table.split('\n').filter((line) => line.startsWith(`| \`${code}\` |`));
      expect(rows).toHaveLength(1);
      expect(rows[0]!.split(' | ')[1]).toBe(String('status' in entry ? entry.status : entry.closeCode));
    }
  }
});
