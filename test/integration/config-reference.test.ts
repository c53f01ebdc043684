import { CONFIG_REFERENCE_PATH, configurationReference, type Setting, settings } from '#sessiongate/config';
import { expectGeneratedDocCommitted } from '#sessiongate/testing';

// docs/CONFIGURATION.md is generated from the settings table: this fails as soon as they differ.

test('the committed configuration reference is what the settings table generates', () => {
  expectGeneratedDocCommitted(CONFIG_REFERENCE_PATH, configurationReference(), 'npm run docs:config');
});

test('the reference names every setting once, with its default or that it is required, and never a secret value', () => {
  const reference = configurationReference();
  for (const setting of Object.values(settings) as Setting<unknown>[]) {
    const rows = reference.split('\n').filter((line) => line.startsWith(`| \`${setting.env}\` |`));
    expect(rows).toHaveLength(1);
    const [, defaultCell] = rows[0]!.split(' | ');
    if (setting.default !== undefined && setting.default !== '') expect(defaultCell).toContain(`\`${setting.default}\``);
    if (setting.default === undefined && !setting.optional) expect(defaultCell).toMatch(/^required/);
    if (setting.secret) expect(defaultCell).toMatch(/secret$/);
  }
  // API_ROUTES's description holds `|`: escaped, each row still has exactly three cells.
  for (const row of reference.split('\n').filter((line) => line.startsWith('| `'))) expect(row.split(/(?<!\\)\|/)).toHaveLength(5);
});
