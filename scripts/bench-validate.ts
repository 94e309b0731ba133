/**
 * Validation benchmark (run by hand: `npm run bench:validate -- --ig-root ../shared/abdm-ig --synthea ../shared/synthea --rounds 5`).
 * Part 1, R4 base rules: every Synthea resource (9,108 valid R4 resources) through the checks a
 * write makes (JSON rules, schema, cardinalities, every invariant, bindings, extensions), and
 * through @medplum/core's validateResource (its R4 base validation) in the same run.
 * Part 2, national profiles:
 * Validates the NRCeS 6.5.0 examples (each against the profiles it declares) and generated
 * resources against the national profiles, with our base rules, extension checks and compiled profile checkers (Bundle
 * entries with their Bundle in scope, so target profiles are checked too) and, in the same run on the
 * same resources and the same snapshots, with @medplum/core's validateResource as a reference.
 * Prints resources/s for each (median of rounds), the ratio, and where the two disagree on whether
 * a resource has errors.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Resource, StructureDefinition } from 'fhir/r4';
import { indexStructureDefinitionBundle, parseStructureDefinition, validateResource } from '@medplum/core';
import { readDefinitionBundle } from '../src/fhir/definitions';
import { validateBase } from '../src/validation/base-validator';
import { ValidationEngine } from '../src/validation/profiles/engine';
import { bundleScope, type Scope } from '../src/validation/profiles/references';
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
const SYNTHEA = path.resolve(args.get('synthea') ?? '../shared/synthea');
const isError = (i: { severity: string }): boolean => i.severity === 'error' || i.severity === 'fatal';

/** Resources/s of `fn` over `items`, one pass. */
function rateOf<T>(items: T[], fn: (item: T) => unknown): number {
  const t = process.hrtime.bigint();
  for (const item of items) fn(item);
  return items.length / (Number(process.hrtime.bigint() - t) / 1e9);
}

/** Part 1: R4 base rules over Synthea, ours against @medplum/core's, rounds interleaved. */
function baseRulesRun(engine: ValidationEngine): void {
  if (!fs.existsSync(SYNTHEA)) { console.log(`(no Synthea under ${SYNTHEA}: base-rule run skipped; pass --synthea)`); return; }
  const resources: Resource[] = [];
  for (const f of fs.readdirSync(SYNTHEA).filter((x) => x.endsWith('.json'))) {
    for (const e of (JSON.parse(fs.readFileSync(path.join(SYNTHEA, f), 'utf8')) as { entry: { resource: Resource }[] }).entry) resources.push(e.resource);
  }
  const terminology = engine.registry.terminology;
  const ours = (r: Resource): boolean => validateBase(r, { maxDepth: 64, terminology }).some(isError) || engine.extensions(r).some(isError);
  const theirs = (r: Resource): boolean => {
    try {
      return validateResource(r).some((i) => i.severity === 'error');
    } catch {
      return true;
    }
  };
  const oursErrors = resources.filter(ours).length;
  const theirErrors = resources.filter(theirs).length;
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < ROUNDS; r++) { a.push(rateOf(resources, ours)); b.push(rateOf(resources, theirs)); }
  console.log(`R4 base rules over ${resources.length} Synthea resources, median of ${ROUNDS} rounds, interleaved:`);
  console.log(`  ours            ${median(a).toFixed(0).padStart(8)} resources/s  (resources with an error: ${oursErrors})`);
  console.log(`  @medplum/core   ${median(b).toFixed(0).padStart(8)} resources/s  (resources with an error: ${theirErrors})`);
  console.log(`  ratio ours / @medplum/core = ${(median(a) / median(b)).toFixed(1)}`);
}

async function main(): Promise<void> {
  const profilesDir = path.join(ROOT, 'profiles/ndhm.in-6.5.0');
  const examplesDir = path.join(ROOT, 'examples/ndhm.in-6.5.0');
  if (!fs.existsSync(profilesDir)) throw new Error(`no IG under ${ROOT}; pass --ig-root`);
  const folders = [profilesDir, path.join(ROOT, 'terminology/ndhm.in-6.5.0')];
  const engine = new ValidationEngine(new ProfileRegistry(folders), folders);
  engine.compileAll();
  for (const file of ['profiles-types.json', 'profiles-resources.json']) indexStructureDefinitionBundle(readDefinitionBundle(file) as never);
  baseRulesRun(engine);

  // The same snapshots for both validators: @medplum/core cannot expand differentials itself.
  const igDefinitions = readStructureDefinitions(profilesDir);
  const byUrl = new Map<string, StructureDefinition>(coreDefinitions());
  for (const sd of igDefinitions) byUrl.set(sd.url, sd);
  const snapshots = new SnapshotGenerator((url) => byUrl.get(url.split('|')[0]));
  const medplumProfiles = new Map<string, StructureDefinition>();
  for (const sd of igDefinitions) {
    const full = { ...sd, snapshot: { element: snapshots.snapshot(sd) } } as StructureDefinition;
    medplumProfiles.set(sd.url, full);
  }
  indexStructureDefinitionBundle([...medplumProfiles.values()] as never);

  // An entry of a Bundle is checked with its Bundle in scope (its references resolve to other entries).
  const cases: { label: string; resource: Resource; profile: string; scope?: Scope; at?: string }[] = [];
  for (const file of fs.readdirSync(examplesDir).sort()) {
    const top = JSON.parse(fs.readFileSync(path.join(examplesDir, file), 'utf8')) as Resource & { entry?: { resource?: Resource }[] };
    const scope = top.resourceType === 'Bundle' ? { bundle: bundleScope(top as never, 'Bundle') } : undefined;
    const all = [{ r: top, at: undefined as string | undefined }, ...(top.entry ?? []).map((e, i) => ({ r: e.resource as Resource, at: `Bundle.entry[${i}].resource` }))];
    for (const { r, at } of all) {
      for (const p of r?.meta?.profile ?? []) if (medplumProfiles.has(p)) cases.push({ label: file, resource: r, profile: p, scope, at });
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

  // Ours = base R4 rules (JSON schema, JSON rules, cardinalities, invariants, bindings), every extension against its definition, and
  // the profile with its type and target profiles, as a write is checked: more than the ground
  // @medplum/core's validateResource covers (it resolves no references).
  const terminology = engine.registry.terminology;
  const ours = (c: (typeof cases)[number]): boolean =>
    validateBase(c.resource, { maxDepth: 64, terminology }).some(isError)
    || engine.extensions(c.resource).some(isError)
    || engine.validate(c.resource, c.profile, 'x', { scope: c.scope, at: c.at }).some(isError);
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
    // On a busy machine the parse, timed on its own, can exceed the whole; such a round says nothing.
    if (total > parse) theirCachedRates.push(cases.length / (total - parse));
  }
  const a = median(oursRates);
  const b = median(theirRates);
  const bCached = theirCachedRates.length > 0 ? median(theirCachedRates) : Number.NaN;
  console.log(`${cases.length} validations (${examples} official examples against their declared profiles, ${GENERATED} generated Patients), median of ${ROUNDS} rounds, interleaved:`);
  console.log(`  ours            ${a.toFixed(0).padStart(8)} resources/s`);
  console.log(`  @medplum/core   ${b.toFixed(0).padStart(8)} resources/s`);
  console.log(`  @medplum/core without its per-call profile parse ${bCached.toFixed(0).padStart(8)} resources/s`);
  console.log(`  ratio ours / @medplum/core = ${(a / b).toFixed(1)}; without the parse: ${(a / bCached).toFixed(1)}`);
  console.log(`  verdicts differ (errors vs clean) on ${disagreements.length} of ${cases.length}`);
  for (const d of disagreements.slice(0, 20)) console.log(`    ${d}`);
}

main().catch((err: unknown) => { console.error(err); process.exit(1); });
