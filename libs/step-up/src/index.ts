export { asksStepUp, satisfiesStepUp, type StepUpRequirement, stepUpLoginUrl } from './step-up.policy.js';
export { stepUpChallenge, stepUpChallengeHeader } from './step-up-challenge.policy.js';
export { StepUpError, StepUpErrorCode } from './step-up.errors.js';
export { assertCallerStepUp, assertRouteStepUp, routeStepUp } from './step-up.check.js';
