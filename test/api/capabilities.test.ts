import { strict as assert } from 'node:assert';
import type { CapabilityStatement } from 'fhir/r4';
import { api } from '../helpers/api';

describe('REST: capabilities (http.html#capabilities)', () => {
  let t: ReturnType<typeof api>;
  before(() => { t = api(); });
  after(() => t.close());

  it('GET /fhir/metadata describes exactly what the server does', async () => {
    const res = await t.http.get('/fhir/metadata');
    assert.equal(res.status, 200);
    const cs = res.body as CapabilityStatement;
    assert.equal(cs.resourceType, 'CapabilityStatement');
    assert.equal(cs.fhirVersion, '4.0.1');
    assert.equal(cs.kind, 'instance');
    assert.deepEqual(cs.patchFormat, ['application/json-patch+json']);
    const rest = cs.rest?.[0];
    assert.equal(rest?.resource?.length, 146);
    const p = rest?.resource?.find((r) => r.type === 'Patient');
    assert.deepEqual(p?.interaction?.map((i) => i.code).sort(),
      ['create', 'delete', 'history-instance', 'history-type', 'patch', 'read', 'search-type', 'update', 'vread']);
    assert.equal(p?.conditionalDelete, 'single');
    assert.equal(p?.versioning, 'versioned-update');
    assert.deepEqual(rest?.interaction?.map((i) => i.code), ['transaction', 'batch', 'history-system', 'search-system']);
    const names = p?.searchParam?.map((s) => s.name) ?? [];
    for (const name of ['_id', '_lastUpdated', 'identifier', 'birthdate', 'name', 'general-practitioner']) assert.ok(names.includes(name), name);
    assert.equal(p?.searchParam?.find((s) => s.name === 'birthdate')?.type, 'date');
    const obs = rest?.resource?.find((r) => r.type === 'Observation');
    assert.ok(obs?.searchParam?.some((s) => s.name === 'code-value-quantity' && s.type === 'composite'));
    assert.match(obs?.searchParam?.find((s) => s.name === 'code')?.documentation ?? '', /:not :text :of-type :in :not-in :missing/);
    assert.ok(obs?.searchInclude?.includes('Observation:subject'));
    assert.ok(!rest?.resource?.some((r) => r.type === ('SubscriptionStatus' as never)), 'only R4 types');
  });
});
