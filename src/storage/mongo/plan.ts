import type { Document, Filter, Sort } from 'mongodb';
import { FhirError } from '../../fhir/errors';
import type { Condition, QuantityValue, Ranged, SearchQuery, SortKey } from '../../search/query';
import { FIELD, sortField, type VersionDoc } from './documents';

/**
 * SearchQuery → MongoDB filter and sort. Every value is a value in the filter document, never
 * text spliced into an operator, and the operators come from the fixed rules below. Conditions
 * on index entries are `$elemMatch`es, so a condition's parts hold on one entry (one coding, one
 * period). Chains and `_has` need another resource's index: those are resolved first, by a query
 * of their own, into the keys they stand for (MongoDB finds have no joins).
 */
export type MongoFilter = Filter<VersionDoc>;

/** Runs a nested query (chain, _has): the live documents of `types` matching `filter`, projected. */
export type SubQuery = (types: string[], filter: MongoFilter, projection: Document) => Promise<VersionDoc[]>;

const NOTHING: MongoFilter = { _id: { $in: [] } };

/** A literal as a regular expression (for contains and :below). */
const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/**
 * search.html#prefix for a stored range [lo, hi) against a search range: the same rules as the
 * SQLite planner's RANGE_PREDICATES, as conditions on one date entry.
 */
function rangePredicate(v: Ranged, nowMs: number): Document {
  switch (v.prefix) {
    case 'eq': return { lo: { $gte: v.lo }, hi: { $lte: v.hi } };
    case 'ne': return { $or: [{ lo: { $lt: v.lo } }, { hi: { $gt: v.hi } }] };
    case 'gt': return { hi: { $gt: v.hi } };
    case 'lt': return { lo: { $lt: v.lo } };
    case 'ge': return { hi: { $gt: v.lo }, $or: [{ hi: { $gt: v.hi } }, { lo: { $gte: v.lo }, hi: { $lte: v.hi } }] };
    case 'le': return { lo: { $lt: v.hi }, $or: [{ lo: { $lt: v.lo } }, { lo: { $gte: v.lo }, hi: { $lte: v.hi } }] };
    case 'sa': return { lo: { $gte: v.hi } };
    case 'eb': return { hi: { $lte: v.lo } };
    case 'ap': {
      const spread = Math.abs(v.value - nowMs) * 0.1;
      return { lo: { $lt: v.hi + spread }, hi: { $gt: v.lo - spread } };
    }
    default: { const never: never = v.prefix; return never; }
  }
}

/** Numbers and quantities: eq/ne/ap by the value's implicit precision, order prefixes by the exact value. */
function valuePredicate(v: Ranged, field: string): Document {
  switch (v.prefix) {
    case 'eq': return { [field]: { $gte: v.lo, $lt: v.hi } };
    case 'ne': return { $or: [{ [field]: { $lt: v.lo } }, { [field]: { $gte: v.hi } }] };
    case 'gt': case 'sa': return { [field]: { $gt: v.value } };
    case 'lt': case 'eb': return { [field]: { $lt: v.value } };
    case 'ge': return { [field]: { $gte: v.value } };
    case 'le': return { [field]: { $lte: v.value } };
    case 'ap': return { [field]: { $gte: v.value - Math.abs(v.value) * 0.1, $lte: v.value + Math.abs(v.value) * 0.1 } };
    default: { const never: never = v.prefix; return never; }
  }
}

/** The written time of the current version: an instant w is the range [w, w + 1) in whole ms. */
function writtenPredicate(v: Ranged, nowMs: number): MongoFilter {
  switch (v.prefix) {
    case 'eq': return { ms: { $gte: v.lo, $lt: v.hi } };
    case 'ne': return { $or: [{ ms: { $lt: v.lo } }, { ms: { $gte: v.hi } }] };
    case 'gt': case 'sa': return { ms: { $gte: v.hi } };
    case 'lt': case 'eb': return { ms: { $lt: v.lo } };
    case 'ge': return { ms: { $gte: v.lo } };
    case 'le': return { ms: { $lt: v.hi } };
    case 'ap': {
      const spread = Math.abs(v.value - nowMs) * 0.1;
      return { ms: { $gte: v.lo - spread, $lt: v.hi + spread } };
    }
    default: { const never: never = v.prefix; return never; }
  }
}

const any = (parts: Document[]): Document => (parts.length === 1 ? parts[0] : { $or: parts });

function quantity(v: QuantityValue): Document {
  const p = valuePredicate(v, 'v');
  const out: Document = { ...p };
  if (v.code !== undefined) out.c = v.code;
  if (v.system !== undefined) out.s = v.system;
  return out;
}

/** The conditions on one index entry, without its key; undefined for kinds that are not entry tests. */
function entryPredicate(c: Condition, nowMs: number): { field: string; match: Document } | undefined {
  switch (c.kind) {
    case 'token':
      return { field: FIELD.token, match: any(c.values.map((v) => {
        if (v.code !== undefined && v.system !== undefined) return { c: v.code, s: v.system };
        if (v.code !== undefined) return { c: v.code };
        return { s: v.system ?? '' };
      })) };
    case 'token-text': return { field: FIELD.token, match: any(c.values.map((v) => ({ x: { $regex: literal(v) } }))) };
    case 'string':
      return { field: FIELD.string, match: any(c.values.map((v) => {
        if (c.match === 'exact') return { e: v };
        if (c.match === 'contains') return { n: { $regex: literal(v) } };
        return { n: { $gte: v, $lt: `${v}\uffff` } };
      })) };
    case 'date': return { field: FIELD.date, match: any(c.values.map((v) => rangePredicate(v, nowMs))) };
    case 'number': return { field: FIELD.number, match: any(c.values.map((v) => valuePredicate(v, 'v'))) };
    case 'quantity': return { field: FIELD.quantity, match: any(c.values.map(quantity)) };
    case 'reference':
      return { field: FIELD.reference, match: any(c.values.map((v) => {
        if (v.url !== undefined) return { u: v.url };
        if (v.type !== undefined) return { i: v.id, t: v.type };
        return { i: v.id };
      })) };
    case 'uri':
      return { field: FIELD.uri, match: any(c.values.map((v) => {
        if (c.match === 'below') return { u: { $regex: `^${literal(v)}` } };
        // :above: the stored uri is a prefix of the value, i.e. one of the value's prefixes.
        if (c.match === 'above') return { u: { $in: Array.from({ length: v.length + 1 }, (_, n) => v.slice(0, n)) } };
        return { u: v };
      })) };
    case 'id': case 'missing': case 'or': case 'and': case 'type': case 'last-updated': case 'token-in': case 'composite': case 'chain': case 'has':
      return undefined;
    default: { const never: never = c; return never; }
  }
}

/** The key and the value tests, for one $elemMatch: all hold on the same entry (no test names `k`). */
const elem = (key: string, match: Document): Document => ({ k: key, ...match });

export class MongoPlanner {
  constructor(private readonly nowMs: () => number, private readonly sub: SubQuery) {}

  async condition(c: Condition): Promise<MongoFilter> {
    switch (c.kind) {
      case 'id': return { id: c.not ? { $nin: c.values } : { $in: c.values } };
      case 'missing': {
        // A composite's component key (`X#0`) is present exactly when its base value is.
        const composite = c.keys.some((k) => k.includes('#'));
        const field = composite ? 'cmp.k' : `${FIELD[c.table]}.k`;
        const keys = c.keys.map((k) => k.split('#')[0]);
        return { [field]: c.missing ? { $nin: keys } : { $in: keys } } as MongoFilter;
      }
      // MongoDB refuses an empty $or or $and: an empty OR matches nothing, an empty AND everything.
      case 'or': return c.any.length === 0 ? NOTHING : { $or: await Promise.all(c.any.map((x) => this.condition(x))) };
      case 'and': return c.all.length === 0 ? {} : { $and: await Promise.all(c.all.map((x) => this.condition(x))) };
      case 'type': return c.types.length === 0 ? NOTHING : { type: { $in: c.types } };
      case 'last-updated': {
        if (c.missing !== undefined) return c.missing ? NOTHING : {};
        const now = this.nowMs();
        return { $or: c.values.map((v) => writtenPredicate(v, now)) };
      }
      case 'token-in':
        throw new FhirError('exception', 'A ValueSet condition reached the store unresolved (resolveValueSets)');
      case 'composite':
        return { $or: c.tuples.map((tuple) => ({ cmp: { $elemMatch: { k: c.key, $and: tuple.map((part, i) => this.component(`${c.key}#${i}`, part)) } } })) };
      case 'chain': return this.chain(c);
      case 'has': return this.has(c);
      default: {
        const not = c.kind === 'token' && c.not;
        const p = entryPredicate(not ? { ...c, not: false } : c, this.nowMs());
        if (!p) throw new Error(`no entry predicate for ${c.kind}`);
        const match = { [p.field]: { $elemMatch: elem(c.key, p.match) } };
        return (not ? { $nor: [match] } : match) as MongoFilter;
      }
    }
  }

  private component(key: string, c: Condition): Document {
    const p = entryPredicate(c, this.nowMs());
    if (!p) throw new FhirError('not-supported', `A composite component cannot be a ${c.kind} condition`);
    return { [p.field]: { $elemMatch: elem(key, p.match) } };
  }

  /** Targets first (the live resources satisfying the chained condition), then who points at them. */
  private async chain(c: Extract<Condition, { kind: 'chain' }>): Promise<MongoFilter> {
    const targets = await this.sub(c.targetTypes, await this.condition(c.where), { type: 1, id: 1 });
    if (targets.length === 0) return NOTHING;
    const byType = new Map<string, string[]>();
    for (const t of targets) byType.set(t.type, [...(byType.get(t.type) ?? []), t.id]);
    return { ref: { $elemMatch: { k: c.key, $or: [...byType].map(([t, ids]) => ({ t, i: { $in: ids } })) } } } as MongoFilter;
  }

  /** The referring resources first (those satisfying the condition), then the resources they point at. */
  private async has(c: Extract<Condition, { kind: 'has' }>): Promise<MongoFilter> {
    const sources = await this.sub([c.type], await this.condition(c.where), { ref: 1 });
    const byType = new Map<string, Set<string>>();
    for (const s of sources) {
      for (const r of s.ref ?? []) {
        if (r.k !== c.key || r.t === '') continue;
        if (!byType.has(r.t)) byType.set(r.t, new Set());
        byType.get(r.t)?.add(r.i);
      }
    }
    if (byType.size === 0) return NOTHING;
    return any([...byType].map(([type, ids]) => ({ type, id: { $in: [...ids] } }))) as MongoFilter;
  }

  /** The filter of a search: live resources of the query's types satisfying every condition. */
  async filter(q: SearchQuery): Promise<MongoFilter> {
    const parts = await Promise.all(q.where.map((c) => this.condition(c)));
    const base: MongoFilter = { live: true, type: q.types.length === 1 ? q.types[0] : { $in: q.types } };
    return parts.length === 0 ? base : { ...base, $and: parts };
  }

  /** _sort as the SQLite store orders it, then first-write order (its pk) for a stable result. */
  sort(keys: SortKey[]): Sort {
    const sort: Record<string, 1 | -1> = {};
    for (const s of keys) {
      const dir = s.desc ? -1 : 1;
      if (s.by === 'index') sort[`so.${sortField(s.key)}.${s.desc ? 'd' : 'a'}`] = dir;
      else sort[s.by === '_id' ? 'id' : 'ms'] = dir;
    }
    sort.seq = 1;
    sort._id = 1;
    return sort;
  }
}
