/**
 * Ingest benchmark (run by hand: `npm run bench:ingest -- --bundles 120 --clients 4 --rounds 3`).
 * Starts the real server on a fresh embedded store (base validation on, as always), generates
 * patient transaction Bundles the way an EMR sends them — a patient with an ABHA number, the
 * facility (HFR id) and doctor (HPR id) as conditional creates, encounters with observations, lab
 * reports, conditions and prescriptions, all linked by urn:uuid — and posts them over HTTP from
 * several clients at once. Prints, per round and as medians: resources/s and p50/p99 per Bundle.
 * `--url http://host:port` posts to a server already running (e.g. one started with --cpu-prof).
 */
import type { BundleEntry, FhirResource } from 'fhir/r4';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { abhaNumber, median, percentile, startServer } from './lib/bench-util';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const BUNDLES = Number(args.get('bundles') ?? 120);
const CLIENTS = Number(args.get('clients') ?? 4);
const ROUNDS = Number(args.get('rounds') ?? 3);
/** Audit on by default, as the server ships; --audit off measures ingest alone. */
const AUDIT = args.get('audit') ?? 'on';
const URL_GIVEN = args.get('url');

const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';
const V2 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const TESTS = [
  ['718-7', 'Haemoglobin', 'g/dL', 13], ['789-8', 'RBC', '10*6/uL', 4.7], ['6690-2', 'WBC', '10*3/uL', 7],
  ['777-3', 'Platelets', '10*3/uL', 250], ['4544-3', 'Haematocrit', '%', 42], ['2345-7', 'Glucose', 'mg/dL', 100],
  ['2160-0', 'Creatinine', 'mg/dL', 1], ['3094-0', 'Urea nitrogen', 'mg/dL', 14], ['2951-2', 'Sodium', 'mmol/L', 140],
  ['2823-3', 'Potassium', 'mmol/L', 4.2], ['2093-3', 'Cholesterol', 'mg/dL', 190], ['2571-8', 'Triglycerides', 'mg/dL', 140],
  ['8480-6', 'Systolic BP', 'mm[Hg]', 122], ['8462-4', 'Diastolic BP', 'mm[Hg]', 80], ['8867-4', 'Heart rate', '/min', 76],
] as const;

const urn = (): string => `urn:uuid:${randomUUID()}`;
type Entry = BundleEntry & { resource: FhirResource };

/** One patient's record as an EMR posts it: 5–15 encounters of 19 resources, plus 3 shared ones. */
function patientBundle(n: number): { body: string; resources: number } {
  const entries: Entry[] = [];
  const add = (resource: FhirResource, ifNoneExist?: string): string => {
    const fullUrl = urn();
    entries.push({ fullUrl, resource, request: { method: 'POST', url: resource.resourceType, ...(ifNoneExist ? { ifNoneExist } : {}) } });
    return fullUrl;
  };
  const facility = n % 20;
  const org = add({
    resourceType: 'Organization', name: `District Hospital ${facility}`,
    identifier: [{ type: { coding: [{ system: V2, code: 'PRN' }] }, system: 'https://facility.abdm.gov.in', value: `IN27100${String(facility).padStart(5, '0')}` }],
  }, `identifier=https://facility.abdm.gov.in|IN27100${String(facility).padStart(5, '0')}`);
  const hpr = `71-2665-5777-${String(1000 + (n % 50))}`;
  const doctor = add({
    resourceType: 'Practitioner', name: [{ text: `Dr. Meera Rao ${n % 50}` }],
    identifier: [{ type: { coding: [{ system: V2, code: 'MD' }] }, system: 'https://doctor.abdm.gov.in', value: hpr }],
  }, `identifier=https://doctor.abdm.gov.in|${hpr}`);
  const abha = abhaNumber(n);
  const patient = add({
    resourceType: 'Patient',
    identifier: [
      { type: { coding: [{ system: V2, code: 'MR' }] }, system: 'https://healthid.abdm.gov.in', value: abha },
      { system: 'https://healthid.abdm.gov.in/abha-address', value: `patient${n}@abdm` },
    ],
    name: [{ text: `Asha Devi ${n}`, family: 'Devi', given: ['Asha'] }], gender: 'female', birthDate: '1984-03-09',
    telecom: [{ system: 'phone', value: '+91-98200-12345' }], address: [{ city: 'Pune', state: 'Maharashtra', postalCode: '411004', country: 'IN' }],
    managingOrganization: { reference: org },
  }, `identifier=https://healthid.abdm.gov.in|${abha}`);
  const encounters = 5 + (n % 11);
  for (let e = 0; e < encounters; e++) {
    const day = `2026-${String(1 + (e % 12)).padStart(2, '0')}-${String(1 + (n % 28)).padStart(2, '0')}`;
    const encounter = add({
      resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: patient }, participant: [{ individual: { reference: doctor } }], serviceProvider: { reference: org },
      period: { start: `${day}T09:30:00+05:30`, end: `${day}T10:05:00+05:30` },
    });
    const results = TESTS.map(([code, display, unit, base], i) => add({
      resourceType: 'Observation', status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: i < 12 ? 'laboratory' : 'vital-signs' }] }],
      code: { coding: [{ system: LOINC, code, display }], text: display }, subject: { reference: patient }, encounter: { reference: encounter },
      effectiveDateTime: `${day}T10:15:00+05:30`, performer: [{ reference: org }],
      valueQuantity: { value: Math.round(base * (0.8 + ((n * 7 + e * 13 + i) % 40) / 100) * 10) / 10, unit, system: 'http://unitsofmeasure.org', code: unit },
    }));
    add({
      resourceType: 'DiagnosticReport', status: 'final', code: { coding: [{ system: LOINC, code: '58410-2', display: 'CBC panel' }] },
      subject: { reference: patient }, encounter: { reference: encounter }, performer: [{ reference: org }], resultsInterpreter: [{ reference: doctor }],
      effectiveDateTime: `${day}T10:15:00+05:30`, issued: `${day}T14:00:00+05:30`, result: results.slice(0, 5).map((reference) => ({ reference })),
      presentedForm: [{ contentType: 'application/pdf', title: 'CBC report', url: `https://lab.example.in/reports/${n}-${e}.pdf` }],
    });
    const condition = add({
      resourceType: 'Condition', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      code: { coding: [{ system: SNOMED, code: '44054006', display: 'Diabetes mellitus type 2' }] }, subject: { reference: patient },
      encounter: { reference: encounter }, recordedDate: `${day}T10:00:00+05:30`, recorder: { reference: doctor },
    });
    for (const drug of ['Metformin 500 mg tablet', 'Atorvastatin 10 mg tablet']) {
      add({
        resourceType: 'MedicationRequest', status: 'active', intent: 'order', medicationCodeableConcept: { text: drug },
        subject: { reference: patient }, encounter: { reference: encounter }, requester: { reference: doctor }, reasonReference: [{ reference: condition }],
        authoredOn: day, dosageInstruction: [{ text: 'One tablet twice a day after meals' }],
      });
    }
  }
  return { body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries }), resources: entries.length };
}

interface Round { resourcesPerSecond: number; p50: number; p99: number; bundles: number; resources: number }

async function round(url: string, bundles: { body: string; resources: number }[]): Promise<Round> {
  const latencies: number[] = [];
  let next = 0;
  let resources = 0;
  const started = process.hrtime.bigint();
  const client = async (): Promise<void> => {
    while (next < bundles.length) {
      const b = bundles[next++];
      const t0 = process.hrtime.bigint();
      const res = await fetch(`${url}/fhir`, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json', Prefer: 'return=minimal' }, body: b.body });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text.slice(0, 500)}`);
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      resources += b.resources;
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { resourcesPerSecond: resources / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), bundles: bundles.length, resources };
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ingest-'));
  const server = URL_GIVEN ? { url: URL_GIVEN, child: undefined } : await startServer(dataDir, { MAX_BODY_SIZE: '64mb', AUDIT: AUDIT });
  process.on('exit', () => server.child?.kill('SIGKILL'));
  const rounds: Round[] = [];
  // Patient numbers continue across runs against a given --url, so conditional creates stay creates.
  let patientNo = URL_GIVEN ? Date.now() % 1e9 : 0;
  // A warm-up Bundle so the first round does not pay for lazy start-up work.
  await round(server.url, [patientBundle(patientNo++)]);
  for (let r = 1; r <= ROUNDS; r++) {
    const bundles = Array.from({ length: BUNDLES }, () => patientBundle(patientNo++));
    const result = await round(server.url, bundles);
    rounds.push(result);
    console.log(`round ${r}: ${result.bundles} Bundles, ${result.resources} resources, ${result.resourcesPerSecond.toFixed(0)} resources/s, ` +
      `p50 ${result.p50.toFixed(0)} ms, p99 ${result.p99.toFixed(0)} ms per Bundle`);
  }
  const sizes = Array.from({ length: 11 }, (_, i) => patientBundle(i).resources);
  console.log(`\nmedian of ${ROUNDS} rounds, ${CLIENTS} clients, Bundles of ${Math.min(...sizes)}–${Math.max(...sizes)} resources, ` +
    `${os.cpus().length} cores shared by clients and server, embedded store, base validation on:`);
  console.log(`  ${median(rounds.map((x) => x.resourcesPerSecond)).toFixed(0)} resources/s; per Bundle p50 ${median(rounds.map((x) => x.p50)).toFixed(0)} ms, ` +
    `p99 ${median(rounds.map((x) => x.p99)).toFixed(0)} ms`);
  if (server.child) {
    const child = server.child;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
}

main().catch((err: unknown) => { console.error(err); process.exit(1); });
