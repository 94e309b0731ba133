import path from 'node:path';

/** What the national-profile tests share: where the NRCeS IG lies (../shared), its URLs, and single-element mutations. */
export const SHARED = path.resolve(__dirname, '../../../../../shared/abdm-ig');
export const EXAMPLES = path.join(SHARED, 'examples/ndhm.in-6.5.0');
export const IG = [path.join(SHARED, 'profiles/ndhm.in-6.5.0'), path.join(SHARED, 'terminology/ndhm.in-6.5.0')];
export const NRCES = 'https://nrces.in/ndhm/fhir/r4/StructureDefinition/';
export const OURS = 'https://abdm-fhir-gateway.github.io/fhir/StructureDefinition/';
export const VS = 'https://abdm-fhir-gateway.github.io/fhir/ValueSet/';
export const SCT = 'http://snomed.info/sct';
export const LOINC = 'http://loinc.org';

/** Every path to a value inside `v` (skipping the top-level keys in `skip`). */
export function* leaves(v: unknown, skip: readonly string[] = ['resourceType'], at: (string | number)[] = []): Generator<(string | number)[]> {
  if (typeof v !== 'object' || v === null) return;
  for (const [k, child] of Object.entries(v)) {
    if (at.length === 0 && skip.includes(k)) continue;
    const here = [...at, Array.isArray(v) ? Number(k) : k];
    yield here;
    yield* leaves(child, skip, here);
  }
}

/** A copy of `r` with the value at `at` removed, or (a string) changed. */
export function edit(r: unknown, at: (string | number)[], how: 'remove' | 'change'): unknown {
  const copy = structuredClone(r) as Record<string | number, unknown>;
  const parent = at.slice(0, -1).reduce<Record<string | number, unknown>>((o, k) => o[k] as Record<string | number, unknown>, copy);
  const key = at[at.length - 1];
  if (how === 'change') { if (typeof parent[key] === 'string') parent[key] = `${parent[key] as string}X`; } else if (Array.isArray(parent)) parent.splice(key as number, 1); else delete parent[key];
  return copy;
}
