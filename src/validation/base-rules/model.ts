import type { ElementDefinition, StructureDefinition } from 'fhir/r4';
import { coreDefinitions } from '../profiles/definitions';
import { compileInvariant, type Invariant } from './invariants';

/**
 * R4's own rules for every resource and data type, compiled once (lazily, per type) from the base
 * StructureDefinitions' snapshots (validation.html#structure, #cardinality, #invariants,
 * #binding): what each JSON key of an object is (its element and type), which elements are
 * required, the invariants of each element and type with the spec's own FHIRPath, and the
 * required and extensible bindings. The walker (walk.ts) applies them.
 */
export const CORE = 'http://hl7.org/fhir/StructureDefinition/';

export interface TypeRef {
  code: string;
  /** The definition whose rules apply (the type, or a core profile of it such as SimpleQuantity). */
  url: string;
  primitive: boolean;
  /** An element that holds a whole resource (contained, Bundle.entry.resource …). */
  resource: boolean;
  /** The type's rules once looked up (null: none), kept on the reference so the walk looks once. */
  compiled?: ObjectRule | null;
}

export interface ElementRule {
  /** ElementDefinition.path, e.g. `Observation.component.code`. */
  path: string;
  /** JSON name without the choice suffix: `value` for value[x]. */
  name: string;
  min: number;
  /** Infinity for `*`. */
  max: number;
  invariants: Invariant[];
  binding?: { valueSet: string; strength: 'required' | 'extensible' };
  /** Children written inline (BackboneElement, or a contentReference to one). */
  inline?: ObjectRule;
}

/** What the keys of one kind of JSON object mean. */
export interface ObjectRule {
  path: string;
  /** Invariants on the object itself (a type's or a backbone element's). */
  invariants: Invariant[];
  /** JSON key (`valueQuantity`, `_status` …) → its element and type. */
  byKey: Map<string, { rule: ElementRule; type?: TypeRef; shadow: boolean }>;
  /** Elements with min ≥ 1, and the JSON keys any one of which satisfies each. */
  required: { rule: ElementRule; keys: string[] }[];
  /** Elements whose maximum is finite and above 1 (1 is the JSON schema's: an array is refused). */
  bounded: { rule: ElementRule; keys: string[] }[];
}

const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const FHIRPATH_SYSTEM = 'http://hl7.org/fhirpath/System.';

function typeRef(t: NonNullable<ElementDefinition['type']>[number]): TypeRef {
  const code = t.code.startsWith(FHIRPATH_SYSTEM) ? 'System' : t.code;
  const profile = (t.profile ?? []).find((p) => p.startsWith(CORE));
  const primitive = /^[a-z]/.test(code) || code === 'System';
  return { code, url: profile?.split('|')[0] ?? `${CORE}${code}`, primitive, resource: code === 'Resource' };
}

function bindingOf(def: ElementDefinition): ElementRule['binding'] {
  const b = def.binding;
  if (!b?.valueSet || (b.strength !== 'required' && b.strength !== 'extensible')) return undefined;
  return { valueSet: b.valueSet, strength: b.strength };
}

/**
 * R4 marks some invariants as best practice (elementdefinition-bestpractice: dom-6 "a resource
 * should have narrative", …): guidance a deployment may choose to enforce, not conformance. They
 * are left out of the base rules, as the reference validator leaves them out unless asked.
 */
function isBestPractice(c: NonNullable<ElementDefinition['constraint']>[number]): boolean {
  return (c.extension ?? []).some((e) => e.url === 'http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice' && e.valueBoolean === true);
}

/** Compiles one StructureDefinition's snapshot into its root object rule. */
function compileDefinition(sd: StructureDefinition, universal: ReadonlySet<string>): ObjectRule {
  const elements = (sd.snapshot?.element ?? []).filter((e) => !e.sliceName && !(e.id ?? '').includes(':'));
  const byPath = new Map(elements.map((e) => [e.path, e]));
  const objects = new Map<string, ObjectRule>();
  const invariantsOf = (def: ElementDefinition): Invariant[] => (def.constraint ?? [])
    .filter((c) => c.expression && !universal.has(c.key) && !isBestPractice(c))
    .map((c) => compileInvariant(c, def.path));
  const objectFor = (path: string): ObjectRule => {
    let rule = objects.get(path);
    if (!rule) {
      rule = { path, invariants: [], byKey: new Map(), required: [], bounded: [] };
      objects.set(path, rule);
    }
    return rule;
  };
  const root = elements[0];
  objectFor(root.path).invariants.push(...invariantsOf(root));
  const links: [ElementRule, string][] = [];
  for (const def of elements.slice(1)) {
    const parentPath = def.path.slice(0, def.path.lastIndexOf('.'));
    if (!byPath.has(parentPath)) continue;
    const last = def.path.slice(parentPath.length + 1);
    if (last === 'id' && parentPath !== root.path) continue; // an element's id is a plain string
    const choice = last.endsWith('[x]');
    const name = choice ? last.slice(0, -3) : last;
    const max = def.max === '*' || def.max === undefined ? Infinity : Number(def.max);
    const rule: ElementRule = { path: def.path, name, min: def.min ?? 0, max, invariants: [], binding: bindingOf(def) };
    const types = (def.type ?? []).map(typeRef);
    const inline = types.length === 1 && (types[0].code === 'BackboneElement' || types[0].code === 'Element') && elements.some((e) => e.path.startsWith(`${def.path}.`));
    if (def.contentReference) links.push([rule, def.contentReference.slice(def.contentReference.indexOf('#') + 1)]);
    else if (inline) rule.inline = objectFor(def.path);
    // A backbone element's own invariants belong to its object; a typed element's apply per value.
    (rule.inline ? rule.inline.invariants : rule.invariants).push(...invariantsOf(def));
    const parent = objectFor(parentPath);
    const keys: string[] = [];
    const add = (key: string, type: TypeRef | undefined): void => {
      parent.byKey.set(key, { rule, type, shadow: false });
      keys.push(key);
      if (!type || type.primitive) { parent.byKey.set(`_${key}`, { rule, type, shadow: true }); keys.push(`_${key}`); }
    };
    if (choice) for (const t of types) add(`${name}${capital(t.code)}`, t);
    else add(name, inline || def.contentReference ? undefined : types[0]);
    if (rule.min > 0) parent.required.push({ rule, keys });
    if (Number.isFinite(max) && max > 1) parent.bounded.push({ rule, keys });
  }
  for (const [rule, target] of links) rule.inline = objectFor(target);
  return objectFor(root.path);
}

/** Rules by definition URL, compiled on first use and kept (compile once, never per request). */
export class BaseRules {
  private readonly compiled = new Map<string, ObjectRule | undefined>();
  private readonly definitions: ReadonlyMap<string, StructureDefinition>;
  /**
   * Invariants the walker implements itself wherever they apply rather than per definition: ele-1
   * (every element), ext-1 (every extension, where R4 repeats it on each `extension` element) and
   * txt-1 (the narrative's XHTML, reported problem by problem).
   */
  private readonly universal = new Set(['ele-1', 'ext-1', 'txt-1']);

  constructor(definitions: ReadonlyMap<string, StructureDefinition> = coreDefinitions()) {
    this.definitions = definitions;
  }

  rules(url: string): ObjectRule | undefined {
    if (this.compiled.has(url)) return this.compiled.get(url);
    const sd = this.definitions.get(url);
    const rule = sd?.snapshot && sd.kind !== 'primitive-type' && sd.kind !== 'logical' ? compileDefinition(sd, this.universal) : undefined;
    this.compiled.set(url, rule);
    return rule;
  }

  resource(type: string): ObjectRule | undefined {
    return this.rules(`${CORE}${type}`);
  }

  /** Compiles every resource and data type now (start-up), and returns how many invariants there are. */
  compileAll(): Invariant[] {
    const all: Invariant[] = [];
    for (const [url, sd] of this.definitions) {
      if (sd.kind === 'logical' || sd.kind === 'primitive-type') continue;
      // Core profiles (vitalsigns, SimpleQuantity …) are compiled when something names them.
      if (sd.derivation === 'constraint') continue;
      const rule = this.rules(url);
      const seen = new Set<ObjectRule>();
      const collect = (o: ObjectRule | undefined): void => {
        if (!o || seen.has(o)) return;
        seen.add(o);
        all.push(...o.invariants);
        for (const { rule: r } of o.byKey.values()) { all.push(...r.invariants); collect(r.inline); }
      };
      collect(rule);
    }
    return [...new Set(all)];
  }
}

let shared: BaseRules | undefined;

/** The one compiled set of R4 base rules in this process. */
export function baseRules(): BaseRules {
  shared ??= new BaseRules();
  return shared;
}
