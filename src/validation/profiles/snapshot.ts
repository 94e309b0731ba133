import type { ElementDefinition, StructureDefinition } from 'fhir/r4';

/**
 * Snapshot generation (profiling.html#snapshot): a profile published as a differential only (as
 * the NRCeS 6.5.0 profiles are) is expanded against its base into the full element list a
 * validator needs. Starting from the base snapshot, each differential element is applied in
 * order: found by id, or created — a slice (`Patient.identifier:abha`) as a copy of the sliced
 * element and its children, a child of a complex datatype (`Patient.identifier.type.coding`) by
 * unfolding that datatype's own definition under its parent, and a type choice
 * (`Observation.valueQuantity`) as the `[x]` element it narrows. Pure: definitions come from
 * `lookup`.
 */
export type DefinitionLookup = (url: string) => StructureDefinition | undefined;

export class SnapshotError extends Error {}

const CORE = 'http://hl7.org/fhir/StructureDefinition/';

/** Differential properties that replace the base's when present. */
const REPLACED = new Set([
  'min', 'max', 'type', 'binding', 'slicing', 'mustSupport', 'maxLength', 'short', 'definition', 'comment', 'isModifier', 'isSummary',
  'fixedCode', 'defaultValue', 'meaningWhenMissing', 'orderMeaning',
]);
const isValueKey = (k: string): boolean => /^(fixed|pattern|minValue|maxValue)[A-Z]/.test(k);

/** `a.b:s.c` → `a.b.c`: an element's path is its id without slice names. */
export function pathOfId(id: string): string {
  return id.split('.').map((seg) => seg.split(':')[0]).join('.');
}

function splitId(id: string): { parent: string; name: string; slice?: string } {
  // Slice names may not contain '.', so the last '.' separates the parent.
  const dot = id.lastIndexOf('.');
  const last = dot < 0 ? id : id.slice(dot + 1);
  const [name, slice] = last.split(':');
  return { parent: dot < 0 ? '' : id.slice(0, dot), name, slice };
}

export class SnapshotGenerator {
  private readonly cache = new Map<string, ElementDefinition[]>();

  constructor(private readonly lookup: DefinitionLookup) {}

  /** The full element list of `sd`: its own snapshot if it has one, else generated from its differential. */
  snapshot(sd: StructureDefinition): ElementDefinition[] {
    const cached = this.cache.get(sd.url);
    if (cached) return cached;
    let elements: ElementDefinition[];
    if (sd.snapshot?.element?.length && !sd.differential?.element?.length) {
      elements = sd.snapshot.element;
    } else if (sd.snapshot?.element?.length && sd.url.startsWith(CORE)) {
      elements = sd.snapshot.element;
    } else {
      elements = this.generate(sd);
    }
    this.cache.set(sd.url, elements);
    return elements;
  }

  /** Always generates from the differential, even when the definition carries a snapshot (for tests). */
  generate(sd: StructureDefinition): ElementDefinition[] {
    if (!sd.baseDefinition) throw new SnapshotError(`${sd.url} has no baseDefinition`);
    const base = this.lookup(sd.baseDefinition);
    if (!base) throw new SnapshotError(`${sd.url}: base ${sd.baseDefinition} is not known`);
    const elements = structuredClone(this.snapshot(base));
    const work = new Work(elements, this);
    for (const diff of sd.differential?.element ?? []) {
      const id = diff.id ?? diff.path;
      const target = work.find(id);
      merge(target, diff);
    }
    return elements;
  }

  /** The snapshot of a core datatype, for unfolding its children under an element of that type. */
  datatype(code: string): ElementDefinition[] | undefined {
    const sd = this.lookup(code.includes('/') ? code : `${CORE}${code}`);
    return sd ? this.snapshot(sd) : undefined;
  }
}

class Work {
  constructor(private readonly elements: ElementDefinition[], private readonly gen: SnapshotGenerator) {}

  private indexOf(id: string): number {
    return this.elements.findIndex((e) => e.id === id);
  }

  /** After `id` and everything below it (children and slices): where a new sibling-slice goes. */
  private endOf(id: string): number {
    let i = this.indexOf(id) + 1;
    while (i < this.elements.length) {
      const other = this.elements[i].id ?? '';
      if (!other.startsWith(`${id}.`) && !other.startsWith(`${id}:`)) break;
      i++;
    }
    return i;
  }

  find(id: string): ElementDefinition {
    const at = this.indexOf(id);
    if (at >= 0) return this.elements[at];
    const { parent, name, slice } = splitId(id);
    if (!parent) throw new SnapshotError(`element ${id} is not in the base`);
    this.find(parent);
    if (slice !== undefined) return this.createSlice(`${parent}.${name}`, slice);
    const choice = this.choiceFor(parent, name);
    if (choice) return choice;
    this.unfold(parent);
    const again = this.indexOf(id);
    if (again < 0) throw new SnapshotError(`element ${id} is not in the base or its datatypes`);
    return this.elements[again];
  }

  /** `valueQuantity` names the `value[x]` element (restricted to Quantity by the differential). */
  private choiceFor(parent: string, name: string): ElementDefinition | undefined {
    for (const e of this.elements) {
      const eid = e.id ?? '';
      if (!eid.startsWith(`${parent}.`) || !eid.endsWith('[x]')) continue;
      const base = eid.slice(parent.length + 1, -3);
      if (base.includes('.') || base.includes(':')) continue;
      if (name.length > base.length && name.startsWith(base) && /^[A-Z]/.test(name.slice(base.length))) return e;
    }
    return undefined;
  }

  /** Copies the children of a complex datatype under `parentId`, which has none yet. */
  private unfold(parentId: string): void {
    const at = this.indexOf(parentId);
    const parent = this.elements[at];
    if (this.elements[at + 1]?.id?.startsWith(`${parentId}.`)) return; // already unfolded
    const code = parent.type?.length === 1 ? parent.type[0].code : undefined;
    if (!code) throw new SnapshotError(`cannot unfold ${parentId}: it has ${parent.type?.length ?? 0} types`);
    const type = this.gen.datatype(code);
    if (!type) throw new SnapshotError(`cannot unfold ${parentId}: datatype ${code} is not known`);
    const root = type[0].id ?? type[0].path;
    const children = type.slice(1).map((e) => {
      const copy = structuredClone(e);
      copy.id = `${parentId}${(e.id ?? e.path).slice(root.length)}`;
      copy.path = pathOfId(copy.id);
      return copy;
    });
    this.elements.splice(at + 1, 0, ...children);
  }

  /** A new slice of `slicedId`: a copy of the sliced element and its children, after its other slices. */
  private createSlice(slicedId: string, sliceName: string): ElementDefinition {
    this.find(slicedId);
    const start = this.indexOf(slicedId);
    const sliceId = `${slicedId}:${sliceName}`;
    const copies: ElementDefinition[] = [];
    for (let i = start; i < this.elements.length; i++) {
      const e = this.elements[i];
      const eid = e.id ?? '';
      if (i > start && !eid.startsWith(`${slicedId}.`)) {
        if (eid.startsWith(`${slicedId}:`)) continue; // other slices and their children are not copied
        break;
      }
      const copy = structuredClone(e);
      copy.id = sliceId + eid.slice(slicedId.length);
      if (i === start) {
        copy.sliceName = sliceName;
        delete copy.slicing;
        // The sliced element's minimum counts all slices together; one slice alone starts at 0.
        copy.min = 0;
      }
      copies.push(copy);
    }
    this.elements.splice(this.endOf(slicedId), 0, ...copies);
    return this.elements[this.indexOf(sliceId)];
  }
}

function merge(target: ElementDefinition, diff: ElementDefinition): void {
  const t = target as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(diff)) {
    if (key === 'id' || key === 'path' || key === 'sliceName') continue;
    if (key === 'constraint') {
      t.constraint = [...((t.constraint as unknown[]) ?? []), ...(value as unknown[])];
    } else if (REPLACED.has(key) || isValueKey(key)) {
      t[key] = structuredClone(value);
    }
  }
}
