/**
 * Profile validation benchmark (run by hand: `npm run bench:validate -- --ig-root ../shared/abdm-ig --rounds 5`).
 * Validates the NRCeS 6.5.0 examples (each against the profiles it declares) and generated
 * resources against the national profiles, with our base rules plus compiled profile checkers and, in the same run on the
 * same resources and the same snapshots, with @medplum/core's validateResource as a reference.
 * Prints resources/s for each (median of rounds), the ratio, and where the two disagree on whether
 * a resource has errors. @medplum/core 5 wants Node 22's WebSocket global: the npm script passes
 * --experimental-websocket on Node 20.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Resource, StructureDefinition } from 'fhir/r4';
import { indexStructureDefinitionBundle, parseStructureDefinition, validateResource } from '@medplum/core';
import { readDefinitionBundle } from '../src/fhir/definitions';
import { validateBase } from '../src/validation/base-validator';
import { ProfileRegistry } from '../src/validation/profiles/registry';
import { readStructureDefinitions } from '../src/validation/profiles/definitions';
import { SnapshotGenerator } from '../src/validation/profiles/snapshot';
import { coreDefinitions } from '../src/validation/profiles/definitions';
import { abhaNumber, median } from './lib/bench-util';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const ROOT = path.resolve(args.get('ig-root') ?? '../shared/abdm-ig');
const ROUNDS = Number(args.get('rounds') ?? 5);
const GENERATED = Number(args.get('generated') ?? 2000);
const NRCES = 'https://nrces.in/ndhm/fhir/r4/StructureDefinition';

async function main(): Promise<void> {
  const profilesDir = path.join(ROOT, 'profiles/ndhm.in-6.5.0');
  const examplesDir = path.join(ROOT, 'examples/ndhm.in-6.5.0');
  if (!fs.existsSync(profilesDir)) throw new Error(`no IG under ${ROOT}; pass --ig-root`);
  const registry = new ProfileRegistry([profilesDir, path.join(ROOT, 'terminology/ndhm.in-6.5.0')]);
  registry.compileAll();

  // The same snapshots for both validators: @medplum/core cannot expand differentials itself.
  const igDefinitions = readStructureDefinitions(profilesDir);
  const byUrl = new Map<string, StructureDefinition>(coreDefinitions());
  for (const sd of igDefinitions) byUrl.set(sd.url, sd);
  const snapshots = new SnapshotGenerator((url) => byUrl.get(url.split('|')[0]));
  for (const file of ['profiles-types.json', 'profiles-resources.json']) indexStructureDefinitionBundle(readDefinitionBundle(file) as never);
  const medplumProfiles = new Map<string, StructureDefinition>();
  for (const sd of igDefinitions) {
    const full = { ...sd, snapshot: { element: snapshots.snapshot(sd) } } as StructureDefinition;
    medplumProfiles.set(sd.url, full);
  }
  indexStructureDefinitionBundle([...medplumProfiles.values()] as never);

  const cases: { label: string; resource: Resource; profile: string }[] = [];
  for (const file of fs.readdirSync(examplesDir).sort()) {
    const top = JSON.parse(fs.readFileSync(path.join(examplesDir, file), 'utf8')) as Resource & { entry?: { resource?: Resource }[] };
    for (const r of [top, ...(top.entry ?? []).map((e) => e.resource as Resource)]) {
      for (const p of r?.meta?.profile ?? []) if (medplumProfiles.has(p)) cases.push({ label: file, resource: r, profile: p });
    }
  }
  const examples = cases.length;
  for (let n = 0; n < GENERATED; n++) {
    cases.push({
      label: 'generated', profile: `${NRCES}/Patient`,
      resource: {
        resourceType: 'Patient', meta: { profile: [`${NRCES}/Patient`] },
        identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR', display: 'Medical record number' }] },
          system: 'https://healthid.abdm.gov.in', value: abhaNumber(n) }],
        name: [{ text: `Asha Devi ${n}` }], telecom: [{ system: 'phone', value: '+91-98200-12345', use: 'mobile' }],
        gender: n % 2 ? 'female' : 'male', birthDate: '1984-03-09',
      } as Resource,
    });
  }

  // Ours = base R4 rules (JSON schema + JSON rules) plus the profile, as a write is checked: the
  // same ground @medplum/core's validateResource covers.
  const ours = (c: (typeof cases)[number]): boolean =>
    validateBase(c.resource, { maxDepth: 64 }).some((i) => i.severity === 'error' || i.severity === 'fatal')
    || registry.validate(c.resource, c.profile, 'x').some((i) => i.severity === 'error');
  const theirs = (c: (typeof cases)[number]): boolean => {
    try {
      return validateResource(c.resource, { profile: medplumProfiles.get(c.profile) }).some((i) => i.severity === 'error');
    } catch {
      return true;
    }
  };
  const disagreements = cases.filter((c) => ours(c) !== theirs(c)).map((c) => `${c.label} ${c.profile.split('/').pop()}: ours ${ours(c) ? 'errors' : 'clean'}, @medplum/core ${theirs(c) ? 'errors' : 'clean'}`);

  const rate = (fn: (c: (typeof cases)[number]) => boolean): number => {
    const t = process.hrtime.bigint();
    for (const c of cases) fn(c);
    return cases.length / (Number(process.hrtime.bigint() - t) / 1e9);
  };
  // Its public API re-parses the profile on every call; the parse alone is timed too, so the
  // comparison can also be read with that cost taken out (as a server caching parses would see).
  const parseOnly = (c: (typeof cases)[number]): boolean => { parseStructureDefinition(medplumProfiles.get(c.profile) as never); return false; };
  const seconds = (fn: (c: (typeof cases)[number]) => boolean): number => cases.length / rate(fn);
  const oursRates: number[] = [];
  const theirRates: number[] = [];
  const theirCachedRates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    oursRates.push(rate(ours));
    const total = seconds(theirs);
    const parse = seconds(parseOnly);
    theirRates.push(cases.length / total);
    theirCachedRates.push(cases.length / Math.max(total - parse, 1e-9));
  }
  const a = median(oursRates);
  const b = median(theirRates);
  const bCached = median(theirCachedRates);
  console.log(`${cases.length} validations (${examples} official examples against their declared profiles, ${GENERATED} generated Patients), median of ${ROUNDS} rounds, interleaved:`);
  console.log(`  ours            ${a.toFixed(0).padStart(8)} resources/s`);
  console.log(`  @medplum/core   ${b.toFixed(0).padStart(8)} resources/s`);
  console.log(`  @medplum/core without its per-call profile parse ${bCached.toFixed(0).padStart(8)} resources/s`);
  console.log(`  ratio ours / @medplum/core = ${(a / b).toFixed(1)}; without the parse: ${(a / bCached).toFixed(1)}`);
  console.log(`  verdicts differ (errors vs clean) on ${disagreements.length} of ${cases.length}`);
  for (const d of disagreements.slice(0, 20)) console.log(`    ${d}`);
}

main().catch((err: unknown) => { console.error(err); process.exit(1); });
