import { strict as assert } from 'node:assert';
import { FhirError, STATUS_BY_ISSUE_CODE } from '../../../src/fhir/errors';
import { operationOutcome } from '../../../src/fhir/operation-outcome';

describe('fhir/errors: one table from issue code to HTTP status', () => {
  it('statuses follow the issue code unless the spec asks for a particular one', () => {
    assert.equal(new FhirError('not-found', 'x').status, 404);
    assert.equal(new FhirError('deleted', 'x').status, 410);
    assert.equal(new FhirError('conflict', 'x').status, STATUS_BY_ISSUE_CODE.conflict);
    assert.equal(new FhirError('conflict', 'x', { status: 412 }).status, 412);
  });

  it('several issues: the first decides the status; all reach the OperationOutcome', () => {
    const err = FhirError.of([
      { severity: 'error', code: 'structure', diagnostics: 'a', expression: ['Patient.foo'] },
      { severity: 'error', code: 'value', diagnostics: 'b' },
    ]);
    assert.equal(err.status, 400);
    assert.deepEqual(operationOutcome(err.issues).issue, [
      { severity: 'error', code: 'structure', diagnostics: 'a', expression: ['Patient.foo'] },
      { severity: 'error', code: 'value', diagnostics: 'b' },
    ]);
    assert.throws(() => FhirError.of([]));
  });
});
