export { asksStepUp, satisfiesStepUp, type StepUpRequirement, stepUpLoginUrl } from './step-up.policy.js';
export { stepUpChallenge } from './step-up-challenge.policy.js';
export { StepUpError, StepUpErrorCode } from './step-up.errors.js';
export { assertRouteStepUp, routeStepUp } from './step-up.check.js';
