import type { OperationOutcome, Parameters, Resource } from 'fhir/r4';
import { FhirError, type Issue } from '../fhir/errors';
import { operationOutcome } from '../fhir/operation-outcome';
import type { Handler } from '../interactions/types';
import { requireType } from '../interactions/write-support';
import { nationalIdentifierIssues } from '../validation/national-identifiers';

/**
 * `$validate` (resource-operation-validate, validation.html): type level
 * (`POST [base]/[type]/$validate`) and instance level (`POST [base]/[type]/[id]/$validate`).
 * The body is the resource itself or a Parameters with `resource`, `mode` and `profile`; `mode`
 * and `profile` may also come in the URL. The answer is always 200 with an OperationOutcome that
 * lists every issue (severity, code, FHIRPath `expression`, message); a request that cannot be
 * understood at all is a 400. Nothing is stored.
 */
export const OPERATION = { name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' } as const;

const MODES = ['create', 'update', 'delete'] as const;
type Mode = (typeof MODES)[number];

interface Input { resource?: Resource; mode?: Mode; profile?: string }

function input(body: unknown, query: URLSearchParams): Input {
  const out: Input = {};
  const setMode = (raw: string): void => {
    if (!(MODES as readonly string[]).includes(raw)) throw new FhirError('invalid', `mode must be one of ${MODES.join(', ')}, not '${raw}'`);
    out.mode = raw as Mode;
  };
  if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
    throw new FhirError('invalid', '$validate takes a resource, or a Parameters with a "resource" parameter, as a JSON object');
  }
  const b = body as Resource | undefined;
  if (b?.resourceType === 'Parameters') {
    for (const p of (b as Parameters).parameter ?? []) {
      if (p.name === 'resource') out.resource = p.resource;
      else if (p.name === 'mode' && typeof p.valueCode === 'string') setMode(p.valueCode);
      else if (p.name === 'profile' && typeof p.valueUri === 'string') out.profile = p.valueUri;
      else if (p.name === 'profile' && typeof p.valueCanonical === 'string') out.profile = p.valueCanonical;
    }
  } else if (b !== undefined) {
    out.resource = b;
  }
  const mode = query.get('mode');
  if (mode !== null) setMode(mode);
  const profile = query.get('profile');
  if (profile !== null) out.profile = profile;
  return out;
}

function outcome(issues: Issue[]): OperationOutcome {
  return operationOutcome(issues.length > 0 ? issues : [{ severity: 'information', code: 'informational', diagnostics: 'No issues found' }]);
}

export const validate: Handler = async (deps, request) => {
  const type = requireType(request.type);
  const { resource, mode, profile } = input(request.body, request.query);
  if (mode === 'delete') {
    if (request.id === undefined) throw new FhirError('invalid', 'mode=delete validates the deletion of a stored resource: use [type]/[id]/$validate');
    const current = await deps.store.read(type, request.id);
    const issues: Issue[] = current && !current.deleted ? [] : [{ severity: 'error', code: 'not-found', diagnostics: `${type}/${request.id} does not exist, so it cannot be deleted` }];
    return { status: 200, resource: outcome(issues) };
  }
  if (resource === undefined) throw new FhirError('required', '$validate needs a resource: the body, or a Parameters with a "resource" parameter');
  const expectedId = mode === 'update' ? request.id : undefined;
  if (mode === 'update' && expectedId === undefined) throw new FhirError('invalid', 'mode=update validates against a stored resource: use [type]/[id]/$validate');
  const issues = deps.validator.validate(resource, { expectedType: type, expectedId });
  // Structural problems stop here: the rules below assume a well-formed resource.
  if (!issues.some((i) => i.severity === 'fatal')) issues.push(...nationalIdentifierIssues(resource as Resource & { identifier?: unknown }));
  // Profiles are checked on a structurally valid resource (an extension's own faults do not make it
  // malformed, so they do not hide the profile's issues); `profile` adds to those it declares.
  if (!issues.some((i) => i.severity === 'fatal' || (i.severity === 'error' && i.code !== 'extension'))) {
    issues.push(...deps.validator.validateProfiles(resource as Resource, profile ? [profile] : []));
  }
  return { status: 200, resource: outcome(issues) };
};
