import fs from 'node:fs';
import path from 'node:path';
import type { CodeSystem, ElementDefinition, StructureDefinition, ValueSet } from 'fhir/r4';
import { readDefinitionBundle } from '../../fhir/definitions';
import type { Issue } from '../../fhir/errors';
import { ProfileChecker } from './checker';
import { coreConstraintKeys, coreDefinitions } from './definitions';
import { readPackageJson } from './package';
import { SnapshotGenerator } from './snapshot';
import { Terminology } from './terminology';

/**
 * A profile declares with this extension (FHIR Extensions Pack, SDcompliesWithProfile) that every
 * instance valid against it is also valid against the referenced profile. Ours under profiles/
 * declare it for the NRCeS profile each was written from, which lets them stand in for it.
 * (structuredefinition-imposeProfile says the opposite: check the other profile as well; and
 * baseDefinition would need the NRCeS definition loaded to build on.)
 */
export const COMPLIES_WITH_PROFILE = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-compliesWithProfile';

/** The profiles a StructureDefinition claims compliance with (canonical URLs, without version). */
export function compliesWith(sd: StructureDefinition): string[] {
  return (sd.extension ?? []).filter((e) => e.url === COMPLIES_WITH_PROFILE && typeof e.valueCanonical === 'string')
    .map((e) => (e.valueCanonical as string).split('|')[0]);
}

/**
 * The profiles the server can validate against: R4's own definitions and terminology, plus every
 * StructureDefinition, ValueSet and CodeSystem found in the given folders (ours under profiles/,
 * and implementation guides given with --ig). Profiles compile once (compileAll at start-up).
 *
 * Stand-ins: a declared profile that no folder defines, but that a loaded profile claims
 * compliance with (COMPLIES_WITH_PROFILE), is checked against that profile instead, with an
 * informational issue naming both. The official definition, when loaded, always wins.
 */
export class ProfileRegistry {
  private readonly definitions = new Map<string, StructureDefinition>();
  /** Canonical URL of a profile → the loaded profile that complies with it (first loaded wins). */
  private readonly standIns = new Map<string, string>();
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
        if (r?.resourceType === 'StructureDefinition' && r.url) this.addDefinition(r);
        else if (r?.resourceType === 'ValueSet' || r?.resourceType === 'CodeSystem') this.terminology.add(r);
      }
    }
  }

  private addDefinition(sd: StructureDefinition): void {
    this.definitions.set(sd.url, sd);
    for (const target of compliesWith(sd)) if (!this.standIns.has(target)) this.standIns.set(target, sd.url);
  }

  /**
   * The profile a declared URL is checked against: its own definition when loaded, else the
   * loaded profile standing in for it, else undefined.
   */
  resolve(url: string): { url: string; standInFor?: string } | undefined {
    const canonical = url.split('|')[0];
    if (this.definitions.has(canonical)) return { url: canonical };
    const standIn = this.standIns.get(canonical);
    return standIn !== undefined ? { url: standIn, standInFor: canonical } : undefined;
  }

  /**
   * The definition a canonical URL resolves to (its own, or the stand-in complying with it), with
   * its full element list (generated from the differential where it has no snapshot).
   */
  profile(url: string): { url: string; type: string; elements: readonly ElementDefinition[] } | undefined {
    const resolved = this.resolve(url);
    const sd = resolved && this.definitions.get(resolved.url);
    return sd ? { url: sd.url, type: sd.type, elements: this.snapshots.snapshot(sd) } : undefined;
  }

  /** Whether a declared profile can be checked (by its own definition or a stand-in). */
  has(url: string): boolean {
    return this.resolve(url) !== undefined;
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

  /** Checks against one profile (or its stand-in, saying so); an unknown profile is itself an error. */
  validate(resource: unknown, url: string, at: string): Issue[] {
    const resolved = this.resolve(url);
    const checker = resolved && this.checker(resolved.url);
    if (!resolved || !checker) return [{ severity: 'error', code: 'not-supported', diagnostics: `Profile '${url}' is not known to this server`, expression: [at] }];
    const note = standInNote(resolved, at);
    return note ? [note, ...checker.check(resource)] : checker.check(resource);
  }
}

/** Says that a stand-in was used in place of the declared profile (undefined when none was). */
export function standInNote(resolved: { url: string; standInFor?: string }, at: string): Issue | undefined {
  if (resolved.standInFor === undefined) return undefined;
  return {
    severity: 'information', code: 'informational', expression: [at],
    diagnostics: `Profile '${resolved.standInFor}' is not loaded here; the resource was checked against '${resolved.url}', which stands in for it (load the official IG with --ig to check against it)`,
  };
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
