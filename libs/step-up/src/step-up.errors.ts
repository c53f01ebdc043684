import { ErrorCode, GatewayError } from '#sessiongate/observability';
import { stepUpChallengeHeader } from './step-up-challenge.policy.js';
import { type StepUpRequirement, stepUpLoginUrl } from './step-up.policy.js';

/** The codes step-up raises (status, message and meaning of each: ERROR_CATALOGUE). */
export const StepUpErrorCode = {
  StepUpRequired: ErrorCode.StepUpRequired,
  StepUpSubjectMismatch: ErrorCode.StepUpSubjectMismatch,
  InsufficientUserAuthentication: ErrorCode.InsufficientUserAuthentication,
} as const;
export type StepUpErrorCode = (typeof StepUpErrorCode)[keyof typeof StepUpErrorCode];

export class StepUpError<C extends StepUpErrorCode = StepUpErrorCode> extends GatewayError<C> {
  /** 401 `step_up_required`, with the login URL that satisfies `requirement` in the body (`loginUrl`). */
  static required(requirement: StepUpRequirement, detail: string): StepUpError<typeof StepUpErrorCode.StepUpRequired> {
    return new StepUpError(StepUpErrorCode.StepUpRequired, { detail, body: { loginUrl: stepUpLoginUrl(requirement) } });
  }

  /** 401 `insufficient_user_authentication` for a bearer caller, with the RFC 9470 §3 challenge it can act on. */
  static insufficient(requirement: StepUpRequirement, detail: string): StepUpError<typeof StepUpErrorCode.InsufficientUserAuthentication> {
    return new StepUpError(StepUpErrorCode.InsufficientUserAuthentication, {
      detail,
      headers: { 'www-authenticate': stepUpChallengeHeader(requirement) },
    });
  }
}
