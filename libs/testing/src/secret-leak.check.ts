/**
 * The `secrets` that appear anywhere in `lines`, whole or by a part that would do as much harm: a
 * JWT's payload or signature (its header is shared by many tokens), or the secret URL-encoded.
 */
export function leakedSecrets(lines: readonly string[], secrets: readonly string[]): string[] {
  const text = lines.join('\n');
  return [...new Set(secrets)].filter((secret) => fragments(secret).some((fragment) => text.includes(fragment)));
}

function fragments(secret: string): string[] {
  return [
    secret,
    encodeURIComponent(secret),
    ...secret
      .split('.')
      .slice(1)
      .filter((part) => part.length >= 16),
  ];
}
