import { FhirError } from '../fhir/errors';
import type { RouteAccess } from '../http/routes';
import type { Condition } from '../search/query';
import { grantsFor, type Action } from './scopes';
import { unauthorized, type Principal, type TokenVerifier } from './verifier';

/**
 * Who may call what, decided in one place for every route and every batch/transaction entry:
 * authentication (a verified bearer token, or the open loopback mode) and the SMART scope check.
 */
export interface Authenticator {
  /** True when no keys are configured: the server then listens on loopback only (see exposureProblem). */
  readonly open: boolean;
  authenticate(authorization: string | undefined): Promise<Principal>;
}

/** The caller of an unauthenticated loopback server: the developer at this machine. */
export const LOCAL_PRINCIPAL: Principal = {
  subject: 'local', kind: 'local', grants: [{ context: 'system', type: '*', actions: new Set<Action>(['c', 'r', 'u', 'd', 's']) }],
};

export function openAccess(): Authenticator {
  return { open: true, authenticate: async () => LOCAL_PRINCIPAL };
}

/** Verified tokens are remembered this long at most (and never past their expiry). */
const CACHE_MS = 5 * 60_000;
const CACHE_ENTRIES = 10_000;

/**
 * Bearer authentication. A signature check costs ~0.3 ms, as much as a whole read, so a verified
 * token is remembered until it expires or for five minutes, whichever is sooner (which also
 * bounds how long a key removed from the JWKS keeps working).
 */
export function bearerAccess(verifier: TokenVerifier, now: () => number = Date.now): Authenticator {
  const verified = new Map<string, { principal: Principal; until: number }>();
  return {
    open: false,
    async authenticate(authorization) {
      if (authorization === undefined) {
        throw new FhirError('login', 'This server needs a bearer token (Authorization: Bearer …)', { headers: { 'WWW-Authenticate': 'Bearer realm="fhir"' } });
      }
      const m = /^Bearer +([A-Za-z0-9_.~+/-]+=*)$/i.exec(authorization.trim());
      if (!m) throw unauthorized('The Authorization header is not a bearer token');
      const token = m[1];
      const hit = verified.get(token);
      if (hit && hit.until > now()) return hit.principal;
      if (hit) verified.delete(token);
      const principal = await verifier.verify(token);
      if (verified.size >= CACHE_ENTRIES) verified.delete(verified.keys().next().value as string);
      verified.set(token, { principal, until: Math.min(principal.expiresAt ?? 0, now() + CACHE_MS) });
      return principal;
    },
  };
}

const ACTION_NAMES: Record<Action, string> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };

/** Only the server writes these (the audit trail is append-only): no client may create, change or delete one. */
export const APPEND_ONLY: ReadonlySet<string> = new Set(['AuditEvent']);

/**
 * The scope check. `type` is the resource type acted on ('*' for system-level routes, which need a
 * '*' grant). Patient-context scopes (patient/…) are honoured by confining the reach to the launch
 * patient's compartment (consent/reach.ts); here they need that patient to be named.
 */
export function authorize(principal: Principal, access: RouteAccess, type: string): void {
  if (access === 'public' || access === 'entries') return;
  if ((access === 'c' || access === 'u' || access === 'd') && APPEND_ONLY.has(type)) {
    throw new FhirError('forbidden', `${type} is written by the server only and is never changed or deleted`);
  }
  if (principal.kind === 'local') return;
  const grants = grantsFor(principal.grants, type, access);
  const insufficient = { 'WWW-Authenticate': 'Bearer realm="fhir", error="insufficient_scope"' };
  if (grants.length === 0) {
    throw new FhirError('forbidden', `The token's scopes do not allow ${ACTION_NAMES[access]} on ${type === '*' ? 'all types' : type}`, { headers: insufficient });
  }
  if (grants.every((g) => g.context === 'patient') && principal.patient === undefined && principal.kind !== 'patient') {
    throw new FhirError('forbidden', 'Patient-context scopes (patient/…) need a patient launch context in the token (the `patient` claim)', { headers: insufficient });
  }
}

/**
 * A search by `principal` on `type`: the type itself (unless the route already checked it) and
 * every type its chains and `_has` look into, since each answer reveals something about those
 * too. Conditional interactions and conditional references are searches and are checked alike.
 */
export function authorizeSearch(principal: Principal, type: string, conditions: readonly Condition[], checkType = true): void {
  if (checkType) authorize(principal, 's', type);
  for (const c of conditions) {
    if (c.kind === 'chain') { for (const t of c.targetTypes) authorizeSearch(principal, t, [c.where]); }
    if (c.kind === 'has') authorizeSearch(principal, c.type, [c.where]);
    if (c.kind === 'or') authorizeSearch(principal, type, c.any, false);
  }
}

/** The same decision as authorize, as a yes or no (for filtering included resources). */
export function allows(principal: Principal, action: Action, type: string): boolean {
  try {
    authorize(principal, action, type);
    return true;
  } catch {
    return false;
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Secure by default: without keys the server may only listen where no one else can reach it. */
export function exposureProblem(host: string, authConfigured: boolean): string | undefined {
  if (authConfigured || LOOPBACK.has(host) || /^127\./.test(host)) return undefined;
  return `refusing to listen on ${host} without authentication: set JWKS_FILE or JWKS_URL (with AUTH_ISSUER and AUTH_AUDIENCE), or listen on 127.0.0.1`;
}
