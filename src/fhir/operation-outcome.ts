import type { OperationOutcome } from 'fhir/r4';
import { type Issue, toOutcomeIssue } from './errors';

/** The one OperationOutcome builder. */
export function operationOutcome(issues: Issue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues.map(toOutcomeIssue) };
}

export function informational(diagnostics: string): OperationOutcome {
  return operationOutcome([{ severity: 'information', code: 'informational', diagnostics }]);
}
