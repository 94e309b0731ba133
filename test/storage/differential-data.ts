import type { Encounter, Observation, Organization, Patient, Resource } from 'fhir/r4';
import { random } from '../helpers/random';

export { random };

/**
 * A seeded, deterministic clinical dataset and a few hundred searches over it, for comparing
 * stores: same seed, same resources, same queries. Values are varied on purpose (date
 * precisions, time zones, accents, missing elements, periods, components) so that every
 * parameter type and most prefixes and modifiers meet edge cases.
 */
export type Rng = () => number;
const pick = <T>(rng: Rng, list: readonly T[]): T => list[Math.floor(rng() * list.length)];
const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
const pad = (n: number): string => String(n).padStart(2, '0');

export const ABHA = 'https://healthid.abdm.gov.in';
export const MRN = 'https://hospital.example.in/mrn';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
export const FAMILIES = ['Sharma', 'Verma', 'Iyer', 'Rāo', 'Patel', 'Singh', 'Gupta', 'Menon', 'Das', 'Ñayak'] as const;
export const GIVEN = ['Asha', 'Ravi', 'Priya', 'Arjun', 'Meera', 'Kiran', 'Anil', 'Sunita'] as const;
export const CITIES = ['Pune', 'Chennai', 'Kolkata', 'Lucknow', 'Bhopal'] as const;
export const GENDERS = ['male', 'female', 'other', 'unknown'] as const;
export const CODES = [
  { code: '718-7', display: 'Hemoglobin [Mass/volume] in Blood', unit: 'g/dL', lo: 7, hi: 17 },
  { code: '2345-7', display: 'Glucose [Mass/volume] in Serum or Plasma', unit: 'mg/dL', lo: 60, hi: 250 },
  { code: '8867-4', display: 'Heart rate', unit: '/min', lo: 45, hi: 140 },
  { code: '29463-7', display: 'Body weight', unit: 'kg', lo: 3, hi: 120 },
  { code: '85354-9', display: 'Blood pressure panel', unit: 'mm[Hg]', lo: 60, hi: 180 },
] as const;
export const STATUSES = ['final', 'preliminary', 'amended', 'cancelled'] as const;

function birthDate(rng: Rng): string {
  const y = int(rng, 1940, 2020);
  const precision = rng();
  if (precision < 0.15) return String(y);
  if (precision < 0.3) return `${y}-${pad(int(rng, 1, 12))}`;
  return `${y}-${pad(int(rng, 1, 12))}-${pad(int(rng, 1, 28))}`;
}

function instant(rng: Rng): string {
  const zone = pick(rng, ['+05:30', 'Z', '-04:00']);
  return `${int(rng, 2019, 2026)}-${pad(int(rng, 1, 12))}-${pad(int(rng, 1, 28))}T${pad(int(rng, 0, 23))}:${pad(int(rng, 0, 59))}:00${zone}`;
}

export interface Dataset { organizations: Organization[]; patients: Patient[]; encounters: Encounter[]; observations: Observation[] }

export function generate(seed: number): Dataset {
  const rng = random(seed);
  const organizations: Organization[] = CITIES.map((city, i) => ({ resourceType: 'Organization', id: `org-${i}`, name: `${city} District Hospital` }));
  const patients: Patient[] = Array.from({ length: 40 }, (_, i): Patient => {
    const p: Patient = { resourceType: 'Patient', id: `pat-${i}`, name: [{ family: pick(rng, FAMILIES), given: [pick(rng, GIVEN)] }] };
    if (rng() < 0.9) p.gender = pick(rng, GENDERS);
    if (rng() < 0.85) p.birthDate = birthDate(rng);
    if (rng() < 0.7) p.active = rng() < 0.8;
    p.identifier = [{ system: ABHA, value: `91-${String(1000 + i)}-${String(int(rng, 1000, 9999))}-${String(int(rng, 1000, 9999))}` }];
    if (rng() < 0.5) p.identifier.push({ system: MRN, value: `M${int(rng, 1, 30)}` });
    if (rng() < 0.8) p.address = [{ city: pick(rng, CITIES), postalCode: `4110${int(rng, 10, 99)}` }];
    if (rng() < 0.6) p.managingOrganization = { reference: `Organization/org-${int(rng, 0, organizations.length - 1)}` };
    return p;
  });
  const encounters: Encounter[] = Array.from({ length: 50 }, (_, i): Encounter => {
    const start = instant(rng);
    const e: Encounter = {
      resourceType: 'Encounter', id: `enc-${i}`, status: pick(rng, ['planned', 'in-progress', 'finished'] as const),
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: pick(rng, ['AMB', 'IMP', 'EMER']) },
      subject: { reference: `Patient/pat-${int(rng, 0, patients.length - 1)}` },
    };
    if (rng() < 0.85) e.period = rng() < 0.7 ? { start, end: start.replace(/T(\d\d)/, (_m, h: string) => `T${pad(Math.min(23, Number(h) + 1))}`) } : { start };
    if (rng() < 0.7) e.serviceProvider = { reference: `Organization/org-${int(rng, 0, organizations.length - 1)}` };
    return e;
  });
  const observations: Observation[] = Array.from({ length: 160 }, (_, i): Observation => {
    const c = pick(rng, CODES);
    const o: Observation = {
      resourceType: 'Observation', id: `obs-${i}`, status: pick(rng, STATUSES),
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: c.code === '718-7' || c.code === '2345-7' ? 'laboratory' : 'vital-signs' }] }],
      code: { coding: [{ system: LOINC, code: c.code, display: c.display }], text: c.display },
    };
    if (rng() < 0.95) o.subject = { reference: `Patient/pat-${int(rng, 0, patients.length - 1)}` };
    if (rng() < 0.5) o.encounter = { reference: `Encounter/enc-${int(rng, 0, encounters.length - 1)}` };
    const when = rng();
    if (when < 0.7) o.effectiveDateTime = instant(rng);
    else if (when < 0.85) o.effectivePeriod = { start: instant(rng) };
    const value = Math.round((c.lo + rng() * (c.hi - c.lo)) * 10) / 10;
    if (c.code === '85354-9') {
      o.component = [
        { code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }] }, valueQuantity: { value: Math.round(value + 40), unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
        { code: { coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }] }, valueQuantity: { value: Math.round(value), unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
      ];
    } else if (rng() < 0.9) {
      o.valueQuantity = { value, unit: c.unit, system: UCUM, code: c.unit };
    }
    return o;
  });
  return { organizations, patients, encounters, observations };
}

/** The writes that load a dataset, in order: creates (by PUT, keeping the ids), then some updates and deletes. */
export type Write = { kind: 'put'; resource: Resource & { id: string } } | { kind: 'delete'; type: string; id: string };

export function writes(data: Dataset, seed: number): Write[] {
  const rng = random(seed + 1);
  const all = [...data.organizations, ...data.patients, ...data.encounters, ...data.observations] as (Resource & { id: string })[];
  const out: Write[] = all.map((resource) => ({ kind: 'put', resource }));
  for (const p of data.patients) if (rng() < 0.15) out.push({ kind: 'put', resource: { ...p, id: p.id as string, gender: pick(rng, GENDERS) } as Patient & { id: string } });
  for (const o of data.observations) if (rng() < 0.05) out.push({ kind: 'delete', type: 'Observation', id: o.id as string });
  for (const p of data.patients) if (rng() < 0.04) out.push({ kind: 'delete', type: 'Patient', id: p.id as string });
  return out;
}

const PREFIX = ['', 'eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const;

/** One random search: [type, query string]. */
function search(rng: Rng, data: Dataset): [string, string] {
  const patient = (): string => `Patient/pat-${int(rng, 0, data.patients.length - 1)}`;
  const date = (): string => pick(rng, [birthDate(rng), instant(rng).slice(0, 10), instant(rng).slice(0, 7), String(int(rng, 2019, 2026))]);
  const c = pick(rng, CODES);
  const patientParams = [
    () => `gender=${pick(rng, GENDERS)}`, () => `gender:not=${pick(rng, GENDERS)}`, () => `gender:missing=${pick(rng, ['true', 'false'])}`,
    () => `birthdate=${pick(rng, PREFIX)}${birthDate(rng)}`, () => `birthdate:missing=true`,
    () => `name=${pick(rng, FAMILIES).slice(0, int(rng, 1, 4)).toLowerCase()}`, () => `family:exact=${pick(rng, FAMILIES)}`,
    () => `name:contains=${pick(rng, ['ar', 'a', 'ay', 'ēr', 'NN', 'rao'])}`, () => `given=${pick(rng, GIVEN)},${pick(rng, GIVEN)}`,
    () => `identifier=${MRN}|M${int(rng, 1, 30)}`, () => `identifier=${ABHA}|`, () => `identifier=M${int(rng, 1, 30)}`,
    () => `active=${pick(rng, ['true', 'false'])}`, () => `active:missing=true`, () => `address-city=${pick(rng, CITIES).slice(0, 3)}`,
    () => `organization=Organization/org-${int(rng, 0, 4)}`, () => `organization:Organization.name=${pick(rng, CITIES)}`,
    () => `_has:Observation:subject:code=${LOINC}|${c.code}`, () => `_has:Encounter:subject:status=finished`,
    () => `_id=pat-${int(rng, 0, 39)},pat-${int(rng, 0, 39)}`, () => `_lastUpdated=${pick(rng, ['gt', 'le', 'ge', 'lt'])}2026-01-15T1${int(rng, 0, 9)}:00:00Z`,
  ];
  const observationParams = [
    () => `code=${LOINC}|${c.code}`, () => `code=${c.code},${pick(rng, CODES).code}`, () => `code:text=${pick(rng, ['hemo', 'blood', 'rate', 'weight', 'serum'])}`,
    () => `code:not=${c.code}`, () => `status=${pick(rng, STATUSES)},${pick(rng, STATUSES)}`, () => `category=vital-signs`,
    () => `value-quantity=${pick(rng, PREFIX)}${int(rng, c.lo, c.hi)}`, () => `value-quantity=${pick(rng, ['gt', 'lt', 'ge', 'le'])}${int(rng, c.lo, c.hi)}|${UCUM}|${c.unit}`,
    () => `date=${pick(rng, PREFIX)}${date()}`, () => `date:missing=${pick(rng, ['true', 'false'])}`,
    () => `subject=${patient()}`, () => `patient=${patient().slice(8)}`, () => `subject:Patient.gender=${pick(rng, GENDERS)}`,
    () => `subject:Patient.name=${pick(rng, FAMILIES).slice(0, 3)}`, () => `patient.birthdate=${pick(rng, ['lt', 'ge'])}${int(rng, 1950, 2010)}`,
    () => `encounter:missing=true`, () => `encounter.status=${pick(rng, ['planned', 'finished'])}`,
    () => `code-value-quantity=${LOINC}|${c.code}$${pick(rng, ['gt', 'lt', 'ge'])}${int(rng, c.lo, c.hi)}`,
    () => `component-code-value-quantity=${LOINC}|8480-6$${pick(rng, ['gt', 'lt'])}${int(rng, 100, 200)}`,
    () => `combo-code=${pick(rng, ['8480-6', '8462-4', c.code])}`, () => `value-quantity:missing=true`,
  ];
  const encounterParams = [
    () => `status=${pick(rng, ['planned', 'in-progress', 'finished'])}`, () => `class=${pick(rng, ['AMB', 'IMP', 'EMER'])}`,
    () => `date=${pick(rng, PREFIX)}${date()}`, () => `subject=${patient()}`, () => `service-provider:Organization.name=${pick(rng, CITIES)}`,
    () => `date:missing=true`, () => `_has:Observation:encounter:status=final`,
  ];
  const sorts: Record<string, string[]> = {
    Patient: ['birthdate', '-birthdate', 'family', '-family', 'gender', '_id', '-_lastUpdated', 'address-city,-birthdate'],
    Observation: ['-date', 'date', 'value-quantity', '-value-quantity', 'code,-date', 'status', 'subject'],
    Encounter: ['date', '-date', 'status,-date'],
  };
  const type = pick(rng, ['Patient', 'Patient', 'Observation', 'Observation', 'Encounter'] as const);
  const params = { Patient: patientParams, Observation: observationParams, Encounter: encounterParams }[type];
  const parts = Array.from({ length: int(rng, 1, 3) }, () => pick(rng, params)());
  if (rng() < 0.5) parts.push(`_sort=${pick(rng, sorts[type])}`);
  if (rng() < 0.4) parts.push(`_count=${int(rng, 1, 15)}`);
  if (rng() < 0.25) parts.push(`_offset=${int(rng, 0, 20)}`);
  if (rng() < 0.3) parts.push('_total=accurate');
  return [type, parts.join('&')];
}

export function searches(data: Dataset, seed: number, n: number): [string, string][] {
  const rng = random(seed + 2);
  return Array.from({ length: n }, () => search(rng, data));
}
