import type { NextFunction, Request, Response } from 'express';
import { FhirError } from '../fhir/errors';
import { operationOutcome } from '../fhir/operation-outcome';
import type { Logger } from '../logger';
import { sendJson } from './respond';

/** Errors raised by the HTTP stack itself (e.g. a malformed %-escape in the path) carry a status. */
function frameworkStatus(err: unknown): number | undefined {
  const status = (err as { status?: unknown; statusCode?: unknown })?.status ?? (err as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/** The only place an error becomes an OperationOutcome response. No stack or internals reach the client. */
/** The status an error will be answered with (for the audit record, written before the answer). */
export function statusOf(err: unknown): number {
  if (err instanceof FhirError) return err.status;
  return frameworkStatus(err) ?? 500;
}

export function toOutcome(err: unknown, requestId: string, logger: Logger): { status: number; body: object } {
  if (err instanceof FhirError) {
    return { status: err.status, body: operationOutcome(err.issues) };
  }
  const status = frameworkStatus(err);
  if (status !== undefined) {
    return { status, body: operationOutcome([{ severity: 'error', code: 'invalid', diagnostics: 'The request could not be understood' }]) };
  }
  // A 500 is a bug: log it with the request id, tell the client only that id.
  logger.error('unhandled error', { requestId, error: err instanceof Error ? err.stack : String(err) });
  return {
    status: 500,
    body: operationOutcome([{ severity: 'fatal', code: 'exception', diagnostics: `Internal error; quote request id ${requestId}` }]),
  };
}

export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const requestId = String(res.getHeader('X-Request-Id') ?? '');
    const { status, body } = toOutcome(err, requestId, logger);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.removeHeader('ETag');
    res.removeHeader('Last-Modified');
    res.removeHeader('Location');
    if (err instanceof FhirError) for (const [name, value] of Object.entries(err.headers ?? {})) res.setHeader(name, value);
    sendJson(res, status, body, req.url.includes('_pretty=true'));
  };
}
