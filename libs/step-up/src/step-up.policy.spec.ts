import { asksStepUp, satisfiesStepUp, stepUpLoginUrl } from './step-up.policy.js';

const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);
const nowSeconds = NOW / 1000;
const LOA_1 = 'urn:sessiongate:loa:1';
const LOA_2 = 'urn:sessiongate:loa:2';

describe('satisfiesStepUp', () => {
  it('passes a session whose acr is one of those asked for', () => {
    expect(satisfiesStepUp({ acr: LOA_2 }, { acrValues: [LOA_1, LOA_2] }, NOW)).toBe(true);
  });

  it('refuses another acr, a missing one, or one that only looks alike', () => {
    expect(satisfiesStepUp({ acr: LOA_1 }, { acrValues: [LOA_2] }, NOW)).toBe(false);
    expect(satisfiesStepUp({}, { acrValues: [LOA_2] }, NOW)).toBe(false);
    expect(satisfiesStepUp({ acr: ` ${LOA_2}` }, { acrValues: [LOA_2] }, NOW)).toBe(false);
    expect(satisfiesStepUp({ acr: [LOA_2] }, { acrValues: [LOA_2] }, NOW)).toBe(false);
  });

  it('passes an auth_time within maxAge (plus the clock tolerance) and refuses an older or missing one', () => {
    expect(satisfiesStepUp({ auth_time: nowSeconds - 60 }, { maxAgeSeconds: 60 }, NOW)).toBe(true);
    expect(satisfiesStepUp({ auth_time: nowSeconds - 75 }, { maxAgeSeconds: 60 }, NOW)).toBe(true);
    expect(satisfiesStepUp({ auth_time: nowSeconds - 76 }, { maxAgeSeconds: 60 }, NOW)).toBe(false);
    expect(satisfiesStepUp({}, { maxAgeSeconds: 60 }, NOW)).toBe(false);
    expect(satisfiesStepUp({ auth_time: String(nowSeconds) }, { maxAgeSeconds: 60 }, NOW)).toBe(false);
  });

  it('refuses an auth_time in the future beyond the tolerance', () => {
    expect(satisfiesStepUp({ auth_time: nowSeconds + 600 }, { maxAgeSeconds: 60 }, NOW)).toBe(false);
  });

  it('needs both when both are asked', () => {
    const requirement = { acrValues: [LOA_2], maxAgeSeconds: 60 };
    expect(satisfiesStepUp({ acr: LOA_2, auth_time: nowSeconds }, requirement, NOW)).toBe(true);
    expect(satisfiesStepUp({ acr: LOA_2, auth_time: nowSeconds - 3600 }, requirement, NOW)).toBe(false);
    expect(satisfiesStepUp({ acr: LOA_1, auth_time: nowSeconds }, requirement, NOW)).toBe(false);
  });

  it('passes anything when nothing is asked', () => {
    expect(satisfiesStepUp({}, {}, NOW)).toBe(true);
    expect(asksStepUp({})).toBe(false);
    expect(asksStepUp({ acrValues: [] })).toBe(false);
    expect(asksStepUp({ maxAgeSeconds: 0 })).toBe(true);
  });
});

describe('stepUpLoginUrl', () => {
  it('names acr_values, max_age and returnTo, encoded', () => {
    expect(stepUpLoginUrl({ acrValues: [LOA_1, LOA_2], maxAgeSeconds: 300 }, '/settings?tab=2')).toBe(
      `/bff/login?acr_values=${encodeURIComponent(`${LOA_1} ${LOA_2}`).replace(/%20/g, '+')}&max_age=300&returnTo=%2Fsettings%3Ftab%3D2`,
    );
  });

  it('returns to / by default', () => {
    expect(stepUpLoginUrl({ maxAgeSeconds: 0 })).toBe('/bff/login?max_age=0&returnTo=%2F');
  });
});
