import { strict as assert } from 'node:assert';
import type { AuditEvent, Bundle, BundleEntry } from 'fhir/r4';
import { bearerAccess } from '../../src/auth/access';
import { TokenVerifier } from '../../src/auth/verifier';
import { api, assertOutcome, FHIR_JSON, patient } from '../helpers/api';
import { AUDIENCE, ISSUER, testIssuer } from '../helpers/tokens';

describe('REST: authentication and SMART scopes on every route (SMART App Launch, RFC 6750)', () => {
  let issuer: Awaited<ReturnType<typeof testIssuer>>;
  let t: ReturnType<typeof api>;
  const tokens: Record<string, string> = {};

  before(async () => {
    issuer = await testIssuer();
    tokens.system = await issuer.mint({ scope: 'system/*.cruds' });
    tokens.reader = await issuer.mint({ scope: 'system/Patient.rs' });
    tokens.patient = await issuer.mint({ scope: 'patient/*.rs', fhirUser: 'Patient/p-1', patient: 'p-1' });
    tokens.observations = await issuer.mint({ scope: 'system/Observation.rs' });
    tokens.creator = await issuer.mint({ scope: 'system/Patient.c' });
  });
  after(() => issuer.cleanup());
  beforeEach(async () => {
    const verifier = new TokenVerifier({ kind: 'file', path: issuer.jwksFile }, { issuer: ISSUER, audience: AUDIENCE, now: () => new Date() });
    await verifier.load();
    t = api({ auth: bearerAccess(verifier) });
    await t.http.put('/fhir/Patient/p-1').set('Content-Type', FHIR_JSON).set('Authorization', `Bearer ${tokens.system}`).send(patient({ id: 'p-1' }));
  });
  afterEach(() => t.close());

  const as = (who: string) => ({ Authorization: `Bearer ${tokens[who]}` });

  it('no token is a 401 with a WWW-Authenticate challenge; a bad one says invalid_token', async () => {
    const none = await t.http.get('/fhir/Patient/p-1');
    assertOutcome(none, 401, 'login');
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="fhir"');
    const bad = await t.http.get('/fhir/Patient/p-1').set('Authorization', 'Bearer abc.def.ghi');
    assertOutcome(bad, 401, 'login');
    assert.match(bad.headers['www-authenticate'], /error="invalid_token"/);
    assertOutcome(await t.http.get('/fhir/Patient/p-1').set('Authorization', 'Basic dXNlcjpwYXNz'), 401, 'login', /not a bearer token/);
  });

  it('the CapabilityStatement stays public', async () => {
    assert.equal((await t.http.get('/fhir/metadata')).status, 200);
  });

  it('scopes decide per type and action: read-only cannot write, another type is refused', async () => {
    assert.equal((await t.http.get('/fhir/Patient/p-1').set(as('reader'))).status, 200);
    assert.equal((await t.http.get('/fhir/Patient?_id=p-1').set(as('reader'))).status, 200);
    const write = await t.http.post('/fhir/Patient').set(as('reader')).set('Content-Type', FHIR_JSON).send(patient());
    assertOutcome(write, 403, 'forbidden', /do not allow create on Patient/);
    assert.match(write.headers['www-authenticate'], /insufficient_scope/);
    assertOutcome(await t.http.get('/fhir/Observation').set(as('reader')), 403, 'forbidden');
    assertOutcome(await t.http.get('/fhir/Patient/p-1/Observation').set(as('reader')), 403, 'forbidden', /Observation/);
    assert.equal((await t.http.get('/fhir/Patient/p-1/Observation').set(as('observations'))).status, 200);
    assertOutcome(await t.http.get('/fhir/_history').set(as('reader')), 403, 'forbidden', /all types/);
    assert.equal((await t.http.post('/fhir/Patient').set(as('creator')).set('Content-Type', FHIR_JSON).send(patient())).status, 201);
  });

  it('conditional interactions and conditional references are searches, and need search access', async () => {
    const conditional = await t.http.post('/fhir/Patient').set(as('creator')).set('Content-Type', FHIR_JSON)
      .set('If-None-Exist', 'identifier=https://healthid.abdm.gov.in|91-7561-4088-8857').send(patient());
    assertOutcome(conditional, 403, 'forbidden', /search on Patient/);
    const observer = await issuer.mint({ scope: 'system/Observation.c' });
    const tx = await t.http.post('/fhir').set('Authorization', `Bearer ${observer}`).set('Content-Type', FHIR_JSON).send({
      resourceType: 'Bundle', type: 'transaction',
      entry: [{ fullUrl: 'urn:uuid:o', request: { method: 'POST', url: 'Observation' },
        resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient?family=sharma' } } }],
    });
    assertOutcome(tx, 403, 'forbidden', /search on Patient/);
  });

  it('patient-context scopes confine the token to its launch patient, and need one', async () => {
    await t.http.put('/fhir/Patient/p-2').set('Content-Type', FHIR_JSON).set(as('system')).send(patient({ id: 'p-2' }));
    assert.equal((await t.http.get('/fhir/Patient/p-1').set(as('patient'))).status, 200);
    assertOutcome(await t.http.get('/fhir/Patient/p-2').set(as('patient')), 404, 'not-found');
    const all = await t.http.get('/fhir/Patient?_total=accurate').set(as('patient'));
    assert.deepEqual([all.body.total, (all.body as Bundle).entry?.map((e) => e.resource?.id)], [1, ['p-1']]);
    const contextless = await issuer.mint({ scope: 'patient/*.rs' });
    assertOutcome(await t.http.get('/fhir/Patient/p-1').set('Authorization', `Bearer ${contextless}`), 403, 'forbidden', /launch context/);
  });

  it('batch and transaction entries are checked one by one with the same scopes', async () => {
    const bundle = (type: 'batch' | 'transaction') => ({
      resourceType: 'Bundle', type,
      entry: [
        { request: { method: 'GET', url: 'Patient/p-1' } },
        { fullUrl: 'urn:uuid:a', resource: patient(), request: { method: 'POST', url: 'Patient' } },
      ],
    });
    const batch = await t.http.post('/fhir').set(as('reader')).set('Content-Type', FHIR_JSON).send(bundle('batch'));
    assert.equal(batch.status, 200);
    assert.deepEqual((batch.body as Bundle).entry?.map((e: BundleEntry) => e.response?.status?.slice(0, 3)), ['200', '403']);
    const tx = await t.http.post('/fhir').set(as('reader')).set('Content-Type', FHIR_JSON).send(bundle('transaction'));
    assertOutcome(tx, 403, 'forbidden', /Bundle\.entry\[1\]/);
    const count = await t.http.get('/fhir/Patient?_summary=count').set(as('system'));
    assert.equal(count.body.total, 1, 'nothing of the refused transaction was written');
  });
});

describe('REST: who a token names (README, Authentication: sub, or client_id/azp for a backend service)', () => {
  it('a backend service token without sub works with its system scopes, and the audit trail names its client_id', async () => {
    const issuer = await testIssuer();
    const verifier = new TokenVerifier({ kind: 'file', path: issuer.jwksFile }, { issuer: ISSUER, audience: AUDIENCE, now: () => new Date() });
    await verifier.load();
    const t = api({ auth: bearerAccess(verifier), config: { audit: true } });
    try {
      const service = `Bearer ${await issuer.mint({ sub: undefined, client_id: 'lab-integration', scope: 'system/*.cruds' })}`;
      const created = await t.http.post('/fhir/Patient').set('Authorization', service).set('Content-Type', FHIR_JSON).send(patient());
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal((await t.http.get(`/fhir/Patient/${created.body.id}`).set('Authorization', service)).status, 200);
      const events = (await t.deps.store.history({ type: 'AuditEvent', count: 10 })).versions.map((v) => v.resource as AuditEvent);
      assert.equal(events.length, 2);
      for (const e of events) assert.deepEqual(e.agent[0].who, { identifier: { value: 'lab-integration' } });
      const nobody = `Bearer ${await issuer.mint({ sub: undefined, scope: 'system/*.cruds' })}`;
      const refused = await t.http.get(`/fhir/Patient/${created.body.id}`).set('Authorization', nobody);
      assertOutcome(refused, 401, 'login', /names no one: it needs sub, or client_id \(or azp\)/);
      assert.match(refused.headers['www-authenticate'], /error="invalid_token", error_description="The token names no one/);
    } finally {
      issuer.cleanup();
      await t.close();
    }
  });
});

describe('REST: searches cannot reach past the token\'s scopes', () => {
  let issuer: Awaited<ReturnType<typeof testIssuer>>;
  let t: ReturnType<typeof api>;
  let reader: string;
  before(async () => {
    issuer = await testIssuer();
    const verifier = new TokenVerifier({ kind: 'file', path: issuer.jwksFile }, { issuer: ISSUER, audience: AUDIENCE, now: () => new Date() });
    await verifier.load();
    t = api({ auth: bearerAccess(verifier) });
    const system = `Bearer ${await issuer.mint({ scope: 'system/*.cruds' })}`;
    reader = `Bearer ${await issuer.mint({ scope: 'system/Patient.rs' })}`;
    await t.http.put('/fhir/Patient/p-1').set('Content-Type', FHIR_JSON).set('Authorization', system).send(patient({ id: 'p-1' }));
    await t.http.put('/fhir/Observation/o-1').set('Content-Type', FHIR_JSON).set('Authorization', system)
      .send({ resourceType: 'Observation', id: 'o-1', status: 'final', code: { text: 'HIV test' }, subject: { reference: 'Patient/p-1' } });
  });
  after(() => { issuer.cleanup(); return t.close(); });

  it('_revinclude of a type the token may not read leaves those resources out', async () => {
    const res = await t.http.get('/fhir/Patient?_id=p-1&_revinclude=Observation:subject').set('Authorization', reader);
    assert.equal(res.status, 200);
    assert.deepEqual((res.body as Bundle).entry?.map((e) => e.resource?.resourceType), ['Patient']);
  });

  it('_has and chains into a type the token may not search are refused', async () => {
    assertOutcome(await t.http.get('/fhir/Patient?_has:Observation:subject:code:text=hiv').set('Authorization', reader), 403, 'forbidden', /Observation/);
    assertOutcome(await t.http.get('/fhir/Patient?organization.name=x').set('Authorization', reader), 403, 'forbidden', /Organization/);
  });
});
