import type { Resource } from 'fhir/r4';
import { compileExpression, compileRelative, type Extractor } from './expressions';
import { appendRows, emptyRows, rowCount, type IndexRows } from './index-rows';
import type { ParamDef, SearchParameters } from './parameters';
import { addValue, TEXT_ONLY } from './values';

/**
 * Resource → index rows, through every search parameter of its type. Expressions are compiled
 * lazily once per type (start-up stays fast; the first write of a type pays ~ms once).
 * `_id` and `_lastUpdated` are not indexed: they are the resource's own key and its version's timestamp.
 */
interface CompiledParam {
  def: ParamDef;
  extract: Extractor;
  targets?: string[];
  components: { def: ParamDef; extract: Extractor; targets?: string[] }[];
}

const INTRINSIC = new Set(['_id', '_lastUpdated']);

export class Indexer {
  private readonly compiled = new Map<string, CompiledParam[]>();

  constructor(private readonly params: SearchParameters) {}

  private forType(type: string): CompiledParam[] {
    let list = this.compiled.get(type);
    if (!list) {
      list = [];
      for (const def of this.params.forType(type).values()) {
        if (INTRINSIC.has(def.code) || def.unionOf) continue; // a union is searched through its constituents
        const c = compileExpression(def.expression);
        const basePath = def.expression.replace(/^\(|\)$/g, '');
        list.push({
          def, extract: c.extract, targets: c.targetTypes,
          components: def.components.map((comp) => ({ def: comp.def, extract: compileRelative(comp.expression, basePath) })),
        });
      }
      this.compiled.set(type, list);
    }
    return list;
  }

  /** Compiles every type's expressions now, so that a bad expression fails at start-up. */
  warmUp(types: Iterable<string>): void {
    for (const t of types) this.forType(t);
  }

  /** The rows of every parameter of the resource's type, or only of the parameters named in `codes`. */
  index(resource: Resource, codes?: ReadonlySet<string>): IndexRows {
    const rows = emptyRows();
    for (const p of this.forType(resource.resourceType)) {
      if (codes && !codes.has(p.def.code)) continue;
      let values: unknown[];
      try {
        values = p.extract(resource);
      } catch {
        continue; // an expression that cannot evaluate on this resource yields no values
      }
      if (p.def.type !== 'composite') {
        for (const v of values) addValue(p.def.type, p.def.key, 0, v, rows, p.targets);
        continue;
      }
      values.forEach((base, i) => {
        // A composite can only match a base value that has every component, so one that lacks a
        // component gets no rows at all (an Observation with a valueQuantity is never found by
        // code-value-concept): fewer rows to write, same answers.
        const own = emptyRows();
        for (const comp of p.components) {
          if (comp.def.type === 'composite') continue;
          const before = rowCount(own);
          for (const v of comp.extract(base)) addValue(comp.def.type, comp.def.key, i + 1, v, own, comp.targets);
          if (rowCount(own) === before) return;
        }
        // Components are matched by code and value, never by :text: their text is dead weight.
        own.token = own.token.filter((r) => r.system !== TEXT_ONLY);
        for (const r of own.token) r.text = undefined;
        appendRows(rows, own);
      });
    }
    return rows;
  }
}
