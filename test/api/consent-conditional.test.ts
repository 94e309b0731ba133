import { strict as assert } from 'node:assert';
import type { AuditEvent, Bundle, BundleEntry, FhirResource, Observation, OperationOutcome } from 'fhir/r4';
import type request from 'supertest';
import { bearerAccess } from '../../src/auth/access';
import { TokenVerifier } from '../../src/auth/verifier';
import { api, assertOutcome, FHIR_JSON, patient } from '../helpers/api';
import { AUDIENCE, ISSUER, testIssuer } from '../helpers/tokens';

/**
 * Conditional create by a caller restricted by consent (README, Consent and audit: "Conditional
 * interactions"): a national identity is matched over the whole store, a match the caller may
 * not see is named but never shown, and nothing is created twice.
 */
const ABHA = 'https://healthid.abdm.gov.in';
const NUMBER = '91-1111-2222-3333';
const BY_ABHA = `identifier=${ABHA}|${NUMBER}`;
const MRN = 'urn:hospital-a:mrn';

/** Facility A's patient: a name and birth date facility B may not learn. */
const registered = () => patient({
  name: [{ family: 'Venkataraman', given: ['Lakshmi'] }], birthDate: '1961-02-03',
  identifier: [{ system: MRN, value: 'MRN-77' }, { system: ABHA, value: NUMBER }],
});

/** What facility B sends: its own copy of the same person. */
const facilityCopy = () => patient({ name: [{ family: 'V', given: ['L'] }], identifier: [{ system: ABHA, value: NUMBER }] });

const observation = (subject: string): Observation => ({
  resourceType: 'Observation', status: 'final', code: { text: 'Hb' }, subject: { reference: subject }, effectiveDateTime: '2026-03-14',
});

/** A DiagnosticReportRecord-shaped document about the patient with `NUMBER`. */
function labDocument(value = 'doc-1', hb = 13.2): Bundle {
  const u = (n: number) => `urn:uuid:00000000-0000-4000-8000-00000000000${n}`;
  return {
    resourceType: 'Bundle', type: 'document', timestamp: '2026-03-14T10:00:00+05:30',
    identifier: { system: 'http://hip-a.example.in/documents', value },
    entry: ([
      { fullUrl: u(1), resource: { resourceType: 'Composition', status: 'final', type: { coding: [{ system: 'http://snomed.info/sct', code: '721981007' }] }, subject: { reference: u(2) }, date: '2026-03-14T10:00:00+05:30', author: [{ reference: u(2) }], title: 'Diagnostic Report', section: [{ entry: [{ reference: u(3) }] }] } },
      { fullUrl: u(2), resource: registered() as FhirResource },
      { fullUrl: u(3), resource: { ...observation(u(2)), valueQuantity: { value: hb, unit: 'g/dL' } } },
    ] satisfies { fullUrl: string; resource: FhirResource }[]) as BundleEntry[],
  };
}

/** Nothing of the record's content in a response: not its name, birth date or other identifiers. */
function assertNothingShown(res: request.Response): void {
  const text = JSON.stringify(res.body ?? '') + (res.text ?? '');
  for (const secret of ['Venkataraman', 'Lakshmi', '1961-02-03', 'MRN-77', '13.2']) assert.ok(!text.includes(secret), `the response shows '${secret}': ${text}`);
  assert.equal(res.headers.etag, undefined, 'no ETag: the version is the record\'s, not the caller\'s to know');
  assert.equal(res.headers['last-modified'], undefined);
}

describe('Consent: conditional create by a restricted caller never duplicates a record it cannot see (http.html#ccreate)', () => {
  let issuer: Awaited<ReturnType<typeof testIssuer>>;
  let t: ReturnType<typeof api>;
  const tokens: Record<string, string> = {};
  const as = (who: string) => ({ Authorization: `Bearer ${tokens[who]}` });

  before(async () => {
    issuer = await testIssuer();
    tokens.system = await issuer.mint({ scope: 'system/*.cruds' });
    tokens.hipA = await issuer.mint({ scope: 'user/*.cruds', fhirUser: 'Organization/hip-a' });
    tokens.hipB = await issuer.mint({ scope: 'user/*.cruds', fhirUser: 'Organization/hip-b' });
    tokens.doctor = await issuer.mint({ scope: 'user/*.cruds', fhirUser: 'Practitioner/dr-b' });
  });
  after(() => issuer.cleanup());
  beforeEach(async () => {
    const verifier = new TokenVerifier({ kind: 'file', path: issuer.jwksFile }, { issuer: ISSUER, audience: AUDIENCE, now: () => new Date() });
    await verifier.load();
    t = api({ auth: bearerAccess(verifier), config: { audit: true } });
  });
  afterEach(() => t.close());

  const post = (who: string, body: object, ifNoneExist?: string, prefer?: string) => {
    const req = t.http.post(`/fhir/${(body as { resourceType: string }).resourceType}`).set(as(who)).set('Content-Type', FHIR_JSON);
    if (ifNoneExist !== undefined) req.set('If-None-Exist', ifNoneExist);
    if (prefer !== undefined) req.set('Prefer', prefer);
    return req.send(body);
  };
  const transaction = (who: string, entry: BundleEntry[]) => t.http.post('/fhir').set(as(who)).set('Content-Type', FHIR_JSON)
    .send({ resourceType: 'Bundle', type: 'transaction', entry });
  /** Counted by an unrestricted caller, who sees every copy. */
  const count = async (query: string): Promise<number> => {
    const res = await t.http.get(`/fhir/${query}${query.includes('?') ? '&' : '?'}_summary=count`).set(as('system'));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return (res.body as Bundle).total ?? -1;
  };
  const registeredByA = async (): Promise<string> => {
    const res = await post('hipA', registered());
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assertOutcome(await t.http.get(`/fhir/Patient/${res.body.id}`).set(as('hipB')), 404, 'not-found');
    return res.body.id as string;
  };

  it('http.html#ccreate one match: 200 naming the existing Patient (Location), no body of it, an informational OperationOutcome; nothing created', async () => {
    const id = await registeredByA();
    const res = await post('hipB', facilityCopy(), BY_ABHA);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.match(res.headers.location, new RegExp(`/fhir/Patient/${id}$`));
    const outcome = res.body as OperationOutcome;
    assert.equal(outcome.resourceType, 'OperationOutcome');
    // First what happened; then only what the caller's own body drew (here the ABHA number's check digit).
    assert.deepEqual([outcome.issue[0].severity, outcome.issue[0].code], ['information', 'informational']);
    assert.deepEqual(outcome.issue.slice(1).map((i) => i.expression), [['Patient.identifier[0].value']]);
    assert.match(outcome.issue[0].diagnostics ?? '', new RegExp(`Patient/${id} already has this identifier`));
    assertNothingShown(res);
    assert.equal(await count(`Patient?${BY_ABHA}`), 1);
    assert.equal(await count('Patient'), 1);
  });

  it('http.html#ccreate: repeated calls are stable (the same id, never a 412), whatever Prefer asks', async () => {
    const id = await registeredByA();
    for (const prefer of [undefined, 'return=representation', 'return=minimal', 'return=OperationOutcome']) {
      const res = await post('hipB', facilityCopy(), `Patient?${BY_ABHA}`, prefer);
      assert.equal(res.status, 200, `${prefer}: ${JSON.stringify(res.body)}`);
      assert.match(res.headers.location, new RegExp(`/fhir/Patient/${id}$`), String(prefer));
      assertNothingShown(res);
      if (prefer === 'return=minimal') assert.equal(res.text, '');
      else assert.equal(res.body.resourceType, 'OperationOutcome', String(prefer));
    }
    // A practitioner restricted the same way gets the same answer.
    assert.match((await post('doctor', facilityCopy(), BY_ABHA)).headers.location, new RegExp(`/Patient/${id}$`));
    assert.equal(await count(`Patient?${BY_ABHA}`), 1);
  });

  it('a match the caller may see is answered as before: 200 with the resource (its own record)', async () => {
    const id = await registeredByA();
    const res = await post('hipA', facilityCopy(), BY_ABHA);
    assert.equal(res.status, 200);
    assert.equal(res.body.id, id);
    assert.equal(res.body.name[0].family, 'Venkataraman');
    assert.equal(res.headers.etag, 'W/"1"');
  });

  it('http.html#ccreate multiple matches: 412 for the restricted caller too, and still nothing created', async () => {
    await registeredByA();
    assert.equal((await post('system', registered())).status, 201); // a duplicate made by an unrestricted caller
    assertOutcome(await post('hipB', facilityCopy(), BY_ABHA), 412, 'duplicate', /more than one Patient/);
    assert.equal(await count(`Patient?${BY_ABHA}`), 2);
  });

  it('no match anywhere: 201, and the caller\'s own retries then match its own record', async () => {
    const first = await post('hipB', facilityCopy(), BY_ABHA);
    assert.equal(first.status, 201);
    const again = await post('hipB', facilityCopy(), BY_ABHA);
    assert.deepEqual([again.status, again.body.id], [200, first.body.id]);
    // Facility A now finds the record B made, by the same national identity, without seeing it.
    const fromA = await post('hipA', registered(), BY_ABHA);
    assert.equal(fromA.status, 200);
    assert.match(fromA.headers.location, new RegExp(`/Patient/${first.body.id}$`));
    assert.equal(await count('Patient'), 1);
  });

  it('criteria that are not a national identity match only what the caller sees: they cannot probe for hidden records (search.html, http.html#ccreate)', async () => {
    await registeredByA();
    const unnamed = () => patient({ name: [{ family: 'V', given: ['L'] }] });
    for (const criteria of ['family=Venkataraman', `identifier=${MRN}|MRN-77`, `${BY_ABHA}&birthdate=1961-02-03`, `identifier=${NUMBER}`]) {
      const res = await post('hipB', unnamed(), criteria);
      assert.equal(res.status, 201, `${criteria}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.name[0].family, 'V', 'the answer is the caller\'s own new record, nothing of the hidden one');
      // The caller's own record is in its view: the same criteria again find it.
      const again = await post('hipB', unnamed(), `_id=${res.body.id}`);
      assert.equal(again.status, 200);
    }
  });

  it('bundle.html#transaction: an entry\'s request.ifNoneExist names the existing Patient in response.location, shows nothing, and other entries point at it', async () => {
    const id = await registeredByA();
    const entries: BundleEntry[] = [
      { fullUrl: 'urn:uuid:p', resource: facilityCopy() as FhirResource, request: { method: 'POST', url: 'Patient', ifNoneExist: BY_ABHA } },
      { fullUrl: 'urn:uuid:o', resource: observation('urn:uuid:p'), request: { method: 'POST', url: 'Observation' } },
    ];
    for (let round = 0; round < 2; round++) {
      const res = await transaction('hipB', entries);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const [p, o] = (res.body as Bundle).entry ?? [];
      assert.equal(p.response?.status, '200 OK');
      assert.equal(p.response?.location, `Patient/${id}`);
      assert.equal(p.resource, undefined);
      assert.equal(p.response?.etag, undefined);
      assert.equal((p.response?.outcome as OperationOutcome | undefined)?.issue[0].code, 'informational');
      assertNothingShown(res);
      assert.equal(o.response?.status, '201 Created');
      const stored = await t.http.get(`/fhir/${o.response?.location?.split('/_history')[0]}`).set(as('hipB'));
      assert.equal(stored.status, 200, 'the caller reads what it wrote');
      assert.equal(stored.body.subject.reference, `Patient/${id}`);
    }
    assert.equal(await count(`Patient?${BY_ABHA}`), 1);
    assert.equal(await count(`Observation?subject=Patient/${id}`), 2);
  });

  it('a conditional reference by national identity resolves to the Patient the caller cannot see (transaction and batch)', async () => {
    const id = await registeredByA();
    const tx = await transaction('hipB', [{ fullUrl: 'urn:uuid:o', resource: observation(`Patient?${BY_ABHA}`), request: { method: 'POST', url: 'Observation' } }]);
    assert.equal(tx.status, 200, JSON.stringify(tx.body));
    const batch = await t.http.post('/fhir').set(as('hipB')).set('Content-Type', FHIR_JSON).send({
      resourceType: 'Bundle', type: 'batch', entry: [{ resource: observation(`Patient?${BY_ABHA}`), request: { method: 'POST', url: 'Observation' } }],
    });
    assert.equal(batch.body.entry[0].response.status.slice(0, 3), '201', JSON.stringify(batch.body));
    assert.equal(await count(`Observation?subject=Patient/${id}`), 2);
    // Other criteria still resolve within the caller's view only.
    const byName = await transaction('hipB', [{ resource: observation('Patient?family=Venkataraman'), request: { method: 'POST', url: 'Observation' } }]);
    assertOutcome(byName, 412, 'not-found', /matches no Patient/);
  });

  it('conditional update on a national identity the caller cannot see is refused (403), never a second Patient (http.html#cond-update)', async () => {
    const id = await registeredByA();
    const res = await t.http.put(`/fhir/Patient?${BY_ABHA}`).set(as('hipB')).set('Content-Type', FHIR_JSON).send(facilityCopy());
    assertOutcome(res, 403, 'forbidden', /Not allowed to change/);
    assert.equal(await count(`Patient?${BY_ABHA}`), 1);
    assert.equal((await t.http.get(`/fhir/Patient/${id}`).set(as('system'))).body.name[0].family, 'Venkataraman');
  });

  it('the audit trail records that the caller was told of the record it cannot see', async () => {
    const id = await registeredByA();
    await post('hipB', facilityCopy(), BY_ABHA);
    const events = (await t.deps.store.history({ type: 'AuditEvent', count: 100 })).versions.map((v) => v.resource as AuditEvent);
    const told = events.find((e) => e.agent[0].who?.reference === 'Organization/hip-b' && e.subtype?.[0].code === 'create');
    assert.ok(told, 'an AuditEvent for facility B\'s conditional create');
    assert.ok((told.entity ?? []).some((x) => x.what?.reference === `Patient/${id}`), JSON.stringify(told.entity));
  });

  describe('a document posted again (bundle.html#document, documents.html: Bundle.identifier is the document\'s identity)', () => {
    const postDoc = (who: string, doc: Bundle) => t.http.post('/fhir/Bundle').set(as(who)).set('Content-Type', FHIR_JSON).send(doc);

    it('the same document from a caller that cannot see the stored one: 200 naming it, nothing shown, no copy of it or its entries', async () => {
      const first = await postDoc('hipA', labDocument());
      assert.equal(first.status, 201, JSON.stringify(first.body));
      for (let round = 0; round < 2; round++) {
        const again = await postDoc('hipB', labDocument());
        assert.equal(again.status, 200, JSON.stringify(again.body));
        assert.match(again.headers.location, new RegExp(`/fhir/Bundle/${first.body.id}$`));
        assert.equal(again.body.resourceType, 'OperationOutcome');
        assertNothingShown(again);
      }
      const tx = await transaction('hipB', [{ resource: labDocument(), request: { method: 'POST', url: 'Bundle' } }]);
      assert.equal(tx.body.entry[0].response.status, '200 OK', JSON.stringify(tx.body));
      assert.equal(tx.body.entry[0].response.location, `Bundle/${first.body.id}`);
      assertNothingShown(tx);
      assert.equal(await count('Bundle'), 1);
      assert.equal(await count('Observation'), 1);
      assert.equal(await count('Patient'), 1);
    });

    it('other content under that identifier is a 409 that names neither the stored document nor anything in it', async () => {
      const first = await postDoc('hipA', labDocument());
      const other = await postDoc('hipB', labDocument('doc-1', 9.9));
      assertOutcome(other, 409, 'conflict', /identifier http:\/\/hip-a\.example\.in\/documents\|doc-1 is already used by another document/);
      assert.ok(!JSON.stringify(other.body).includes(first.body.id as string), JSON.stringify(other.body));
      assert.equal(await count('Bundle'), 1);
      assert.equal(await count('Observation'), 1);
    });

    it('a new document about a patient the caller cannot see links its Patient entry to the existing one by ABHA number', async () => {
      const id = await registeredByA();
      const doc = await postDoc('hipB', labDocument('doc-b-1'));
      assert.equal(doc.status, 201, JSON.stringify(doc.body));
      assert.equal(await count('Patient'), 1);
      assert.equal(await count(`Observation?subject=Patient/${id}`), 1);
    });
  });
});
