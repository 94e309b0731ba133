import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Deps } from '../deps';
import { toOutcome } from './error-handler';
import { serve } from './express-app';
import { beginRequest } from './request-log';
import { metricsOf } from './metrics';
import { sendJson } from './respond';
import { ROUTES, type Route } from './routes';

/**
 * Read by id (`GET /fhir/Patient/123`) is the hottest request a FHIR server answers. It is served
 * here on plain node:http, through the same `serve` as every route (same checks, same handler,
 * same response), without express's per-request work; everything else goes on to express.
 * The pattern admits no literal segment (`_history`, `metadata`, `$validate`), only a type and an id.
 */
const READ = /^\/fhir\/([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})\/?(?:\?.*)?$/;
const READ_ROUTE = ROUTES.find((r) => r.interaction === 'read') as Route;

export function withFastRead(deps: Deps, next: RequestListener): RequestListener {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const m = req.method === 'GET' || req.method === 'HEAD' ? READ.exec(req.url ?? '') : null;
    if (!m) {
      next(req, res);
      return;
    }
    const locals: Record<string, unknown> = {};
    const requestId = beginRequest(req, res, deps.logger, locals, deps.config.metrics ? metricsOf(deps) : undefined);
    const url = req.url as string;
    serve(deps, READ_ROUTE, { type: m[1], id: m[2] }, url, req, res, locals).catch((err: unknown) => {
      const { status, body } = toOutcome(err, requestId, deps.logger);
      const headers = (err as { headers?: Record<string, string> }).headers ?? {};
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      sendJson(res, status, body, url.includes('_pretty=true'));
    });
  };
}
