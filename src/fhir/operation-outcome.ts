import type { OperationOutcome } from 'fhir/r4';
import { type Issue, toOutcomeIssue } from './errors';

/** The one OperationOutcome builder. */
export function operationOutcome(issues: Issue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues.map(toOutcomeIssue) };
}

export function informational(diagnostics: string): OperationOutcome {
  return operationOutcome([{ severity: 'information', code: 'informational', diagnostics }]);
}

/**
 * A write's outcome for `Prefer: return=OperationOutcome` (http.html#ops: "hints and warnings
 * about the operation"): what was done, then every warning its validation produced.
 */
export function outcomeOf(result: { message?: string; issues?: Issue[] }): OperationOutcome {
  return operationOutcome([{ severity: 'information', code: 'informational', diagnostics: result.message ?? 'Done' }, ...(result.issues ?? [])]);
}
