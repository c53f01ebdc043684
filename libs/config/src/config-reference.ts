import { type Setting, settings } from './settings.js';

/** Where the generated reference is committed, from the repository root. */
export const CONFIG_REFERENCE_PATH = 'docs/CONFIGURATION.md';

/**
 * docs/CONFIGURATION.md, from the settings table and nothing else, so the reference cannot drift
 * from what loadConfig reads. Deterministic (the table's order, no date): a test compares the
 * committed file with this output.
 */
export function configurationReference(): string {
  const rows = (Object.values(settings) as Setting<unknown>[]).map(
    (setting) => `| \`${setting.env}\` | ${defaultOf(setting)} | ${cell(setting.description)} |`,
  );
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from libs/config/src/settings.ts by `npm run docs:config`: edit the settings table, not this file. -->',
    '',
    'Every setting is an environment variable, read and validated once at start-up by `libs/config`: a missing or',
    'malformed one stops the process with one line per problem naming the variable. Secret values are never printed.',
    'Rules that tie settings together (e.g. `OIDC_CLIENT_SECRET` for the secret authentication methods, `REDIS_URL` when',
    '`NODE_ENV=production`) are checked too, and named the same way.',
    '',
    '| Variable | Default | Meaning |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

function defaultOf(setting: Setting<unknown>): string {
  const secret = setting.secret ? ', secret' : '';
  if (setting.default === undefined) return `${setting.optional ? 'unset' : 'required'}${secret}`;
  return `${setting.default === '' ? 'empty' : `\`${setting.default}\``}${secret}`;
}

// A description is one line of Markdown; a `|` inside it would end the table cell.
function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}
