import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify } from 'jose';
import { accessTokenHash, dpopKeyOf, newDpopKey } from './dpop-key.codec.js';
import { dpopNonceChallenge, originOf, proofTarget } from './dpop-challenge.check.js';

describe('DpopKey', () => {
  it.each(['ES256', 'EdDSA'] as const)('signs %s proofs jose verifies, each with a new jti', async (alg) => {
    const key = dpopKeyOf(await newDpopKey(alg));
    const claims = { htm: 'GET', htu: 'http://api.test/v1/items', ath: accessTokenHash('token-value'), nonce: 'n-1' };
    const first = key.proof(claims);
    const { payload, protectedHeader } = await jwtVerify(first, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [alg] });
    expect(payload).toMatchObject({ htm: 'GET', htu: 'http://api.test/v1/items', ath: accessTokenHash('token-value'), nonce: 'n-1' });
    expect(protectedHeader.jwk).not.toHaveProperty('d');
    expect(await calculateJwkThumbprint(protectedHeader.jwk!)).toBe(key.thumbprint);
    const second = await jwtVerify(key.proof(claims), EmbeddedJWK);
    expect(second.payload.jti).not.toBe(payload.jti);
    expect(decodeProtectedHeader(first).alg).toBe(alg);
  });

  it('imports a stored key once per stored object, and as a WebCrypto pair', async () => {
    const stored = await newDpopKey('ES256');
    expect(dpopKeyOf(stored)).toBe(dpopKeyOf(stored));
    const pair = await dpopKeyOf(stored).cryptoKeyPair();
    expect(pair.publicKey.extractable).toBe(true);
    expect(pair.privateKey.extractable).toBe(false);
  });
});

describe('dpopNonceChallenge', () => {
  it('reads the nonce of a use_dpop_nonce challenge only', () => {
    expect(dpopNonceChallenge({ 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'abc' })).toBe('abc');
    expect(
      dpopNonceChallenge({ 'www-authenticate': 'Bearer realm="x", DPoP algs="ES256", error="use_dpop_nonce"', 'dpop-nonce': 'abc' }),
    ).toBe('abc');
    expect(dpopNonceChallenge({ 'www-authenticate': 'DPoP error="invalid_token"', 'dpop-nonce': 'abc' })).toBeUndefined();
    expect(dpopNonceChallenge({ 'www-authenticate': 'DPoP error="use_dpop_nonce"' })).toBeUndefined();
    expect(dpopNonceChallenge({ 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'bad nonce"' })).toBeUndefined();
  });

  it('leaves query and fragment out of htu, and finds the origin', () => {
    expect(proofTarget('http://a.test:8080/x/y?q=1#f')).toBe('http://a.test:8080/x/y');
    expect(originOf('http://a.test:8080/x/y?q=1')).toBe('http://a.test:8080');
  });
});
