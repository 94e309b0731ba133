import type { Resource } from 'fhir/r4';
import type { StoredVersion, WriteMethod } from './store';
import { FhirError } from '../fhir/errors';

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

/** Version numbers are positive integers; anything else (e.g. "abc", "0", "1.5") is not a version. */
export function parseVersionId(text: string): number | undefined {
  return /^[1-9][0-9]{0,14}$/.test(text) ? Number(text) : undefined;
}

/** If-Match semantics (http.html#concurrency): a stale or absent version is a failed precondition. */
export function checkExpected(type: string, id: string, actual: number | undefined, expected: number | undefined): void {
  if (expected === undefined) return;
  if (actual === undefined) {
    throw new FhirError('not-found', `${type}/${id} does not exist, so version ${expected} cannot be current`, { status: 412 });
  }
  if (actual !== expected) {
    throw new FhirError('conflict', `${type}/${id} is at version ${actual}, not ${expected}`, { status: 412 });
  }
}

/**
 * A stored version as the contract hands it out, whichever backend read it: the JSON text is
 * kept, and parsed only if someone asks for the resource (a read by id answers with the text).
 */
export function storedVersion(v: {
  type: string; id: string; versionId: number; writtenMs: number; deleted: boolean; method: string; json: string | undefined;
}): StoredVersion {
  let parsed: Resource | undefined;
  const json = v.json;
  return {
    type: v.type,
    id: v.id,
    versionId: v.versionId,
    lastUpdated: new Date(v.writtenMs).toISOString(),
    deleted: v.deleted,
    method: v.method as WriteMethod,
    json,
    get resource(): Resource | undefined {
      if (parsed === undefined && json !== undefined) parsed = JSON.parse(json) as Resource;
      return parsed;
    },
  };
}
