import type { Bundle, Resource } from 'fhir/r4';
import type { Principal } from '../auth/verifier';
import { AuditedStore, type Written } from '../audit/audited-store';
import { actionOf, auditEvent, type AuditEntity, type AuditFacts } from '../audit/event';
import type { Decision, Facts, Reach } from '../consent/decide';
import { factCodes, factsFrom } from '../consent/facts';
import { GuardedStore, type Guard } from '../consent/guarded-store';
import { reachFor, type StatedPurpose } from '../consent/reach';
import { DEFAULT_PURPOSE, isPurpose } from '../consent/tables';
import type { Deps } from '../deps';
import { FhirError } from '../fhir/errors';
import type { StoredVersion } from '../storage/store';
import type { FhirResult } from './types';

/** The longest break-the-glass reason an AuditEvent keeps (reach.ts refuses longer ones from restricted callers). */
const MAX_REASON = 500;

/** What the HTTP layer knows about a request, for consent and audit. */
export interface RequestFacts extends StatedPurpose {
  requestId: string;
  clientAddress?: string;
  interaction: string;
}

/** The per-request pipeline: deps whose store enforces consent and audits writes, and the final audit record. */
export interface RequestScope {
  deps: Deps;
  /**
   * Settles who the caller may see before the interaction starts. Loading a practitioner's
   * consents reads the store, which must not wait inside the interaction's own unit of work (an
   * in-memory store serialises reads behind an open write).
   */
  ready(): Promise<void>;
  /** Records the interaction's outcome (reads and anything not recorded with its writes); resolves once stored. */
  finish(status: number, result?: FhirResult): Promise<void>;
}

/**
 * Wraps the store for one request: consent enforcement on every read path (GuardedStore) over
 * write auditing in the same unit of work (AuditedStore). The loopback developer with auditing off
 * gets the store as it is: nothing to enforce, nothing to record.
 */
export function requestScope(deps: Deps, principal: Principal, facts: RequestFacts): RequestScope {
  const trail = deps.audit;
  if (!trail && principal.kind === 'local') return { deps, ready: async () => undefined, finish: async () => undefined };
  let reach: Promise<Reach> | undefined;
  const consents = new Set<string>();
  const factsOf = new WeakMap<Resource, Facts>();
  const guard: Guard = {
    reach: () => (reach ??= reachFor({
      store: deps.store, search: deps.search, breakTheGlass: deps.config.breakTheGlass, coverage: deps.coverage, now: () => deps.clock.now(),
    }, principal, facts)),
    // The same resource is decided on and then named in the audit record: its facts are read once.
    facts: (resource) => {
      let f = factsOf.get(resource);
      if (!f) factsOf.set(resource, (f = factsFrom(deps.search, resource, deps.index(resource, factCodes(resource.resourceType)))));
      return f;
    },
    writer: (principal.kind === 'practitioner' || principal.kind === 'organization') && principal.fhirUser
      ? `${principal.fhirUser.type}/${principal.fhirUser.id}` : undefined,
    shown: (_v: StoredVersion, decision: Decision) => { if (decision.permit && decision.consent) consents.add(decision.consent); },
  };
  const written = new Set<string>();
  let recordedWrites = false;
  const agent = {
    kind: principal.kind,
    subject: principal.subject,
    fhirUser: principal.fhirUser ? `${principal.fhirUser.type}/${principal.fhirUser.id}` : undefined,
  };
  // What the record says about why: a known purpose only (an unrestricted caller's header is never
  // checked, and a record must not carry whatever text a client sends), a bounded reason.
  const stated = facts.purpose?.trim() ?? '';
  const purpose = isPurpose(stated) ? stated : DEFAULT_PURPOSE;
  const eventFacts = (status: number, entities: AuditEntity[], action = actionOf(facts.interaction)): AuditFacts => ({
    interaction: facts.interaction, action, recorded: deps.clock.now().toISOString(), status, requestId: facts.requestId,
    clientAddress: facts.clientAddress, agent, purpose,
    breakGlassReason: purpose === 'BTG' ? facts.breakGlassReason?.trim().slice(0, MAX_REASON) : undefined, consents: [...consents], entities,
  });
  const entityOf = (type: string, id: string, versionId: number | undefined, resource: Resource | undefined): AuditEntity => ({
    type, id, versionId, patients: resource ? guard.facts(resource).patients : [],
  });
  const inner = trail
    ? new AuditedStore(deps.store, trail, (writes: Written[]) => {
      recordedWrites = true;
      for (const w of writes) written.add(`${w.version.type}/${w.version.id}`);
      return auditEvent(eventFacts(200, writes.map((w) => entityOf(w.version.type, w.version.id, w.version.versionId, w.version.resource ?? w.before))));
    })
    : deps.store;
  return {
    deps: { ...deps, store: new GuardedStore(inner, guard, deps.search) },
    async ready() {
      await guard.reach();
    },
    async finish(status, result) {
      if (!trail) return;
      const shown = result ? entitiesOf(result, entityOf).filter((e) => !written.has(`${e.type}/${e.id}`)) : [];
      // A write already recorded with its data needs no second record unless it also showed other records.
      if (recordedWrites && shown.length === 0 && status < 400) return;
      await trail.record([auditEvent(eventFacts(status, shown, recordedWrites ? 'E' : undefined))]);
    },
  };
}

type EntityOf = (type: string, id: string, versionId: number | undefined, resource: Resource | undefined) => AuditEntity;

/** The records a response shows: its version, or the resources of its Bundle (a search page, history, a batch answer). */
function entitiesOf(result: FhirResult, entityOf: EntityOf): AuditEntity[] {
  if (result.withheld) {
    // The caller was told this record exists (and its id); a Patient is its own compartment.
    const { type, id } = result.withheld;
    return [{ ...entityOf(type, id, undefined, undefined), patients: type === 'Patient' ? [id] : [] }];
  }
  if (result.version) {
    const v = result.version;
    const shows = (result.shows ?? []).filter((r) => r.id).map((r) => entityOf(r.resourceType, r.id as string, r.meta?.versionId ? Number(r.meta.versionId) : undefined, r));
    return [entityOf(v.type, v.id, v.versionId, v.resource), ...shows];
  }
  let bundle: Bundle | undefined;
  if (result.resource?.resourceType === 'Bundle') bundle = result.resource as Bundle;
  else if (result.body !== undefined) bundle = JSON.parse(result.body) as Bundle;
  const out: AuditEntity[] = [];
  for (const entry of bundle?.entry ?? []) {
    const r = entry.resource;
    if (r?.id && r.resourceType !== 'OperationOutcome') {
      out.push(entityOf(r.resourceType, r.id, r.meta?.versionId ? Number(r.meta.versionId) : undefined, r));
      continue;
    }
    const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/(\d+))?$/.exec(entry.response?.location ?? '');
    if (m) out.push(entityOf(m[1], m[2], m[3] ? Number(m[3]) : undefined, undefined));
  }
  return out;
}

/** Records a request that failed before or during its interaction; never hides the original error. */
export async function recordFailure(deps: Deps, scope: RequestScope | undefined, status: number, facts: RequestFacts, principal?: Principal): Promise<void> {
  if (!deps.audit) return;
  try {
    if (scope) await scope.finish(status);
    else {
      await deps.audit.record([auditEvent({
        interaction: facts.interaction, action: actionOf(facts.interaction), recorded: deps.clock.now().toISOString(), status,
        requestId: facts.requestId, clientAddress: facts.clientAddress,
        agent: { kind: principal?.kind ?? 'unknown', subject: principal?.subject ?? '' }, purpose: DEFAULT_PURPOSE, consents: [], entities: [],
      })]);
    }
  } catch (err) {
    deps.logger.error('audit record failed', { requestId: facts.requestId, error: err instanceof FhirError ? err.issues[0].code : String(err) });
  }
}
