import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from './error-catalogue.js';
import { sendError } from './error-response.js';
import { GatewayError } from './gateway.error.js';

type FrameworkRefusal =
  | ErrorCode.BadRequest
  | ErrorCode.NotFound
  | ErrorCode.MethodNotAllowed
  | ErrorCode.PayloadTooLarge
  | ErrorCode.UnsupportedMediaType
  | ErrorCode.TooManyRequests;

const CODE_BY_STATUS: Record<number, FrameworkRefusal> = {
  400: ErrorCode.BadRequest,
  404: ErrorCode.NotFound,
  405: ErrorCode.MethodNotAllowed,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
  429: ErrorCode.TooManyRequests,
};

/** The one place where thrown errors become responses: GatewayErrors keep their code, Nest's HTTP errors get one. */
@Catch()
export class GatewayExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendError(http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), this.normalise(exception));
  }

  private normalise(exception: unknown): unknown {
    if (exception instanceof HttpException && exception.getStatus() < 500) {
      const status = exception.getStatus();
      return new GatewayError(CODE_BY_STATUS[status] ?? ErrorCode.BadRequest, {
        variant: 'notAccepted',
        status,
        detail: exception.message,
      });
    }
    return exception;
  }
}
