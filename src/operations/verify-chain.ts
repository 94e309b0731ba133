import type { Issue } from '../fhir/errors';
import { problemLine, verifyTrail } from '../audit/verify';
import { FhirError } from '../fhir/errors';
import { operationOutcome } from '../fhir/operation-outcome';
import type { Handler } from '../interactions/types';

export const OPERATION = {
  name: 'verify-chain',
  definition: 'https://abdm-fhir-gateway.github.io/fhir/OperationDefinition/AuditEvent-verify-chain',
  types: ['AuditEvent'],
} as const;

/**
 * `GET [base]/AuditEvent/$verify-chain`: verifies the audit trail's hash chains and names every
 * AuditEvent that was changed, deleted, reordered or lost its predecessor, and every chain that
 * ends before its newest signed checkpoint (its newest events removed). It reads the whole
 * trail, so it is for unrestricted principals (operators, system integrations) only.
 */
export const verifyChain: Handler = async (deps, request) => {
  if (request.type !== 'AuditEvent') throw new FhirError('not-supported', '$verify-chain is defined on AuditEvent only');
  const p = request.principal;
  if (p.kind !== 'local' && !(p.kind === 'system' && p.grants.some((g) => g.context === 'system'))) {
    throw new FhirError('forbidden', '$verify-chain reads the whole audit trail: it needs a system (unrestricted) token');
  }
  const checkpoints = deps.auditCheckpoints?.read() ?? { heads: [], bad: [] };
  const report = await verifyTrail(deps.store, checkpoints.heads);
  const issues: Issue[] = report.problems.map((problem) => ({
    severity: 'error', code: 'processing', diagnostics: problemLine(problem),
    ...(problem.id.startsWith('chain ') ? {} : { expression: [`AuditEvent/${problem.id}`] }),
  }));
  for (const line of checkpoints.bad) {
    issues.push({ severity: 'error', code: 'processing', diagnostics: `audit-checkpoints.jsonl line ${line} is not a checkpoint this server signed` });
  }
  issues.push({
    severity: 'information', code: 'informational',
    diagnostics: `${report.events} AuditEvents in ${report.chains} chains checked; ${report.problems.length} problems`,
  });
  return { status: 200, resource: operationOutcome(issues) };
};
