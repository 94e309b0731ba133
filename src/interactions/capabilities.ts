import type { CapabilityStatement, CapabilityStatementRestResource } from 'fhir/r4';
import { corsOrigins, restSecurity } from '../auth/smart';
import type { Deps } from '../deps';
import { MODIFIERS } from '../search/parse';
import { R4_VERSION, r4ResourceTypes } from '../fhir/definitions';
import { OPERATION as ARTEFACT } from '../operations/abdm-artefact';
import { OPERATION as DOCUMENT } from '../operations/document';
import { OPERATION as REQUEST_DATA } from '../operations/abdm-request-data';
import { OPERATION as VALIDATE } from '../operations/validate';
import { OPERATION as VERIFY_CHAIN } from '../operations/verify-chain';
import type { Handler, Interaction } from './types';

/**
 * Each operation the registry can name: its OperationDefinition, the types it is on (all if
 * absent), and what this server does of it where that is less or other than the definition says.
 */
const OPERATIONS: Record<string, { definition: string; types?: readonly string[]; documentation?: string; available?: (deps: Deps) => boolean }> = {
  [VALIDATE.name]: { definition: VALIDATE.definition },
  [ARTEFACT.name]: { definition: ARTEFACT.definition, types: ARTEFACT.types },
  [VERIFY_CHAIN.name]: { definition: VERIFY_CHAIN.definition, types: VERIFY_CHAIN.types },
  [DOCUMENT.name]: { definition: DOCUMENT.definition, types: DOCUMENT.types, documentation: DOCUMENT.documentation },
  // Only where this server acts as an ABDM health information user.
  [REQUEST_DATA.name]: { definition: REQUEST_DATA.definition, types: REQUEST_DATA.types, available: (deps) => deps.hie?.has('hiu') === true },
};

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('../../../package.json') as { name: string; version: string };

/**
 * The CapabilityStatement is generated from the interactions the server really has (the
 * registry) and the resource types it really serves, so it can never claim more than it does.
 */
export function capabilityStatement(deps: Deps, base: string, interactions: readonly Interaction[]): CapabilityStatement {
  const has = (name: string): boolean => interactions.some((i) => i.name === name);
  const typeLevel = interactions.filter((i) => i.level !== 'system' && i.capability !== null);
  const codes = [...new Set(typeLevel.map((i) => i.capability))] as CapabilityStatementRestResource['interaction'] & object;
  const resource = [...r4ResourceTypes()].map((type): CapabilityStatementRestResource => ({
    type: type as CapabilityStatementRestResource['type'],
    profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
    interaction: (codes as unknown as string[]).map((code) => ({ code })) as CapabilityStatementRestResource['interaction'],
    versioning: 'versioned-update',
    readHistory: has('vread'),
    updateCreate: true,
    conditionalCreate: has('create'),
    conditionalRead: 'full-support',
    conditionalUpdate: has('conditional-update'),
    conditionalDelete: has('conditional-delete') ? 'single' : 'not-supported',
    ...searchCapabilities(deps, type),
  }));
  const operations = [...new Set(interactions.filter((i) => i.level !== 'system' && i.operation).map((i) => i.operation as string))]
    .filter((name) => OPERATIONS[name].available?.(deps) ?? true);
  if (operations.length > 0) {
    for (const r of resource) {
      const own = operations.filter((name) => !OPERATIONS[name].types || OPERATIONS[name].types?.includes(r.type));
      if (own.length) {
        r.operation = own.map((name) => {
          const { definition, documentation } = OPERATIONS[name];
          return documentation ? { name, definition, documentation } : { name, definition };
        });
      }
    }
  }
  const systemCodes = interactions.filter((i) => i.level === 'system' && i.capability !== null).map((i) => ({ code: i.capability }));
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: deps.startedAt.toISOString(),
    publisher: 'abdm-fhir-gateway',
    kind: 'instance',
    software: { name: pkg.name, version: pkg.version },
    implementation: { description: 'ABDM FHIR gateway', url: base },
    fhirVersion: R4_VERSION,
    format: ['application/fhir+json', 'json'],
    patchFormat: ['application/json-patch+json'],
    rest: [{
      mode: 'server',
      security: restSecurity(deps.config, corsOrigins(deps.config, deps.auth.open).length > 0),
      resource,
      interaction: systemCodes as NonNullable<CapabilityStatement['rest']>[number]['interaction'],
    }],
  };
}

/** What each type takes besides modifiers. */
const EXTRAS: Record<string, string> = {
  reference: ', :[type], chaining', date: ', prefixes eq ne gt lt ge le sa eb ap', number: ', prefixes', quantity: ', prefixes',
};

/** Exactly the modifiers the parser accepts (search/parse.ts), stated per parameter. */
function modifiers(type: string): string {
  return `Modifiers: ${(MODIFIERS[type] ?? []).map((m) => `:${m}`).join(' ')}${EXTRAS[type] ?? ''}`;
}

/**
 * `searchRevInclude` of each type (capabilitystatement.html): the reference parameters, of any
 * type, whose targets include it, as `_revinclude=Observation:subject` on a Patient search.
 * Built once per set of search parameters.
 */
const revIncludeCache = new WeakMap<Deps['search'], Map<string, string[]>>();

function revIncludes(deps: Deps, target: string): string[] {
  let byTarget = revIncludeCache.get(deps.search);
  if (!byTarget) {
    byTarget = new Map();
    for (const source of r4ResourceTypes()) {
      for (const p of deps.search.forType(source).values()) {
        if (p.type !== 'reference') continue;
        for (const t of new Set(p.targets)) byTarget.set(t, [...(byTarget.get(t) ?? []), `${source}:${p.code}`]);
      }
    }
    revIncludeCache.set(deps.search, byTarget);
  }
  return byTarget.get(target) ?? [];
}

function searchCapabilities(deps: Deps, type: string): Partial<CapabilityStatementRestResource> {
  const params = [...deps.search.forType(type).values()];
  const refs = params.filter((p) => p.type === 'reference').map((p) => `${type}:${p.code}`);
  const rev = revIncludes(deps, type);
  return {
    searchParam: [
      { name: '_id', type: 'token', documentation: 'Modifiers: :not' },
      ...params.filter((p) => p.code !== '_id').map((p) => ({
        name: p.code, definition: p.url, type: p.type, documentation: modifiers(p.type),
      })),
    ] as CapabilityStatementRestResource['searchParam'],
    searchInclude: refs.length ? ['*', ...refs] : undefined,
    searchRevInclude: rev.length ? rev : undefined,
  };
}

export function capabilitiesHandler(interactions: () => readonly Interaction[]): Handler {
  const cache = new Map<string, CapabilityStatement>();
  return async (deps, request) => {
    let statement = cache.get(request.base);
    if (!statement) {
      statement = capabilityStatement(deps, request.base, interactions());
      if (cache.size < 16) cache.set(request.base, statement);
    }
    return { status: 200, resource: statement };
  };
}
