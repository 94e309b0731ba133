import type { Action } from '../auth/scopes';
import { FhirError } from '../fhir/errors';
import type { InteractionName } from '../interactions/registry';

/**
 * What a route needs from the caller's scopes: a SMART action on the resource type in the URL
 * ('*' for system-level routes), nothing (`public`: the CapabilityStatement), or a check of each
 * entry of a batch or transaction as if it were sent alone (`entries`).
 */
export type RouteAccess = Action | 'public' | 'entries';

/**
 * The REST surface in one table (http.html#summary). Order matters: literal segments such as
 * `metadata` and `_history` come before the `:type` patterns they would otherwise match.
 * `conditional` rows apply only when the URL carries a query (the criteria).
 */
export const ROUTES = [
  { method: 'GET', path: '/metadata', interaction: 'capabilities', access: 'public' },
  { method: 'GET', path: '/', interaction: 'search-system', access: 's' },
  { method: 'POST', path: '/', interaction: 'transaction', access: 'entries' },
  { method: 'POST', path: '/_search', interaction: 'search-system', access: 's' },
  // GET on the _search URLs is what some clients send (fhir-kit-client's systemSearch): the same search.
  { method: 'GET', path: '/_search', interaction: 'search-system', access: 's' },
  { method: 'GET', path: '/_history', interaction: 'history-system', access: 'r' },
  { method: 'POST', path: '/:type/$validate', interaction: 'validate-type', access: 'r' },
  { method: 'POST', path: '/:type/$abdm-artefact', interaction: 'consent-from-artefact', access: 'r' },
  { method: 'POST', path: '/:type/:id/$validate', interaction: 'validate-instance', access: 'r' },
  // composition-operation-document.html: GET changes nothing; persist=true (POST) also checks create on Bundle.
  { method: 'GET', path: '/:type/$document', interaction: 'document-type', access: 'r' },
  { method: 'POST', path: '/:type/$document', interaction: 'document-type', access: 'r' },
  { method: 'GET', path: '/:type/:id/$document', interaction: 'document-instance', access: 'r' },
  { method: 'POST', path: '/:type/:id/$document', interaction: 'document-instance', access: 'r' },
  { method: 'POST', path: '/:type/:id/$abdm-request-data', interaction: 'abdm-request-data', access: 'c' },
  { method: 'GET', path: '/:type/$verify-chain', interaction: 'verify-audit', access: 'r' },
  { method: 'GET', path: '/:type/_history', interaction: 'history-type', access: 'r' },
  { method: 'GET', path: '/:type/:id/_history', interaction: 'history-instance', access: 'r' },
  { method: 'GET', path: '/:type/:id/_history/:vid', interaction: 'vread', access: 'r' },
  { method: 'GET', path: '/:type/_search', interaction: 'search-type', access: 's' },
  { method: 'GET', path: '/:type/:id', interaction: 'read', access: 'r' },
  { method: 'GET', path: '/:type/:id/:compartmentType', interaction: 'search-compartment', access: 's' },
  { method: 'GET', path: '/:type', interaction: 'search-type', access: 's' },
  { method: 'POST', path: '/:type/_search', interaction: 'search-type', access: 's' },
  { method: 'POST', path: '/:type', interaction: 'create', access: 'c' },
  { method: 'PUT', path: '/:type/:id', interaction: 'update', access: 'u' },
  { method: 'PUT', path: '/:type', interaction: 'conditional-update', access: 'u' },
  { method: 'PATCH', path: '/:type/:id', interaction: 'patch', access: 'u' },
  { method: 'PATCH', path: '/:type', interaction: 'conditional-patch', access: 'u' },
  { method: 'DELETE', path: '/:type/:id', interaction: 'delete', access: 'd' },
  { method: 'DELETE', path: '/:type', interaction: 'conditional-delete', access: 'd' },
] as const satisfies readonly { method: string; path: string; interaction: InteractionName; access: RouteAccess }[];

export type Route = (typeof ROUTES)[number];

/**
 * The methods a concrete path (relative to the base) supports, for the `Allow` header of a 405
 * (RFC 9110 §15.5.6, http.html): those of the first pattern in the table it fits, as routing
 * picks it. A `$name` segment fits only where the table names that very operation, not a
 * `:type` or `:id`. HEAD goes with GET.
 */
export function allowedMethods(path: string): string[] {
  const segments = path.split('/').filter((s) => s !== '');
  const first = ROUTES.find((r) => {
    let params: Record<string, string> | undefined;
    try { params = paramsOf(r, segments); } catch { return false; } // a malformed %-escape fits nothing
    return params !== undefined && !Object.values(params).some((v) => v.startsWith('$'));
  });
  if (!first) return [];
  const methods: string[] = ROUTES.filter((r) => r.path === first.path).map((r) => r.method);
  return methods.includes('GET') ? ['GET', 'HEAD', ...methods.filter((m) => m !== 'GET')] : methods;
}

/**
 * An operation (`$name`) in a path segment the table has no route for (http.html#operations,
 * operations.html): a clear not-supported rather than "not a resource type" or "not a valid id".
 * The same operation at another level is named, so the client can find it.
 */
export function unsupportedOperation(params: Record<string, string | undefined>, path: string): FhirError | undefined {
  const op = Object.values(params).find((v) => v !== undefined && v.startsWith('$'));
  if (op === undefined) return undefined;
  const name = op.slice(0, 64);
  // The operation is here, by another method (`GET [type]/$validate`): 405 with what it takes.
  const allowed = allowedMethods(path);
  if (allowed.length > 0) {
    return new FhirError('not-supported', `Operation '${name}' takes ${allowed.join(', ')} here`, { status: 405, headers: { Allow: allowed.join(', ') } });
  }
  const elsewhere = ROUTES.filter((r) => r.path.split('/').includes(op)).map((r) => `${r.method} [base]${r.path.replace(/:(\w+)/g, '[$1]')}`);
  const hint = elsewhere.length ? `; it is supported as ${elsewhere.join(', ')}` : '';
  return new FhirError('not-supported', `Operation '${name}' is not supported here${hint}`);
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

/**
 * Matches a method and a path relative to the FHIR base (`/Patient/1/_history`) against the
 * table, as express does for HTTP requests. Batch and transaction entries are dispatched with it,
 * so an entry reaches exactly the interaction the same request over HTTP would.
 */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  const segments = path.split('/').filter((s) => s !== '');
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const params = paramsOf(route, segments);
    if (params) return { route, params };
  }
  return undefined;
}

/** The path parameters if the segments fit the route's pattern. */
function paramsOf(route: Route, segments: string[]): Record<string, string> | undefined {
  const pattern = route.path.split('/').filter((s) => s !== '');
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i].startsWith(':')) params[pattern[i].slice(1)] = decodeURIComponent(segments[i]);
    else if (pattern[i] !== segments[i]) return undefined;
  }
  return params;
}
