import { strict as assert } from 'node:assert';
import type { CapabilityStatement, Consent } from 'fhir/r4';
import { api, assertOutcome, FHIR_JSON } from '../helpers/api';

/** The shape of an ABDM consent notification (gateway v0.5 HIPConsentNotification / consentDetail). */
const artefact = () => ({
  notification: {
    status: 'GRANTED',
    consentId: 'c3b1a2f0-1111-4a2b-9c3d-000000000001',
    signature: 'c2lnbmF0dXJl',
    consentDetail: {
      schemaVersion: 'v0.5',
      consentId: 'c3b1a2f0-1111-4a2b-9c3d-000000000001',
      createdAt: '2026-11-20T10:00:00+05:30',
      patient: { id: 'asha.devi@abdm' },
      careContexts: [{ patientReference: 'MRN-1', careContextReference: 'OPD-2026-11-20' }],
      purpose: { text: 'Care Management', code: 'CAREMGT' },
      hip: { id: 'IN2710000001', name: 'District Hospital Pune' },
      hiu: { id: 'IN2710000099', name: 'City Clinic' },
      consentManager: { id: 'abdm' },
      requester: { name: 'Dr. Meera Rao', identifier: { type: 'REGNO', value: 'MH1001', system: 'https://www.mciindia.org' } },
      hiTypes: ['DiagnosticReport', 'Prescription'],
      permission: {
        accessMode: 'VIEW',
        dateRange: { from: '2025-01-01T00:00:00+05:30', to: '2026-11-20T00:00:00+05:30' },
        dataEraseAt: '2027-05-20T10:00:00+05:30',
        frequency: { unit: 'HOUR', value: 1, repeats: 0 },
      },
    },
  },
});

describe('operation: Consent/$abdm-artefact (an ABDM consent artefact as a FHIR Consent)', () => {
  let t: ReturnType<typeof api>;
  before(() => { t = api(); });
  after(() => t.close());
  const convert = (body: object) => t.http.post('/fhir/Consent/$abdm-artefact').set('Content-Type', FHIR_JSON).send(body);

  it('maps every field the Consent has a place for, conforms to our profile, and stores nothing', async () => {
    const res = await convert(artefact());
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const c = res.body as Consent;
    assert.equal(c.status, 'active');
    assert.deepEqual(c.identifier?.[0], { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:c3b1a2f0-1111-4a2b-9c3d-000000000001' });
    assert.deepEqual(c.patient?.identifier, { system: 'https://healthid.abdm.gov.in/abha-address', value: 'asha.devi@abdm' });
    assert.equal(c.organization?.[0].identifier?.value, 'IN2710000099');
    assert.equal(c.performer?.[0].display, 'Dr. Meera Rao');
    assert.deepEqual(c.provision?.period, { start: '2026-11-20T10:00:00+05:30', end: '2027-05-20T10:00:00+05:30' });
    assert.deepEqual(c.provision?.dataPeriod, { start: '2025-01-01T00:00:00+05:30', end: '2026-11-20T00:00:00+05:30' });
    assert.equal(c.provision?.purpose?.[0].code, 'CAREMGT');
    assert.deepEqual(c.provision?.class?.map((x) => x.code), ['DiagnosticReport', 'Prescription']);
    assert.equal(c.provision?.actor?.[0].reference.identifier?.value, 'IN2710000001');
    assert.equal((await t.http.get('/fhir/Consent?_summary=count')).body.total, 0);
    const stored = await t.http.post('/fhir/Consent').set('Content-Type', FHIR_JSON).send(c);
    assert.equal(stored.status, 201, 'the converted Consent can be created as it is (its declared profile is enforced)');
  });

  it('REVOKED and EXPIRED artefacts become inactive consents, DENIED rejected', async () => {
    for (const [status, expected] of [['REVOKED', 'inactive'], ['EXPIRED', 'inactive'], ['DENIED', 'rejected']]) {
      const a = artefact();
      a.notification.status = status;
      assert.equal((await convert(a)).body.status, expected, status);
    }
  });

  it('an artefact missing what a consent needs is a 400 naming it; one that breaks the profile is a 422', async () => {
    const noRange = artefact();
    delete (noRange.notification.consentDetail.permission as { dateRange?: unknown }).dateRange;
    assertOutcome(await convert(noRange), 400, 'required', /permission\.dateRange/);
    const badPurpose = artefact();
    badPurpose.notification.consentDetail.purpose.code = 'MARKETING';
    assertOutcome(await convert(badPurpose), 422, 'code-invalid', /abdm-consent-purpose/);
    const badType = artefact();
    badType.notification.consentDetail.hiTypes = ['Everything'];
    assertOutcome(await convert(badType), 422, 'code-invalid', /abdm-hi-types/);
    assertOutcome(await convert({ status: 'MAYBE' }), 400, 'required', /status/);
    assertOutcome(await t.http.post('/fhir/Patient/$abdm-artefact').set('Content-Type', FHIR_JSON).send(artefact()), 404, 'not-found');
  });

  it('the CapabilityStatement names the operation on Consent only', async () => {
    const cs = (await t.http.get('/fhir/metadata')).body as CapabilityStatement;
    const ops = (type: string) => cs.rest?.[0].resource?.find((r) => r.type === type)?.operation?.map((o) => o.name);
    assert.deepEqual(ops('Consent'), ['validate', 'abdm-artefact']);
    assert.deepEqual(ops('Patient'), ['validate']);
  });
});
