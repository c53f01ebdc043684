import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './error-response.js';
import { GatewayError } from './gateway.error.js';

const CODE_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
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
      return new GatewayError(CODE_BY_STATUS[status] ?? 'bad_request', status, 'The request was not accepted.', {
        detail: exception.message,
      });
    }
    return exception;
  }
}
