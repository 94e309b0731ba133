import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import type { Bundle, Composition, Consent, Provenance, Resource } from 'fhir/r4';
import { GatewayStandIn, type Call } from '../support/abdm-gateway';
import { fhir, HIP_ID, HIU_ID, LossyProxy, startNode, type Node } from '../support/abdm-nodes';

/**
 * The ABDM health-information exchange end to end (FACTS §4): two instances of the server on
 * loopback, one the provider (HIP) and one the user (HIU), and a gateway/consent-manager stand-in
 * between them. The HIU's ABDM endpoints sit behind a proxy that can lose one answer, to show a
 * page pushed again is not stored twice.
 */
const ABHA_ADDRESS = 'asha.devi@sbx';
const SNOMED = 'http://snomed.info/sct';

/** The parts of the gateway's v0.5 payloads the assertions read. */
interface Notify { notification: { notifier: { type: string }; statusNotification: { sessionStatus: string; statusResponses: { careContextReference: string; hiStatus: string }[] } } }
interface OnRequest { hiRequest: { transactionId: string; sessionStatus: string }; error?: { code: string; message: string } }
const notice = (c: Call): Notify => c.body as unknown as Notify;
const onRequestOf = (c: Call): OnRequest => c.body as unknown as OnRequest;

const code = (c: string) => ({ coding: [{ system: SNOMED, code: c }] });

/** The provider's records: see the consent below for which of them may leave. */
async function seedProvider(hip: Node) {
  const create = async (r: Resource): Promise<string> => {
    const res = await fhir(hip, 'POST', `/${r.resourceType}`, r);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id as string;
  };
  const patient = await create({ resourceType: 'Patient', identifier: [{ system: 'https://healthid.abdm.gov.in/abha-address', value: ABHA_ADDRESS }], name: [{ text: 'Asha Devi' }], gender: 'female', birthDate: '1980-02-01', telecom: [{ system: 'phone', use: 'mobile', value: '+91 98765 43210' }] } as Resource);
  const stranger = await create({ resourceType: 'Patient', name: [{ text: 'Someone Else' }] } as Resource);
  const doctor = await create({ resourceType: 'Practitioner', name: [{ text: 'Dr. Meera Rao' }] } as Resource);
  const visit = await create({ resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: `Patient/${patient}` }, period: { start: '2026-03-01' } } as Resource);
  const strangersVisit = await create({ resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: `Patient/${stranger}` } } as Resource);
  const result = await create({ resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '718-7' }] }, subject: { reference: `Patient/${patient}` }, valueQuantity: { value: 13.2, unit: 'g/dL' } } as Resource);
  const report = await create({ resourceType: 'DiagnosticReport', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '58410-2' }] }, subject: { reference: `Patient/${patient}` }, result: [{ reference: `Observation/${result}` }] } as Resource);
  const medicine = await create({ resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: { reference: `Patient/${patient}` }, medicationCodeableConcept: { text: 'Paracetamol 500 mg' } } as Resource);
  const composition = (type: string, date: string, title: string, entry: string): Composition => ({
    resourceType: 'Composition', status: 'final', type: code(type), subject: { reference: `Patient/${patient}` }, encounter: { reference: `Encounter/${visit}` },
    date, author: [{ reference: `Practitioner/${doctor}` }], title, section: [{ title, entry: [{ reference: entry }] }],
  });
  const labReport = await create(composition('721981007', '2026-03-02T10:00:00+05:30', 'Lab report', `DiagnosticReport/${report}`));
  const prescription = await create(composition('440545006', '2026-03-02T11:00:00+05:30', 'Prescription', `MedicationRequest/${medicine}`));
  const oldReport = await create(composition('721981007', '2025-06-01T10:00:00+05:30', 'Older lab report', `DiagnosticReport/${report}`));
  const immunisation = await create(composition('41000179103', '2026-03-02T12:00:00+05:30', 'Immunisation', `Observation/${result}`));
  // A document posted whole: its Encounter copy is a care context of its own, and it is sent as stored.
  const u = (n: number) => `urn:uuid:00000000-0000-4000-8000-00000000000${n}`;
  const posted = await fhir(hip, 'POST', '/Bundle', {
    resourceType: 'Bundle', type: 'document', timestamp: '2026-04-10T09:00:00+05:30', identifier: { system: 'https://hip.example.in/documents', value: 'lab-2026-04-10' },
    entry: [
      { fullUrl: u(1), resource: { resourceType: 'Composition', status: 'final', type: code('721981007'), subject: { reference: u(2) }, encounter: { reference: u(3) }, date: '2026-04-10T09:00:00+05:30', author: [{ reference: u(4) }], title: 'Lab report', section: [{ entry: [{ reference: u(5) }] }] } },
      { fullUrl: u(2), resource: { resourceType: 'Patient', identifier: [{ system: 'https://healthid.abdm.gov.in/abha-address', value: ABHA_ADDRESS }], name: [{ text: 'Asha Devi' }] } },
      { fullUrl: u(3), resource: { resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: u(2) } } },
      { fullUrl: u(4), resource: { resourceType: 'Practitioner', name: [{ text: 'Dr. Meera Rao' }] } },
      { fullUrl: u(5), resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '2339-0' }] }, subject: { reference: u(2) }, valueQuantity: { value: 98, unit: 'mg/dL' } } },
    ],
  });
  assert.equal(posted.status, 201, JSON.stringify(posted.body));
  const copies = await fhir(hip, 'GET', `/Encounter?_source=Bundle/${posted.body.id}`);
  const labVisit = copies.body.entry[0].resource.id as string;
  return { patient, visit, labVisit, strangersVisit, labReport, prescription, oldReport, immunisation, postedBundle: posted.body.id as string };
}

function artefact(seed: Awaited<ReturnType<typeof seedProvider>>, overrides: Record<string, unknown> = {}) {
  return {
    schemaVersion: 'v0.5', consentId: randomUUID(), createdAt: '2026-01-10T10:00:00Z',
    patient: { id: ABHA_ADDRESS },
    careContexts: [
      { patientReference: seed.patient, careContextReference: seed.visit },
      { patientReference: seed.patient, careContextReference: seed.labVisit },
      { patientReference: seed.patient, careContextReference: seed.strangersVisit },
    ],
    purpose: { text: 'Care Management', code: 'CAREMGT' },
    hip: { id: HIP_ID, name: 'District Hospital' }, hiu: { id: HIU_ID, name: 'City Clinic' }, consentManager: { id: 'sbx' },
    requester: { name: 'Dr. Kavya Iyer', identifier: { type: 'REGNO', value: 'KA2001', system: 'https://www.mciindia.org' } },
    hiTypes: ['DiagnosticReport', 'Prescription'],
    permission: { accessMode: 'VIEW', dateRange: { from: '2026-01-01T00:00:00Z', to: '2026-06-30T00:00:00Z' }, dataEraseAt: '2026-12-31T00:00:00Z', frequency: { unit: 'HOUR', value: 1, repeats: 0 } },
    ...overrides,
  };
}

describe('ABDM health-information exchange end to end: HIP and HIU on loopback through a gateway stand-in', function () {
  this.timeout(60_000);
  let gw: GatewayStandIn;
  let hip: Node;
  let hiu: Node;
  let proxy: LossyProxy;
  let seed: Awaited<ReturnType<typeof seedProvider>>;

  before(async () => {
    gw = new GatewayStandIn();
    await gw.start();
    hip = await startNode(gw, 'hip');
    proxy = new LossyProxy(() => hiuDirect);
    let hiuDirect = '';
    hiu = await startNode(gw, 'hiu', proxy);
    hiuDirect = hiu.base;
    seed = await seedProvider(hip);
  });
  after(async () => {
    await hip.deps.hie?.idle();
    await hiu.deps.hie?.idle();
    hip.server.close();
    hiu.server.close();
    await gw.stop();
  });

  const settle = async (): Promise<void> => {
    for (let i = 0; i < 3; i++) {
      await hip.deps.hie?.idle();
      await hiu.deps.hie?.idle();
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const documentsAtHiu = async (): Promise<Bundle[]> => ((await fhir(hiu, 'GET', '/Bundle?type=document&_count=100')).body.entry ?? []).map((e: { resource: Bundle }) => e.resource);
  const requestData = async (consentFhirId: string) => fhir(hiu, 'POST', `/Consent/${consentFhirId}/$abdm-request-data`, { resourceType: 'Parameters' });

  it('grant → request → push → store: the HIU holds exactly the documents the consent allows (HI types × date range × care contexts)', async () => {
    const detail = artefact(seed);
    await gw.grant(detail);
    await settle();
    const atHip = await fhir(hip, 'GET', `/Consent?identifier=urn:ietf:rfc:3986|urn:uuid:${detail.consentId}`);
    assert.equal(atHip.body.entry?.length, 1, 'the HIP keeps its copy of the artefact');
    assert.equal((atHip.body.entry[0].resource as Consent).status, 'active');
    const atHiu = await fhir(hiu, 'GET', `/Consent?identifier=urn:ietf:rfc:3986|urn:uuid:${detail.consentId}`);
    assert.equal(atHiu.body.entry?.length, 1, 'the HIU fetched and stored the artefact');
    const consentAtHiu = atHiu.body.entry[0].resource as Consent & { id: string };

    proxy.loseAnswerToPage = 2; // page 2 is stored, but the HIP never hears so: it pushes it again
    const asked = await requestData(consentAtHiu.id);
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    const done = await gw.waitFor('/v0.5/health-information/notify', (c) => notice(c).notification?.notifier?.type === 'HIP');
    await settle();
    assert.deepEqual(proxy.pagesSeen, [1, 2, 2], 'two pages of two documents, the second pushed twice');

    const docs = await documentsAtHiu();
    const compositions = docs.map((d) => d.entry?.[0]?.resource as Composition);
    assert.deepEqual(compositions.map((c) => c.title).sort(), ['Lab report', 'Lab report', 'Prescription'],
      'the two consented types in range from the visit, and the posted lab document; not the old report, not the immunisation');
    const status = notice(done).notification.statusNotification;
    assert.equal(status.sessionStatus, 'TRANSFERRED');
    const byContext = Object.fromEntries(status.statusResponses.map((s) => [s.careContextReference, s.hiStatus]));
    assert.deepEqual(byContext, { [seed.visit]: 'DELIVERED', [seed.labVisit]: 'DELIVERED', [seed.strangersVisit]: 'ERRORED' });

    const stored = (await fhir(hip, 'GET', `/Bundle/${seed.postedBundle}`)).body as Bundle;
    const received = docs.find((d) => d.identifier?.value === 'lab-2026-04-10') as Bundle;
    const { meta: _a, ...sent } = stored;
    const { meta: _b, ...got } = received;
    assert.deepEqual(got, { ...sent, id: received.id }, 'a stored document arrives as it was stored');
    for (const doc of docs) {
      const verdict = await fhir(hiu, 'POST', '/Bundle/$validate', doc);
      const errors = (verdict.body.issue ?? []).filter((i: { severity: string }) => i.severity === 'error' || i.severity === 'fatal');
      assert.deepEqual(errors, [], `document ${doc.identifier?.value} validates at the HIU`);
    }
    const provenance = (await fhir(hiu, 'GET', `/Provenance?target=Bundle/${received.id}`)).body.entry?.[0]?.resource as Provenance;
    assert.equal(provenance.agent[0].who?.identifier?.value, HIP_ID);
    assert.deepEqual(provenance.policy, [`urn:uuid:${detail.consentId}`]);
    const hiuNotice = await gw.waitFor('/v0.5/health-information/notify', (c) => notice(c).notification?.notifier?.type === 'HIU');
    assert.equal(notice(hiuNotice).notification.statusNotification.sessionStatus, 'TRANSFERRED');

    const disclosures = (await fhir(hip, 'GET', '/AuditEvent?subtype=abdm-disclose')).body.entry ?? [];
    assert.ok(disclosures.length >= 1, 'the HIP audit trail records the disclosure');
  });

  /** Sends a health-information request to the HIP as the gateway would, with our own key material. */
  async function askHipDirectly(consentId: string, dateRange: { from: string; to: string }): Promise<Call> {
    const transactionId = randomUUID();
    const { generateKeyMaterial } = await import('../../src/hie/fidelius');
    const keys = generateKeyMaterial();
    const answer = await gw.callBridge('hip', '/v0.5/health-information/hip/request', {
      requestId: randomUUID(), timestamp: new Date().toISOString(), transactionId,
      hiRequest: {
        consent: { id: consentId }, dateRange, dataPushUrl: `${hiu.base}/abdm/v0.5/health-information/transfer`,
        keyMaterial: { cryptoAlg: 'ECDH', curve: 'Curve25519', dhPublicKey: { expiry: '2030-01-01T00:00:00Z', parameters: 'Curve25519/32byte random key', keyValue: keys.publicKey }, nonce: keys.nonce },
      },
    });
    assert.equal(answer.status, 202, JSON.stringify(answer.body));
    return gw.waitFor('/v0.5/health-information/hip/on-request', (c) => onRequestOf(c).hiRequest?.transactionId === transactionId);
  }

  it('a date range wider than the consented one is refused (ABDM-1063) and nothing is sent', async () => {
    const detail = artefact(seed);
    await gw.grant(detail);
    await settle();
    const before = (await documentsAtHiu()).length;
    const onRequest = await askHipDirectly(detail.consentId, { from: '2025-01-01T00:00:00Z', to: '2026-06-30T00:00:00Z' });
    assert.equal(onRequestOf(onRequest).hiRequest.sessionStatus, 'ERRORED');
    assert.equal(onRequestOf(onRequest).error?.code, 'ABDM-1063');
    await settle();
    assert.equal((await documentsAtHiu()).length, before);
  });

  it('an expired consent is refused (ABDM-1061)', async () => {
    const detail = artefact(seed, { permission: { accessMode: 'VIEW', dateRange: { from: '2026-01-01T00:00:00Z', to: '2026-06-30T00:00:00Z' }, dataEraseAt: '2026-01-12T00:00:00Z', frequency: { unit: 'HOUR', value: 1, repeats: 0 } } });
    await gw.grant(detail);
    await settle();
    const onRequest = await askHipDirectly(detail.consentId, { from: '2026-01-01T00:00:00Z', to: '2026-06-30T00:00:00Z' });
    assert.equal(onRequestOf(onRequest).error?.code, 'ABDM-1061', JSON.stringify(onRequest.body));
  });

  it('a revoked consent is refused (ABDM-1062) at the HIP, and the HIU will not ask under it', async () => {
    const detail = artefact(seed);
    await gw.grant(detail);
    await settle();
    await gw.revoke(detail.consentId);
    await settle();
    const onRequest = await askHipDirectly(detail.consentId, { from: '2026-01-01T00:00:00Z', to: '2026-06-30T00:00:00Z' });
    assert.equal(onRequestOf(onRequest).error?.code, 'ABDM-1062');
    assert.match(onRequestOf(onRequest).error?.message ?? '', /revoked/);
    const atHiu = await fhir(hiu, 'GET', `/Consent?identifier=urn:ietf:rfc:3986|urn:uuid:${detail.consentId}`);
    const consent = atHiu.body.entry[0].resource as Consent & { id: string };
    assert.equal(consent.status, 'inactive');
    const asked = await requestData(consent.id);
    assert.equal(asked.status, 400);
  });

  it('a consent never granted to this HIP is refused (ABDM-1062)', async () => {
    const onRequest = await askHipDirectly(randomUUID(), { from: '2026-01-01T00:00:00Z', to: '2026-06-30T00:00:00Z' });
    assert.equal(onRequestOf(onRequest).error?.code, 'ABDM-1062');
  });

  it('discovery: an ABHA address finds the patient and lists their care contexts (on-discover)', async () => {
    const transactionId = randomUUID();
    const answer = await gw.callBridge('hip', '/v0.5/care-contexts/discover', {
      requestId: randomUUID(), timestamp: new Date().toISOString(), transactionId,
      patient: { id: ABHA_ADDRESS, name: 'Asha Devi', gender: 'F', yearOfBirth: 1980, verifiedIdentifiers: [], unverifiedIdentifiers: [] },
    });
    assert.equal(answer.status, 202);
    const found = await gw.waitFor('/v0.5/care-contexts/on-discover', (c) => c.body.transactionId === transactionId);
    const patient = found.body.patient as { referenceNumber: string; careContexts: { referenceNumber: string }[] };
    assert.equal(patient.referenceNumber, seed.patient);
    assert.ok(patient.careContexts.some((c) => c.referenceNumber === seed.visit));
    assert.ok(!patient.careContexts.some((c) => c.referenceNumber === seed.strangersVisit), 'another patient\'s visit is not listed');
    const nobody = randomUUID();
    await gw.callBridge('hip', '/v0.5/care-contexts/discover', { requestId: randomUUID(), transactionId: nobody, patient: { id: 'nobody@sbx' } });
    const none = await gw.waitFor('/v0.5/care-contexts/on-discover', (c) => c.body.transactionId === nobody);
    assert.ok(none.body.error, 'no match is an error, never a guess');
  });

  it('linking: an OTP sent to the mobile on record links the chosen care contexts; a wrong one does not, and the third miss ends it', async () => {
    const init = async (careContexts: string[]) => {
      const transactionId = randomUUID();
      const answer = await gw.callBridge('hip', '/v0.5/links/link/init', {
        requestId: randomUUID(), timestamp: new Date().toISOString(), transactionId,
        patient: { id: ABHA_ADDRESS, referenceNumber: seed.patient, careContexts: careContexts.map((referenceNumber) => ({ referenceNumber })) },
      });
      assert.equal(answer.status, 202, JSON.stringify(answer.body));
      return (await gw.waitFor('/v0.5/links/link/on-init', (c) => c.body.transactionId === transactionId)).body;
    };
    const confirm = async (linkRefNumber: string, token: string) => {
      const requestId = randomUUID();
      await gw.callBridge('hip', '/v0.5/links/link/confirm', { requestId, timestamp: new Date().toISOString(), confirmation: { linkRefNumber, token } });
      return (await gw.waitFor('/v0.5/links/link/on-confirm', (c) => (c.body.resp as { requestId?: string })?.requestId === requestId)).body;
    };
    const refused = await init([seed.visit, seed.strangersVisit]);
    assert.match((refused.error as { message: string }).message, /not this patient's/);
    const sent = gw.calls.filter((c) => c.path === '/sms').length;
    const onInit = await init([seed.visit]);
    const link = onInit.link as { referenceNumber: string; authenticationType: string; meta: { communicationHint: string } };
    assert.equal(link.authenticationType, 'MEDIATE');
    assert.equal(link.meta.communicationHint, '********3210', 'the number is masked');
    const sms = gw.calls.filter((c) => c.path === '/sms');
    assert.equal(sms.length, sent + 1);
    assert.equal(sms[sms.length - 1].body.to, '+91 98765 43210');
    const otp = /\b(\d{6})\b/.exec(String(sms[sms.length - 1].body.message))?.[1] as string;
    const wrong = otp === '000000' ? '111111' : '000000';
    assert.match(((await confirm(link.referenceNumber, wrong)).error as { message: string }).message, /wrong/);
    const linked = await confirm(link.referenceNumber, otp);
    const patient = linked.patient as { referenceNumber: string; careContexts: { referenceNumber: string }[] };
    assert.equal(patient.referenceNumber, seed.patient);
    assert.deepEqual(patient.careContexts.map((c) => c.referenceNumber), [seed.visit]);
    assert.match(((await confirm(link.referenceNumber, otp)).error as { message: string }).message, /expired or is unknown/, 'an OTP works once');
    const again = (await init([seed.visit])).link as { referenceNumber: string };
    for (let i = 0; i < 3; i++) await confirm(again.referenceNumber, wrong);
    const lastOtp = /\b(\d{6})\b/.exec(String(gw.calls.filter((c) => c.path === '/sms').pop()?.body.message))?.[1] as string;
    assert.match(((await confirm(again.referenceNumber, lastOtp)).error as { message: string }).message, /expired or is unknown/, 'three misses end the link request');
  });

  it('callbacks without the gateway\'s signed token are refused 401, and a push for an unknown transaction 404', async () => {
    const unsigned = await fetch(`${hip.base}/abdm/v0.5/consents/hip/notify`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(unsigned.status, 401);
    const forged = await gw.callBridge('hip', '/v0.5/consents/hip/notify', {}, 'eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.e30.c2ln');
    assert.equal(forged.status, 401);
    const push = await fetch(`${hiu.base}/abdm/v0.5/health-information/transfer`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ pageNumber: 1, pageCount: 1, transactionId: randomUUID(), entries: [], keyMaterial: { dhPublicKey: { keyValue: 'x' }, nonce: 'y' } }),
    });
    assert.equal(push.status, 404);
    const bad = await gw.callBridge('hip', '/v0.5/health-information/hip/request', { requestId: 'not-a-uuid' });
    assert.equal(bad.status, 400);
    assert.equal((bad.body as { resourceType?: string }).resourceType, 'OperationOutcome');
  });
});
