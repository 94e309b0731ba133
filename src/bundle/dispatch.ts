import { authorize } from '../auth/access';
import type { Principal } from '../auth/verifier';
import type { Deps } from '../deps';
import { interaction } from '../interactions/registry';
import type { FhirRequest, FhirResult } from '../interactions/types';
import type { EntryRequest } from './entries';

/**
 * Runs one entry through the same interaction handler an HTTP request would reach, so a batch
 * entry behaves exactly like the request it stands for (http.html#transaction).
 */
export function entryRequest(entry: EntryRequest, base: string, body: unknown, principal: Principal, prefer?: string): FhirRequest {
  const p = entry.match.params;
  return {
    type: p.type,
    id: p.id,
    versionId: p.vid,
    compartmentType: p.compartmentType,
    query: entry.query,
    body,
    headers: {
      ifMatch: entry.ifMatch,
      ifNoneExist: entry.ifNoneExist,
      ifNoneMatch: entry.ifNoneMatch,
      ifModifiedSince: entry.ifModifiedSince,
      prefer,
    },
    base,
    path: `/${entry.url}`,
    principal,
  };
}

/** The same scope check as the route the entry stands for, with the same principal. */
export function authorizeEntry(entry: EntryRequest, principal: Principal): void {
  const p = entry.match.params;
  authorize(principal, entry.match.route.access, p.compartmentType ?? p.type ?? '*');
}

export function dispatch(deps: Deps, entry: EntryRequest, request: FhirRequest): Promise<FhirResult> {
  return interaction(entry.match.route.interaction).handler(deps, request);
}

export function isWrite(entry: EntryRequest): boolean {
  return interaction(entry.match.route.interaction).write;
}
