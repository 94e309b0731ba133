import type { Collection } from 'mongodb';
import { FhirError } from '../../fhir/errors';
import type { HistoryPage, HistoryQuery } from '../store';
import type { VersionDoc } from './documents';
import { readPage } from './page';
import { resourceKey, toVersion, VERSION_PROJECTION } from './reader';
import type { MongoFilter } from './plan';

/**
 * History (http.html#history), newest first: by written time, then resource key and version,
 * a total order that keeps one resource's versions in version order even within one millisecond.
 * The cursor is the last version's position in that order.
 */
interface Position { ms: number; rk: string; v: number }

function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([p.ms, p.rk, p.v])).toString('base64url');
}

function decodeCursor(cursor: string): Position {
  try {
    const [ms, rk, v] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof ms === 'number' && typeof rk === 'string' && typeof v === 'number') return { ms, rk, v };
  } catch {
    // fall through to the error below
  }
  throw new FhirError('invalid', `Invalid paging cursor '${cursor}'`);
}

/** Versions strictly after `p` in newest-first order. */
function after(p: Position): MongoFilter {
  return { $or: [{ ms: { $lt: p.ms } }, { ms: p.ms, rk: { $lt: p.rk } }, { ms: p.ms, rk: p.rk, v: { $lt: p.v } }] };
}

export async function history(coll: Collection<VersionDoc>, query: HistoryQuery): Promise<HistoryPage> {
  if (query.count === 0) return { versions: [], cursors: [] }; // _count=0: no entries, and no page to follow
  const parts: MongoFilter[] = [];
  if (query.id !== undefined) parts.push({ rk: resourceKey(query.type ?? '', query.id) });
  else if (query.type !== undefined) parts.push({ type: query.type });
  if (query.sinceMs !== undefined) parts.push({ ms: { $gte: query.sinceMs } });
  if (query.at) parts.push({ ms: { $lt: query.at.endMs } }, { $or: [{ sup: { $exists: false } }, { sup: { $gt: query.at.startMs } }] });
  if (query.cursor !== undefined) parts.push(after(decodeCursor(query.cursor)));
  const cursor = coll.find(parts.length ? { $and: parts } : {}, {
    projection: VERSION_PROJECTION, sort: { ms: -1, rk: -1, v: -1 }, limit: query.count + 1,
  });
  const { docs: page, more } = await readPage(cursor, query.count, query.maxBytes);
  const last = page[page.length - 1];
  return {
    versions: page.map(toVersion),
    nextCursor: more ? encodeCursor({ ms: last.ms, rk: last.rk, v: last.v }) : undefined,
    cursors: page.map((d) => encodeCursor({ ms: d.ms, rk: d.rk, v: d.v })),
  };
}
