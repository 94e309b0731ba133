import type { Resource } from 'fhir/r4';
import type { Deps, ValidationContext } from '../deps';
import { FhirError, type Issue } from '../fhir/errors';
import { parseETagVersion } from '../fhir/etag';

const isError = (i: Issue): boolean => i.severity === 'error' || i.severity === 'fatal';

/**
 * Validation of a body about to be written: R4's rules (a failure is a 400 listing every problem),
 * then, unless switched off, every profile the resource declares in meta.profile (a failure is a
 * 422: the resource is well-formed FHIR but not what its profile requires).
 */
export function validResource(deps: Deps, body: unknown, context: ValidationContext): Resource {
  if (body === undefined) throw new FhirError('required', 'A resource body is required');
  const errors = deps.validator.validate(body, context).filter(isError);
  if (errors.length > 0) throw FhirError.of(errors);
  const resource = body as Resource;
  if (deps.config.profileEnforcement === 'declared' && resource.meta?.profile?.length) {
    const profileErrors = deps.validator.validateProfiles(resource).filter(isError);
    if (profileErrors.length > 0) throw FhirError.of(profileErrors, 422);
  }
  checkRequiredProfiles(deps, resource);
  return resource;
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
