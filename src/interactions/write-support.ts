import type { Resource } from 'fhir/r4';
import type { Deps, ValidationContext } from '../deps';
import { FhirError } from '../fhir/errors';
import { parseETagVersion } from '../fhir/etag';

/** Base validation of a body about to be written; throws a 400 listing every problem. */
export function validResource(deps: Deps, body: unknown, context: ValidationContext): Resource {
  if (body === undefined) throw new FhirError('required', 'A resource body is required');
  const issues = deps.validator.validate(body, context);
  const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  if (errors.length > 0) throw FhirError.of(errors);
  return body as Resource;
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
