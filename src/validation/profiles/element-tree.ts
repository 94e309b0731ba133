import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4';
import type { ElementDefinition } from 'fhir/r4';

/**
 * A profile's snapshot as a tree of element nodes, with everything a check needs worked out once
 * per profile: children, slices, compiled invariants, the profiles each allowed type must conform
 * to (ElementDefinition.type.profile) and the profiles a Reference may point at (targetProfile).
 */
export interface Node {
  def: ElementDefinition;
  /** Last path segment, e.g. `identifier` or `value[x]`. */
  name: string;
  children: Node[];
  slices: Node[];
  invariants: { key: string; human: string; severity: 'error' | 'warning'; run: (value: unknown) => unknown[] }[];
  /** type code → profiles a value of that type must conform to (one of them); Extension is checked by its URL instead. */
  typeProfiles: Map<string, string[]>;
  /** Profiles the target of a Reference here must conform to (one of them); empty: any target. */
  targetProfiles: string[];
  /** fixed[x], pattern[x], minValue[x], maxValue[x], found once per element rather than per value. */
  fixed?: unknown;
  pattern?: unknown;
  minValue?: { type: string; value: unknown };
  maxValue?: { type: string; value: unknown };
  /** R5's additional bindings, carried in R4 by the cross-version extension: required or extensible, by purpose. */
  additionalBindings: { valueSet: string; strength: 'required' | 'extensible' }[];
  /** Capitalised type code → type code: `Quantity` → `Quantity`, `DateTime` → `dateTime` (choice suffixes). */
  codes: Map<string, string>;
}

export type Json = Record<string, unknown>;
export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
export const CORE = 'http://hl7.org/fhir/StructureDefinition/';

/** The value of fixed[x] / pattern[x] / minValue[x] / maxValue[x] on an element, with its type suffix. */
export function typedValueOf(def: ElementDefinition, prefix: 'fixed' | 'pattern' | 'minValue' | 'maxValue'): { type: string; value: unknown } | undefined {
  for (const [k, v] of Object.entries(def)) {
    if (k.startsWith(prefix) && /^[A-Z]/.test(k.slice(prefix.length))) return { type: k.slice(prefix.length), value: v };
  }
  return undefined;
}

export function valueOf(def: ElementDefinition, prefix: 'fixed' | 'pattern'): unknown {
  return typedValueOf(def, prefix)?.value;
}

/** pattern semantics (ElementDefinition.pattern[x]): every property of the pattern is in the value. */
export function matchesPattern(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) {
    const values = Array.isArray(value) ? value : [value];
    return pattern.every((p) => values.some((v) => matchesPattern(v, p)));
  }
  if (isObject(pattern)) return isObject(value) && Object.entries(pattern).every(([k, p]) => matchesPattern(value[k], p));
  return value === pattern;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Values of a child element in a parent object: a choice `value[x]` gathers `valueQuantity` etc. */
export function childValues(parent: Json, name: string): { key: string; values: unknown[] }[] {
  if (name.endsWith('[x]')) {
    const base = name.slice(0, -3);
    return Object.keys(parent)
      .filter((k) => k.startsWith(base) && /^[A-Z]/.test(k.slice(base.length)))
      .map((k) => ({ key: k, values: Array.isArray(parent[k]) ? parent[k] as unknown[] : [parent[k]] }));
  }
  const v = parent[name];
  if (v === undefined || v === null) return [];
  return [{ key: name, values: Array.isArray(v) ? v : [v] }];
}

/** Profiles per type code; a profile that is the type's own base definition adds nothing and is left out. */
function typeProfiles(def: ElementDefinition): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const t of def.type ?? []) {
    if (t.code === 'Extension') continue; // an extension names its definition by its url (extensions.ts)
    const profiles = (t.profile ?? []).filter((p) => p.split('|')[0] !== `${CORE}${t.code}`);
    if (profiles.length > 0) out.set(t.code, profiles);
  }
  return out;
}

const ADDITIONAL_BINDING = new Set([
  'http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.binding.additional',
  'http://hl7.org/fhir/tools/StructureDefinition/additional-binding',
]);
/** Purposes that bind every value (R5 AdditionalBindingPurposeVS); usage-scoped ones cannot be judged here. */
const PURPOSE_STRENGTH: Record<string, 'required' | 'extensible'> = { required: 'required', maximum: 'required', extensible: 'extensible' };

function additionalBindings(def: ElementDefinition): Node['additionalBindings'] {
  const out: Node['additionalBindings'] = [];
  for (const ext of def.binding?.extension ?? []) {
    if (!ADDITIONAL_BINDING.has(ext.url)) continue;
    const part = (name: string) => (ext.extension ?? []).find((e) => e.url === name);
    const strength = PURPOSE_STRENGTH[part('purpose')?.valueCode ?? ''];
    const valueSet = part('valueSet')?.valueCanonical;
    if (strength && valueSet && !part('usage')) out.push({ valueSet, strength });
  }
  return out;
}

function targetProfiles(def: ElementDefinition): string[] {
  return (def.type ?? []).filter((t) => t.code === 'Reference').flatMap((t) => t.targetProfile ?? []);
}

/** Invariants the profile itself adds (R4's own, listed in `coreKeys`, belong to base validation). */
function compileInvariants(def: ElementDefinition, coreKeys: ReadonlySet<string>): Node['invariants'] {
  return (def.constraint ?? [])
    .filter((c) => c.expression && !coreKeys.has(c.key) && !(c.source ?? '').startsWith(CORE))
    .map((c) => {
      const compiled = fhirpath.compile(c.expression as string, r4Model);
      return { key: c.key, human: c.human, severity: c.severity === 'error' ? 'error' : 'warning', run: (v: unknown) => compiled(v as never) as unknown[] };
    });
}

export function buildTree(elements: ElementDefinition[], coreKeys: ReadonlySet<string>): Node {
  const nodes = new Map<string, Node>();
  let root: Node | undefined;
  for (const def of elements) {
    const id = def.id ?? def.path;
    const last = id.slice(id.lastIndexOf('.') + 1);
    const node: Node = {
      def, name: last.split(':')[0], children: [], slices: [], invariants: compileInvariants(def, coreKeys),
      typeProfiles: typeProfiles(def), targetProfiles: targetProfiles(def), additionalBindings: additionalBindings(def),
      fixed: valueOf(def, 'fixed'), pattern: valueOf(def, 'pattern'), minValue: typedValueOf(def, 'minValue'), maxValue: typedValueOf(def, 'maxValue'),
      codes: new Map((def.type ?? []).map((t) => [capital(t.code), t.code])),
    };
    nodes.set(id, node);
    const dot = id.lastIndexOf('.');
    if (dot < 0) { root = node; continue; }
    if (def.sliceName && last.includes(':')) {
      const sliced = nodes.get(`${id.slice(0, dot)}.${node.name}`) ?? nodes.get(id.slice(0, id.lastIndexOf(':')));
      sliced?.slices.push(node);
    } else {
      nodes.get(id.slice(0, dot))?.children.push(node);
    }
  }
  if (!root) throw new Error('a snapshot without a root element');
  return root;
}
