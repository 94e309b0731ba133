import { FhirError } from '../../fhir/errors';
import type { Condition, Ranged, SearchQuery, SortKey } from '../../search/query';
import type { SearchKeys } from './index-writer';

/**
 * SearchQuery → SQL. Every value is a bound parameter; the only text spliced into SQL comes from
 * the fixed tables below, chosen by the AST's kinds. Conditions are planned against an alias so
 * that chains (`subject:Patient.name=x`) and `_has` nest the same planner.
 */
export interface Sql { text: string; params: unknown[] }

const MAX_CHAR = '\uffff';

/** SQLite's limit on bound parameters in one statement (SQLITE_MAX_VARIABLE_NUMBER). */
export const MAX_SQL_VARIABLES = 32766;

/**
 * `a OR b OR c …` as a balanced tree: SQLite parses a flat list into a chain as deep as the list,
 * and refuses any expression deeper than 1000, so five hundred values of one parameter (or a
 * system search spread over every type) would fail. Balanced, the depth is the list's log2.
 * Parts keep their order, so positional parameters stay where they were pushed.
 */
export function balanced(parts: string[], op: 'OR' | 'AND'): string {
  if (parts.length === 0) return op === 'OR' ? '0' : '1';
  if (parts.length === 1) return parts[0];
  if (parts.length === 2) return `(${parts[0]} ${op} ${parts[1]})`;
  const mid = Math.ceil(parts.length / 2);
  return `(${balanced(parts.slice(0, mid), op)} ${op} ${balanced(parts.slice(mid), op)})`;
}

/**
 * search.html#prefix, for a stored range [lo, hi) against a search range [$lo, $hi). ge and le
 * lead with a bound implied by both halves of their OR (stored ranges have lo < hi), so the
 * (k, hi) and (k, lo) indexes can range-scan instead of reading every row of the parameter.
 */
const RANGE_PREDICATES = {
  eq: 't.lo >= ? AND t.hi <= ?',
  ne: 'NOT (t.lo >= ? AND t.hi <= ?)',
  gt: 't.hi > ?',
  lt: 't.lo < ?',
  ge: 't.hi > ? AND (t.hi > ? OR (t.lo >= ? AND t.hi <= ?))',
  le: 't.lo < ? AND (t.lo < ? OR (t.lo >= ? AND t.hi <= ?))',
  sa: 't.lo >= ?',
  eb: 't.hi <= ?',
  ap: 't.lo < ? AND t.hi > ?',
} as const;

/**
 * The same prefixes for a version's timestamp: an instant w is the range [w, w + 1) in whole
 * milliseconds, so each rule reduces to a bound on w that the (written_ms) index can range-scan.
 */
function writtenPredicate(v: Ranged, nowMs: number, params: unknown[]): string {
  switch (v.prefix) {
    case 'eq': params.push(v.lo, v.hi); return '(t.written_ms >= ? AND t.written_ms < ?)';
    case 'ne': params.push(v.lo, v.hi); return '(t.written_ms < ? OR t.written_ms >= ?)';
    case 'gt': case 'sa': params.push(v.hi); return 't.written_ms >= ?';
    case 'lt': case 'eb': params.push(v.lo); return 't.written_ms < ?';
    case 'ge': params.push(v.lo); return 't.written_ms >= ?';
    case 'le': params.push(v.hi); return 't.written_ms < ?';
    case 'ap': {
      const spread = Math.abs(v.value - nowMs) * 0.1;
      params.push(v.lo - spread, v.hi + spread);
      return '(t.written_ms >= ? AND t.written_ms < ?)';
    }
    default: { const never: never = v.prefix; return never; }
  }
}

function rangeArgs(v: Ranged, nowMs: number): unknown[] {
  switch (v.prefix) {
    case 'eq': case 'ne': return [v.lo, v.hi];
    case 'gt': case 'sa': return [v.hi];
    case 'lt': case 'eb': return [v.lo];
    case 'ge': return [v.lo, v.hi, v.lo, v.hi];
    case 'le': return [v.hi, v.lo, v.lo, v.hi];
    case 'ap': { const spread = Math.abs(v.value - nowMs) * 0.1; return [v.hi + spread, v.lo - spread]; }
    default: { const never: never = v.prefix; return never; }
  }
}

/** Numbers and quantities: eq/ne/ap use the value's implicit precision; order prefixes the exact value. */
const VALUE_PREDICATES = {
  eq: 't.value >= ? AND t.value < ?', ne: 'NOT (t.value >= ? AND t.value < ?)', gt: 't.value > ?', lt: 't.value < ?',
  ge: 't.value >= ?', le: 't.value <= ?', sa: 't.value > ?', eb: 't.value < ?', ap: 't.value >= ? AND t.value <= ?',
} as const;

function valueArgs(v: Ranged): unknown[] {
  if (v.prefix === 'eq' || v.prefix === 'ne') return [v.lo, v.hi];
  if (v.prefix === 'ap') return [v.value - Math.abs(v.value) * 0.1, v.value + Math.abs(v.value) * 0.1];
  return [v.value];
}

type Table = 'token' | 'string' | 'date' | 'number' | 'quantity' | 'reference' | 'uri';

/** A predicate over one index row aliased `t` (without the key test). */
function rowPredicate(c: Condition, nowMs: number, params: unknown[]): { table: Table; sql: string } {
  const or = (parts: string[]): string => `(${balanced(parts, 'OR')})`;
  switch (c.kind) {
    case 'token':
      return { table: 'token', sql: or(c.values.map((v) => {
        if (v.code !== undefined && v.system !== undefined) { params.push(v.code, v.system); return '(t.code = ? AND t.system = ?)'; }
        if (v.code !== undefined) { params.push(v.code); return 't.code = ?'; }
        params.push(v.system ?? ''); return 't.system = ?';
      })) };
    case 'token-text':
      return { table: 'token', sql: or(c.values.map((v) => { params.push(v); return 'instr(t.text, ?) > 0'; })) };
    case 'string':
      return { table: 'string', sql: or(c.values.map((v) => {
        if (c.match === 'exact') { params.push(v); return 't.exact = ?'; }
        if (c.match === 'contains') { params.push(v); return 'instr(t.norm, ?) > 0'; }
        params.push(v, v + MAX_CHAR); return '(t.norm >= ? AND t.norm < ?)';
      })) };
    case 'date':
      return { table: 'date', sql: or(c.values.map((v) => { params.push(...rangeArgs(v, nowMs)); return `(${RANGE_PREDICATES[v.prefix]})`; })) };
    case 'number':
      return { table: 'number', sql: or(c.values.map((v) => { params.push(...valueArgs(v)); return `(${VALUE_PREDICATES[v.prefix]})`; })) };
    case 'quantity':
      return { table: 'quantity', sql: or(c.values.map((v) => {
        params.push(...valueArgs(v));
        let sql = `(${VALUE_PREDICATES[v.prefix]}`;
        if (v.code !== undefined) { sql += ' AND t.code = ?'; params.push(v.code); }
        if (v.system !== undefined) { sql += ' AND t.system = ?'; params.push(v.system); }
        return `${sql})`;
      })) };
    case 'reference': {
      // Several ids of one type (a compartment of many patients, `subject=Patient/a,Patient/b`)
      // become one IN list: an OR of (id, type) pairs makes SQLite scan every row of the key.
      const parts: string[] = [];
      const byType = new Map<string, string[]>();
      for (const v of c.values) {
        if (v.url === undefined && v.type !== undefined && v.id !== undefined) byType.set(v.type, [...(byType.get(v.type) ?? []), v.id]);
      }
      for (const v of c.values) {
        if (v.url !== undefined) { params.push(v.url); parts.push('t.url = ?'); continue; }
        if (v.type !== undefined && v.id !== undefined) {
          const ids = byType.get(v.type);
          if (!ids) continue; // already listed with the first value of its type
          byType.delete(v.type);
          params.push(...ids, v.type);
          parts.push(ids.length === 1 ? '(t.id = ? AND t.type = ?)' : `(t.id IN (${ids.map(() => '?').join(', ')}) AND t.type = ?)`);
          continue;
        }
        params.push(v.id); parts.push('t.id = ?');
      }
      return { table: 'reference', sql: or(parts) };
    }
    case 'uri':
      return { table: 'uri', sql: or(c.values.map((v) => {
        params.push(v);
        if (c.match === 'below') { params.push(v); return 'substr(t.uri, 1, length(?)) = ?'; }
        if (c.match === 'above') return 'substr(?, 1, length(t.uri)) = t.uri';
        return 't.uri = ?';
      })) };
    default:
      throw new Error(`no row predicate for ${c.kind}`);
  }
}

/** How many index rows match a predicate, counted up to a cap (a cheap, bounded probe). */
export type Estimator = (sql: Sql) => number;

/** Counting stops here: past it a condition is "large", and only smaller ones can do better. */
export const ESTIMATE_CAP = 1000;

/** Conditions on one index table that can either drive a query (IN list) or be probed per row (EXISTS). */
const SIMPLE = new Set(['token', 'token-text', 'string', 'date', 'number', 'quantity', 'reference', 'uri']);

export class Planner {
  constructor(private readonly keys: SearchKeys, private readonly nowMs: () => number, private readonly estimate?: Estimator) {}

  /** The condition as a predicate on resource alias `a`. */
  condition(c: Condition, a: string, params: unknown[]): string {
    switch (c.kind) {
      case 'id':
        params.push(...c.values);
        return `${a}.id ${c.not ? 'NOT IN' : 'IN'} (${c.values.map(() => '?').join(', ')})`;
      case 'missing':
        params.push(...c.keys.map((k) => this.keys.lookup(k)));
        return `${a}.pk ${c.missing ? 'NOT IN' : 'IN'} (SELECT pk FROM ix_${c.table} WHERE k IN (${c.keys.map(() => '?').join(', ')}))`;
      case 'or':
        return balanced(c.any.map((inner) => this.condition(inner, a, params)), 'OR');
      case 'and': {
        // An access restriction: its first part (whose compartment) drives as a list; the rest
        // (a consent's date range, a document type) are probed per candidate, since as lists they
        // would each enumerate every record of the type.
        if (c.all.length === 0) return '1';
        const [first, ...rest] = c.all;
        const parts = [this.condition(first, a, params), ...rest.map((x) => (this.isSimple(x) ? this.probe(x, a, params) : this.condition(x, a, params)))];
        return balanced(parts, 'AND');
      }
      case 'type':
        params.push(...c.types);
        return c.types.length === 0 ? '0' : `${a}.type IN (${c.types.map(() => '?').join(', ')})`;
      case 'last-updated': {
        if (c.missing !== undefined) return c.missing ? '0' : '1';
        const now = this.nowMs();
        const preds = c.values.map((v) => writtenPredicate(v, now, params));
        return `${a}.current_vid IN (SELECT t.vid FROM resource_version t WHERE ${balanced(preds, 'OR')})`;
      }
      case 'token-in':
        throw new FhirError('exception', 'A ValueSet condition reached the store unresolved (resolveValueSets)');
      case 'composite':
        return balanced(c.tuples.map((tuple) => this.composite(c.key, tuple, a, params)), 'OR');
      case 'chain': {
        // Driven from the chained condition: find the targets first, then who points at them.
        params.push(this.keys.lookup(c.key), ...c.targetTypes);
        const inner = this.condition(c.where, 'c', params);
        return `${a}.pk IN (SELECT t.pk FROM resource c CROSS JOIN ix_reference t ON t.k = ? AND t.id = c.id AND t.type = c.type
          WHERE +c.type IN (${c.targetTypes.map(() => '?').join(', ')}) AND c.deleted = 0 AND ${inner})`;
      }
      case 'has': {
        // Driven from the referring resources: those satisfying the condition, then their targets.
        params.push(this.keys.lookup(c.key), c.type);
        const inner = this.condition(c.where, 'h', params);
        return `${a}.pk IN (SELECT x.pk FROM resource h CROSS JOIN ix_reference t ON t.pk = h.pk AND t.k = ?
          CROSS JOIN resource x ON x.type = t.type AND x.id = t.id WHERE +h.type = ? AND h.deleted = 0 AND ${inner})`;
      }
      default: {
        const not = c.kind === 'token' && c.not;
        const key = this.keys.lookup(c.key);
        params.push(key);
        const row = rowPredicate(not ? { ...c, not: false } : c, this.nowMs(), params);
        return `${a}.pk ${not ? 'NOT IN' : 'IN'} (SELECT t.pk FROM ix_${row.table} t WHERE t.k = ? AND ${row.sql})`;
      }
    }
  }

  /** A simple condition checked per candidate row through the (pk, k, …) index, instead of as a list. */
  private probe(c: Condition, a: string, params: unknown[]): string {
    if (c.kind === 'or') return balanced(c.any.map((x) => this.probe(x, a, params)), 'OR');
    params.push(this.keys.lookup((c as { key: string }).key));
    const row = rowPredicate(c, this.nowMs(), params);
    // Through the per-resource index: left to itself SQLite may walk the value index instead
    // (every date after X), which costs the whole key for each candidate.
    return `EXISTS (SELECT 1 FROM ix_${row.table} t INDEXED BY ix_${row.table}_pk WHERE t.pk = ${a}.pk AND t.k = ? AND ${row.sql})`;
  }

  /** Simple: one index table, no negation; an OR of simple conditions (a compartment) counts too. */
  private isSimple(c: Condition): boolean {
    if (c.kind === 'or') return c.any.length > 0 && c.any.every((x) => this.isSimple(x));
    return SIMPLE.has(c.kind) && !(c.kind === 'token' && c.not);
  }

  /** Bounded count of the index rows a simple condition matches. */
  private size(c: Condition): number {
    if (c.kind === 'or') return Math.min(ESTIMATE_CAP, c.any.reduce((n, x) => n + this.size(x), 0));
    const params: unknown[] = [this.keys.lookup((c as { key: string }).key)];
    const row = rowPredicate(c, this.nowMs(), params);
    return (this.estimate as Estimator)({
      text: `SELECT count(*) AS n FROM (SELECT 1 FROM ix_${row.table} t WHERE t.k = ? AND ${row.sql} LIMIT ${ESTIMATE_CAP})`, params,
    });
  }

  /**
   * An AND of conditions. SQLite turns every `pk IN (subquery)` into a complete list, so with two
   * lists a selective one (a patient's ten observations) still pays for a broad one (every
   * haemoglobin result). When several simple conditions are ANDed, the smallest by a bounded
   * count drives as a list and the others are probed per candidate through the per-resource index.
   */
  private conjunction(conditions: Condition[], a: string, params: unknown[]): string[] {
    const simple = conditions.filter((c) => this.isSimple(c));
    if (!this.estimate || simple.length < 2) return conditions.map((c) => this.condition(c, a, params));
    const sized = simple.map((c) => ({ c, n: this.size(c) }));
    const smallest = sized.reduce((best, x) => (x.n < best.n ? x : best));
    // When even the smallest is large, lists (which SQLite intersects with a Bloom filter) beat probing each row.
    if (smallest.n >= ESTIMATE_CAP) return conditions.map((c) => this.condition(c, a, params));
    const driver = smallest.c;
    return conditions.map((c) => (c === driver || !this.isSimple(c) ? this.condition(c, a, params) : this.probe(c, a, params)));
  }

  private composite(key: string, tuple: Condition[], a: string, params: unknown[]): string {
    const joins: string[] = [];
    const wheres: string[] = [];
    tuple.forEach((c, i) => {
      const local: unknown[] = [];
      const row = rowPredicate(c, this.nowMs(), local);
      const alias = `c${i}`;
      joins.push(i === 0 ? `ix_${row.table} ${alias}` : `JOIN ix_${row.table} ${alias} ON ${alias}.pk = c0.pk AND ${alias}.grp = c0.grp`);
      wheres.push(`${alias}.k = ? AND ${row.sql.replace(/\bt\./g, `${alias}.`)}`);
      params.push(this.keys.lookup(`${key}#${i}`));
      params.push(...local);
    });
    // Parameters are positional: the key of each component is bound before its row predicate, in
    // join order, so the WHERE clause lists them in that same order.
    // An IN list, not a correlated EXISTS, so a selective composite (a code with a value range) can
    // drive the query from its own index instead of being probed once per candidate resource.
    return `${a}.pk IN (SELECT c0.pk FROM ${joins.join(' ')} WHERE c0.grp > 0 AND ${wheres.join(' AND ')})`;
  }

  private order(sort: SortKey[], params: unknown[]): string {
    const parts = sort.map((s) => {
      const dir = s.desc ? 'DESC' : 'ASC';
      if (s.by !== 'index') return s.by === '_id' ? `r.id ${dir}` : `v.written_ms ${dir}`;
      const column = { token: 'code', string: 'norm', date: s.desc ? 'hi' : 'lo', number: 'value', quantity: 'value', uri: 'uri', reference: 'id' }[s.table];
      params.push(this.keys.lookup(s.key));
      // Through the per-resource index (which covers the sort column): left to itself, SQLite's MIN/MAX
      // shortcut walks the value index of every resource's rows to find this one's.
      return `(SELECT ${s.desc ? 'MAX' : 'MIN'}(s.${column}) FROM ix_${s.table} s INDEXED BY ix_${s.table}_pk WHERE s.pk = r.pk AND s.k = ?) ${dir}`;
    });
    return [...parts, 'r.pk ASC'].join(', ');
  }

  /** The page query (one row more than asked, to know whether a next page exists) and a count query. */
  search(q: SearchQuery): { page: Sql; count: Sql } {
    const params: unknown[] = [...q.types];
    // With a selective condition, let SQLite drive from its index (the unary + keeps it from
    // scanning every resource of the type instead); without one, walk the type index in pk order.
    // `_id` is best served by the (type, id) index itself, so it keeps the type usable.
    const byId = q.where.some((c) => c.kind === 'id' && !c.not);
    const driving = !byId && q.where.some((c) => c.kind !== 'missing' && c.kind !== 'id' && !(c.kind === 'token' && c.not));
    const where = [`r.deleted = 0`, `${driving ? '+' : ''}r.type IN (${q.types.map(() => '?').join(', ')})`];
    where.push(balanced(this.conjunction(q.where, 'r', params), 'AND'));
    const whereSql = where.join(' AND ');
    if (params.length + q.sort.length + 2 > MAX_SQL_VARIABLES) {
      throw new FhirError('invalid', `The search is too large for the store: it needs ${params.length} bound values, at most ${MAX_SQL_VARIABLES} are possible; use fewer values or parameters`);
    }
    const countParams = [...params];
    const orderParams: unknown[] = [];
    const order = this.order(q.sort, orderParams);
    return {
      page: {
        text: `SELECT v.vid, v.type, r.id, v.version, v.method, v.written_ms, v.deleted, v.content, r.pk
          FROM resource r JOIN resource_version v ON v.vid = r.current_vid WHERE ${whereSql} ORDER BY ${order} LIMIT ? OFFSET ?`,
        params: [...params, ...orderParams, q.count + 1, q.offset],
      },
      count: { text: `SELECT COUNT(*) AS n FROM resource r WHERE ${whereSql}`, params: countParams },
    };
  }
}
