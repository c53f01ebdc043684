import { stepUpChallenge, stepUpChallengeHeader } from './step-up-challenge.policy.js';

describe('stepUpChallenge', () => {
  it("reads RFC 9470 §3's example challenge", () => {
    expect(
      stepUpChallenge(
        'Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="myACR"',
      ),
    ).toEqual({ acrValues: ['myACR'] });
  });

  it('reads max_age, several acr values, token values and any letter case of the scheme', () => {
    expect(stepUpChallenge('bearer error=insufficient_user_authentication, max_age=5, acr_values="urn:a urn:b"')).toEqual({
      acrValues: ['urn:a', 'urn:b'],
      maxAgeSeconds: 5,
    });
  });

  it('finds the Bearer challenge among others, in one header or several', () => {
    expect(stepUpChallenge('DPoP algs="ES256", Bearer error="insufficient_user_authentication", max_age="60"')).toEqual({
      maxAgeSeconds: 60,
    });
    expect(stepUpChallenge(['Basic realm="x"', 'Bearer error="insufficient_user_authentication"'])).toEqual({});
  });

  it('is undefined for any other 401: a plain one, invalid_token, or the error under another scheme', () => {
    expect(stepUpChallenge(undefined)).toBeUndefined();
    expect(stepUpChallenge('Bearer')).toBeUndefined();
    expect(stepUpChallenge('Bearer error="invalid_token"')).toBeUndefined();
    expect(stepUpChallenge('DPoP error="insufficient_user_authentication"')).toBeUndefined();
  });

  it('leaves out parameters it cannot pass on safely', () => {
    expect(stepUpChallenge('Bearer error="insufficient_user_authentication", max_age="-1", acr_values="ok \\"quoted\\""')).toEqual({
      acrValues: ['ok'],
    });
    expect(stepUpChallenge(`Bearer error="insufficient_user_authentication", acr_values="${'x'.repeat(5000)}"`)).toBeUndefined();
  });
});

describe('stepUpChallengeHeader', () => {
  it('writes the RFC 9470 §3 challenge, which stepUpChallenge reads back', () => {
    const requirement = { acrValues: ['urn:a', 'urn:b'], maxAgeSeconds: 60 };
    const header = stepUpChallengeHeader(requirement);
    expect(header).toBe('Bearer error="insufficient_user_authentication", acr_values="urn:a urn:b", max_age=60');
    expect(stepUpChallenge(header)).toEqual(requirement);
  });
});
