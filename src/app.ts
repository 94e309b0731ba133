import type { RequestListener } from 'node:http';
import type { Deps } from './deps';
import { createHttpApp, type Lifecycle } from './http/express-app';
import { withFastRead } from './http/fast-read';
import { withCors } from './http/cors';
import { corsOrigins } from './auth/smart';
import { requestLog } from './http/request-log';
import { metricsOf } from './http/metrics';

/**
 * The request lifecycle, in order: CORS (http/cors.ts: origin headers, preflights) → request id + access log → route (authentication and scopes,
 * content negotiation, body limits, parse, interaction) → not-found → error handler. Read by id
 * takes the same path without express (http/fast-read.ts). The result is a node:http listener.
 */
export function createApp(deps: Deps, lifecycle: Lifecycle = { accepting: () => true }): RequestListener {
  return withCors({ origins: corsOrigins(deps.config, deps.auth.open) }, withFastRead(deps, createHttpApp(deps, lifecycle, [requestLog(deps.logger, deps.config.metrics ? metricsOf(deps) : undefined)])));
}
