import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, BundleEntry, Observation, Patient } from 'fhir/r4';
import { api, assertOutcome, FHIR_JSON, patient } from '../helpers/api';

const ABHA = 'https://healthid.abdm.gov.in';
const LOINC = 'http://loinc.org';
const SYNTHEA = path.resolve(__dirname, '../../../../shared/synthea');

type Entry = BundleEntry & { request: NonNullable<BundleEntry['request']> };
const tx = (entry: Entry[], type: 'transaction' | 'batch' = 'transaction'): Bundle => ({ resourceType: 'Bundle', type, entry });
const post = (fullUrl: string, resource: object, extra: Partial<Entry['request']> = {}): Entry =>
  ({ fullUrl, resource: resource as Patient, request: { method: 'POST', url: (resource as Patient).resourceType, ...extra } });
const obs = (subject: string, extra: Partial<Observation> = {}): Observation => ({
  resourceType: 'Observation', status: 'final', code: { coding: [{ system: LOINC, code: '718-7' }] }, subject: { reference: subject }, ...extra,
});
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');

describe('REST: batch and transaction Bundles (http.html#transaction, bundle.html#transaction)', () => {
  let t: ReturnType<typeof api>;
  beforeEach(() => { t = api(); });
  afterEach(() => t.close());

  const send = (bundle: object, prefer?: string) => {
    const req = t.http.post('/fhir').set('Content-Type', FHIR_JSON);
    if (prefer) req.set('Prefer', prefer);
    return req.send(bundle);
  };
  const count = async (query: string): Promise<number> => (await t.http.get(`/fhir/${query}${query.includes('?') ? '&' : '?'}_summary=count`)).body.total;

  describe('transaction', () => {
    it('urn:uuid references are rewritten everywhere: nested, in extensions, contained and the narrative', async () => {
      const pUrl = 'urn:uuid:8a4c4d43-1f5e-4b8a-9a3c-2f0f5b1a0001';
      const res = await send(tx([
        post('urn:uuid:8a4c4d43-1f5e-4b8a-9a3c-2f0f5b1a0002', obs(pUrl, {
          text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml"><a href="${pUrl}">patient</a></div>` },
          extension: [{ url: 'http://example.org/about', valueReference: { reference: pUrl } }],
          performer: [{ reference: '#lab' }],
          contained: [{ resourceType: 'Organization', id: 'lab', name: 'Lab', partOf: { reference: pUrl } } as never],
          component: [{ code: { text: 'x' }, extension: [{ url: 'http://example.org/who', extension: [{ url: 'deep', valueReference: { reference: pUrl } }] }] }],
        })),
        post(pUrl, patient({ identifier: [{ system: ABHA, value: '91-1111-2222-3333' }] })),
      ]));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const bundle = res.body as Bundle;
      assert.equal(bundle.type, 'transaction-response');
      assert.equal(bundle.entry?.length, 2);
      const [o, p] = bundle.entry ?? [];
      assert.match(p.response?.status ?? '', /^201/);
      assert.match(p.response?.location ?? '', /^Patient\/[^/]+\/_history\/1$/);
      assert.equal(p.response?.etag, 'W/"1"');
      assert.ok(p.response?.lastModified);
      const patientRef = `Patient/${(p.resource as Patient).id}`;
      const stored = (await t.http.get(`/fhir/${o.response?.location?.split('/_history')[0]}`)).body as Observation;
      assert.equal(stored.subject?.reference, patientRef);
      assert.equal(stored.extension?.[0].valueReference?.reference, patientRef);
      assert.equal(stored.component?.[0].extension?.[0].extension?.[0].valueReference?.reference, patientRef);
      assert.equal((stored.contained?.[0] as { partOf?: { reference?: string } }).partOf?.reference, patientRef);
      assert.equal(stored.performer?.[0].reference, '#lab');
      assert.match(stored.text?.div ?? '', new RegExp(`href="${patientRef}"`));
      assert.deepEqual(await ids(`Observation?subject=${patientRef}`), [stored.id]);
    });

    const ids = async (query: string): Promise<string[]> => ((await t.http.get(`/fhir/${query}`)).body.entry ?? []).map((e: BundleEntry) => e.resource?.id);

    it('is processed DELETE, POST, PUT/PATCH, GET whatever the entry order; answers keep the request order', async () => {
      await t.http.put('/fhir/Patient/old').set('Content-Type', FHIR_JSON).send(patient({ id: 'old' }));
      await t.http.put('/fhir/Patient/kept').set('Content-Type', FHIR_JSON).send(patient({ id: 'kept', active: true }));
      const res = await send(tx([
        { request: { method: 'GET', url: 'Patient?family=sharma&_sort=_id' } },
        { resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: b64([{ op: 'replace', path: '/active', value: false }]) } as never, request: { method: 'PATCH', url: 'Patient/kept' } },
        { fullUrl: 'http://example.org/fhir/Patient/put1', resource: patient({ id: 'put1' }) as Patient, request: { method: 'PUT', url: 'Patient/put1' } },
        post('urn:uuid:11111111-1111-1111-1111-111111111111', patient()),
        { request: { method: 'DELETE', url: 'Patient/old' } },
      ]));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const e = (res.body as Bundle).entry ?? [];
      assert.deepEqual(e.map((x) => x.response?.status?.slice(0, 3)), ['200', '200', '201', '201', '204']);
      const found = (e[0].resource as Bundle).entry?.map((x) => x.resource?.id);
      assert.equal(found?.length, 3, 'the GET sees the POST and PUT, not the deleted one');
      assert.ok(!found?.includes('old'));
      assert.equal((e[1].resource as Patient).active, false);
      assert.equal((await t.http.get('/fhir/Patient/old')).status, 410);
    });

    it('conditional references resolve by search; none or several matches is 412 and nothing is kept', async () => {
      await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ identifier: [{ system: ABHA, value: 'ONE' }] }));
      const ok = await send(tx([post('urn:uuid:a', obs(`Patient?identifier=${ABHA}|ONE`))]));
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal((ok.body.entry[0].resource as Observation).subject?.reference, 'Patient/id-1');

      assertOutcome(await send(tx([post('urn:uuid:a', patient()), post('urn:uuid:b', obs(`Patient?identifier=${ABHA}|NONE`))])), 412, 'not-found', /Bundle\.entry\[1\]/);
      await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ identifier: [{ system: ABHA, value: 'ONE' }] }));
      assertOutcome(await send(tx([post('urn:uuid:b', obs(`Patient?identifier=${ABHA}|ONE`))])), 412, 'duplicate', /more than one/);
      assert.equal(await count('Patient'), 2);
      assert.equal(await count('Observation'), 1);
    });

    it('a retried transaction with conditional creates gives the same answer and no duplicates', async () => {
      const bundle = () => tx([
        post('urn:uuid:p', patient({ identifier: [{ system: ABHA, value: '91-1111-2222-3333' }] }), { ifNoneExist: `identifier=${ABHA}|91-1111-2222-3333` }),
        post('urn:uuid:o', obs('urn:uuid:p', { identifier: [{ system: 'http://lab.example.in', value: 'r-1' }] }), { ifNoneExist: 'identifier=http://lab.example.in|r-1' }),
      ]);
      const first = await send(bundle());
      const again = await send(bundle());
      assert.deepEqual(first.body.entry.map((e: BundleEntry) => e.response?.status?.slice(0, 3)), ['201', '201']);
      assert.deepEqual(again.body.entry.map((e: BundleEntry) => e.response?.status?.slice(0, 3)), ['200', '200']);
      const located = (r: { body: Bundle }) => r.body.entry?.map((e) => e.resource && `${e.resource.resourceType}/${e.resource.id}`);
      assert.deepEqual(located(again), located(first));
      assert.equal(await count('Patient'), 1);
      assert.equal(await count('Observation'), 1);
    });

    it('any failing entry rolls back every other: stale ifMatch (412)', async () => {
      await t.http.put('/fhir/Patient/a').set('Content-Type', FHIR_JSON).send(patient({ id: 'a' }));
      const res = await send(tx([
        post('urn:uuid:n', patient({ gender: 'male' })),
        { resource: patient({ id: 'a', active: false }) as Patient, request: { method: 'PUT', url: 'Patient/a', ifMatch: 'W/"7"' } },
      ]));
      assertOutcome(res, 412, 'conflict', /Bundle\.entry\[1\] \(PUT Patient\/a\)/);
      assert.equal(await count('Patient'), 1);
      assert.equal((await t.http.get('/fhir/Patient/a')).body.meta.versionId, '1');
    });

    it('an invalid resource is a 400 naming the entry and the element; nothing is stored', async () => {
      const res = await send(tx([post('urn:uuid:a', patient()), post('urn:uuid:b', patient({ gender: 'unknown-ish' }))]));
      const outcome = assertOutcome(res, 400, 'code-invalid');
      assert.deepEqual(outcome.issue[0].expression, ['Bundle.entry[1].resource.gender']);
      assert.equal(await count('Patient'), 0);
    });

    it('a urn:uuid no entry carries, the same resource twice, and malformed entries are 400s', async () => {
      assertOutcome(await send(tx([post('urn:uuid:a', obs('urn:uuid:missing'))])), 400, 'invalid', /does not resolve/);
      const twice = await send(tx([
        { resource: patient({ id: 'x' }) as Patient, request: { method: 'PUT', url: 'Patient/x' } },
        { request: { method: 'DELETE', url: 'Patient/x' } },
      ]));
      assertOutcome(twice, 400, 'duplicate', /once/);
      assertOutcome(await send(tx([{ resource: patient() } as unknown as Entry])), 400, 'required', /request is required/);
      assertOutcome(await send(tx([{ request: { method: 'POST', url: 'Patient' } }])), 400, 'required', /resource is required/);
      assertOutcome(await send(tx([{ request: { method: 'GET', url: 'NoSuchType/1' } }])), 404, 'not-found');
      assertOutcome(await send(tx([{ request: { method: 'POST', url: '/' }, resource: tx([]) as never }])), 400, 'not-supported', /cannot contain/);
      assertOutcome(await send(tx([{ request: { method: 'GET', url: 'http://elsewhere.example/fhir/Patient/1' } }])), 400, 'not-supported', /another server/);
      assertOutcome(await send({ resourceType: 'Bundle', type: 'document' }), 400, 'invalid', /POST \[base\]\/Bundle/);
      assertOutcome(await send(patient()), 400, 'invalid', /Bundle of type batch or transaction/);
      assert.equal(await count('Patient'), 0);
    });

    it('conditional PUT and DELETE in a transaction decide by search, as outside one', async () => {
      await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ identifier: [{ system: ABHA, value: 'U' }] }));
      await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ identifier: [{ system: ABHA, value: 'D' }] }));
      const res = await send(tx([
        { resource: patient({ identifier: [{ system: ABHA, value: 'U' }], gender: 'other' }) as Patient, request: { method: 'PUT', url: `Patient?identifier=${ABHA}|U` } },
        { resource: patient({ identifier: [{ system: ABHA, value: 'NEW' }] }) as Patient, request: { method: 'PUT', url: `Patient?identifier=${ABHA}|NEW` } },
        { request: { method: 'DELETE', url: `Patient?identifier=${ABHA}|D` } },
      ]));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.entry.map((e: BundleEntry) => e.response?.status?.slice(0, 3)), ['200', '201', '204']);
      assert.equal((await t.http.get('/fhir/Patient/id-1')).body.gender, 'other');
      assert.equal((await t.http.get('/fhir/Patient/id-2')).status, 410);
      assert.equal(await count(`Patient?identifier=${ABHA}|NEW`), 1);
    });

    it('Prefer: return=minimal leaves resources out; return=OperationOutcome gives one per entry', async () => {
      const minimal = await send(tx([post('urn:uuid:a', patient())]), 'return=minimal');
      assert.equal(minimal.body.entry[0].resource, undefined);
      assert.match(minimal.body.entry[0].response.location, /^Patient\//);
      const outcome = await send(tx([post('urn:uuid:a', patient())]), 'return=OperationOutcome');
      assert.equal(outcome.body.entry[0].response.outcome.resourceType, 'OperationOutcome');
    });

    it('limits: more entries than allowed, or a larger body, is a 413 before any work', async () => {
      t = api({ config: { maxBundleEntries: 2, maxBodyBytes: 4096 } });
      assertOutcome(await send(tx([post('urn:uuid:a', patient()), post('urn:uuid:b', patient()), post('urn:uuid:c', patient())])), 413, 'too-long', /at most 2/);
      const big = tx([post('urn:uuid:a', patient({ name: [{ text: 'x'.repeat(5000) }] }))]);
      assertOutcome(await send(big), 413, 'too-long');
      assert.equal(await count('Patient'), 0);
    });
  });

  describe('batch', () => {
    it('entries are independent: failures are answered per entry and never undo the others', async () => {
      await t.http.put('/fhir/Patient/a').set('Content-Type', FHIR_JSON).send(patient({ id: 'a' }));
      const res = await send(tx([
        post('urn:uuid:1', patient({ gender: 'male' })),
        post('urn:uuid:2', patient({ gender: 'bogus' })),
        { request: { method: 'GET', url: 'Patient/nope' } },
        { resource: patient({ id: 'a' }) as Patient, request: { method: 'PUT', url: 'Patient/a', ifMatch: 'W/"9"' } },
        post('urn:uuid:3', obs('urn:uuid:1')),
        { request: { method: 'GET', url: 'Patient/a' } },
        { resource: patient() as Patient } as unknown as Entry,
      ], 'batch'));
      assert.equal(res.status, 200);
      const e = res.body.entry as BundleEntry[];
      assert.equal(res.body.type, 'batch-response');
      assert.deepEqual(e.map((x) => x.response?.status?.slice(0, 3)), ['201', '400', '404', '412', '400', '200', '400']);
      assert.equal((e[1].response?.outcome as unknown as { issue: { expression: string[] }[] }).issue[0].expression[0], 'Bundle.entry[1].resource.gender');
      assert.match(JSON.stringify(e[4].response?.outcome), /use a transaction/);
      assert.equal((e[5].resource as Patient).id, 'a');
      assert.equal(await count('Patient'), 2);
      assert.equal(await count('Observation'), 0);
    });

    it('runs searches, history, vread and conditional creates through the same handlers as HTTP', async () => {
      await t.http.put('/fhir/Patient/a').set('Content-Type', FHIR_JSON).send(patient({ id: 'a', identifier: [{ system: ABHA, value: 'A' }] }));
      const res = await send(tx([
        { request: { method: 'GET', url: `Patient?identifier=${ABHA}|A` } },
        { request: { method: 'GET', url: 'Patient/a/_history/1' } },
        { request: { method: 'GET', url: 'Patient/a/_history' } },
        { request: { method: 'GET', url: 'Patient/a', ifNoneMatch: 'W/"1"' } },
        post('urn:uuid:x', patient(), { ifNoneExist: `identifier=${ABHA}|A` }),
      ], 'batch'));
      const e = res.body.entry as BundleEntry[];
      assert.deepEqual(e.map((x) => x.response?.status?.slice(0, 3)), ['200', '200', '200', '304', '200']);
      assert.equal((e[0].resource as Bundle).total ?? (e[0].resource as Bundle).entry?.length, 1);
      assert.equal((e[2].resource as Bundle).type, 'history');
      assert.equal(e[3].resource, undefined);
      assert.equal((e[4].resource as Patient).id, 'a');
    });
  });

  describe('Synthea transaction Bundles (read from ../shared/synthea when present)', () => {
    it('a whole patient record posts as one transaction and is findable by the rewritten references', async function () {
      if (!fs.existsSync(SYNTHEA)) {
        this.skip(); // the shared Synthea data is not in this checkout
      }
      const file = fs.readdirSync(SYNTHEA).filter((f) => f.endsWith('.json')).sort()[0];
      const bundle = JSON.parse(fs.readFileSync(path.join(SYNTHEA, file), 'utf8')) as Bundle;
      t = api({ config: { maxBodyBytes: 64 * 1024 * 1024 } });
      const res = await send(bundle, 'return=minimal');
      assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 2000));
      const entries = res.body.entry as BundleEntry[];
      assert.equal(entries.length, bundle.entry?.length);
      assert.ok(entries.every((e) => e.response?.status?.startsWith('201')));
      const patientId = entries[bundle.entry?.findIndex((e) => e.resource?.resourceType === 'Patient') ?? 0].response?.location?.split('/')[1];
      const observations = bundle.entry?.filter((e) => e.resource?.resourceType === 'Observation').length;
      assert.equal(await count(`Observation?subject=Patient/${patientId}`), observations);
      const raw = JSON.stringify((await t.http.get('/fhir/Encounter?_count=1000')).body);
      assert.ok(!raw.includes('urn:uuid:'), 'no reference is left pointing at a urn:uuid');
    });
  });
});
