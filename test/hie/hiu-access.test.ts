import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import type { Bundle, Composition, Resource } from 'fhir/r4';
import { bearerAccess } from '../../src/auth/access';
import { TokenVerifier } from '../../src/auth/verifier';
import { GatewayStandIn } from '../support/abdm-gateway';
import { fhir, HIP_ID, HIU_ID, startNode, type Node } from '../support/abdm-nodes';
import { AUDIENCE, ISSUER, testIssuer } from '../helpers/tokens';

/**
 * Records an HIU receives are read under the consent they came with (consent.html, our
 * enforcement in consent/decide.ts): the facility the consent names sees what it allows, within its
 * HI types and date range; another facility sees nothing of them.
 */
describe('ABDM HIU: received records are readable only within the consent they came under', function () {
  this.timeout(60_000);
  let gw: GatewayStandIn;
  let hip: Node;
  let hiu: Node;
  let issuer: Awaited<ReturnType<typeof testIssuer>>;
  const tokens: Record<string, string> = {};

  before(async () => {
    issuer = await testIssuer();
    const verifier = new TokenVerifier({ kind: 'file', path: issuer.jwksFile }, { issuer: ISSUER, audience: AUDIENCE, now: () => new Date() });
    await verifier.load();
    gw = new GatewayStandIn();
    await gw.start();
    hip = await startNode(gw, 'hip');
    hiu = await startNode(gw, 'hiu', undefined, { auth: bearerAccess(verifier) });
    tokens.system = await issuer.mint({ scope: 'system/*.cruds' });
    const org = async (hfr: string): Promise<string> => {
      const res = await fhir(hiu, 'POST', '/Organization', { resourceType: 'Organization', name: hfr, identifier: [{ system: 'https://facility.abdm.gov.in', value: hfr }] }, tokens.system);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id as string;
    };
    tokens.clinic = await issuer.mint({ scope: 'user/*.rs', fhirUser: `Organization/${await org(HIU_ID)}` });
    tokens.stranger = await issuer.mint({ scope: 'user/*.rs', fhirUser: `Organization/${await org('IN2710000555')}` });
  });
  after(async () => {
    await hip.deps.hie?.idle();
    await hiu.deps.hie?.idle();
    hip.server.close();
    hiu.server.close();
    await gw.stop();
    issuer.cleanup();
  });

  it('the consented facility reads the received report and its result; another facility reads nothing', async () => {
    const create = async (r: object): Promise<string> => {
      const res = await fhir(hip, 'POST', `/${(r as Resource).resourceType}`, r);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id as string;
    };
    const patient = await create({ resourceType: 'Patient', identifier: [{ system: 'https://healthid.abdm.gov.in/abha-address', value: 'ravi@sbx' }], name: [{ text: 'Ravi Kumar' }] });
    const visit = await create({ resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: `Patient/${patient}` } });
    const result = await create({ resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '718-7' }] }, subject: { reference: `Patient/${patient}` }, effectiveDateTime: '2026-03-02', valueQuantity: { value: 13.2, unit: 'g/dL' } });
    const report = await create({ resourceType: 'DiagnosticReport', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '58410-2' }] }, subject: { reference: `Patient/${patient}` }, effectiveDateTime: '2026-03-02', result: [{ reference: `Observation/${result}` }] });
    const composition: Composition = {
      resourceType: 'Composition', status: 'final', type: { coding: [{ system: 'http://snomed.info/sct', code: '721981007' }] }, subject: { reference: `Patient/${patient}` },
      encounter: { reference: `Encounter/${visit}` }, date: '2026-03-02T10:00:00Z', author: [{ reference: `Patient/${patient}` }], title: 'Lab report',
      section: [{ title: 'Lab report', entry: [{ reference: `DiagnosticReport/${report}` }] }],
    };
    await create(composition);
    const consentId = randomUUID();
    await gw.grant({
      schemaVersion: 'v0.5', consentId, createdAt: '2026-01-10T10:00:00Z', patient: { id: 'ravi@sbx' },
      careContexts: [{ patientReference: patient, careContextReference: visit }],
      purpose: { text: 'Care Management', code: 'CAREMGT' }, hip: { id: HIP_ID }, hiu: { id: HIU_ID }, consentManager: { id: 'sbx' },
      requester: { name: 'Dr. Kavya Iyer' }, hiTypes: ['DiagnosticReport'],
      permission: { accessMode: 'VIEW', dateRange: { from: '2026-01-01T00:00:00Z', to: '2026-06-30T00:00:00Z' }, dataEraseAt: '2026-12-31T00:00:00Z', frequency: { unit: 'HOUR', value: 1, repeats: 0 } },
    });
    await gw.waitFor('/v0.5/consents/hiu/on-notify');
    await hiu.deps.hie?.idle();
    const consent = (await fhir(hiu, 'GET', `/Consent?identifier=urn:ietf:rfc:3986|urn:uuid:${consentId}`, undefined, tokens.system)).body.entry[0].resource;
    assert.equal((await fhir(hiu, 'POST', `/Consent/${consent.id}/$abdm-request-data`, { resourceType: 'Parameters' }, tokens.clinic)).status, 403,
      'starting a transfer is for the facility\'s own systems');
    assert.equal((await fhir(hiu, 'POST', `/Consent/${consent.id}/$abdm-request-data`, { resourceType: 'Parameters' }, tokens.system)).status, 202);
    await gw.waitFor('/v0.5/health-information/notify', (c) => (c.body.notification as { notifier?: { type?: string } })?.notifier?.type === 'HIU');
    await hiu.deps.hie?.idle();

    const seen = async (who: string, type: string): Promise<number> => {
      const res = await fhir(hiu, 'GET', `/${type}`, undefined, tokens[who]);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return ((res.body as Bundle).entry ?? []).length;
    };
    assert.equal(await seen('system', 'Bundle'), 1, 'the document arrived');
    for (const type of ['Composition', 'DiagnosticReport', 'Observation']) {
      assert.equal(await seen('clinic', type), 1, `the consented facility reads the received ${type}`);
      assert.equal(await seen('stranger', type), 0, `another facility reads no ${type}`);
    }
    assert.equal(await seen('clinic', 'Bundle'), 0, 'stored documents themselves stay with unrestricted callers');
  });
});
