import fs from 'node:fs';
import path from 'node:path';
import type { CodeSystem, StructureDefinition, ValueSet } from 'fhir/r4';
import { readDefinitionBundle } from '../../fhir/definitions';
import type { Issue } from '../../fhir/errors';
import { ProfileChecker } from './checker';
import { coreConstraintKeys, coreDefinitions } from './definitions';
import { readPackageJson } from './package';
import { SnapshotGenerator } from './snapshot';
import { Terminology } from './terminology';

/**
 * The profiles the server can validate against: R4's own definitions and terminology, plus every
 * StructureDefinition, ValueSet and CodeSystem found in the given folders (ours under profiles/,
 * and implementation guides given with --ig). Profiles compile once (compileAll at start-up).
 */
export class ProfileRegistry {
  private readonly definitions = new Map<string, StructureDefinition>();
  private readonly checkers = new Map<string, ProfileChecker>();
  private readonly snapshots: SnapshotGenerator;
  readonly terminology = new Terminology();

  constructor(folders: string[]) {
    for (const [url, sd] of coreDefinitions()) this.definitions.set(url, sd);
    for (const file of ['valuesets.json', 'v3-codesystems.json', 'v2-tables.json']) {
      for (const e of readDefinitionBundle(file).entry ?? []) {
        const r = e.resource as ValueSet | CodeSystem | undefined;
        if (r?.resourceType === 'ValueSet' || r?.resourceType === 'CodeSystem') this.terminology.add(r);
      }
    }
    for (const folder of folders) this.addFolder(folder);
    this.snapshots = new SnapshotGenerator((url) => this.definitions.get(url.split('|')[0]));
  }

  /** A folder of JSON files (searched recursively) or a FHIR package (`.tgz`). */
  private addFolder(folder: string): void {
    if (!fs.existsSync(folder)) throw new Error(`IG ${folder} does not exist`);
    const texts = fs.statSync(folder).isFile()
      ? readPackageJson(folder).map((f) => f.text)
      : fs.readdirSync(folder, { recursive: true }).map(String).filter((f) => f.endsWith('.json')).sort()
        .map((f) => fs.readFileSync(path.join(folder, f), 'utf8'));
    for (const text of texts) {
      let json: { resourceType?: string; entry?: { resource?: unknown }[] };
      try {
        json = JSON.parse(text) as typeof json;
      } catch {
        continue; // not a FHIR JSON file (package.json and the like)
      }
      const resources = json.resourceType === 'Bundle' ? (json.entry ?? []).map((e) => e.resource) : [json];
      for (const r of resources as (StructureDefinition | ValueSet | CodeSystem)[]) {
        if (r?.resourceType === 'StructureDefinition' && r.url) this.definitions.set(r.url, r);
        else if (r?.resourceType === 'ValueSet' || r?.resourceType === 'CodeSystem') this.terminology.add(r);
      }
    }
  }

  has(url: string): boolean {
    return this.definitions.has(url.split('|')[0]);
  }

  /** The compiled checker of a profile (compiled on first use, then kept). */
  checker(url: string): ProfileChecker | undefined {
    const canonical = url.split('|')[0];
    let checker = this.checkers.get(canonical);
    if (!checker) {
      const sd = this.definitions.get(canonical);
      if (!sd || sd.kind !== 'resource') return undefined;
      checker = new ProfileChecker(canonical, this.snapshots.snapshot(sd), this.terminology, coreConstraintKeys());
      this.checkers.set(canonical, checker);
    }
    return checker;
  }

  /** Compiles every non-core resource profile now, so a broken one fails start-up, not a request. */
  compileAll(): void {
    for (const [url, sd] of this.definitions) {
      if (sd.kind === 'resource' && sd.derivation === 'constraint' && !url.startsWith('http://hl7.org/fhir/StructureDefinition/')) this.checker(url);
    }
  }

  /** Checks against one profile; an unknown profile is itself an error. */
  validate(resource: unknown, url: string, at: string): Issue[] {
    const checker = this.checker(url);
    if (!checker) return [{ severity: 'error', code: 'not-supported', diagnostics: `Profile '${url}' is not known to this server`, expression: [at] }];
    return checker.check(resource);
  }
}

const registries = new Map<string, ProfileRegistry>();

/** One registry per set of folders, built on first use and shared (loading takes about a second). */
export function profileRegistry(folders: string[]): ProfileRegistry {
  const key = folders.join('\n');
  let registry = registries.get(key);
  if (!registry) {
    registry = new ProfileRegistry(folders);
    registries.set(key, registry);
  }
  return registry;
}
