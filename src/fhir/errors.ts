import type { OperationOutcomeIssue } from 'fhir/r4';

/**
 * The FHIR issue codes (http://hl7.org/fhir/valueset-issue-type.html) we raise, each with the
 * HTTP status it means. This table is the only place a status is chosen for an error.
 */
export const STATUS_BY_ISSUE_CODE = {
  invalid: 400,
  structure: 400,
  required: 400,
  value: 400,
  'code-invalid': 400,
  invariant: 400,
  processing: 400,
  'not-supported': 400,
  /** An extension the server cannot accept: unknown to it (a modifier extension, or by policy). */
  extension: 422,
  duplicate: 400,
  security: 403,
  login: 401,
  forbidden: 403,
  'not-found': 404,
  deleted: 410,
  conflict: 409,
  'too-long': 413,
  'too-costly': 413,
  exception: 500,
  timeout: 503,
  transient: 503,
  informational: 200,
} as const;

export type IssueCode = keyof typeof STATUS_BY_ISSUE_CODE;
export type IssueSeverity = 'fatal' | 'error' | 'warning' | 'information';

export interface Issue {
  severity: IssueSeverity;
  code: IssueCode;
  diagnostics: string;
  /** FHIRPath locations of the problem, e.g. `Patient.name[0].given[1]`. */
  expression?: string[];
}

/**
 * HTTP statuses that are not a property of the issue code alone: the spec asks for them in
 * particular situations (412 for a failed precondition, 405, 406, 415, 422 ...).
 */
export type StatusOverride = 405 | 406 | 412 | 415 | 422 | 413 | 409;

/** The one error type of the server. The error handler turns it into an OperationOutcome. */
export class FhirError extends Error {
  readonly issues: Issue[];
  readonly status: number;
  /** Response headers the spec pairs with this error (e.g. WWW-Authenticate on a 401). */
  readonly headers?: Readonly<Record<string, string>>;

  constructor(code: IssueCode, diagnostics: string, opts: { status?: StatusOverride; expression?: string[]; headers?: Record<string, string> } = {}) {
    super(diagnostics);
    this.name = 'FhirError';
    this.issues = [{ severity: code === 'informational' ? 'information' : 'error', code, diagnostics, expression: opts.expression }];
    this.status = opts.status ?? STATUS_BY_ISSUE_CODE[code];
    this.headers = opts.headers;
  }

  /** Several problems found at once (validation): the first issue's code decides the status. */
  static of(issues: Issue[], status?: StatusOverride): FhirError {
    if (issues.length === 0) throw new RangeError('FhirError.of needs at least one issue');
    const err = new FhirError(issues[0].code, issues[0].diagnostics, { status, expression: issues[0].expression });
    err.issues.splice(0, 1, ...issues);
    return err;
  }
}

export function toOutcomeIssue(issue: Issue): OperationOutcomeIssue {
  const out: OperationOutcomeIssue = { severity: issue.severity, code: issue.code, diagnostics: issue.diagnostics };
  if (issue.expression && issue.expression.length > 0) out.expression = issue.expression;
  return out;
}
