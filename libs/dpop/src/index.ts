export {
  accessTokenHash,
  DPOP_ALGORITHMS,
  type DpopAlgorithm,
  DpopKey,
  dpopKeyOf,
  newDpopKey,
  type ProofClaims,
  type StoredDpopKey,
} from './dpop-key.codec.js';
export { DpopNonceCache } from './dpop-nonce.cache.js';
export { dpopNonceChallenge, originOf, proofTarget } from './dpop-challenge.check.js';
