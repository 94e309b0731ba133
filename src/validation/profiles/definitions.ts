import fs from 'node:fs';
import path from 'node:path';
import type { StructureDefinition } from 'fhir/r4';
import { R4_VERSION, readDefinitionBundle } from '../../fhir/definitions';
import { NON_R4_ELEMENTS, R4_TYPES } from '../../fhir/r4-deviations';

/**
 * StructureDefinitions by canonical URL: R4's own types, resources and profiles (corrected to HL7's R4, see
 * fhir/r4-deviations.ts), plus those of implementation guides read from folders (ours under
 * profiles/, and any `--ig` folder). Loaded once at start-up.
 */
const CORE = 'http://hl7.org/fhir/StructureDefinition/';

function corrected(sd: StructureDefinition): StructureDefinition {
  const drop = (id: string | undefined): boolean =>
    NON_R4_ELEMENTS.some((p) => id === p || id?.startsWith(`${p}.`) || (id ?? '').replace(/^[^.]+/, sd.type) === p);
  const fix = (elements: StructureDefinition['snapshot']) => {
    if (!elements) return;
    elements.element = elements.element.filter((e) => !drop(e.id));
    for (const e of elements.element) {
      const types = R4_TYPES[e.id ?? ''];
      if (types) e.type = types.map((code) => ({ code }));
    }
  };
  fix(sd.snapshot);
  fix(sd.differential);
  return sd;
}

let core: Map<string, StructureDefinition> | undefined;

export function coreDefinitions(): ReadonlyMap<string, StructureDefinition> {
  if (!core) {
    core = new Map();
    // profiles-others.json holds R4's own profiles (vitalsigns, bp, bodyweight, bmi, …): known to
    // $validate?profile= and meta.profile like any profile.
    for (const file of ['profiles-types.json', 'profiles-resources.json', 'profiles-others.json']) {
      for (const entry of readDefinitionBundle(file).entry ?? []) {
        const sd = entry.resource as StructureDefinition | undefined;
        if (sd?.resourceType === 'StructureDefinition' && sd.url.startsWith(CORE) && sd.fhirVersion === R4_VERSION) core.set(sd.url, corrected(sd));
      }
    }
  }
  return core;
}

let constraintKeys: Set<string> | undefined;

/** The keys of R4's own invariants (ele-1, dom-2, bdl-3, obs-7 …), which profiles inherit. */
export function coreConstraintKeys(): ReadonlySet<string> {
  if (!constraintKeys) {
    constraintKeys = new Set();
    for (const sd of coreDefinitions().values()) for (const e of sd.snapshot?.element ?? []) for (const c of e.constraint ?? []) constraintKeys.add(c.key);
  }
  return constraintKeys;
}

/** Every StructureDefinition in a folder of JSON files (one resource per file, or Bundles of them). */
export function readStructureDefinitions(dir: string): StructureDefinition[] {
  if (!fs.existsSync(dir)) return [];
  const out: StructureDefinition[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const json = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { resourceType?: string; entry?: { resource?: unknown }[] };
    const resources = json.resourceType === 'Bundle' ? (json.entry ?? []).map((e) => e.resource) : [json];
    for (const r of resources) if ((r as StructureDefinition)?.resourceType === 'StructureDefinition') out.push(r as StructureDefinition);
  }
  return out;
}
