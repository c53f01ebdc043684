// Node's structuredClone builds its copies in Node's own realm, not in the vm context jest runs the
// tests in. Libraries that test `value.constructor === Object` then reject what they cloned
// themselves (oidc-provider's in-memory adapter re-reads a client's JWKS that way). Outside jest
// there is one realm and nothing of this applies.
const nodeStructuredClone = globalThis.structuredClone;

function intoThisRealm(value) {
  if (Array.isArray(value)) return value.map(intoThisRealm);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value)?.constructor?.name === 'Object') {
    return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, intoThisRealm(child)]));
  }
  return value;
}

globalThis.structuredClone = (value, options) => intoThisRealm(nodeStructuredClone(value, options));
