import type { Consent, Identifier, Patient, Resource } from 'fhir/r4';
import type { Principal } from '../auth/verifier';
import { FhirError } from '../fhir/errors';
import type { SearchParameters } from '../search/parameters';
import type { Condition } from '../search/query';
import type { ResourceStore, StoredVersion, StoreReader } from '../storage/store';
import type { ConsentTerms, Reach } from './decide';
import { DEFAULT_PURPOSE, isPurpose, PURPOSES, type Coverage, type Purpose } from './tables';
import { consentTerms } from './terms';

/** What the request says about why it is made (X-Purpose-Of-Use, X-Break-Glass-Reason). */
export interface StatedPurpose {
  purpose?: string;
  breakGlassReason?: string;
}

export interface ReachDeps {
  store: StoreReader & Pick<ResourceStore, 'generation'>;
  search: SearchParameters;
  breakTheGlass: boolean;
  /** What each health-information type covers (derived from the record profiles at start-up). */
  coverage: Coverage;
  now(): Date;
}

/** Consents one principal may hold, read per request so a grant or revocation counts at once. */
const MAX_CONSENTS = 1000;
const MAX_REASON = 500;

function statedPurpose(stated: StatedPurpose): Purpose {
  const code = stated.purpose?.trim();
  if (code === undefined || code === '') return DEFAULT_PURPOSE;
  if (!isPurpose(code)) throw new FhirError('invalid', `X-Purpose-Of-Use must be one of ${PURPOSES.join(', ')}, got '${code.slice(0, 40)}'`);
  return code;
}

/**
 * The patient a token is confined to: SMART patient-context scopes (patient/…) alone confine a
 * client to its launch patient's compartment. Undefined when the token has user or system scopes.
 */
function confinement(principal: Principal): string | undefined {
  if (principal.grants.length === 0 || !principal.grants.every((g) => g.context === 'patient')) return undefined;
  const patient = principal.patient ?? (principal.kind === 'patient' ? principal.fhirUser?.id : undefined);
  if (patient === undefined) {
    throw new FhirError('forbidden', 'Patient-context scopes (patient/…) need a patient launch context in the token (the `patient` claim)');
  }
  return patient;
}

const NOTHING: Reach = { kind: 'patient', patient: '' };

/** Who the principal may see on this request, as decide() takes it. */
export async function reachFor(deps: ReachDeps, principal: Principal, stated: StatedPurpose): Promise<Reach> {
  if (principal.kind === 'local') return { kind: 'all' };
  const purpose = statedPurpose(stated);
  const confinedTo = confinement(principal);
  if (purpose === 'BTG') return breakGlass(deps, principal, stated, confinedTo);
  switch (principal.kind) {
    case 'system':
      if (confinedTo !== undefined) return { kind: 'patient', patient: confinedTo };
      return principal.grants.some((g) => g.context === 'system') ? { kind: 'all' } : NOTHING;
    case 'patient': {
      const own = principal.fhirUser?.id ?? '';
      return confinedTo === undefined || confinedTo === own ? { kind: 'patient', patient: own } : NOTHING;
    }
    case 'practitioner':
    case 'organization': {
      let consents = await consentsHeldBy(deps, principal);
      if (confinedTo !== undefined) consents = consents.map((c) => ({ ...c, patients: c.patients.filter((p) => p === confinedTo) }));
      // A token confined to one patient sees that patient's records only, even those it wrote.
      const self = principal.fhirUser && confinedTo === undefined ? `${principal.fhirUser.type}/${principal.fhirUser.id}` : undefined;
      return { kind: 'consents', purpose, consents, nowMs: deps.now().getTime(), self, coverage: deps.coverage };
    }
    default: {
      const never: never = principal.kind;
      return never;
    }
  }
}

function breakGlass(deps: ReachDeps, principal: Principal, stated: StatedPurpose, confinedTo: string | undefined): Reach {
  if (!deps.breakTheGlass) throw new FhirError('forbidden', 'Break-the-glass access (purpose BTG) is not enabled on this server');
  if (principal.kind !== 'practitioner') throw new FhirError('forbidden', 'Only a practitioner may break the glass');
  const reason = stated.breakGlassReason?.trim() ?? '';
  if (reason === '' || reason.length > MAX_REASON) {
    throw new FhirError('forbidden', `Break-the-glass access needs a stated reason (X-Break-Glass-Reason, at most ${MAX_REASON} characters)`);
  }
  return confinedTo === undefined ? { kind: 'break-glass', reason } : { kind: 'patient', patient: confinedTo };
}

function key(search: SearchParameters, type: string, code: string): string {
  const def = search.get(type, code);
  if (!def) throw new FhirError('exception', `search parameter ${type}.${code} is not defined`);
  return def.key;
}

interface Held { key: string; consents: ConsentTerms[]; byIdentifier: boolean }

/** Per store (one per process): the consents each principal held at a given state of the data. */
const HELD = new WeakMap<object, Map<string, Held>>();
const HELD_ENTRIES = 10_000;

/**
 * Active consents that name the principal as requester, HIU or actor, by reference or identifier.
 * Reading them is a search; it is reused while the store's generation of Consent and of the
 * principal's own type (its identifiers may change) are unchanged, and, for consents naming their
 * patient by ABHA identifier, of Patient too. Generations move with every write by any process
 * (store.generation), so a grant or revocation counts at once; checking them costs a few map
 * lookups, not a query.
 */
async function consentsHeldBy(deps: ReachDeps, principal: Principal): Promise<ConsentTerms[]> {
  const user = principal.fhirUser;
  if (!user) return [];
  let cache = HELD.get(deps.store);
  if (!cache) HELD.set(deps.store, (cache = new Map()));
  const who = `${user.type}/${user.id}`;
  const key = `${await deps.store.generation('Consent')}|${await deps.store.generation(user.type)}`;
  const hit = cache.get(who);
  if (hit && hit.key === (hit.byIdentifier ? `${key}|${await deps.store.generation('Patient')}` : key)) return hit.consents;
  // The generations are read before the consents: a write in between makes the next request reload.
  const patientGeneration = await deps.store.generation('Patient');
  const self = await deps.store.read(user.type, user.id);
  const byIdentifier = { used: false };
  const consents = await loadConsents(deps, user, self, byIdentifier);
  if (cache.size >= HELD_ENTRIES) cache.delete(cache.keys().next().value as string);
  cache.set(who, { key: byIdentifier.used ? `${key}|${patientGeneration}` : key, consents, byIdentifier: byIdentifier.used });
  return consents;
}

async function loadConsents(
  deps: ReachDeps, user: { type: string; id: string }, self: StoredVersion | undefined, byIdentifier: { used: boolean },
): Promise<ConsentTerms[]> {
  const own = (self?.resource as { identifier?: Identifier[] } | undefined)?.identifier ?? [];
  const identifiers = own.map((i) => i.value).filter((v): v is string => typeof v === 'string' && v !== '');
  const any: Condition[] = [];
  for (const code of ['consentor', 'organization', 'actor']) {
    const k = key(deps.search, 'Consent', code);
    any.push({ kind: 'reference', key: k, values: [{ type: user.type, id: user.id }] });
    if (identifiers.length > 0) any.push({ kind: 'token', key: `${k}:identifier`, values: identifiers.map((value) => ({ code: value })) });
  }
  const page = await deps.store.search({
    types: ['Consent'],
    where: [{ kind: 'token', key: key(deps.search, 'Consent', 'status'), values: [{ code: 'active' }] }, { kind: 'or', any }],
    sort: [], count: MAX_CONSENTS, offset: 0, total: 'none',
  });
  const resolved = new Map<string, string[]>();
  const out: ConsentTerms[] = [];
  for (const v of page.versions) {
    const consent = v.resource as Consent & { id: string };
    if (consent.patient?.reference === undefined) byIdentifier.used = true;
    out.push(consentTerms(consent, await patientIds(deps, consent, resolved)));
  }
  return out;
}

/** The Patient ids a consent's patient names: a literal reference, or an ABHA number/address. */
async function patientIds(deps: ReachDeps, consent: Consent, cache: Map<string, string[]>): Promise<string[]> {
  const ref = consent.patient?.reference;
  const literal = ref === undefined ? undefined : /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(ref);
  if (literal) return [literal[1]];
  const value = consent.patient?.identifier?.value;
  if (typeof value !== 'string' || value === '') return [];
  const hit = cache.get(value);
  if (hit) return hit;
  const page = await deps.store.search({
    types: ['Patient'], where: [{ kind: 'token', key: key(deps.search, 'Patient', 'identifier'), values: [{ code: value }] }],
    sort: [], count: 10, offset: 0, total: 'none',
  });
  const ids = page.versions.map((v) => (v.resource as Patient & Resource).id ?? '');
  cache.set(value, ids);
  return ids;
}
