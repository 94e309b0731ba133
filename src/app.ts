import type { Deps } from './deps';
import { createHttpApp, type Lifecycle } from './http/express-app';
import { requestLog } from './http/request-log';

/**
 * The request lifecycle, in order: request id + access log → route (content negotiation, body
 * limits, parse, interaction) → not-found → error handler. Authentication, consent and audit
 * will slot into the interaction pipeline, not here.
 */
export function createApp(deps: Deps, lifecycle: Lifecycle = { accepting: () => true }) {
  return createHttpApp(deps, lifecycle, [requestLog(deps.logger)]);
}
