import { FhirError } from '../fhir/errors';
import { isResourceType } from '../fhir/definitions';
import type { ParamDef, SearchParameters } from './parameters';
import type { Condition, IncludeSpec, IndexTable, SearchQuery, SortKey } from './query';
import { normalizeString } from './values';
import { orValues, parseDate, parseNumber, parseQuantity, parseReferenceValue, parseToken, splitEscaped } from './values-parse';

/**
 * URL query → SearchQuery (search.html). Unknown parameters are ignored and reported, or refused
 * with `Prefer: handling=strict`; unknown modifiers are always refused. Nothing is silently wrong.
 */
export interface ParseOptions {
  strict: boolean;
  defaultCount: number;
  maxCount: number;
  /** Base URL of this server, to read absolute references to our own resources. */
  base: string;
}

export type Summary = 'true' | 'text' | 'data' | 'count' | 'false';

export interface ParsedSearch {
  query: SearchQuery;
  include: IncludeSpec[];
  revinclude: IncludeSpec[];
  summary?: Summary;
  elements?: string[];
  /** Parameters used, in order, for the `self` link. */
  used: [string, string][];
  /** Parameters ignored (unknown), to report in an OperationOutcome. */
  ignored: string[];
}

export const RESULT_PARAMS = new Set(['_count', '_offset', '_sort', '_total', '_include', '_revinclude', '_summary', '_elements', '_format', '_pretty', '_type']);
/** The modifiers accepted per parameter type; the CapabilityStatement states exactly these. */
export const MODIFIERS: Record<string, readonly string[]> = {
  token: ['not', 'text', 'of-type', 'in', 'not-in', 'missing'],
  string: ['exact', 'contains', 'missing'],
  date: ['missing'], number: ['missing'], quantity: ['missing'], composite: ['missing'],
  reference: ['identifier', 'missing'],
  uri: ['below', 'above', 'missing'],
};
/**
 * Limits on one search, so that no query string (or `POST _search` body) can make a plan too
 * large for a store to run: past any of them the search is refused with a 400 naming the limit.
 * - values in one parameter (`code=a,b,c…`, search.html#combining);
 * - links in one chain or `_has` (`subject.organization.partof.name`, search.html#chaining);
 * - terms of the whole query once expanded, i.e. every value of every condition after a system
 *   search or a chain through a reference that may point at several types has been spread over
 *   each of those types (`?_tag=x` without `_type` is one term per resource type).
 */
export const SEARCH_LIMITS = { valuesPerParameter: 1000, chainLinks: 4, terms: 5000 } as const;

/** Parameters whose meaning is the same on every type: parsed once, not once per type. */
const TYPE_INDEPENDENT = new Set(['_id', '_lastUpdated']);

function tooMany(what: string, limit: number, name: string): FhirError {
  return new FhirError('invalid', `Search parameter '${name.slice(0, 100)}' has too many ${what}: at most ${limit} are allowed`);
}

/** Counts unescaped commas cheaply, so a huge value list is refused before it is split. */
function checkValueCount(name: string, value: string): void {
  let n = 1;
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '\\') i++;
    else if (value[i] === ',' && ++n > SEARCH_LIMITS.valuesPerParameter) throw tooMany('comma-separated values', SEARCH_LIMITS.valuesPerParameter, name);
  }
}

function checkChainLinks(name: string): void {
  const links = name.split('.').length - 1 + name.split('_has:').length - 1;
  if (links > SEARCH_LIMITS.chainLinks) throw tooMany('chained links (. and _has)', SEARCH_LIMITS.chainLinks, name);
}

const TABLE: Record<string, IndexTable> = {
  token: 'token', string: 'string', date: 'date', number: 'number', quantity: 'quantity', reference: 'reference', uri: 'uri',
};

class Parser {
  /** Terms of the query so far, after expansion over types (SEARCH_LIMITS.terms). */
  private terms = 0;
  private name = '';

  constructor(private readonly params: SearchParameters, private readonly opts: ParseOptions) {}

  private spend(n: number): void {
    this.terms += n;
    if (this.terms > SEARCH_LIMITS.terms) {
      throw new FhirError('invalid', `The search is too large: '${this.name.slice(0, 100)}' brings it past ${SEARCH_LIMITS.terms} terms `
        + '(values × the resource types a system search or chain spreads them over); name the types (_type, or a chain\'s :Type modifier) or use fewer values');
    }
  }

  /** One `name[:modifier][.chain]=value` on the given types; several types make an OR across them. */
  condition(types: string[], name: string, value: string): Condition | undefined {
    this.name = name;
    checkChainLinks(name);
    checkValueCount(name, value);
    if (TYPE_INDEPENDENT.has(name.split(':')[0]) && types.length > 1) types = types.slice(0, 1);
    const per = types.map((t) => this.forType(t, name, value)).filter((c): c is Condition => c !== undefined);
    if (per.length === 0) return undefined;
    return per.length === 1 ? per[0] : { kind: 'or', any: per };
  }

  private forType(type: string, name: string, value: string): Condition | undefined {
    if (name.startsWith('_has:')) return this.has(type, name, value);
    const dot = name.indexOf('.');
    if (dot > 0) return this.chain(type, name.slice(0, dot), name.slice(dot + 1), value);
    const [code, modifier, ...extra] = name.split(':');
    if (extra.length) throw new FhirError('invalid', `Search parameter '${name}' has more than one modifier`);
    if (code === '_id') return this.id(value, modifier);
    const def = this.params.get(type, code);
    if (!def) return undefined;
    if (modifier !== undefined && !(MODIFIERS[def.type] ?? []).includes(modifier)
        && !(def.type === 'reference' && isResourceType(modifier))) {
      throw new FhirError('not-supported', `Modifier ':${modifier}' is not supported on '${code}' (${def.type})`);
    }
    if (code === '_lastUpdated') return this.lastUpdated(modifier, value);
    if (modifier === 'missing') return this.missing(this.constituents(type, def), value);
    if (value === '') throw new FhirError('invalid', `Search parameter '${name}' has no value`);
    const parts = this.constituents(type, def).map((d) => this.values(d, modifier, value));
    return parts.length === 1 ? parts[0] : { kind: 'or', any: parts };
  }

  /** A union parameter (parameters.ts) stands for its constituents; any other for itself. */
  private constituents(type: string, def: ParamDef): ParamDef[] {
    if (!def.unionOf) return [def];
    return def.unionOf.map((key) => {
      const d = this.params.get(type, key.slice(type.length + 1));
      if (!d) throw new FhirError('exception', `union parameter ${def.key} names unknown ${key}`);
      return d;
    });
  }

  private lastUpdated(modifier: string | undefined, value: string): Condition {
    if (modifier === 'missing') {
      if (value !== 'true' && value !== 'false') throw new FhirError('invalid', `:missing takes true or false, got '${value}'`);
      return { kind: 'last-updated', values: [], missing: value === 'true' }; // every resource has one
    }
    if (value === '') throw new FhirError('invalid', "Search parameter '_lastUpdated' has no value");
    const list = orValues(value);
    this.spend(list.length);
    return { kind: 'last-updated', values: list.map((v) => parseDate('_lastUpdated', v)) };
  }

  private id(value: string, modifier?: string): Condition {
    if (modifier !== undefined && modifier !== 'not') throw new FhirError('not-supported', `Modifier ':${modifier}' is not supported on '_id'`);
    const values = orValues(value);
    this.spend(values.length);
    return { kind: 'id', values, not: modifier === 'not' };
  }

  private missing(defs: ParamDef[], value: string): Condition {
    if (value !== 'true' && value !== 'false') throw new FhirError('invalid', `:missing takes true or false, got '${value}'`);
    const components = defs.map((def) => (def.type === 'composite' ? def.components[0]?.def : def));
    return { kind: 'missing', keys: components.map((c) => c.key), table: TABLE[components[0].type], missing: value === 'true' };
  }

  values(def: ParamDef, modifier: string | undefined, value: string): Condition {
    const list = orValues(value);
    this.spend(list.length);
    const key = def.key;
    switch (def.type) {
      case 'token':
        if (modifier === 'text') return { kind: 'token-text', key, values: list.map(normalizeString) };
        if (modifier === 'in' || modifier === 'not-in') {
          const sets = list.map((valueSet): Condition => ({ kind: 'token-in', key, valueSet, not: modifier === 'not-in' }));
          return sets.length === 1 ? sets[0] : { kind: 'or', any: sets }; // comma is OR, as for every value list
        }
        if (modifier === 'of-type') {
          return { kind: 'token', key: `${key}:of-type`, values: list.map((v) => {
            const [system, code, val] = splitEscaped(v, '|');
            if (val === undefined) throw new FhirError('invalid', `:of-type takes system|code|value, got '${v}'`);
            return { system, code: `${code}|${val}` };
          }) };
        }
        return { kind: 'token', key, values: list.map(parseToken), not: modifier === 'not' };
      case 'string':
        return { kind: 'string', key, match: modifier === 'exact' ? 'exact' : modifier === 'contains' ? 'contains' : 'starts',
          values: modifier === 'exact' ? list : list.map(normalizeString) };
      case 'date': return { kind: 'date', key, values: list.map((v) => parseDate(def.code, v)) };
      case 'number': return { kind: 'number', key, values: list.map((v) => parseNumber(def.code, v)) };
      case 'quantity': return { kind: 'quantity', key, values: list.map((v) => parseQuantity(def.code, v)) };
      case 'reference':
        if (modifier === 'identifier') return { kind: 'token', key: `${key}:identifier`, values: list.map(parseToken) };
        return { kind: 'reference', key, values: list.map((v) => parseReferenceValue(v, this.opts.base, modifier)) };
      case 'uri': return { kind: 'uri', key, match: modifier === 'below' ? 'below' : modifier === 'above' ? 'above' : 'exact', values: list };
      case 'composite':
        return { kind: 'composite', key, tuples: list.map((v) => {
          const parts = splitEscaped(v, '$');
          if (parts.length !== def.components.length) {
            throw new FhirError('invalid', `'${def.code}' needs ${def.components.length} values joined by $, got '${v}'`);
          }
          return parts.map((p, i) => this.values(def.components[i].def, undefined, p.replace(/,/g, '\\,')));
        }) };
      default: { const never: never = def.type; return never; }
    }
  }

  private chain(type: string, head: string, rest: string, value: string): Condition | undefined {
    const [code, typeModifier] = head.split(':');
    const def = this.params.get(type, code);
    if (!def || def.type !== 'reference') return undefined;
    const targets = typeModifier ? [typeModifier] : def.targets.filter(isResourceType);
    const chains: Condition[] = [];
    for (const target of targets) {
      this.spend(1);
      const where = this.forType(target, rest, value);
      if (where) chains.push({ kind: 'chain', key: def.key, targetTypes: [target], where });
    }
    if (chains.length === 0) return undefined;
    return chains.length === 1 ? chains[0] : { kind: 'or', any: chains };
  }

  /** `_has:Observation:patient:code=x` (search.html#has), possibly nested. */
  private has(type: string, name: string, value: string): Condition | undefined {
    const [, source, ref, ...rest] = name.split(':');
    if (!source || !ref || rest.length === 0 || !isResourceType(source)) {
      throw new FhirError('invalid', `'${name}' must look like _has:Type:reference:parameter`);
    }
    const def = this.params.get(source, ref);
    if (!def || def.type !== 'reference') throw new FhirError('invalid', `'${ref}' is not a reference parameter of ${source}`);
    const where = this.forType(source, rest.join(':'), value);
    if (!where) return undefined;
    void type;
    return { kind: 'has', type: source, key: def.key, where };
  }

  sort(types: string[], value: string): SortKey[] {
    return value.split(',').filter(Boolean).map((raw) => {
      const desc = raw.startsWith('-');
      const code = desc ? raw.slice(1) : raw;
      if (code === '_id' || code === '_lastUpdated') return { by: code, desc };
      const def = this.params.get(types[0], code);
      if (!def || def.type === 'composite') throw new FhirError('not-supported', `Cannot sort by '${code}'`);
      if (def.unionOf) throw new FhirError('not-supported', `Cannot sort by '${code}', a union of several parameters; sort by one of them`);
      return { by: 'index', key: def.key, table: TABLE[def.type] as Exclude<IndexTable, never>, desc };
    });
  }

  include(types: string[], value: string, reverse: boolean, iterate: boolean): IncludeSpec {
    // `_include=*` alone means every reference parameter of the searched type.
    const [sourceType, code, targetType] = value === '*' ? [types[0], '*'] : value.split(':');
    if (!isResourceType(sourceType) || !code) throw new FhirError('invalid', `'${value}' is not Type:parameter[:target]`);
    if (!reverse && !types.includes(sourceType) && !iterate) {
      throw new FhirError('invalid', `_include=${value} names ${sourceType}, which is not being searched`);
    }
    const refs = [...this.params.forType(sourceType).values()].filter((d) => d.type === 'reference');
    const keys = code === '*' ? refs.map((d) => d.key) : refs.filter((d) => d.code === code).map((d) => d.key);
    if (keys.length === 0) throw new FhirError('invalid', `'${code}' is not a reference parameter of ${sourceType}`);
    if (targetType !== undefined && !isResourceType(targetType)) throw new FhirError('invalid', `Unknown target type '${targetType}'`);
    return { sourceType, keys, targetType, iterate };
  }
}

function count(raw: string | undefined, opts: ParseOptions): number {
  if (raw === undefined) return opts.defaultCount;
  if (!/^\d{1,6}$/.test(raw)) throw new FhirError('invalid', `_count must be a non-negative integer, got '${raw}'`);
  return Math.min(Number(raw), opts.maxCount);
}

export function parseSearch(params: SearchParameters, types: string[], query: URLSearchParams, opts: ParseOptions): ParsedSearch {
  const parser = new Parser(params, opts);
  const q: SearchQuery = { types, where: [], sort: [], count: count(query.get('_count') ?? undefined, opts), offset: 0, total: 'none' };
  const out: ParsedSearch = { query: q, include: [], revinclude: [], used: [], ignored: [] };
  for (const [name, value] of query) {
    const base = name.split(':')[0];
    if (!RESULT_PARAMS.has(base) && base !== '_offset') {
      const condition = parser.condition(types, name, value);
      if (!condition) {
        if (opts.strict) throw new FhirError('not-supported', `Unknown search parameter '${name}' for ${types.join(', ')}`);
        out.ignored.push(name);
        continue;
      }
      q.where.push(condition);
      out.used.push([name, value]);
      continue;
    }
    if (base === '_format' || base === '_pretty' || base === '_type') continue;
    out.used.push([name, value]);
    if (base === '_offset') {
      if (!/^\d{1,9}$/.test(value)) throw new FhirError('invalid', `_offset must be a non-negative integer`);
      q.offset = Number(value);
    } else if (base === '_sort') q.sort = parser.sort(types, value);
    else if (base === '_total') {
      if (value !== 'none' && value !== 'estimate' && value !== 'accurate') throw new FhirError('invalid', `_total must be none, estimate or accurate`);
      q.total = value;
    } else if (base === '_include' || base === '_revinclude') {
      const iterate = name.endsWith(':iterate') || name.endsWith(':recurse');
      (base === '_include' ? out.include : out.revinclude).push(parser.include(types, value, base === '_revinclude', iterate));
    } else if (base === '_summary') {
      if (!['true', 'text', 'data', 'count', 'false'].includes(value)) throw new FhirError('invalid', `_summary must be true, text, data, count or false`);
      out.summary = value as Summary;
      if (value === 'count') { q.count = 0; q.total = 'accurate'; }
    } else if (base === '_elements') out.elements = value.split(',').map((e) => e.trim()).filter(Boolean);
  }
  return out;
}
