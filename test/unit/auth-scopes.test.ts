import { strict as assert } from 'node:assert';
import { grantsFor, parseScopes, type Action } from '../../src/auth/scopes';

describe('auth: SMART scopes, v1 and v2 (SMART App Launch, scopes-and-launch-context)', () => {
  const cases: [string, string, Action, boolean][] = [
    ['patient/Observation.read', 'Observation', 'r', true],
    ['patient/Observation.read', 'Observation', 's', true],
    ['patient/Observation.read', 'Observation', 'c', false],
    ['patient/Observation.read', 'Patient', 'r', false],
    ['user/*.write', 'Encounter', 'u', true],
    ['user/*.write', 'Encounter', 'r', false],
    ['system/*.*', 'Consent', 'd', true],
    ['patient/Observation.rs', 'Observation', 's', true],
    ['patient/Observation.rs', 'Observation', 'u', false],
    ['user/*.cruds', 'Bundle', 'c', true],
    ['user/Observation.cu', 'Observation', 'd', false],
    ['user/Observation.rs?category=laboratory', 'Observation', 'r', false],
    ['openid fhirUser launch/patient offline_access', 'Patient', 'r', false],
    ['user/observation.read', 'Observation', 'r', false],
    ['user/Observation.sr', 'Observation', 'r', false],
  ];
  for (const [scope, type, action, allowed] of cases) {
    it(`${scope} ${allowed ? 'allows' : 'does not allow'} ${action} on ${type}`, () => {
      assert.equal(grantsFor(parseScopes(scope), type, action).length > 0, allowed);
    });
  }

  it('contexts are kept, so patient-context grants can be told apart', () => {
    assert.deepEqual(parseScopes('patient/*.rs system/Patient.r').map((g) => g.context), ['patient', 'system']);
  });
});
