import type { OperationOutcome, Parameters, Resource } from 'fhir/r4';
import { FhirError, type Issue } from '../fhir/errors';
import { operationOutcome } from '../fhir/operation-outcome';
import type { Handler } from '../interactions/types';
import { assess, requireType } from '../interactions/write-support';

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

const OPERATION_PARAMETERS = new Set(['resource', 'mode', 'profile']);

/**
 * Whether a Parameters body is this operation's input rather than the resource to validate. At
 * `Parameters/$validate` both are Parameters: it is the input only when it has exactly the
 * operation's shape (one `resource`, and nothing but resource, mode and profile).
 */
function isOperationInput(body: Parameters, type: string): boolean {
  if (type !== 'Parameters') return true;
  const params = body.parameter ?? [];
  return params.every((p) => OPERATION_PARAMETERS.has(p.name)) && params.filter((p) => p.name === 'resource' && p.resource).length === 1;
}

/** Parameters.parameter must be a list of objects before anything reads a name from it. */
function checkParameterList(body: Parameters): void {
  const list: unknown = body.parameter;
  if (list === undefined) return;
  if (!Array.isArray(list)) throw new FhirError('structure', 'Parameters.parameter must be an array', { expression: ['Parameters.parameter'] });
  const bad = list.findIndex((p) => typeof p !== 'object' || p === null || Array.isArray(p));
  if (bad >= 0) throw new FhirError('structure', `Parameters.parameter[${bad}] must be a JSON object`, { expression: [`Parameters.parameter[${bad}]`] });
}

function input(body: unknown, query: URLSearchParams, type: string): Input {
  const out: Input = {};
  const setMode = (raw: string): void => {
    if (!(MODES as readonly string[]).includes(raw)) throw new FhirError('invalid', `mode must be one of ${MODES.join(', ')}, not '${raw}'`);
    out.mode = raw as Mode;
  };
  if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
    throw new FhirError('invalid', '$validate takes a resource, or a Parameters with a "resource" parameter, as a JSON object');
  }
  const b = body as Resource | undefined;
  if (b?.resourceType === 'Parameters') checkParameterList(b as Parameters);
  if (b?.resourceType === 'Parameters' && isOperationInput(b as Parameters, type)) {
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
  const { resource, mode, profile } = input(request.body, request.query, type);
  if (mode === 'delete') {
    if (request.id === undefined) throw new FhirError('invalid', 'mode=delete validates the deletion of a stored resource: use [type]/[id]/$validate');
    const current = await deps.store.read(type, request.id);
    const issues: Issue[] = current && !current.deleted ? [] : [{ severity: 'error', code: 'not-found', diagnostics: `${type}/${request.id} does not exist, so it cannot be deleted` }];
    return { status: 200, resource: outcome(issues) };
  }
  if (resource === undefined) throw new FhirError('required', '$validate needs a resource: the body, or a Parameters with a "resource" parameter');
  const expectedId = mode === 'update' ? request.id : undefined;
  if (mode === 'update' && expectedId === undefined) throw new FhirError('invalid', 'mode=update validates against a stored resource: use [type]/[id]/$validate');
  // The very assessment a write makes (so the verdicts agree), with every issue in one outcome;
  // `profile` adds to the profiles the resource declares.
  const { issues } = assess(deps, resource, { expectedType: type, expectedId }, profile ? [profile] : []);
  return { status: 200, resource: outcome(issues) };
};
