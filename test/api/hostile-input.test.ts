import { strict as assert } from 'node:assert';
import type request from 'supertest';
import { SEARCH_LIMITS } from '../../src/search/parse';
import { api, assertOutcome, FHIR_JSON, patient } from '../helpers/api';

/**
 * Inputs that once crashed the server (500) and what each must get instead: a 4xx with an
 * OperationOutcome naming the problem, or a success. Found by the request fuzzer (test/fuzz/).
 */
const JSON_PATCH = 'application/json-patch+json';
const list = (n: number, make: (i: number) => string): string => Array.from({ length: n }, (_, i) => make(i)).join(',');
const repeat = (n: number, make: (i: number) => string): string => Array.from({ length: n }, (_, i) => make(i)).join('&');

/** A 4xx whose body is an OperationOutcome; returns its first issue's diagnostics. */
function refused(res: request.Response, status: number, code: string, diagnostics?: RegExp): string {
  return assertOutcome(res, status, code, diagnostics).issue[0].diagnostics ?? '';
}

function searchset(res: request.Response): void {
  assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
  assert.equal(res.body.resourceType, 'Bundle');
  assert.equal(res.body.type, 'searchset');
}

describe('REST: hostile input gets a 4xx or a success, never a 5xx', () => {
  let t: ReturnType<typeof api>;
  beforeEach(async () => {
    t = api();
    await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ identifier: [{ system: 'urn:mrn', value: 'M1' }] }));
  });
  afterEach(() => t.close());

  describe('JSON Patch (http.html#patch, RFC 6902)', () => {
    const patch = (body: string) => t.http.patch('/fhir/Patient/id-1').set('Content-Type', JSON_PATCH).send(body);

    it('an operation that is null, a number, a string or an array is 400 naming it, and nothing changes', async () => {
      for (const body of ['[null]', '[1]', '["replace"]', '[[]]', '[{"op":"remove","path":"/active"},null]']) {
        refused(await patch(body), 400, 'invalid', /operation \d must be an object/);
      }
      refused(await patch('[{"op":null,"path":null}]'), 400, 'invalid', /operation 0/);
      assert.equal((await t.http.get('/fhir/Patient/id-1')).body.meta.versionId, '1');
    });
  });

  describe('nested resources without a resourceType (json.html#resources)', () => {
    it('contained: [{}], [null] and [{"id":"x"}] are 400 with a FHIRPath location', async () => {
      for (const contained of [[{}], [null], [{ id: 'x' }], [1], [[]]]) {
        const res = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ contained }));
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.resourceType, 'OperationOutcome');
        assert.ok(res.body.issue.some((i: { expression?: string[] }) => i.expression?.some((e) => e.startsWith('Patient.contained[0]'))),
          JSON.stringify(res.body.issue));
      }
      const missing = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ contained: [{ id: 'x' }] }));
      assert.ok(missing.body.issue.some((i: { diagnostics: string; expression?: string[] }) =>
        /resourceType/.test(i.diagnostics) && i.expression?.[0] === 'Patient.contained[0].resourceType'), JSON.stringify(missing.body.issue));
    });

    it('$validate of a resource with contained: [{}] reports the problem (operation-resource-validate.html)', async () => {
      const res = await t.http.post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send(patient({ contained: [{}] }));
      assert.ok(res.status === 200 || res.status === 400, String(res.status));
      assert.equal(res.body.resourceType, 'OperationOutcome');
      assert.ok(res.body.issue.some((i: { severity: string }) => i.severity === 'error'));
    });

    it('a Bundle entry {resource: {}} is 400 for every Bundle type a client can store (bundle.html)', async () => {
      for (const type of ['collection', 'document', 'searchset', 'history', 'message']) {
        const res = await t.http.post('/fhir/Bundle').set('Content-Type', FHIR_JSON).send({ resourceType: 'Bundle', type, entry: [{ resource: {} }] });
        assert.equal(res.status, 400, `${type}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.resourceType, 'OperationOutcome');
      }
    });

    it('a transaction entry without resourceType names the entry and element (bundle.html#transaction)', async () => {
      const res = await t.http.post('/fhir').set('Content-Type', FHIR_JSON)
        .send({ resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { id: 'x' }, request: { method: 'POST', url: 'Patient' } }] });
      const outcome = assertOutcome(res, 400, 'required');
      assert.deepEqual(outcome.issue[0].expression, ['Bundle.entry[0].resource.resourceType']);
    });

    it('a batch entry {resource: {}} fails alone (bundle.html#batch)', async () => {
      const res = await t.http.post('/fhir').set('Content-Type', FHIR_JSON)
        .send({ resourceType: 'Bundle', type: 'batch', entry: [{ resource: {}, request: { method: 'POST', url: 'Patient' } }, { request: { method: 'GET', url: 'Patient/id-1' } }] });
      assert.equal(res.status, 200);
      assert.match(res.body.entry[0].response.status, /^4/);
      assert.match(res.body.entry[1].response.status, /^200/);
    });
  });

  describe('found by the fuzzer: malformed lists reaching code that expected objects', () => {
    it('$validate with a Parameters whose parameter list holds non-objects is 400 naming it (operation-resource-validate.html)', async () => {
      for (const parameter of [[false, null, 'x'], 7]) {
        const res = await t.http.post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send({ resourceType: 'Parameters', parameter });
        const outcome = assertOutcome(res, 400, 'structure');
        assert.match(outcome.issue[0].expression?.[0] ?? '', /^Parameters\.parameter/);
      }
    });

    it('a Bundle whose entry is not a list, or holds null beside a profiled resource, is 400 (bundle.html)', async () => {
      for (const entry of [{}, -246, [null, { resource: { resourceType: 'Patient', meta: { profile: ['http://x'] } } }]]) {
        const res = await t.http.post('/fhir/Bundle').set('Content-Type', FHIR_JSON).send({ resourceType: 'Bundle', type: 'collection', entry });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.resourceType, 'OperationOutcome');
      }
    });

    it('meta.profile that is not a list of strings is 400 (resource.html#Meta)', async () => {
      for (const profile of [5, 'http://x', [null, 5]]) {
        const res = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ meta: { profile } }));
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.resourceType, 'OperationOutcome');
      }
    });

    it('a malformed resource declaring a profile is refused for its base errors, not failed by the profile engine (profiling.html)', async () => {
      const res = await t.http.post('/fhir/Observation').set('Content-Type', FHIR_JSON).send({
        resourceType: 'Observation', meta: { profile: ['http://hl7.org/fhir/StructureDefinition/bp'] }, status: 'final',
        code: { coding: [null, 5] }, component: [null, { code: null }], category: [{ coding: {} }], subject: { reference: 5 }, effectiveDateTime: '2020',
      });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.ok(res.body.issue.some((i: { expression?: string[] }) => i.expression?.[0] === 'Observation.component[0]'), JSON.stringify(res.body.issue));
    });
  });

  describe('_history?_count=0 (http.html#history)', () => {
    for (const [level, url] of [['instance', '/fhir/Patient/id-1/_history'], ['type', '/fhir/Patient/_history'], ['system', '/fhir/_history']]) {
      it(`at the ${level} level is an empty history Bundle without a next link`, async () => {
        const res = await t.http.get(`${url}?_count=0`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.type, 'history');
        assert.equal(res.body.entry, undefined);
        assert.ok(!res.body.link.some((l: { relation: string }) => l.relation === 'next'));
      });
    }
  });

  describe('large searches (search.html#combining, #chaining); limits in SEARCH_LIMITS', () => {
    it('500 comma-separated values of each parameter type are answered, and still match', async () => {
      const tail = list(499, (i) => `v${i}`);
      searchset(await t.http.get(`/fhir/Patient?name=${tail}`));
      const byIdentifier = await t.http.get(`/fhir/Patient?identifier=${tail},urn:mrn|M1`);
      searchset(byIdentifier);
      assert.equal(byIdentifier.body.total, 1);
      const byBirth = await t.http.get(`/fhir/Patient?birthdate=${list(499, (i) => `ge${2000 + (i % 20)}-01-01`)},1990-05-14`);
      searchset(byBirth);
      assert.equal(byBirth.body.total, 1);
      searchset(await t.http.get(`/fhir/Observation?subject=${list(500, (i) => `Patient/p${i}`)}`));
      searchset(await t.http.get(`/fhir/Observation?value-quantity=${list(500, (i) => `ge${i}`)}`));
      searchset(await t.http.get(`/fhir/Patient?_lastUpdated=${list(500, () => 'ge2000-01-01')}`));
    });

    it('more values than the limit is 400 naming the limit', async () => {
      const body = `name=${list(SEARCH_LIMITS.valuesPerParameter + 1, (i) => `v${i}`)}`;
      const res = await t.http.post('/fhir/Patient/_search').set('Content-Type', 'application/x-www-form-urlencoded').send(body);
      refused(res, 400, 'invalid', new RegExp(`at most ${SEARCH_LIMITS.valuesPerParameter}`));
    });

    it('a system search repeating _id or _lastUpdated 300 times is answered', async () => {
      searchset(await t.http.get(`/fhir?${repeat(300, (i) => `_id=a${i}`)}`));
      searchset(await t.http.get(`/fhir?${repeat(300, () => '_lastUpdated=ge2000-01-01')}`));
      searchset(await t.http.get(`/fhir?_type=Patient,Observation&${repeat(300, (i) => `_tag=t${i}`)}`));
      searchset(await t.http.get(`/fhir/Patient?${repeat(300, (i) => `name=a${i}`)}`));
    });

    it('a system search over every type repeating _tag 300 times is 400 naming the limit', async () => {
      refused(await t.http.get(`/fhir?${repeat(300, (i) => `_tag=t${i}`)}`), 400, 'invalid', new RegExp(`${SEARCH_LIMITS.terms} terms`));
    });

    it('a type search with 1200 repetitions of one parameter is answered (no SQL depth limit)', async () => {
      const body = repeat(1200, () => 'active=true');
      searchset(await t.http.post('/fhir/Patient/_search').set('Content-Type', 'application/x-www-form-urlencoded').send(body));
    });

    it('four-step chains: typed ones are answered, an explosion over every target type is 400 naming the limit', async () => {
      searchset(await t.http.get('/fhir/Observation?subject:Patient.general-practitioner:Practitioner.identifier=x'));
      searchset(await t.http.get('/fhir/Observation?subject.general-practitioner.organization.partof.name=x'));
      searchset(await t.http.get('/fhir/Observation?subject:Patient.organization.partof.partof.name=x'));
      refused(await t.http.get('/fhir/Observation?focus.subject.subject.subject.name=x'), 400, 'invalid', /terms/);
    });

    it('a chain or _has longer than the limit is 400 naming the limit', async () => {
      refused(await t.http.get('/fhir/Observation?focus.focus.focus.focus.focus.code=x'), 400, 'invalid', /chained links/);
      const has = `_has:Observation:subject:${'_has:Observation:focus:'.repeat(SEARCH_LIMITS.chainLinks)}code=x`;
      refused(await t.http.get(`/fhir/Patient?${has}`), 400, 'invalid', /chained links/);
    });

    it('the server still answers after all of this', async () => {
      await t.http.get(`/fhir?${repeat(300, (i) => `_tag=t${i}`)}`);
      assert.equal((await t.http.get('/fhir/Patient/id-1')).status, 200);
    });
  });

  it('_include and _revinclude over a page of 1000 results (search.html#include): every referenced resource, not a SQLite depth error', async function () {
    this.timeout(60_000);
    const entry = [];
    for (let i = 0; i < 1000; i++) {
      const fullUrl = `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      entry.push({ fullUrl, resource: { resourceType: 'Patient', name: [{ family: `P${i}` }] }, request: { method: 'POST', url: 'Patient' } });
      entry.push({ resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: fullUrl } }, request: { method: 'POST', url: 'Observation' } });
    }
    const tx = await t.http.post('/fhir').set('Content-Type', FHIR_JSON).send({ resourceType: 'Bundle', type: 'transaction', entry });
    assert.equal(tx.status, 200);
    const included = await t.http.get('/fhir/Observation?_count=1000&_include=Observation:subject');
    assert.equal(included.status, 200, JSON.stringify(included.body).slice(0, 300));
    assert.equal(included.body.entry.filter((e: { search?: { mode?: string } }) => e.search?.mode === 'include').length, 1000);
    const revIncluded = await t.http.get('/fhir/Patient?_count=1000&_revinclude=Observation:subject');
    assert.equal(revIncluded.status, 200, JSON.stringify(revIncluded.body).slice(0, 300));
    // One Patient of the page may be the one every test starts with, which no Observation names.
    assert.ok(revIncluded.body.entry.filter((e: { search?: { mode?: string } }) => e.search?.mode === 'include').length >= 999);
  });
});

describe('A transient store failure (a lost connection, a failover) is a 503 with Retry-After, not a 500', () => {
  it('a read whose store call fails transiently answers 503 transient, saying to try again', async () => {
    const t = api();
    try {
      const store = t.deps.store as unknown as { read: unknown; isTransient?: (err: unknown) => boolean };
      class Blip extends Error {}
      store.read = () => Promise.reject(new Blip('connection lost'));
      store.isTransient = (err) => err instanceof Blip;
      const res = await t.http.get('/fhir/Patient/p1');
      assertOutcome(res, 503, 'transient', /try again/);
      assert.equal(res.headers['retry-after'], '1');
    } finally {
      t.close();
    }
  });
  it('a batch entry whose store call fails transiently answers 503 transient in its entry; the others still run', async () => {
    const t = api();
    try {
      const store = t.deps.store as unknown as { read: unknown; isTransient?: (err: unknown) => boolean };
      class Blip extends Error {}
      store.read = () => Promise.reject(new Blip('connection lost'));
      store.isTransient = (err) => err instanceof Blip;
      const res = await t.http.post('/fhir').set('Content-Type', FHIR_JSON).send({
        resourceType: 'Bundle', type: 'batch',
        entry: [{ request: { method: 'GET', url: 'Patient/p1' } }, { resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } }],
      });
      assert.equal(res.status, 200);
      assert.match(res.body.entry[0].response.status, /^503/);
      assert.equal(res.body.entry[0].response.outcome.issue[0].code, 'transient');
      assert.match(res.body.entry[1].response.status, /^201/);
    } finally {
      t.close();
    }
  });
});
