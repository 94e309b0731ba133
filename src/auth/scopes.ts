/**
 * SMART on FHIR scopes, v1 (`patient/Observation.read`, `user/*.write`, `system/*.*`) and v2
 * (`patient/Observation.rs`, `user/*.cruds`), parsed once per token into grants that one
 * function checks (scopes.html in SMART App Launch 1.0 and 2.0). Pure.
 */
export type Action = 'c' | 'r' | 'u' | 'd' | 's';
export type Context = 'patient' | 'user' | 'system';

export interface Grant {
  context: Context;
  /** A resource type, or '*' for every type. */
  type: string;
  actions: ReadonlySet<Action>;
}

/** SMART v1 permissions in v2 letters. */
const V1: Record<string, readonly Action[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': ['c', 'r', 'u', 'd', 's'] };
const SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]+)\.(\*|read|write|c?r?u?d?s?)(\?.*)?$/;

/** Resource scopes among a token's scopes; anything else (openid, launch, fhirUser …) is not a grant. */
export function parseScopes(scope: string): Grant[] {
  const grants: Grant[] = [];
  for (const s of scope.split(/\s+/).filter(Boolean)) {
    const m = SCOPE.exec(s);
    if (!m || m[3] === '' || m[4] !== undefined) continue; // v2 fine-grained (?query) scopes are not granted, so never widened
    const actions = V1[m[3]] ?? ([...m[3]] as Action[]);
    grants.push({ context: m[1] as Context, type: m[2], actions: new Set(actions) });
  }
  return grants;
}

/** The grants that allow `action` on `type` (in any context). */
export function grantsFor(grants: readonly Grant[], type: string, action: Action): Grant[] {
  return grants.filter((g) => (g.type === '*' || g.type === type) && g.actions.has(action));
}
