import type { CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeInclude, ValueSetExpansionContains } from 'fhir/r4';
import { FhirError } from '../fhir/errors';
import type { StoreReader } from '../storage/store';
import type { Condition, TokenValue } from './query';

/**
 * `:in` and `:not-in` (search.html#token): a token is in a ValueSet when its system and code are
 * among the ValueSet's codes. ValueSets and CodeSystems are those the server holds (stored as
 * resources), found by canonical URL. Expansion handles enumerated concepts, whole code systems,
 * nested ValueSets, `is-a`/`descendent-of`/`=` filters over a CodeSystem we hold, exclusions of
 * enumerated codes, and a ValueSet's own stored expansion. Anything else is refused with a reason,
 * never approximated.
 */

/** More codes than this in one search is refused: the query would be too large to plan. */
export const MAX_EXPANSION = 5000;
const MAX_NESTING = 8;

interface Lookup {
  valueSet(url: string): Promise<ValueSet | undefined>;
  codeSystem(url: string): Promise<CodeSystem | undefined>;
}

type Codes = Map<string, TokenValue>;
const keyOf = (v: TokenValue): string => `${v.system ?? ''}|${v.code ?? ''}`;

function add(into: Codes, v: TokenValue, url: string): void {
  into.set(keyOf(v), v);
  if (into.size > MAX_EXPANSION) {
    throw new FhirError('too-costly', `ValueSet '${url}' has more than ${MAX_EXPANSION} codes; search by a smaller ValueSet`, { status: 422 });
  }
}

function fromExpansion(contains: ValueSetExpansionContains[] | undefined, into: Codes, url: string): void {
  for (const c of contains ?? []) {
    if (c.code && !c.abstract) add(into, { system: c.system, code: c.code }, url);
    fromExpansion(c.contains, into, url);
  }
}

function findConcept(concepts: CodeSystemConcept[] | undefined, code: string): CodeSystemConcept | undefined {
  for (const c of concepts ?? []) {
    if (c.code === code) return c;
    const below = findConcept(c.concept, code);
    if (below) return below;
  }
  return undefined;
}

/** The concept with `code` (when `includeSelf`) and everything below it in the CodeSystem's hierarchy. */
function descendants(concepts: CodeSystemConcept[] | undefined, code: string, includeSelf: boolean): string[] {
  const top = findConcept(concepts, code);
  if (!top) return [];
  const out = includeSelf ? [top.code] : [];
  const walk = (list: CodeSystemConcept[] | undefined): void => { for (const d of list ?? []) { out.push(d.code); walk(d.concept); } };
  walk(top.concept);
  return out;
}

async function include(lookup: Lookup, inc: ValueSetComposeInclude, into: Codes, url: string, depth: number): Promise<'system' | 'codes'> {
  const nested: Codes[] = [];
  for (const vsUrl of inc.valueSet ?? []) nested.push(await expand(lookup, vsUrl, depth + 1));
  let own: Codes | undefined;
  if (inc.system) {
    own = new Map();
    if (inc.concept?.length) {
      for (const c of inc.concept) add(own, { system: inc.system, code: c.code }, url);
    } else if (inc.filter?.length) {
      const cs = await lookup.codeSystem(inc.system);
      if (!cs) throw new FhirError('not-supported', `ValueSet '${url}' filters code system '${inc.system}', which this server does not hold`);
      let allowed: Set<string> | undefined;
      for (const f of inc.filter) {
        if (f.property !== 'concept' || !['is-a', 'descendent-of', '='].includes(f.op)) {
          throw new FhirError('not-supported', `ValueSet '${url}': filter '${f.property} ${f.op}' is not supported (is-a, descendent-of and = on concept are)`);
        }
        const codes = new Set(f.op === '=' ? [f.value] : descendants(cs.concept, f.value, f.op === 'is-a'));
        allowed = allowed ? new Set([...allowed].filter((c) => codes.has(c))) : codes;
      }
      for (const code of allowed ?? []) add(own, { system: inc.system, code }, url);
    } else if (nested.length === 0) {
      add(into, { system: inc.system }, url); // the whole code system
      return 'system';
    }
  }
  // Included codes must be in every nested ValueSet named with them, and in the system's own selection.
  let result = own ?? nested.shift() ?? new Map();
  for (const n of nested) result = new Map([...result].filter(([k]) => n.has(k)));
  for (const [, v] of result) add(into, v, url);
  return 'codes';
}

async function expand(lookup: Lookup, url: string, depth = 0): Promise<Codes> {
  if (depth > MAX_NESTING) throw new FhirError('not-supported', `ValueSet '${url}' nests other ValueSets more than ${MAX_NESTING} deep`);
  const vs = await lookup.valueSet(url);
  if (!vs) throw new FhirError('invalid', `ValueSet '${url}' is not held by this server; store it first (PUT ValueSet/...)`);
  const codes: Codes = new Map();
  if (vs.expansion?.contains) {
    fromExpansion(vs.expansion.contains, codes, url);
    return codes;
  }
  if (!vs.compose?.include?.length) throw new FhirError('not-supported', `ValueSet '${url}' has neither an expansion nor a compose`);
  let wholeSystem = false;
  for (const inc of vs.compose.include) if ((await include(lookup, inc, codes, url, depth)) === 'system') wholeSystem = true;
  for (const exc of vs.compose.exclude ?? []) {
    if (wholeSystem) throw new FhirError('not-supported', `ValueSet '${url}' excludes codes from a whole code system, which cannot be searched by enumeration`);
    if (!exc.system || !exc.concept?.length || exc.valueSet?.length || exc.filter?.length) {
      throw new FhirError('not-supported', `ValueSet '${url}': only exclusions of listed concepts are supported`);
    }
    for (const c of exc.concept) codes.delete(keyOf({ system: exc.system, code: c.code }));
  }
  return codes;
}

function storeLookup(reader: StoreReader): Lookup {
  const byUrl = async <T>(type: string, key: string, url: string): Promise<T | undefined> => {
    const ref = /^(ValueSet|CodeSystem)\/([A-Za-z0-9\-.]{1,64})$/.exec(url);
    if (ref && ref[1] === type) {
      const v = await reader.read(type, ref[2]);
      return v && !v.deleted ? (v.resource as T) : undefined;
    }
    const [canonical, version] = url.split('|');
    const page = await reader.search({
      types: [type], where: [{ kind: 'uri', key, match: 'exact', values: [canonical] }], sort: [{ by: '_lastUpdated', desc: true }], count: 50, offset: 0, total: 'none',
    });
    const all = page.versions.map((v) => v.resource as unknown as T & { version?: string });
    return version ? all.find((r) => r.version === version) : all[0];
  };
  return {
    valueSet: (url) => byUrl<ValueSet>('ValueSet', 'ValueSet.url', url),
    codeSystem: (url) => byUrl<CodeSystem>('CodeSystem', 'CodeSystem.url', url),
  };
}

/**
 * Replaces every `token-in` condition (at any depth: inside OR, chains, `_has`) by the token
 * condition it stands for. Run before the query reaches a store, so stores never see ValueSets.
 */
export async function resolveValueSets(reader: StoreReader, conditions: Condition[]): Promise<Condition[]> {
  if (!conditions.some(function mentions(c: Condition): boolean {
    return c.kind === 'token-in' || (c.kind === 'or' && c.any.some(mentions)) || (c.kind === 'and' && c.all.some(mentions)) || ((c.kind === 'chain' || c.kind === 'has') && mentions(c.where));
  })) return conditions;
  const lookup = storeLookup(reader);
  const cache = new Map<string, TokenValue[]>();
  const resolve = async (c: Condition): Promise<Condition> => {
    switch (c.kind) {
      case 'token-in': {
        let values = cache.get(c.valueSet);
        if (!values) { values = [...(await expand(lookup, c.valueSet)).values()]; cache.set(c.valueSet, values); }
        // An empty ValueSet: `:in` matches nothing and `:not-in` everything; a code no system has says so.
        if (values.length === 0) values = [{ system: '\u0000', code: '\u0000' }];
        return { kind: 'token', key: c.key, values, not: c.not };
      }
      case 'or': return { kind: 'or', any: await Promise.all(c.any.map(resolve)) };
      case 'and': return { kind: 'and', all: await Promise.all(c.all.map(resolve)) };
      case 'chain': return { ...c, where: await resolve(c.where) };
      case 'has': return { ...c, where: await resolve(c.where) };
      default: return c;
    }
  };
  return Promise.all(conditions.map(resolve));
}
