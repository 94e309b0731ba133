import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4';
import type { ElementDefinition, ElementDefinitionSlicingDiscriminator } from 'fhir/r4';
import type { Issue } from '../../fhir/errors';
import type { Terminology } from './terminology';

/**
 * A profile's snapshot compiled once into a tree of element checks (validation.html#profile):
 * cardinality, allowed types of choice elements, fixed and pattern values, maxLength, slicing
 * (value, pattern, exists and type discriminators; open, closed and openAtEnd rules), required
 * bindings to ValueSets the server holds, and the profile's own invariants (FHIRPath, compiled
 * once). Every issue carries the FHIRPath of the element it is about.
 */
interface Node {
  def: ElementDefinition;
  /** Last path segment, e.g. `identifier` or `value[x]`. */
  name: string;
  children: Node[];
  slices: Node[];
  invariants: { key: string; human: string; severity: 'error' | 'warning'; run: (value: unknown) => unknown[] }[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** The value of fixed[x] / pattern[x] on an element, if any. */
function valueOf(def: ElementDefinition, prefix: 'fixed' | 'pattern'): unknown {
  for (const [k, v] of Object.entries(def)) if (k.startsWith(prefix) && /^[A-Z]/.test(k.slice(prefix.length))) return v;
  return undefined;
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

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Values of a child element in a parent object: a choice `value[x]` gathers `valueQuantity` etc. */
function childValues(parent: Json, name: string): { key: string; values: unknown[] }[] {
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

function build(elements: ElementDefinition[], coreKeys: ReadonlySet<string>): Node {
  const nodes = new Map<string, Node>();
  let root: Node | undefined;
  for (const def of elements) {
    const id = def.id ?? def.path;
    const last = id.slice(id.lastIndexOf('.') + 1);
    const node: Node = { def, name: last.split(':')[0], children: [], slices: [], invariants: compileInvariants(def, coreKeys) };
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

/** Invariants the profile itself adds (R4's own, listed in `coreKeys`, belong to base validation). */
function compileInvariants(def: ElementDefinition, coreKeys: ReadonlySet<string>): Node['invariants'] {
  return (def.constraint ?? [])
    .filter((c) => c.expression && !coreKeys.has(c.key) && !(c.source ?? '').startsWith('http://hl7.org/fhir/StructureDefinition/'))
    .map((c) => {
      const compiled = fhirpath.compile(c.expression as string, r4Model);
      return { key: c.key, human: c.human, severity: c.severity === 'error' ? 'error' : 'warning', run: (v: unknown) => compiled(v as never) as unknown[] };
    });
}

export class ProfileChecker {
  private readonly root: Node;

  constructor(readonly url: string, elements: ElementDefinition[], private readonly terminology: Terminology, coreKeys: ReadonlySet<string>) {
    this.root = build(elements, coreKeys);
  }

  check(resource: unknown): Issue[] {
    const issues: Issue[] = [];
    const type = this.root.def.path;
    if (!isObject(resource) || resource.resourceType !== type) {
      return [{ severity: 'error', code: 'invalid', diagnostics: `Profile ${this.url} is for ${type}`, expression: [type] }];
    }
    this.element(this.root, resource, type, issues);
    return issues;
  }

  /** One value of an element: its invariants, then each child element. */
  private element(node: Node, value: unknown, at: string, issues: Issue[]): void {
    for (const inv of node.invariants) {
      let ok = false;
      try {
        const result = inv.run(value);
        ok = result.length === 0 || result.every((r) => r === true);
      } catch {
        ok = false;
      }
      if (!ok) issues.push({ severity: inv.severity, code: 'invariant', diagnostics: `${inv.key}: ${inv.human}`, expression: [at] });
    }
    if (!isObject(value)) return;
    for (const child of node.children) this.child(child, value, at, issues);
  }

  private child(node: Node, parent: Json, at: string, issues: Issue[]): void {
    const found = childValues(parent, node.name);
    const def = node.def;
    const count = found.reduce((n, f) => n + f.values.length, 0);
    const where = `${at}.${found[0]?.key ?? node.name.replace('[x]', '')}`;
    if (count < (def.min ?? 0)) {
      issues.push({ severity: 'error', code: 'required', diagnostics: `${def.path}: minimum ${def.min}, found ${count}`, expression: [where] });
    }
    if (def.max !== undefined && def.max !== '*' && count > Number(def.max)) {
      issues.push({ severity: 'error', code: 'structure', diagnostics: `${def.path}: maximum ${def.max}, found ${count}`, expression: [where] });
    }
    if (count === 0) return;
    const allowed = node.name.endsWith('[x]') ? new Set((def.type ?? []).map((t) => capital(t.code))) : undefined;
    const items: { value: unknown; at: string }[] = [];
    for (const f of found) {
      if (allowed && !allowed.has(f.key.slice(node.name.length - 3))) {
        issues.push({ severity: 'error', code: 'structure', diagnostics: `${def.path}: type ${f.key.slice(node.name.length - 3)} is not allowed here (${[...allowed].join(', ')})`, expression: [`${at}.${f.key}`] });
        continue;
      }
      const many = Array.isArray(parent[f.key]);
      f.values.forEach((v, i) => items.push({ value: v, at: many ? `${at}.${f.key}[${i}]` : `${at}.${f.key}` }));
    }
    if (node.slices.length > 0) this.sliced(node, items, where, issues);
    for (const item of items) this.values(node, item.value, item.at, issues);
  }

  /** Fixed, pattern, length and binding checks on one value, then its own children. */
  private values(node: Node, value: unknown, at: string, issues: Issue[]): void {
    const def = node.def;
    const fixed = valueOf(def, 'fixed');
    if (fixed !== undefined && !deepEqual(value, fixed)) {
      issues.push({ severity: 'error', code: 'value', diagnostics: `${def.path} must be exactly ${JSON.stringify(fixed).slice(0, 200)}`, expression: [at] });
    }
    const pattern = valueOf(def, 'pattern');
    if (pattern !== undefined && !matchesPattern(value, pattern)) {
      issues.push({ severity: 'error', code: 'value', diagnostics: `${def.path} must match ${JSON.stringify(pattern).slice(0, 200)}`, expression: [at] });
    }
    if (def.maxLength !== undefined && typeof value === 'string' && value.length > def.maxLength) {
      issues.push({ severity: 'error', code: 'too-long', diagnostics: `${def.path} is longer than ${def.maxLength} characters`, expression: [at] });
    }
    if (def.binding?.valueSet && (def.binding.strength === 'required' || def.binding.strength === 'extensible')) {
      issues.push(...this.terminology.checkBinding(value, def.binding.valueSet, def.binding.strength, at));
    }
    this.element(node, value, at, issues);
  }

  /** Assigns each value to the slice its discriminators pick, then checks each slice's cardinality and rules. */
  private sliced(node: Node, items: { value: unknown; at: string }[], where: string, issues: Issue[]): void {
    // R4 slices every extension by url (open); the definitions we load do not always say so.
    const slicing = node.def.slicing ?? (/(^|\.)(modifierExtension|extension)$/.test(node.def.path) ? EXTENSION_SLICING : undefined);
    if (!slicing) return;
    const counts = new Map<Node, number>(node.slices.map((s) => [s, 0]));
    let lastSlice = -1;
    for (const item of items) {
      const index = node.slices.findIndex((s) => (slicing.discriminator ?? []).every((d) => discriminates(s, d, item.value)));
      if (index < 0) {
        if (slicing.rules === 'closed') {
          issues.push({ severity: 'error', code: 'structure', diagnostics: `${node.def.path}: this value matches none of the slices and the slicing is closed`, expression: [item.at] });
        }
        if (slicing.rules === 'openAtEnd') lastSlice = Number.MAX_SAFE_INTEGER;
        continue;
      }
      const slice = node.slices[index];
      if (slicing.ordered && index < lastSlice) {
        issues.push({ severity: 'error', code: 'structure', diagnostics: `${node.def.path}: slice ${slice.def.sliceName} is out of order`, expression: [item.at] });
      }
      if (slicing.rules === 'openAtEnd' && lastSlice === Number.MAX_SAFE_INTEGER) {
        issues.push({ severity: 'error', code: 'structure', diagnostics: `${node.def.path}: slice ${slice.def.sliceName} follows an unsliced value (openAtEnd)`, expression: [item.at] });
      }
      lastSlice = Math.max(lastSlice, index);
      counts.set(slice, (counts.get(slice) ?? 0) + 1);
      this.values(slice, item.value, item.at, issues);
    }
    for (const [slice, count] of counts) {
      const { min = 0, max } = slice.def;
      if (count < min) {
        issues.push({ severity: 'error', code: 'required', diagnostics: `${node.def.path}: slice '${slice.def.sliceName}' needs at least ${min}, found ${count}`, expression: [where] });
      }
      if (max !== undefined && max !== '*' && count > Number(max)) {
        issues.push({ severity: 'error', code: 'structure', diagnostics: `${node.def.path}: slice '${slice.def.sliceName}' allows at most ${max}, found ${count}`, expression: [where] });
      }
    }
  }
}

const EXTENSION_SLICING: NonNullable<ElementDefinition['slicing']> = { discriminator: [{ type: 'value', path: 'url' }], rules: 'open' };

/** The element under `slice` at a discriminator path (`system`, `type.coding.code`, `$this`). */
function descendant(slice: Node, path: string): Node | undefined {
  if (path === '$this') return slice;
  let node: Node | undefined = slice;
  for (const seg of path.split('.')) {
    const name = seg.replace(/\.resolve\(\)$/, '');
    node = node?.children.find((c) => c.name === name || c.name === `${name}[x]`);
  }
  return node;
}

function valuesAt(value: unknown, path: string): unknown[] {
  if (path === '$this') return [value];
  let current: unknown[] = [value];
  for (const seg of path.split('.')) {
    const next: unknown[] = [];
    for (const c of current) if (isObject(c)) for (const f of childValues(c, seg)) next.push(...f.values);
    current = next;
  }
  return current;
}

/** Whether `value` belongs to `slice` by one discriminator (profiling.html#discriminator). */
function discriminates(slice: Node, d: ElementDefinitionSlicingDiscriminator, value: unknown): boolean {
  // An extension slice is named by its definition's URL (the slice's type profile); its `url`
  // child is often not unfolded at all.
  const extensionProfile = d.path === 'url' ? slice.def.type?.[0]?.profile?.[0] : undefined;
  if (extensionProfile !== undefined && (d.type === 'value' || d.type === 'pattern')) {
    return isObject(value) && value.url === extensionProfile;
  }
  const target = descendant(slice, d.path);
  if (!target) return false;
  const found = valuesAt(value, d.path);
  switch (d.type) {
    case 'value':
    case 'pattern': {
      const fixed = valueOf(target.def, 'fixed');
      const pattern = valueOf(target.def, 'pattern');
      if (fixed !== undefined) return found.some((v) => deepEqual(v, fixed));
      if (pattern !== undefined) return found.some((v) => matchesPattern(v, pattern));
      return false;
    }
    case 'exists':
      return (target.def.min ?? 0) > 0 ? found.length > 0 : target.def.max === '0' ? found.length === 0 : true;
    case 'type': {
      const types = new Set((target.def.type ?? []).map((t) => t.code));
      return found.some((v) => (isObject(v) && typeof v.resourceType === 'string' ? types.has(v.resourceType) : true));
    }
    default:
      return false; // profile discriminators need the target resolved; such slices match nothing yet
  }
}
