import type { AuditEvent, Resource } from 'fhir/r4';
import type { Deps } from '../deps';
import { auditEvent, type AuditEntity } from '../audit/event';
import { parseSearch } from '../search/parse';
import type { LiveVersion, StoreReader, UnitOfWork } from '../storage/store';

/**
 * Store access the exchange needs, through the one store contract: searches by ordinary FHIR
 * search parameters (parsed strictly, so a typo is an error, not a wider match), and writes whose
 * AuditEvent commits with them (the trail's unit of work) when auditing is on.
 */
export const INTERNAL_BASE = 'urn:abdm-fhir-gateway:internal';

/** Every match of `Type?query`, following pages; refuses to read more than `limit`. */
export async function searchAll(deps: Deps, reader: StoreReader, type: string, query: Record<string, string>, limit = 10_000): Promise<LiveVersion[]> {
  const parsed = parseSearch(deps.search, [type], new URLSearchParams(query), {
    strict: true, defaultCount: 500, maxCount: 500, base: deps.config.baseUrl ?? INTERNAL_BASE,
  });
  const out: LiveVersion[] = [];
  for (let offset = 0; ; ) {
    const page = await reader.search({ ...parsed.query, sort: [], count: 500, offset, total: 'none' });
    out.push(...page.versions);
    if (!page.hasMore || page.versions.length === 0) return out;
    if (out.length > limit) throw new Error(`more than ${limit} ${type} resources match`);
    offset += page.versions.length;
  }
}

export interface ExchangeAudit {
  interaction: 'abdm-consent-notify' | 'abdm-disclose' | 'abdm-receive' | 'abdm-link';
  action: AuditEvent['action'];
  status: number;
  requestId: string;
  /** Who made the exchange happen: the gateway, or the local caller who asked for the data. */
  subject: string;
  purpose: string;
  consents: string[];
  entities: AuditEntity[];
}

export function exchangeEvent(deps: Deps, facts: ExchangeAudit): AuditEvent {
  return auditEvent({
    interaction: facts.interaction, action: facts.action, recorded: deps.clock.now().toISOString(), status: facts.status,
    requestId: facts.requestId, agent: { kind: 'system', subject: facts.subject }, purpose: facts.purpose,
    consents: facts.consents, entities: facts.entities,
  });
}

/** Runs `work` in one unit of work; its AuditEvents commit with it when the trail is on. */
export async function writeAudited<T>(deps: Deps, work: (uow: UnitOfWork) => Promise<{ result: T; events: AuditEvent[] }>): Promise<T> {
  if (deps.audit) return deps.audit.within(work);
  return deps.store.transact(async (uow) => (await work(uow)).result);
}

/** Appends AuditEvents on their own (a disclosure: nothing is written besides them). */
export async function recordAudit(deps: Deps, events: AuditEvent[]): Promise<void> {
  if (deps.audit) await deps.audit.record(events);
}

export const entityOf = (v: LiveVersion, patients: string[]): AuditEntity => ({
  type: (v.resource as Resource).resourceType, id: v.id, versionId: v.versionId, patients,
});
