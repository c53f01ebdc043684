/** Headers as Node and undici give them: lower-case names. */
type Headers = Readonly<Record<string, string | string[] | undefined>>;

// RFC 9449 §9: a nonce is 1*NQCHAR; a DPoP challenge names error="use_dpop_nonce".
const NONCE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const USE_DPOP_NONCE = /(^|,)\s*dpop\b[\s\S]*?\berror\s*=\s*"?use_dpop_nonce"?/i;

/** The nonce a 401 asks the next proof to carry, when it is a `use_dpop_nonce` challenge with a well-formed `DPoP-Nonce`. */
export function dpopNonceChallenge(headers: Headers): string | undefined {
  const challenge = headers['www-authenticate'];
  const challenges = Array.isArray(challenge) ? challenge.join(',') : challenge;
  if (challenges === undefined || !USE_DPOP_NONCE.test(challenges)) return undefined;
  const nonce = headers['dpop-nonce'];
  return typeof nonce === 'string' && NONCE.test(nonce) ? nonce : undefined;
}

/** A proof's `htu`: the URL without query and fragment (RFC 9449 §4.2). */
export function proofTarget(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

/** The origin of an absolute http(s) URL, without parsing it (the URLs here are the gateway's own). */
export function originOf(url: string): string {
  const pathStart = url.indexOf('/', url.indexOf('//') + 2);
  return pathStart === -1 ? url : url.slice(0, pathStart);
}
