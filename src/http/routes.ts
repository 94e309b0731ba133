import type { Action } from '../auth/scopes';
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
  { method: 'GET', path: '/_history', interaction: 'history-system', access: 'r' },
  { method: 'POST', path: '/:type/$validate', interaction: 'validate-type', access: 'r' },
  { method: 'POST', path: '/:type/$abdm-artefact', interaction: 'consent-from-artefact', access: 'r' },
  { method: 'POST', path: '/:type/:id/$validate', interaction: 'validate-instance', access: 'r' },
  { method: 'GET', path: '/:type/$verify-chain', interaction: 'verify-audit', access: 'r' },
  { method: 'GET', path: '/:type/_history', interaction: 'history-type', access: 'r' },
  { method: 'GET', path: '/:type/:id/_history', interaction: 'history-instance', access: 'r' },
  { method: 'GET', path: '/:type/:id/_history/:vid', interaction: 'vread', access: 'r' },
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

/** Every distinct path, for answering 405 with the methods it does allow. */
export function allowedMethods(path: string): string[] {
  return ROUTES.filter((r) => r.path === path).map((r) => r.method);
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
    const pattern = route.path.split('/').filter((s) => s !== '');
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length && ok; i++) {
      if (pattern[i].startsWith(':')) params[pattern[i].slice(1)] = decodeURIComponent(segments[i]);
      else ok = pattern[i] === segments[i];
    }
    if (ok) return { route, params };
  }
  return undefined;
}
