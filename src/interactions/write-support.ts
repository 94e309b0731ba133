import type { Bundle, Resource } from 'fhir/r4';
import type { Deps, ValidationContext } from '../deps';
import { FhirError, type Issue } from '../fhir/errors';
import { parseETagVersion } from '../fhir/etag';
import { nationalIdentifierIssues } from '../validation/national-identifiers';
import type { FhirResult } from './types';

const isError = (i: Issue): boolean => i.severity === 'error' || i.severity === 'fatal';

/**
 * Validation of a body about to be written: R4's rules (a failure is a 400 listing every problem),
 * then, unless switched off, every profile the resource declares in meta.profile (a failure is a
 * 422: the resource is well-formed FHIR but not what its profile requires).
 */
export function validResource(deps: Deps, body: unknown, context: ValidationContext): Resource {
  if (body === undefined) throw new FhirError('required', 'A resource body is required');
  const base = deps.validator.validate(body, context);
  const errors = base.filter(isError);
  if (errors.length > 0) throw FhirError.of(errors);
  const warnings = context.warnings;
  warnings?.push(...base.filter(isWarning));
  const resource = body as Resource;
  const declared = resource.meta?.profile?.length || (resource.resourceType === 'Bundle' && (resource as Bundle).entry?.some((e) => e.resource?.meta?.profile?.length));
  if (deps.config.profileEnforcement === 'declared' && declared) {
    const issues = deps.validator.validateProfiles(resource);
    const profileErrors = issues.filter(isError);
    if (profileErrors.length > 0) throw FhirError.of(profileErrors, 422);
    warnings?.push(...issues.filter(isWarning));
  }
  checkRequiredProfiles(deps, resource);
  // National identifiers are named checks, not profile rules: on a write they warn, never refuse
  // (a published ABHA number may fail its check digit; $validate reports them at full severity).
  warnings?.push(...nationalIdentifierIssues(resource as Resource & { identifier?: unknown })
    .map((i) => ({ ...i, severity: 'warning' as const })));
  return resource;
}

const isWarning = (i: Issue): boolean => i.severity === 'warning';

/** A result with the warnings its validation produced. */
export function withWarnings(result: FhirResult, warnings: Issue[]): FhirResult {
  return warnings.length > 0 ? { ...result, issues: [...(result.issues ?? []), ...warnings] } : result;
}

/** The deployment's required profiles for this type: the resource must conform to one of them. */
function checkRequiredProfiles(deps: Deps, resource: Resource): void {
  const key = resource.resourceType === 'Bundle' ? `Bundle#${String((resource as { type?: string }).type)}` : resource.resourceType;
  const required = deps.config.requiredProfiles[key];
  if (!required?.length) return;
  const bare = { ...resource, meta: { ...resource.meta, profile: [] } } as Resource;
  const attempts = required.map((url) => deps.validator.validateProfiles(bare, [url]).filter(isError));
  if (attempts.some((errors) => errors.length === 0)) return;
  const shortest = attempts.reduce((a, b) => (b.length < a.length ? b : a));
  throw FhirError.of([
    { severity: 'error', code: 'invariant', diagnostics: `This server requires ${resource.resourceType} to conform to ${required.join(' or ')}`, expression: [resource.resourceType] },
    ...shortest,
  ], 422);
}

export function expectedVersion(ifMatch: string | undefined): number | undefined {
  return ifMatch === undefined ? undefined : parseETagVersion(ifMatch, 'If-Match');
}

export function requireType(type: string | undefined): string {
  if (type === undefined) throw new FhirError('exception', 'route without a resource type');
  return type;
}

export function requireId(id: string | undefined): string {
  if (id === undefined) throw new FhirError('exception', 'route without a resource id');
  return id;
}
