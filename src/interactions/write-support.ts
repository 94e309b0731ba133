import type { Bundle, Resource } from 'fhir/r4';
import type { Deps, ValidationContext } from '../deps';
import { FhirError, type Issue } from '../fhir/errors';
import { parseETagVersion } from '../fhir/etag';
import { isResourceType } from '../fhir/definitions';
import type { CreateMatch } from '../storage/conditional';
import { nationalIdentifierIssues } from '../validation/national-identifiers';
import type { FhirResult } from './types';

const isError = (i: Issue): boolean => i.severity === 'error' || i.severity === 'fatal';

/**
 * Everything the server judges about a resource, in one list: R4's rules (schema, JSON rules,
 * cardinalities, invariants, bindings), the national identifier checks, every profile the
 * resource declares (unless PROFILE_ENFORCEMENT=off) plus those asked for, and the deployment's
 * required profiles. Writes and `$validate` both call this, so they reach the same verdict
 * (validation.html); `status` is what a write answers when the list holds an error: 400 when
 * R4's own rules are broken, 422 when the resource is valid FHIR but not what a profile or a
 * national rule requires.
 */
/** Whether a Bundle entry's resource declares a profile; a malformed entry list (already reported) declares none. */
function entryDeclaresProfile(b: Bundle): boolean {
  const entries: unknown = b.entry;
  return Array.isArray(entries) && entries.some((e) => Boolean((e as NonNullable<Bundle['entry']>[number] | null)?.resource?.meta?.profile?.length));
}

/**
 * Declared, asked-for and required profiles. Profile rules presuppose R4's JSON shapes: on a body
 * that already broke them (a null in a list, an object where a list belongs), a check that trips
 * over the shape is reported as not done rather than failing the request; the base errors refuse it.
 */
function profileIssues(deps: Deps, resource: Resource, asked: string[], malformed: boolean): Issue[] {
  try {
    const declared = resource.meta?.profile?.length || (resource.resourceType === 'Bundle' && entryDeclaresProfile(resource as Bundle));
    const profiles = (deps.config.profileEnforcement === 'declared' && declared) || asked.length > 0
      ? deps.validator.validateProfiles(deps.config.profileEnforcement === 'declared' ? resource : withoutProfiles(resource), asked)
      : [];
    return [...profiles, ...requiredProfileIssues(deps, resource)];
  } catch (err) {
    if (!malformed || !(err instanceof TypeError)) throw err;
    return [{ severity: 'warning', code: 'processing', diagnostics: 'Profiles were not checked: the resource is not well-formed R4 JSON (see the errors)' }];
  }
}

export function assess(deps: Deps, body: unknown, context: ValidationContext, asked: string[] = []): { issues: Issue[]; status: 400 | 422 } {
  const base = deps.validator.validate(body, context);
  // Past this point the body must at least be an object of a known resource type.
  const known = typeof body === 'object' && body !== null && !Array.isArray(body) && isResourceType(String((body as { resourceType?: unknown }).resourceType));
  if (!known || base.some((i) => i.severity === 'fatal')) return { issues: base, status: 400 };
  const resource = body as Resource;
  const identifiers = nationalIdentifierIssues(resource as Resource & { identifier?: unknown })
    .map((i) => (deps.config.identifierChecks === 'error' ? i : { ...i, severity: i.severity === 'error' ? 'warning' as const : i.severity }));
  const profiles = profileIssues(deps, resource, asked, base.some(isError));
  const issues = [...base, ...identifiers, ...profiles];
  return { issues, status: base.some(isError) ? 400 : 422 };
}

/**
 * Validation of a body about to be written: assess() above, refused whole when anything is an
 * error (every error listed); the warnings travel with the result.
 */
export function validResource(deps: Deps, body: unknown, context: ValidationContext): Resource {
  if (body === undefined) throw new FhirError('required', 'A resource body is required');
  const { issues, status } = assess(deps, body, context);
  const errors = issues.filter(isError);
  if (errors.length > 0) throw FhirError.of(errors, status === 422 ? 422 : undefined);
  context.warnings?.push(...issues.filter(isWarning));
  return body as Resource;
}

function withoutProfiles(resource: Resource): Resource {
  return { ...resource, meta: { ...resource.meta, profile: [] } } as Resource;
}

const isWarning = (i: Issue): boolean => i.severity === 'warning';

/** A result with the warnings its validation produced. */
export function withWarnings(result: FhirResult, warnings: Issue[]): FhirResult {
  return warnings.length > 0 ? { ...result, issues: [...(result.issues ?? []), ...warnings] } : result;
}

/** The deployment's required profiles for this type: the resource must conform to one of them. */
function requiredProfileIssues(deps: Deps, resource: Resource): Issue[] {
  const key = resource.resourceType === 'Bundle' ? `Bundle#${String((resource as { type?: string }).type)}` : resource.resourceType;
  const required = deps.config.requiredProfiles[key];
  if (!required?.length) return [];
  const attempts = required.map((url) => deps.validator.validateProfiles(withoutProfiles(resource), [url]).filter(isError));
  if (attempts.some((errors) => errors.length === 0)) return [];
  const shortest = attempts.reduce((a, b) => (b.length < a.length ? b : a));
  return [
    { severity: 'error', code: 'invariant', diagnostics: `This server requires ${resource.resourceType} to conform to ${required.join(' or ')}`, expression: [resource.resourceType] },
    ...shortest,
  ];
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

/**
 * The answer to a create that matched a stored record (http.html#ccreate: 200, nothing created):
 * the record itself when the caller may see it, otherwise only its name (consent/identity.ts).
 * `found` says how it matched, e.g. `Patient/1 already matches`.
 */
export function matchedResult(found: Extract<CreateMatch, { kind: 'one' | 'withheld' }>, said: (what: string) => string): FhirResult {
  const message = `${said(`${found.match.type}/${found.match.id}`)}; nothing was created`;
  if (found.kind === 'one') return { status: 200, version: found.match, message };
  return { status: 200, withheld: found.match, message: `${message}. It is named so that records can refer to it, not shown: it is outside what this caller may see` };
}

/** A conditional create's match (its criteria matched a stored record). */
export function matchedCriteria(found: Extract<CreateMatch, { kind: 'one' | 'withheld' }>): FhirResult {
  return matchedResult(found, (what) => (found.kind === 'withheld' ? `${what} already has this identifier` : `${what} already matches`));
}

/** A document posted again (bundle/document.ts, storedDocument). */
export function matchedDocument(found: Extract<CreateMatch, { kind: 'one' | 'withheld' }>): FhirResult {
  return matchedResult(found, (what) => `The document is already stored as ${what}`);
}
