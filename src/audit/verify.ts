import type { AuditEvent } from 'fhir/r4';
import type { ResourceStore, StoredVersion } from '../storage/store';
import { GENESIS, readLink, recomputeHash, type ChainLink } from './chain';
import { latestPerChain, type ChainHead } from './checkpoint';

export interface ChainProblem {
  /** The AuditEvent's id, or, for events that are gone, `chain {id}`. */
  id: string;
  problem: string;
}

/** How a problem is shown: the event it concerns, or the chain whose newest events are gone. */
export const problemLine = (p: ChainProblem): string => (p.id.startsWith('chain ') ? `${p.id}: ${p.problem}` : `AuditEvent/${p.id}: ${p.problem}`);

export interface ChainReport {
  chains: number;
  events: number;
  problems: ChainProblem[];
}

/**
 * Checks the audit trail's hash chains. Pure, over the current version of every stored
 * AuditEvent: each must be version 1 (never changed, never deleted), carry a link, hash to
 * the value it carries, and follow its chain's previous event without a gap. Every event that
 * fails is named with what is wrong with it. Removing a chain's newest events leaves no trace
 * inside the chain itself, so the chain is also held to its newest signed checkpoint
 * (checkpoint.ts): the event the checkpoint names must be there, with the hash it names.
 */
export function verifyEvents(current: StoredVersion[], checkpoints: Map<string, ChainHead> = new Map()): ChainReport {
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
  for (const head of checkpoints.values()) problems.push(...cutProblems(head, chains.get(head.chain) ?? []));
  return { chains: chains.size, events: current.length, problems };
}

/** What a chain lacks of what its checkpoint signed: its newest events, or the event the checkpoint names. */
function cutProblems(head: ChainHead, list: { id: string; link: ChainLink }[]): ChainProblem[] {
  const at = list.find((x) => x.link.sequence === head.sequence);
  const newest = list.reduce((max, x) => Math.max(max, x.link.sequence), 0);
  if (!at && newest < head.sequence) {
    return [{ id: `chain ${head.chain}`, problem: `events ${newest + 1} to ${head.sequence} are gone: the checkpoint of ${head.at} signed ${head.sequence} events, the trail ends at ${newest}` }];
  }
  if (at && at.link.hash !== head.hash) return [{ id: at.id, problem: `is not the event the checkpoint of ${head.at} signed as number ${head.sequence}` }];
  return [];
}

/** Reads every AuditEvent's current version from the store and verifies the chains. */
export async function verifyTrail(store: Pick<ResourceStore, 'history'>, checkpoints: ChainHead[] = []): Promise<ChainReport> {
  const current = new Map<string, StoredVersion>();
  let cursor: string | undefined;
  do {
    const page = await store.history({ type: 'AuditEvent', count: 1000, cursor });
    // History is newest first: the first version seen of an id is its current one.
    for (const v of page.versions) if (!current.has(v.id)) current.set(v.id, v);
    cursor = page.nextCursor;
  } while (cursor);
  return verifyEvents([...current.values()], latestPerChain(checkpoints));
}
