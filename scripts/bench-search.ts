/**
 * Search benchmark (run by hand: `npm run bench:search -- --patients 20000 --runs 7`).
 * Fills a fresh on-disk embedded store with generated patients, each with observations, an
 * encounter and a lab report (13 resources a patient, so --patients 77000 is about a million
 * resources), through the store's own units of work (the same indexing as a POST). Then it serves
 * the real app and times representative searches over HTTP, one client, and prints the median
 * latency of each and how many resources matched. Loading is timed too (resources/s).
 * Pass --data-dir D --keep to reuse a filled store on a later run (it is then not refilled).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FhirResource, Observation, Resource } from 'fhir/r4';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { buildDeps } from '../src/main';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i].replace(/^--/, '');
  if (a === 'keep') args.set(a, 'true');
  else args.set(a, process.argv[++i]);
}
const PATIENTS = Number(args.get('patients') ?? 20000);
const RUNS = Number(args.get('runs') ?? 7);
const BATCH = 250;
const KEEP = args.has('keep');
const DATA_DIR = args.get('data-dir') ?? fs.mkdtempSync(path.join(os.tmpdir(), 'bench-search-'));

const LOINC = 'http://loinc.org';
const ABHA = 'https://healthid.abdm.gov.in';
const FAMILIES = ['Sharma', 'Patel', 'Iyer', 'Reddy', 'Singh', 'Das', 'Nair', 'Khan', 'Gupta', 'Menon', 'Bose', 'Joshi'];
const TESTS = [
  { code: '718-7', unit: 'g/dL', base: 13 }, { code: '2345-7', unit: 'mg/dL', base: 100 },
  { code: '2093-3', unit: 'mg/dL', base: 190 }, { code: '4548-4', unit: '%', base: 5.8 },
  { code: '8867-4', unit: '/min', base: 76 }, { code: '29463-7', unit: 'kg', base: 68 },
  { code: '8302-2', unit: 'cm', base: 162 }, { code: '39156-5', unit: 'kg/m2', base: 24 },
  { code: '2160-0', unit: 'mg/dL', base: 1 }, { code: '6690-2', unit: '10*3/uL', base: 7 },
];
const abha = (n: number): string => {
  const s = String(10_000_000_000_000 + n).slice(-14);
  return `${s.slice(0, 2)}-${s.slice(2, 6)}-${s.slice(6, 10)}-${s.slice(10)}`;
};
// A deterministic spread so that every run builds the same data.
const rnd = (n: number, k: number): number => ((n * 2654435761 + k * 40503) >>> 0) / 2 ** 32;
const day = (n: number, k: number): string => new Date(Date.UTC(2023, 0, 1) + Math.floor(rnd(n, k) * 1000) * 86_400_000).toISOString().slice(0, 10);

function patientRecords(n: number): FhirResource[] {
  const pid = `p${n}`;
  const subject = { reference: `Patient/${pid}` };
  const out: FhirResource[] = [{
    resourceType: 'Patient', id: pid,
    identifier: [{ system: ABHA, value: abha(n) }, { system: `${ABHA}/abha-address`, value: `user${n}@abdm` }],
    name: [{ family: FAMILIES[n % FAMILIES.length], given: [`Given${n % 997}`] }],
    gender: n % 2 ? 'female' : 'male',
    birthDate: new Date(Date.UTC(1940, 0, 1) + Math.floor(rnd(n, 1) * 25_000) * 86_400_000).toISOString().slice(0, 10),
    address: [{ city: ['Pune', 'Chennai', 'Kolkata', 'Jaipur', 'Kochi'][n % 5], country: 'IN' }],
  }, {
    resourceType: 'Encounter', id: `e${n}`, status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject, period: { start: `${day(n, 2)}T09:30:00+05:30`, end: `${day(n, 2)}T10:00:00+05:30` },
  }];
  const results = TESTS.map((t, i): Observation => ({
    resourceType: 'Observation', id: `o${n}-${i}`, status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: i < 4 || i > 7 ? 'laboratory' : 'vital-signs' }] }],
    code: { coding: [{ system: LOINC, code: t.code }] }, subject, encounter: { reference: `Encounter/e${n}` },
    effectiveDateTime: `${day(n, 3 + i)}T10:15:00+05:30`,
    valueQuantity: { value: Math.round(t.base * (0.7 + rnd(n, 20 + i) * 0.6) * 10) / 10, unit: t.unit, system: 'http://unitsofmeasure.org', code: t.unit },
  }));
  out.push(...results, {
    resourceType: 'DiagnosticReport', id: `r${n}`, status: 'final', code: { coding: [{ system: LOINC, code: '58410-2' }] },
    subject, effectiveDateTime: `${day(n, 3)}T12:00:00+05:30`, issued: `${day(n, 3)}T12:00:00+05:30`,
    result: results.slice(0, 4).map((o) => ({ reference: `Observation/${o.id}` })),
  });
  return out;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const config = { ...loadConfig({}, []), dataDir: DATA_DIR, logLevel: 'error' as const, maxPageSize: 1000, audit: false };
  const deps = buildDeps(config, createLogger('error'));
  const existing = await deps.store.search({ types: ['Patient'], where: [], sort: [], count: 1, offset: 0, total: 'accurate' });
  if ((existing.total ?? 0) < PATIENTS) {
    const started = process.hrtime.bigint();
    let written = 0;
    for (let first = existing.total ?? 0; first < PATIENTS; first += BATCH) {
      await deps.store.transact(async (uow) => {
        for (let n = first; n < Math.min(first + BATCH, PATIENTS); n++) {
          for (const r of patientRecords(n)) { await uow.update(r as Resource & { id: string }); written++; }
        }
      });
      if ((first / BATCH) % 40 === 0) process.stderr.write(`loaded ${first + BATCH} patients\n`);
    }
    const s = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`loaded ${written} resources in ${s.toFixed(1)} s: ${(written / s).toFixed(0)} resources/s (store units of work of ${BATCH} patients, indexing included)`);
  }
  const dbBytes = ['fhir.sqlite', 'fhir.sqlite-wal'].reduce((n, f) => n + (fs.existsSync(path.join(DATA_DIR, f)) ? fs.statSync(path.join(DATA_DIR, f)).size : 0), 0);
  console.log(`store: ${PATIENTS} patients, ~${PATIENTS * 13} resources, database ${(dbBytes / 2 ** 20).toFixed(0)} MiB`);

  const server = http.createServer(createApp(deps)).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
  const mid = Math.floor(PATIENTS / 2);
  const queries: [string, string][] = [
    ['read by id', `Patient/p${mid}`],
    ['ABHA number (token)', `Patient?identifier=${ABHA}|${abha(mid)}`],
    ['family prefix, first page', 'Patient?family=sha&_count=20'],
    ['family prefix + accurate total', 'Patient?family=sha&_count=20&_total=accurate'],
    ['name :contains (scan)', 'Patient?name:contains=ive&_count=20'],
    ['birthdate month', 'Patient?birthdate=ge1990-01-01&birthdate=lt1990-02-01&_count=100'],
    ['patient\'s observations', `Observation?subject=Patient/p${mid}`],
    ['patient + code, sorted by date', `Observation?patient=p${mid}&code=${LOINC}|718-7&_sort=-date`],
    ['chain: subject ABHA', `Observation?subject:Patient.identifier=${ABHA}|${abha(mid)}`],
    ['_has: patients with HbA1c > 7', `Patient?_has:Observation:patient:code-value-quantity=${LOINC}|4548-4$gt7&_count=20`],
    ['token, page 100 (_offset 1980)', `Observation?code=${LOINC}|718-7&_count=20&_offset=1980`],
    ['string, page 100 (_offset 1980)', 'Patient?family=sha&_count=20&_offset=1980'],
    ['quantity range', `Observation?code=${LOINC}|718-7&value-quantity=lt9.2&_count=20`],
    ['date day, +05:30 zone', `Observation?date=${day(mid, 3)}&_count=50`],
    ['date ge, sorted, page 1', 'Observation?date=ge2025-06-01&_sort=date&_count=50'],
    ['report + _include results', `DiagnosticReport?patient=p${mid}&_include=DiagnosticReport:result`],
    ['compartment', `Patient/p${mid}/Observation?category=vital-signs`],
    ['_revinclude on patient', `Patient?_id=p${mid}&_revinclude=Observation:subject`],
    ['_summary=count lab obs', 'Observation?category=laboratory&_summary=count'],
  ];
  console.log(`\nmedian of ${RUNS} runs, one client over HTTP, ${os.cpus().length} shared cores`);
  console.log('query                                   ms      matched  entries');
  for (const [name, q] of queries) {
    const times: number[] = [];
    let body: { total?: number; entry?: unknown[]; resourceType?: string } = {};
    for (let i = 0; i < RUNS; i++) {
      const t0 = process.hrtime.bigint();
      const res = await fetch(`${base}/${q}`);
      body = await res.json() as typeof body;
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (!res.ok) throw new Error(`${q}: HTTP ${res.status} ${JSON.stringify(body)}`);
    }
    const entries = body.resourceType === 'Bundle' ? body.entry?.length ?? 0 : 1;
    console.log(`${name.padEnd(36)} ${median(times).toFixed(2).padStart(8)} ${String(body.total ?? '-').padStart(8)} ${String(entries).padStart(8)}`);
  }
  server.close();
  await deps.store.close();
  if (!KEEP) fs.rmSync(DATA_DIR, { recursive: true, force: true });
}

main().catch((err: unknown) => { console.error(err); process.exit(1); });
