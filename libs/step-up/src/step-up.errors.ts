import { GatewayError, type GatewayErrorOptions } from '#sessiongate/observability';
import { type StepUpRequirement, stepUpLoginUrl } from './step-up.policy.js';

export enum StepUpErrorCode {
  /** The session's authentication is too weak or too old for this route (RFC 9470): log in again at `loginUrl`. */
  StepUpRequired = 'step_up_required',
  /** A step-up login came back as another user (or from another issuer) than the session's: the session is kept as it was. */
  StepUpSubjectMismatch = 'step_up_subject_mismatch',
}

const RESPONSE: Record<StepUpErrorCode, { readonly status: number; readonly message: string }> = {
  [StepUpErrorCode.StepUpRequired]: {
    status: 401,
    message: 'This action needs a stronger or more recent login. Log in again at loginUrl.',
  },
  [StepUpErrorCode.StepUpSubjectMismatch]: {
    status: 403,
    message: 'The new login is for another user than this session. Log in again as the same user.',
  },
};

export class StepUpError extends GatewayError {
  declare readonly code: StepUpErrorCode;

  constructor(code: StepUpErrorCode, options: GatewayErrorOptions = {}) {
    super(code, RESPONSE[code].status, RESPONSE[code].message, options);
  }

  /** 401 `step_up_required`, with the login URL that satisfies `requirement` in the body (`loginUrl`). */
  static required(requirement: StepUpRequirement, detail: string): StepUpError {
    return new StepUpError(StepUpErrorCode.StepUpRequired, { detail, body: { loginUrl: stepUpLoginUrl(requirement) } });
  }
}
