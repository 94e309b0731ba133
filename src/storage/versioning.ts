import type { Identifier, Resource } from 'fhir/r4';
import type { MatchCriteria } from './store';

/**
 * Backend-neutral pieces of the store contract: pure functions every backend uses, so the rules
 * about meta and identifiers are written once.
 */

/** The resource as stored: `id` and server-owned `meta` fields set, key order kept readable. */
export function stampMeta(resource: Resource, id: string, versionId: number, lastUpdated: string): Resource {
  const { resourceType, id: _ignored, meta, ...rest } = resource as Resource & Record<string, unknown>;
  return {
    resourceType,
    id,
    meta: { ...meta, versionId: String(versionId), lastUpdated },
    ...rest,
  } as Resource;
}

/** Writes of one resource get non-decreasing timestamps even if the wall clock steps back. */
export function nextTimestampMs(nowMs: number, previousMs: number | undefined): number {
  return previousMs !== undefined && previousMs > nowMs ? previousMs : nowMs;
}

export interface IdentifierKey {
  system: string;
  value: string;
}

/** The (system, value) pairs a resource can be found by: its top-level `identifier`(s). */
export function identifierKeys(resource: Resource): IdentifierKey[] {
  const raw = (resource as { identifier?: Identifier | Identifier[] }).identifier;
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  const keys: IdentifierKey[] = [];
  for (const identifier of list) {
    if (typeof identifier?.value === 'string') keys.push({ system: identifier.system ?? '', value: identifier.value });
  }
  return keys;
}

/** True when `resource` satisfies the conditional criteria (used by backends without an index). */
export function matchesCriteria(resource: Resource, criteria: MatchCriteria): boolean {
  if (criteria.id !== undefined && resource.id !== criteria.id) return false;
  if (!criteria.identifiers) return true;
  const keys = identifierKeys(resource);
  return criteria.identifiers.every((anyOf) => anyOf.some((wanted) =>
    keys.some((k) => (wanted.system === undefined || k.system === wanted.system) && (wanted.value === undefined || k.value === wanted.value))));
}

/** Version numbers are positive integers; anything else (e.g. "abc", "0", "1.5") is not a version. */
export function parseVersionId(text: string): number | undefined {
  return /^[1-9][0-9]{0,14}$/.test(text) ? Number(text) : undefined;
}
