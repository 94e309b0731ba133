import { strict as assert } from 'node:assert';
import type { OperationOutcome } from 'fhir/r4';
import request from 'supertest';
import { createApp } from '../../src/app';
import type { Authenticator } from '../../src/auth/access';
import type { Config } from '../../src/config';
import { testDeps, type TestClock } from './deps';

export const FHIR_JSON = 'application/fhir+json';

/** A supertest agent over a fresh app on an in-memory store. */
export function api(options: { config?: Partial<Config>; clock?: TestClock; auth?: Authenticator } = {}) {
  const deps = testDeps(options);
  const app = createApp(deps);
  return { deps, http: request(app), close: () => deps.store.close() };
}

/** Asserts an OperationOutcome response: the status and issue[0].code, as the spec pairs them. */
export function assertOutcome(res: request.Response, status: number, code: string, diagnostics?: RegExp): OperationOutcome {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
  assert.match(String(res.headers['content-type']), /^application\/fhir\+json/);
  const outcome = res.body as OperationOutcome;
  assert.equal(outcome.resourceType, 'OperationOutcome');
  assert.equal(outcome.issue[0].code, code, JSON.stringify(outcome.issue));
  if (diagnostics) assert.match(outcome.issue[0].diagnostics ?? '', diagnostics);
  return outcome;
}

export const patient = (extra: Record<string, unknown> = {}) => ({
  resourceType: 'Patient',
  active: true,
  name: [{ family: 'Sharma', given: ['Asha'] }],
  gender: 'female',
  birthDate: '1990-05-14',
  ...extra,
});
