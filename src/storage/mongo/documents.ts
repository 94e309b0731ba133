import type { IndexRows } from '../../search/index-rows';
import type { IndexTable } from '../../search/query';

/**
 * The layout of the `resources` collection. One document per version of a resource, keyed
 * `Type/id/version`; the current version carries `cur`, and, while the resource is live, `live`
 * and its search index values. Superseded versions and tombstones keep only what history needs,
 * so the search indexes (partial on `live`) hold exactly one entry set per live resource.
 */
export const COLLECTION = 'resources';

/**
 * One small document per search run inside a unit of work, keyed by the query's hash, written by
 * that unit of work: two concurrent units that run the same search (two conditional creates with
 * the same criteria) write the same document, so MongoDB lets only one of them commit and the
 * other runs again and sees its result. Snapshot isolation alone would let both find nothing and
 * both create. Old guards expire (TTL index on `at`).
 */
export const GUARDS = 'search_guards';

export interface GuardDoc { _id: string; at: Date }

export interface TokenEntry { k: string; s: string; c: string; x?: string }
export interface StringEntry { k: string; n: string; e: string }
export interface DateEntry { k: string; lo: number; hi: number }
export interface NumberEntry { k: string; v: number }
export interface QuantityEntry { k: string; s: string; c: string; v: number }
export interface ReferenceEntry { k: string; t: string; i: string; u: string }
export interface UriEntry { k: string; u: string }

/** The index values of one table, as arrays of entries: MongoDB indexes them as multikey. */
export interface IndexFields {
  tok?: TokenEntry[];
  str?: StringEntry[];
  dt?: DateEntry[];
  num?: NumberEntry[];
  qty?: QuantityEntry[];
  ref?: ReferenceEntry[];
  uri?: UriEntry[];
  /**
   * One entry per base value of a composite parameter (`k` its key, `g` the value's number), with
   * its components' entries inside, so that `$elemMatch` ties the components to one base value.
   */
  cmp?: (CompositeEntry)[];
  /** Per parameter key (dots as ':'), the smallest (`a`) and largest (`d`) value, for _sort. */
  so?: Record<string, { a: string | number; d: string | number }>;
}

export interface CompositeEntry extends Omit<IndexFields, 'cmp' | 'so'> { k: string; g: number }

export interface VersionDoc extends IndexFields {
  _id: string;
  /** `Type/id`: the resource's key, shared by all its versions (and the shard key). */
  rk: string;
  type: string;
  id: string;
  v: number;
  /** When the version was written, ms since the epoch. */
  ms: number;
  /** When the next version replaced it (absent while current). */
  sup?: number;
  method: string;
  del: boolean;
  /** Set on the current version only. */
  cur?: true;
  /** Set on the current version of a live resource only: every search selects on it. */
  live?: true;
  /** The resource's first-write order, kept across versions: the default order of search results. */
  seq: number;
  /** The resource as JSON text, exactly as a read returns it (absent on a tombstone). */
  json?: string;
}

/** The table of the search AST → the document field holding its entries. */
export const FIELD: Record<IndexTable, keyof Omit<IndexFields, 'cmp' | 'so'>> = {
  token: 'tok', string: 'str', date: 'dt', number: 'num', quantity: 'qty', reference: 'ref', uri: 'uri',
};

/** The fields a superseded version drops. */
export const INDEX_FIELD_NAMES = ['tok', 'str', 'dt', 'num', 'qty', 'ref', 'uri', 'cmp', 'so'] as const;

/** Field names may not contain '.', which every key (`Patient.birthdate`) has. */
export const sortField = (key: string): string => key.replace(/\./g, ':');

type Entries = Required<Omit<IndexFields, 'cmp' | 'so'>>;

function entriesOf(rows: IndexRows, grp: (g: number) => boolean): Entries {
  return {
    tok: rows.token.filter((r) => grp(r.grp)).map((r) => (r.text === undefined ? { k: r.key, s: r.system, c: r.code } : { k: r.key, s: r.system, c: r.code, x: r.text })),
    str: rows.string.filter((r) => grp(r.grp)).map((r) => ({ k: r.key, n: r.norm, e: r.exact })),
    dt: rows.date.filter((r) => grp(r.grp)).map((r) => ({ k: r.key, lo: r.lo, hi: r.hi })),
    num: rows.number.filter((r) => grp(r.grp)).map((r) => ({ k: r.key, v: r.value })),
    qty: rows.quantity.filter((r) => grp(r.grp)).map((r) => ({ k: r.key, s: r.system, c: r.code, v: r.value })),
    ref: rows.reference.filter((r) => grp(r.grp)).map((r) => ({ k: r.key, t: r.type, i: r.id, u: r.url })),
    uri: rows.uri.filter((r) => grp(r.grp)).map((r) => ({ k: r.key, u: r.uri })),
  };
}

function dropEmpty<T extends object>(fields: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [name, value] of Object.entries(fields)) if (!Array.isArray(value) || value.length > 0) (out as Record<string, unknown>)[name] = value;
  return out;
}

/** The value _sort orders by, per table: as the SQLite store's MIN/MAX over the same column. */
function sortValues(e: Entries): IndexFields['so'] {
  const so: NonNullable<IndexFields['so']> = {};
  const put = (key: string, lo: string | number, hi: string | number): void => {
    const f = sortField(key);
    const cur = so[f];
    if (!cur) { so[f] = { a: lo, d: hi }; return; }
    if (lo < cur.a) cur.a = lo;
    if (hi > cur.d) cur.d = hi;
  };
  for (const r of e.tok) put(r.k, r.c, r.c);
  for (const r of e.str) put(r.k, r.n, r.n);
  for (const r of e.dt) put(r.k, r.lo, r.hi);
  for (const r of e.num) put(r.k, r.v, r.v);
  for (const r of e.qty) put(r.k, r.v, r.v);
  for (const r of e.ref) put(r.k, r.i, r.i);
  for (const r of e.uri) put(r.k, r.u, r.u);
  return so;
}

/** Rows of composite components (grp > 0), grouped by composite key and base value. */
function compositeGroups(rows: IndexRows): CompositeEntry[] {
  const groups = new Map<string, IndexRows>();
  const table = <K extends keyof IndexRows>(name: K): void => {
    for (const r of rows[name]) {
      if (r.grp === 0) continue;
      const id = `${r.key.split('#')[0]}#${r.grp}`;
      let g = groups.get(id);
      if (!g) groups.set(id, (g = { token: [], string: [], date: [], number: [], quantity: [], reference: [], uri: [] }));
      (g[name] as IndexRows[K][number][]).push(r);
    }
  };
  for (const name of ['token', 'string', 'date', 'number', 'quantity', 'reference', 'uri'] as const) table(name);
  return [...groups].map(([id, g]) => {
    const hash = id.lastIndexOf('#');
    return { k: id.slice(0, hash), g: Number(id.slice(hash + 1)), ...dropEmpty(entriesOf(g, () => true)) };
  });
}

/** A resource's index rows (search/index-rows.ts) as the fields of its live version document. */
export function indexFields(rows: IndexRows): IndexFields {
  const plain = entriesOf(rows, (g) => g === 0);
  const fields: IndexFields = dropEmpty(plain);
  const cmp = compositeGroups(rows);
  if (cmp.length > 0) fields.cmp = cmp;
  const so = sortValues(plain);
  if (so && Object.keys(so).length > 0) fields.so = so;
  return fields;
}
