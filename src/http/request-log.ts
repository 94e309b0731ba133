import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger';
import type { Metrics } from './metrics';

/** A client's X-Request-Id is honoured only if it is short and plain, so it is safe to log and echo. */
const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request id and access log for one request. The log line names the interaction and resource
 * type (from `locals`, filled in while the request is served) but never the URL's query or ids
 * beyond the route, the body, or any header value: those may carry patient identifiers (an ABHA
 * number in a query) or tokens.
 */
export function beginRequest(req: IncomingMessage, res: ServerResponse, logger: Logger, locals: Record<string, unknown>, metrics?: Metrics): string {
  const given = req.headers['x-request-id'];
  const requestId = typeof given === 'string' && CLIENT_ID.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', requestId);
  locals.requestId = requestId;
  const log = logger.isInfoEnabled();
  if (!log && !metrics) return requestId; // no access log and no metrics: no per-request listener either
  const started = process.hrtime.bigint();
  res.on('finish', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    metrics?.observe(locals, res.statusCode, seconds);
    if (!log) return;
    logger.info('request', {
      requestId,
      method: req.method,
      interaction: locals.interaction,
      resourceType: locals.resourceType,
      status: res.statusCode,
      ms: seconds * 1000,
    });
  });
  return requestId;
}

export function requestLog(logger: Logger, metrics?: Metrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    beginRequest(req, res, logger, res.locals, metrics);
    next();
  };
}
