import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, BundleEntry, DiagnosticReport, FhirResource } from 'fhir/r4';
import { api, assertOutcome, FHIR_JSON, patient } from '../helpers/api';

const ABHA = 'https://healthid.abdm.gov.in';
const LOINC = 'http://loinc.org';
const IG_EXAMPLES = path.resolve(__dirname, '../../../../shared/abdm-ig/examples/ndhm.in-6.5.0');

/** A DiagnosticReportRecord-shaped document: Composition first, everything it points at inside. */
function labDocument(abha = '91-1111-2222-3333'): Bundle {
  const u = (n: number) => `urn:uuid:00000000-0000-4000-8000-00000000000${n}`;
  return {
    resourceType: 'Bundle', type: 'document', timestamp: '2026-03-14T10:00:00+05:30',
    identifier: { system: 'http://hip.example.in', value: 'doc-1' },
    entry: ([
      { fullUrl: u(1), resource: { resourceType: 'Composition', status: 'final', type: { coding: [{ system: 'http://snomed.info/sct', code: '721981007' }] }, subject: { reference: u(2) }, date: '2026-03-14T10:00:00+05:30', author: [{ reference: u(3) }], title: 'Diagnostic Report', section: [{ entry: [{ reference: u(4) }] }] } },
      { fullUrl: u(2), resource: patient({ identifier: [{ system: ABHA, value: abha }] }) as FhirResource },
      { fullUrl: u(3), resource: { resourceType: 'Practitioner', identifier: [{ system: 'https://doctor.abdm.gov.in', value: '71-2665-5777-1234' }], name: [{ text: 'Dr. Meera Rao' }] } },
      { fullUrl: u(4), resource: { resourceType: 'DiagnosticReport', status: 'final', code: { coding: [{ system: LOINC, code: '58410-2' }] }, subject: { reference: u(2) }, result: [{ reference: u(5) }], resultsInterpreter: [{ reference: u(3) }] } },
      { fullUrl: u(5), resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: LOINC, code: '718-7' }] }, subject: { reference: u(2) }, valueQuantity: { value: 13.2, unit: 'g/dL' } } },
    ] satisfies { fullUrl: string; resource: FhirResource }[]) as BundleEntry[],
  };
}

describe('REST: FHIR documents (bundle.html#document, documents.html)', () => {
  let t: ReturnType<typeof api>;
  beforeEach(() => { t = api(); });
  afterEach(() => t.close());

  const postDoc = (doc: object, ifNoneExist?: string) => {
    const req = t.http.post('/fhir/Bundle').set('Content-Type', FHIR_JSON);
    if (ifNoneExist) req.set('If-None-Exist', ifNoneExist);
    return req.send(doc);
  };
  const entries = async (query: string): Promise<BundleEntry[]> => (await t.http.get(`/fhir/${query}`)).body.entry ?? [];

  it('is stored exactly as sent, and its entries become findable, linked back by meta.source', async () => {
    const doc = labDocument();
    const res = await postDoc(doc);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const stored = (await t.http.get(`/fhir/Bundle/${res.body.id}`)).body as Bundle;
    assert.deepEqual(stored.entry, doc.entry, 'the document is never rewritten');
    const patients = await entries(`Patient?identifier=${ABHA}|91-1111-2222-3333`);
    assert.equal(patients.length, 1);
    const reports = await entries(`DiagnosticReport?patient=${patients[0].resource?.id}`);
    assert.equal(reports.length, 1);
    const report = reports[0].resource as DiagnosticReport;
    // Relative to the server, whatever Host the document came by (search.html#all, _source).
    assert.equal(report.meta?.source, `Bundle/${res.body.id}`);
    const observation = await t.http.get(`/fhir/${report.result?.[0].reference}`);
    assert.equal(observation.status, 200);
    assert.equal(observation.body.subject.reference, `Patient/${patients[0].resource?.id}`);
    const fromDoc = await entries(`Observation?_source=${encodeURIComponent(report.meta?.source ?? '')}`);
    assert.equal(fromDoc.length, 1);
  });

  it('a patient already known by ABHA number is linked to, not copied again', async () => {
    const known = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ identifier: [{ system: ABHA, value: '91-1111-2222-3333' }] }));
    assert.equal((await postDoc(labDocument())).status, 201);
    const second = labDocument();
    second.identifier = { system: 'http://hip.example.in', value: 'doc-2' };
    assert.equal((await postDoc(second)).status, 201);
    assert.equal((await entries('Patient')).length, 1);
    assert.equal((await entries(`DiagnosticReport?patient=${known.body.id}`)).length, 2);
  });

  it('a retried document with If-None-Exist on its identifier is not stored twice', async () => {
    const first = await postDoc(labDocument(), 'identifier=http://hip.example.in|doc-1');
    const again = await postDoc(labDocument(), 'identifier=http://hip.example.in|doc-1');
    assert.equal(first.status, 201);
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
    assert.equal((await entries('DiagnosticReport')).length, 1);
  });

  it('document rules: Composition first, identifier, timestamp, every reference inside; nothing stored on failure', async () => {
    const noComposition = labDocument();
    noComposition.entry?.shift();
    const o1 = assertOutcome(await postDoc(noComposition), 400, 'invariant', /bdl-11: A document must have a Composition as the first resource/);
    assert.deepEqual(o1.issue[0].expression, ['Bundle']);
    const bare = labDocument();
    delete bare.identifier;
    delete bare.timestamp;
    // R4's own invariants say it first (bdl-9, bdl-10), on every write and in $validate alike.
    const o2 = assertOutcome(await postDoc(bare), 400, 'invariant', /bdl-9/);
    assert.deepEqual(o2.issue.map((i) => i.diagnostics?.slice(0, 6)), ['bdl-9:', 'bdl-10']);
    const dangling = labDocument();
    (dangling.entry?.[3].resource as DiagnosticReport).performer = [{ reference: 'Organization/elsewhere' }];
    const o3 = assertOutcome(await postDoc(dangling), 400, 'invalid', /does not resolve inside the document/);
    assert.deepEqual(o3.issue[0].expression, ['Bundle.entry[3].resource.performer[0].reference']);
    assert.equal((await entries('Bundle')).length, 0);
    assert.equal((await entries('Patient')).length, 0);
  });

  it('a stored document cannot be changed by PUT or PATCH; a document cannot enter by PUT', async () => {
    const id = (await postDoc(labDocument())).body.id;
    const changed = { ...labDocument(), id, timestamp: '2026-03-15T10:00:00+05:30' };
    assertOutcome(await t.http.put(`/fhir/Bundle/${id}`).set('Content-Type', FHIR_JSON).send(changed), 405, 'not-supported');
    assertOutcome(await t.http.put(`/fhir/Bundle/${id}`).set('Content-Type', FHIR_JSON).send({ resourceType: 'Bundle', id, type: 'collection' }), 409, 'conflict', /cannot be changed/);
    assertOutcome(await t.http.patch(`/fhir/Bundle/${id}`).set('Content-Type', 'application/json-patch+json')
      .send([{ op: 'replace', path: '/timestamp', value: '2026-03-15T10:00:00+05:30' }]), 409, 'conflict');
    assert.equal((await t.http.get(`/fhir/Bundle/${id}`)).body.meta.versionId, '1');
  });

  it('a document inside a transaction is checked and stored the same way, never rewritten', async () => {
    const doc = labDocument();
    const res = await t.http.post('/fhir').set('Content-Type', FHIR_JSON).send({
      resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: 'urn:uuid:doc', resource: doc, request: { method: 'POST', url: 'Bundle' } }],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const stored = (await t.http.get(`/fhir/${res.body.entry[0].response.location.split('/_history')[0]}`)).body as Bundle;
    assert.deepEqual(stored.entry, doc.entry);
    assert.equal((await entries('DiagnosticReport')).length, 1);
  });

  it('each entry is checked against the profiles it declares, with the document in scope (422 naming the entry)', async () => {
    const NRCES_PATIENT = 'https://nrces.in/ndhm/fhir/r4/StructureDefinition/Patient';
    const withProfile = (text?: string): Bundle => {
      const doc = labDocument();
      const p = (doc.entry as BundleEntry[])[1].resource as FhirResource & { meta?: object; name?: object[]; identifier?: object[] };
      p.meta = { profile: [NRCES_PATIENT] };
      p.identifier = [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR', display: 'Medical record number' }] }, system: ABHA, value: '91-1111-2222-3333' }];
      p.name = text ? [{ text }] : [{ family: 'Sharma' }];
      return doc;
    };
    const refused = await postDoc(withProfile());
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.ok((refused.body as { issue: { expression?: string[] }[] }).issue.some((i) => (i.expression ?? []).some((e) => e.startsWith('Bundle.entry[1].resource.name'))), JSON.stringify(refused.body));
    const accepted = await postDoc(withProfile('Asha Sharma'));
    assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
  });

  describe('official NRCeS examples (read from ../shared/abdm-ig when present)', () => {
    it('with the official IG loaded, every example document Bundle is accepted and its entries become findable, except the one whose entry breaks its declared profile', async function () {
      if (!fs.existsSync(IG_EXAMPLES)) {
        this.skip(); // the shared IG examples are not in this checkout
      }
      const files = fs.readdirSync(IG_EXAMPLES).filter((f) => f.startsWith('Bundle-')).sort();
      assert.ok(files.length > 0);
      // The documents declare the DocumentBundle profile, so the IG they come from is loaded.
      await t.close();
      t = api({ config: { igDirs: [path.join(IG_EXAMPLES, '../../profiles/ndhm.in-6.5.0'), path.join(IG_EXAMPLES, '../../terminology/ndhm.in-6.5.0')] } });
      // Each entry is checked against the profiles it declares. OPConsultNote-05 is wrong in the IG
      // itself: it codes its follow-up section 736271009 where the FollowUp slice fixes 390906007.
      // (The WellnessRecord's observations declare profiles the IG never defines: under the default
      // UNKNOWN_PROFILES=warning that is a warning, and the document is accepted.)
      const refused: Record<string, RegExp> = {
        'Bundle-OPConsultNote-example-05.json': /Bundle\.entry\[0\]\.resource\.section\[7\]/,
      };
      // Four of the IG's examples (HealthDocumentRecord-01, ImmunizationRecord-07, OPConsultNote-05,
      // WellnessRecord-01) share one Bundle.identifier although they are different documents. A
      // document is identified by it (bundle.html#document), so the server answers the second one
      // with 409; each example after the first gets an identifier of its own here.
      const identifiers = new Set<string>();
      for (const file of files) {
        const doc = JSON.parse(fs.readFileSync(path.join(IG_EXAMPLES, file), 'utf8')) as Bundle;
        if (doc.type !== 'document') continue;
        const identity = `${doc.identifier?.system}|${doc.identifier?.value}`;
        if (identifiers.has(identity) && doc.identifier) doc.identifier.value = `${doc.identifier.value}-${file}`;
        identifiers.add(identity);
        const res = await postDoc(doc);
        if (refused[file]) {
          assert.equal(res.status, 422, `${file}: ${JSON.stringify(res.body).slice(0, 1500)}`);
          assert.ok((res.body as { issue: { diagnostics?: string; expression?: string[] }[] }).issue
            .some((i) => refused[file].test(`${i.diagnostics ?? ''} ${(i.expression ?? []).join(' ')}`)), `${file}: ${JSON.stringify(res.body).slice(0, 1500)}`);
          continue;
        }
        assert.equal(res.status, 201, `${file}: ${JSON.stringify(res.body).slice(0, 1500)}`);
        const compositions = await entries(`Composition?_source=${encodeURIComponent(`Bundle/${res.body.id}`)}`);
        assert.equal(compositions.length, 1, file);
      }
    });
  });
});
