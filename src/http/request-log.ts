import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger';

/** A client's X-Request-Id is honoured only if it is short and plain, so it is safe to log and echo. */
const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request id and access log. The log line names the interaction and resource type but never
 * the URL's query or ids beyond the route, the body, or any header value: those may carry
 * patient identifiers (an ABHA number in a query) or tokens.
 */
export function requestLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && CLIENT_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      if (!logger.isInfoEnabled()) return;
      logger.info('request', {
        requestId,
        method: req.method,
        interaction: res.locals.interaction,
        resourceType: res.locals.resourceType,
        status: res.statusCode,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      });
    });
    next();
  };
}
