import express, { type NextFunction, type Request, type Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { authorize, LOCAL_PRINCIPAL } from '../auth/access';
import type { Deps } from '../deps';
import { isResourceType } from '../fhir/definitions';
import { FhirError } from '../fhir/errors';
import { isValidId } from '../fhir/ids';
import { abdmRouter } from './abdm-routes';
import { smartConfiguration } from '../auth/smart';
import { metricsOf } from './metrics';
import { interaction } from '../interactions/registry';
import { recordFailure, requestScope, type RequestFacts, type RequestScope } from '../interactions/pipeline';
import type { FhirRequest } from '../interactions/types';
import type { Principal } from '../auth/verifier';
import { parseJson } from '../json/safe-json';
import { readBody } from './body';
import { memoryBudgetOf, worstCaseBytes } from './memory-budget';
import { errorHandler, statusOf } from './error-handler';
import { bodyKind, checkAcceptable, isPretty } from './negotiate';
import { respond } from './respond';
import { allowedMethods, ROUTES, unsupportedOperation, type Route } from './routes';

export interface Lifecycle {
  /** False once shutdown has begun: /readyz then says 503 so load balancers drain us. */
  accepting(): boolean;
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
};

function baseUrl(deps: Deps, req: IncomingMessage): string {
  const protocol = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  return deps.config.baseUrl ?? `${protocol}://${req.headers.host ?? `${deps.config.host}:${deps.config.port}`}/fhir`;
}

/**
 * Checks the path's type and id before any work: an operation the server lacks → 400
 * not-supported, unknown type → 404, malformed id → 400.
 */
function checkPath(params: Record<string, string | undefined>, path: string): void {
  const operation = unsupportedOperation(params, path);
  if (operation) throw operation;
  if (params.type !== undefined && !isResourceType(params.type)) {
    throw new FhirError('not-found', `'${params.type}' is not a FHIR R4 resource type this server knows`);
  }
  if (params.id !== undefined && !isValidId(params.id)) {
    throw new FhirError('invalid', `'${params.id}' is not a valid FHIR id`);
  }
}

const FORM = 'application/x-www-form-urlencoded';

/** `POST …/_search` carries its parameters as a form (search.html#search); they join the URL's. */
async function formParameters(deps: Deps, req: IncomingMessage, query: URLSearchParams): Promise<void> {
  const type = (header(req, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (type !== FORM) throw new FhirError('not-supported', `POST _search takes ${FORM}`, { status: 415 });
  for (const [name, value] of new URLSearchParams(await readBody(req, deps.config.maxBodyBytes))) query.append(name, value);
}

async function requestBody(deps: Deps, req: IncomingMessage, route: Route): Promise<unknown> {
  if (route.method === 'GET' || route.method === 'DELETE') return undefined;
  const kind = bodyKind(header(req, 'content-type'));
  const expected = route.method === 'PATCH' ? 'json-patch' : 'resource';
  if (kind !== expected) {
    throw new FhirError('not-supported', route.method === 'PATCH'
      ? 'PATCH takes application/json-patch+json'
      : 'A JSON Patch body is only accepted by PATCH', { status: 415 });
  }
  const text = await readBody(req, deps.config.maxBodyBytes);
  return parseJson(text, deps.config.maxJsonDepth);
}

/**
 * One FHIR request on plain node:http objects: path checks, authentication and scopes,
 * negotiation, body, the interaction, the response. Express routes call it, and so does the
 * read fast path that keeps express off the hottest request (fast-read.ts). Returns 'next' when
 * the route does not apply after all (`PUT [type]` without criteria).
 */
export async function serve(
  deps: Deps, route: Route, params: Record<string, string | undefined>, url: string, req: IncomingMessage, res: ServerResponse,
  locals: Record<string, unknown>,
): Promise<'next' | undefined> {
  const { handler, write } = interaction(route.interaction);
  const q = url.indexOf('?');
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  // `PUT/PATCH/DELETE [type]` without criteria is not a conditional interaction at all.
  if (route.interaction.startsWith('conditional-') && q < 0) return 'next';
  locals.interaction = route.interaction;
  locals.resourceType = params.type;
  const facts: RequestFacts = {
    requestId: String(locals.requestId ?? ''), clientAddress: req.socket.remoteAddress, interaction: route.interaction,
    purpose: header(req, 'x-purpose-of-use'), breakGlassReason: header(req, 'x-break-glass-reason'),
  };
  let principal: Principal | undefined;
  let scope: RequestScope | undefined;
  try {
    checkPath(params, url.slice('/fhir'.length).split('?')[0]);
    // Open (loopback) mode answers without a promise: no microtask hop on every request.
    principal = route.access === 'public' || deps.auth.open ? LOCAL_PRINCIPAL : await deps.auth.authenticate(header(req, 'authorization'));
    authorize(principal, route.access, params.compartmentType ?? params.type ?? '*');
    checkAcceptable(header(req, 'accept'), query.get('_format') ?? undefined);
    await reserveMemory(deps, route, req, res);
    const isSearchPost = route.method === 'POST' && route.interaction.startsWith('search-');
    if (isSearchPost) await formParameters(deps, req, query);
    const request: FhirRequest = {
      type: params.type,
      id: params.id,
      versionId: params.vid,
      compartmentType: params.compartmentType,
      query,
      body: isSearchPost ? undefined : await requestBody(deps, req, route),
      headers: {
        ifMatch: header(req, 'if-match'),
        ifNoneExist: header(req, 'if-none-exist'),
        ifNoneMatch: header(req, 'if-none-match'),
        ifModifiedSince: header(req, 'if-modified-since'),
        prefer: header(req, 'prefer'),
      },
      base: baseUrl(deps, req),
      path: url.slice('/fhir'.length),
      principal,
    };
    scope = requestScope(deps, principal, facts);
    if (route.access !== 'public') await scope.ready();
    const result = await handler(scope.deps, request);
    // Nothing leaves before it is accounted for: the response waits for its audit record.
    await scope.finish(result.status, result);
    respond(res, request, result, { pretty: isPretty(query.get('_pretty') ?? undefined), write, prefer: header(req, 'prefer') });
  } catch (thrown) {
    // A lost database connection or a failover is the server's passing state, not a fault in the
    // request: 503 with Retry-After (http.html), never a 500.
    const err = deps.store.isTransient?.(thrown)
      ? new FhirError('transient', 'The database is briefly unreachable; try again', { headers: { 'Retry-After': '1' } })
      : thrown;
    await recordFailure(deps, scope, statusOf(err), facts, principal);
    throw err;
  }
  return undefined;
}

/**
 * Holds this request's worst-case share of MEMORY_BUDGET until its response is done (or the
 * connection drops). Reads of one resource need none and never wait.
 */
async function reserveMemory(deps: Deps, route: Route, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const bytes = worstCaseBytes(route.interaction, route.method, header(req, 'content-length'), deps.config);
  if (bytes === 0) return;
  const budget = memoryBudgetOf(deps, deps.config.memoryBudget);
  const reserved = budget.reserve(bytes);
  const release = typeof reserved === 'function' ? reserved : await reserved;
  if (res.writableFinished || res.destroyed) release();
  else res.once('close', release);
}

function handlerFor(deps: Deps, route: Route) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      if ((await serve(deps, route, req.params as Record<string, string | undefined>, req.originalUrl, req, res, res.locals)) === 'next') next();
    } catch (err) {
      next(err);
    }
  };
}

/** A path the table knows, with a method it does not: 405 with the methods it does take in `Allow`. */
function methodNotAllowed() {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const params = req.params as Record<string, string | undefined>;
    try {
      checkPath(params, req.path);
    } catch (err) {
      return next(err);
    }
    const allowed = allowedMethods(req.path);
    next(new FhirError('not-supported', `${req.method} is not supported on this URL; allowed: ${allowed.join(', ')}`,
      { status: 405, headers: { Allow: allowed.join(', ') } }));
  };
}

/** Express with its per-request extras off: the FHIR layer sets ETags and parses what it needs. */
export function createHttpApp(deps: Deps, lifecycle: Lifecycle, middleware: ((req: Request, res: Response, next: NextFunction) => void)[]): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', false);
  app.set('trust proxy', false);
  for (const m of middleware) app.use(m);
  app.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });
  app.get('/readyz', async (_req, res) => {
    const ready = lifecycle.accepting() && (await deps.store.ping().catch(() => false));
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready' });
  });
  // SMART App Launch discovery, at the FHIR base (where clients look) and at the root.
  const smart = (_req: Request, res: Response): void => {
    res.setHeader('Cache-Control', 'max-age=300');
    res.json(smartConfiguration(deps.config));
  };
  app.get('/fhir/.well-known/smart-configuration', smart);
  if (deps.config.metrics) {
    const metrics = metricsOf(deps);
    app.get('/metrics', (req: Request, res: Response, next: NextFunction) => { metrics.expose(req, res).catch(next); });
  }
  app.get('/.well-known/smart-configuration', smart);
  const fhir = express.Router({ caseSensitive: true, strict: false });
  for (const route of ROUTES) {
    fhir[route.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete'](route.path, handlerFor(deps, route));
  }
  for (const path of new Set(ROUTES.map((r) => r.path as string))) fhir.all(path, methodNotAllowed());
  app.use('/fhir', fhir);
  if (deps.hie) app.use('/abdm', abdmRouter(deps, deps.hie));
  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new FhirError('not-found', `No FHIR endpoint at ${req.method} ${req.path.slice(0, 200)}`));
  });
  app.use(errorHandler(deps.logger));
  return app;
}
