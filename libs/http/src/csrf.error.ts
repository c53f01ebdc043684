import { ErrorCode, type ErrorVariant, GatewayError } from '#sessiongate/observability';

export class CsrfError extends GatewayError<ErrorCode.Csrf> {
  constructor(detail: string, variant?: ErrorVariant<ErrorCode.Csrf>) {
    super(ErrorCode.Csrf, { detail, variant });
  }
}
