import type { AuditEvent } from 'fhir/r4';
import type { ResourceStore, StoredVersion } from '../storage/store';
import { GENESIS, readLink, recomputeHash, type ChainLink } from './chain';

export interface ChainProblem {
  /** The AuditEvent's id. */
  id: string;
  problem: string;
}

export interface ChainReport {
  chains: number;
  events: number;
  problems: ChainProblem[];
}

/**
 * Checks the audit trail's hash chains. Pure, over the current version of every stored
 * AuditEvent: each must be version 1 (never changed, never deleted), carry a link, hash to
 * the value it carries, and follow its chain's previous event without a gap. Every event that
 * fails is named with what is wrong with it. (Removing a chain's newest events leaves no trace
 * inside the chain itself: that is the limit of any hash chain without an external anchor.)
 */
export function verifyEvents(current: StoredVersion[]): ChainReport {
  const problems: ChainProblem[] = [];
  const chains = new Map<string, { id: string; link: ChainLink }[]>();
  for (const v of current) {
    if (v.deleted || !v.resource) { problems.push({ id: v.id, problem: `deleted (version ${v.versionId})` }); continue; }
    if (v.versionId !== 1) problems.push({ id: v.id, problem: `changed after it was written (now version ${v.versionId})` });
    const event = v.resource as AuditEvent;
    const link = readLink(event);
    if (!link) { problems.push({ id: v.id, problem: 'carries no chain link' }); continue; }
    if (recomputeHash(event, link) !== link.hash) problems.push({ id: v.id, problem: 'its content does not match its hash' });
    let list = chains.get(link.chain);
    if (!list) chains.set(link.chain, (list = []));
    list.push({ id: v.id, link });
  }
  for (const list of chains.values()) {
    list.sort((a, b) => a.link.sequence - b.link.sequence);
    let previous: { id: string; link: ChainLink } | undefined;
    for (const item of list) {
      const expectedSequence = previous ? previous.link.sequence + 1 : 1;
      const expectedPrevious = previous ? previous.link.hash : GENESIS;
      if (previous && item.link.sequence === previous.link.sequence) {
        problems.push({ id: item.id, problem: `repeats sequence ${item.link.sequence} of AuditEvent/${previous.id}` });
      } else if (item.link.sequence !== expectedSequence) {
        problems.push({ id: item.id, problem: `sequence ${item.link.sequence} follows ${expectedSequence - 1}: events are missing before it` });
      } else if (item.link.previous !== expectedPrevious) {
        problems.push({ id: item.id, problem: previous ? `does not link to AuditEvent/${previous.id}, the event before it` : 'the first event of its chain does not start from genesis' });
      }
      previous = item;
    }
  }
  return { chains: chains.size, events: current.length, problems };
}

/** Reads every AuditEvent's current version from the store and verifies the chains. */
export async function verifyTrail(store: Pick<ResourceStore, 'history'>): Promise<ChainReport> {
  const current = new Map<string, StoredVersion>();
  let cursor: string | undefined;
  do {
    const page = await store.history({ type: 'AuditEvent', count: 1000, cursor });
    // History is newest first: the first version seen of an id is its current one.
    for (const v of page.versions) if (!current.has(v.id)) current.set(v.id, v);
    cursor = page.nextCursor;
  } while (cursor);
  return verifyEvents([...current.values()]);
}
