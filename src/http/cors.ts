import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { operationOutcome } from '../fhir/operation-outcome';
import { allowedMethods } from './routes';

/**
 * Cross-origin requests (the Fetch standard's CORS protocol), so browser apps (PHR apps, SMART
 * apps, the console) can use the server. Origins are allowed by CORS_ORIGINS; by default none,
 * except in the open loopback developer mode, where any origin is. A preflight from an allowed
 * origin is answered 204 with the methods the URL takes and the headers FHIR clients send; one from
 * another origin is refused 403 (the browser then blocks the request). Responses to an allowed
 * origin name it and expose the headers FHIR clients read. A plain OPTIONS answers with `Allow`.
 */
export interface CorsPolicy {
  /** `*`, or exact origins (scheme://host[:port]). */
  origins: readonly string[];
}

export const ALLOWED_HEADERS = 'Authorization, Content-Type, Accept, Prefer, If-Match, If-None-Match, If-None-Exist, If-Modified-Since, X-Request-Id, X-Purpose-Of-Use, X-Break-Glass-Reason';
export const EXPOSED_HEADERS = 'Location, ETag, Content-Location, Last-Modified, X-Request-Id, X-Progress, Retry-After';
const MAX_AGE_SECONDS = '600';

export function originAllowed(policy: CorsPolicy, origin: string): boolean {
  return policy.origins.includes('*') || policy.origins.includes(origin);
}

function refuse(res: ServerResponse, status: 403 | 404, diagnostics: string): void {
  const body = JSON.stringify(operationOutcome([{ severity: 'error', code: status === 403 ? 'forbidden' : 'not-found', diagnostics }]));
  res.writeHead(status, { 'Content-Type': 'application/fhir+json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function withCors(policy: CorsPolicy, next: RequestListener): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const origin = req.headers.origin;
    const allowed = typeof origin === 'string' && originAllowed(policy, origin);
    if (allowed) {
      res.setHeader('Access-Control-Allow-Origin', policy.origins.includes('*') ? '*' : origin);
      res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    }
    if (typeof origin === 'string' && !policy.origins.includes('*')) res.setHeader('Vary', 'Origin');
    if (req.method !== 'OPTIONS') return next(req, res);
    const path = (req.url ?? '/').split('?')[0];
    const methods = path.startsWith('/fhir') ? allowedMethods(path.slice('/fhir'.length) || '/') : [];
    const preflight = typeof origin === 'string' && req.headers['access-control-request-method'] !== undefined;
    if (preflight && !allowed) return refuse(res, 403, `Origin ${origin.slice(0, 200)} is not allowed (CORS_ORIGINS)`);
    if (methods.length === 0) return refuse(res, 404, `No FHIR endpoint at ${path.slice(0, 200)}`);
    const allow = [...methods, 'OPTIONS'].join(', ');
    const headers: Record<string, string> = { Allow: allow };
    if (preflight) {
      headers['Access-Control-Allow-Methods'] = allow;
      headers['Access-Control-Allow-Headers'] = ALLOWED_HEADERS;
      headers['Access-Control-Max-Age'] = MAX_AGE_SECONDS;
    }
    res.writeHead(204, headers);
    res.end();
  };
}
