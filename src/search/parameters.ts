import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, SearchParameter } from 'fhir/r4';
import { readDefinitionBundle, r4ResourceTypes } from '../fhir/definitions';

/**
 * The search parameters the server knows: the official R4 definitions plus our own (JSON files
 * under profiles/, e.g. national identifiers), resolved per resource type. Everything here is
 * computed once at start-up.
 */
export const PARAM_TYPES = ['token', 'string', 'date', 'number', 'quantity', 'reference', 'uri', 'composite'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

export interface ParamDef {
  /** The name used in a query, e.g. `birthdate`. */
  code: string;
  type: ParamType;
  /** The resource type this definition is resolved for. */
  resourceType: string;
  url: string;
  /** The expression restricted to this resource type (the official ones are unions across types). */
  expression: string;
  /** Reference targets allowed by the definition; `where(resolve() is X)` narrows these. */
  targets: string[];
  /** For composite parameters: the component parameters and their expressions relative to each base value. */
  components: { def: ParamDef; expression: string }[];
  /** A stable key for index rows: `Type.code`, or `Type.code#i` for a composite's components. */
  key: string;
  /**
   * Set when the parameter is exactly the union of other parameters of its type (Observation's
   * `combo-code` is `code` | `component-code`): it is not indexed itself, and a search on it is
   * an OR over these keys. Same answers, fewer index rows on every write.
   */
  unionOf?: string[];
}

const partsOf = (expression: string): string[] => expression.split(/\s\|\s/).map((p) => p.trim());
const componentShape = (d: ParamDef): string => d.components.map((c) => `${c.def.type}:${c.expression}`).join(',');

/**
 * The parameters whose parts together are exactly `def`'s parts, or undefined. Only parameters of
 * the same type (and, for composites, the same components) qualify; references are left alone,
 * since their target restrictions could differ.
 */
function unionCover(def: ParamDef, all: Iterable<ParamDef>): string[] | undefined {
  const parts = new Set(partsOf(def.expression));
  if (parts.size < 2 || def.type === 'reference') return undefined;
  const candidates = [...all].filter((d) => d !== def && d.type === def.type && !d.unionOf
    && componentShape(d) === componentShape(def) && partsOf(d.expression).every((p) => parts.has(p)));
  // Keep the largest candidates; drop any whose parts another candidate already covers.
  const kept = candidates.filter((c) => !candidates.some((o) => o !== c && partsOf(c.expression).every((p) => partsOf(o.expression).includes(p))
    && partsOf(o.expression).length > partsOf(c.expression).length));
  const covered = new Set(kept.flatMap((d) => partsOf(d.expression)));
  return kept.length >= 2 && covered.size === parts.size ? kept.map((d) => d.key) : undefined;
}

/** Resource-level parameters we do not index (no expression, or not a plain index). */
const UNINDEXED = new Set(['_content', '_query', '_text', '_list', '_has', '_type']);

function ownParts(expression: string, type: string): string | undefined {
  const parts = expression.split(/\s\|\s/).map((p) => p.trim()).filter((p) => {
    const bare = p.replace(/^\(+/, '');
    return bare === type || bare.startsWith(`${type}.`) || bare.startsWith('Resource.') || bare.startsWith('DomainResource.');
  });
  return parts.length ? parts.map((p) => p.replace(/^(\(*)(Resource|DomainResource)\./, `$1${type}.`)).join(' | ') : undefined;
}

function readProfileParameters(dir: string): SearchParameter[] {
  if (!fs.existsSync(dir)) return [];
  const out: SearchParameter[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const json = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as SearchParameter | Bundle;
    const resources = json.resourceType === 'Bundle' ? (json.entry ?? []).map((e) => e.resource) : [json];
    for (const r of resources) if (r?.resourceType === 'SearchParameter') out.push(r as SearchParameter);
  }
  return out;
}

export class SearchParameters {
  private readonly byType = new Map<string, Map<string, ParamDef>>();

  constructor(definitions: SearchParameter[]) {
    const byUrl = new Map(definitions.map((d) => [d.url, d]));
    for (const sp of definitions) {
      if (UNINDEXED.has(sp.code) || !sp.expression || !(PARAM_TYPES as readonly string[]).includes(sp.type)) continue;
      const bases = sp.base.flatMap((b) => (b === 'Resource' || b === 'DomainResource' ? [...r4ResourceTypes()] : [b]));
      for (const type of bases) {
        if (!r4ResourceTypes().has(type)) continue;
        const def = this.resolve(sp, type, byUrl);
        if (def) this.params(type).set(def.code, def);
      }
    }
    for (const params of this.byType.values()) {
      for (const def of params.values()) {
        const cover = unionCover(def, params.values());
        if (cover) def.unionOf = cover;
      }
    }
  }

  private params(type: string): Map<string, ParamDef> {
    let m = this.byType.get(type);
    if (!m) this.byType.set(type, (m = new Map()));
    return m;
  }

  private resolve(sp: SearchParameter, type: string, byUrl: Map<string, SearchParameter>): ParamDef | undefined {
    const expression = ownParts(sp.expression ?? '', type);
    if (!expression) return undefined;
    const def: ParamDef = {
      code: sp.code, type: sp.type as ParamType, resourceType: type, url: sp.url, expression,
      targets: sp.target ?? [], components: [], key: `${type}.${sp.code}`,
    };
    if (sp.type === 'composite') {
      for (const [i, c] of (sp.component ?? []).entries()) {
        const target = byUrl.get(c.definition);
        if (!target || target.type === 'composite') return undefined;
        def.components.push({
          expression: c.expression,
          def: { ...def, code: `${sp.code}#${i}`, type: target.type as ParamType, expression: c.expression, targets: target.target ?? [], components: [], key: `${def.key}#${i}` },
        });
      }
    }
    return def;
  }

  /** Parameters of a type, by code (including the Resource-level ones such as `_id`). */
  forType(type: string): ReadonlyMap<string, ParamDef> {
    return this.byType.get(type) ?? new Map();
  }

  get(type: string, code: string): ParamDef | undefined {
    return this.byType.get(type)?.get(code);
  }
}

/**
 * R4's search expressions pick a choice type with `as` (`(Observation.component.value as
 * Quantity)`), which FHIRPath defines on a single item only, so a resource with two components
 * would index neither. What R4 means, and what HL7's correction FHIR-29653 writes, is a filter
 * over every item: `ofType()` (FHIRPath: `as` on more than one item is an error). Only the official
 * definitions are rewritten.
 */
export function asOfType(expression: string): string {
  return expression
    .replace(/\(([A-Za-z][\w.]*) as ([A-Za-z]\w*)\)/g, '($1.ofType($2))')
    .replace(/\.as\(([A-Za-z]\w*)\)/g, '.ofType($1)');
}

/** The official R4 parameters plus any JSON SearchParameters found in `profileDirs`. */
export function loadSearchParameters(profileDirs: string[] = []): SearchParameters {
  const official = (readDefinitionBundle('search-parameters.json').entry ?? [])
    .map((e) => e.resource as SearchParameter)
    .filter((sp) => sp?.resourceType === 'SearchParameter')
    .map((sp) => ({
      ...sp,
      expression: sp.expression === undefined ? undefined : asOfType(sp.expression),
      component: sp.component?.map((c) => ({ ...c, expression: asOfType(c.expression) })),
    }));
  const ours = profileDirs.flatMap(readProfileParameters);
  const ourCodes = new Set(ours.flatMap((sp) => sp.base.map((b) => `${b}.${sp.code}`)));
  // Our own definitions replace an official one with the same base and code.
  const kept = official.filter((sp) => !sp.base.some((b) => ourCodes.has(`${b}.${sp.code}`)));
  return new SearchParameters([...kept, ...ours]);
}
