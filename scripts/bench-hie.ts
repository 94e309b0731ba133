/**
 * An ABDM transfer of many documents, end to end (run by hand: `npm run bench:hie`): an HIP and
 * an HIU instance of this server in one process on loopback, with the test gateway stand-in
 * between them. The HIP holds `--documents` Compositions (each a DiagnosticReport record with its
 * report and result) over `--contexts` care contexts; the HIU asks for all of them under one
 * consent. Per round it prints the whole transfer (request to the HIU's transfer notification) and,
 * measured apart on the same data, the per-document cost of assembly ($document) and of
 * encryption (per page, as the HIP does it); push and storage at the HIU are the rest. Medians over `--rounds`.
 */
import { randomUUID } from 'node:crypto';
import type { Composition, Resource } from 'fhir/r4';
import { documentSource } from '../src/hie';
import { encryptor, generateKeyMaterial } from '../src/hie/fidelius';
import type { LiveVersion } from '../src/storage/store';
import { GatewayStandIn } from '../test/support/abdm-gateway';
import { fhir, HIP_ID, HIU_ID, startNode, type Node } from '../test/support/abdm-nodes';
import { median } from './lib/bench-util';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const ROUNDS = Number(args.get('rounds') ?? 3);
const DOCUMENTS = Number(args.get('documents') ?? 1000);
const CONTEXTS = Number(args.get('contexts') ?? 50);
const PAGE = Number(args.get('page-size') ?? 7);

async function seed(hip: Node): Promise<{ patient: string; contexts: string[]; compositions: LiveVersion[] }> {
  const store = hip.deps.store;
  return store.transact(async (uow) => {
    const create = (r: Resource) => uow.create(r);
    const patient = (await create({ resourceType: 'Patient', identifier: [{ system: 'https://healthid.abdm.gov.in/abha-address', value: 'bench@sbx' }], name: [{ text: 'Bench Patient' }] } as Resource)).id;
    const doctor = (await create({ resourceType: 'Practitioner', name: [{ text: 'Dr. Bench' }] } as Resource)).id;
    const contexts: string[] = [];
    for (let c = 0; c < CONTEXTS; c++) {
      contexts.push((await create({ resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: `Patient/${patient}` } } as Resource)).id);
    }
    const compositions: LiveVersion[] = [];
    for (let d = 0; d < DOCUMENTS; d++) {
      const obs = await create({ resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '718-7' }] }, subject: { reference: `Patient/${patient}` }, valueQuantity: { value: 10 + (d % 50) / 10, unit: 'g/dL' }, note: [{ text: 'x'.repeat(1500) }] } as Resource);
      const report = await create({ resourceType: 'DiagnosticReport', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '58410-2' }] }, subject: { reference: `Patient/${patient}` }, result: [{ reference: `Observation/${obs.id}` }], conclusion: 'Within normal limits' } as Resource);
      const composition: Composition = {
        resourceType: 'Composition', status: 'final', type: { coding: [{ system: 'http://snomed.info/sct', code: '721981007' }] },
        subject: { reference: `Patient/${patient}` }, encounter: { reference: `Encounter/${contexts[d % CONTEXTS]}` }, date: '2026-03-02T10:00:00Z',
        author: [{ reference: `Practitioner/${doctor}` }], title: `Lab report ${d}`, section: [{ title: 'Results', entry: [{ reference: `DiagnosticReport/${report.id}` }] }],
      };
      compositions.push(await create(composition));
    }
    return { patient, contexts, compositions };
  });
}

async function round(): Promise<{ totalMs: number; assemblyMs: number; encryptMs: number; documents: number }> {
  const gw = new GatewayStandIn();
  await gw.start();
  const hip = await startNode(gw, 'hip', undefined, { pushPageSize: PAGE });
  const hiu = await startNode(gw, 'hiu', undefined, { pushPageSize: PAGE });
  try {
    const data = await seed(hip);
    const consentId = randomUUID();
    await gw.grant({
      schemaVersion: 'v0.5', consentId, createdAt: '2026-01-10T10:00:00Z', patient: { id: 'bench@sbx' },
      careContexts: data.contexts.map((c) => ({ patientReference: data.patient, careContextReference: c })),
      purpose: { text: 'Care Management', code: 'CAREMGT' }, hip: { id: HIP_ID }, hiu: { id: HIU_ID }, consentManager: { id: 'sbx' },
      requester: { name: 'Dr. Bench' }, hiTypes: ['DiagnosticReport'],
      permission: { accessMode: 'VIEW', dateRange: { from: '2026-01-01T00:00:00Z', to: '2026-06-30T00:00:00Z' }, dataEraseAt: '2026-12-31T00:00:00Z', frequency: { unit: 'HOUR', value: 1, repeats: 0 } },
    });
    await gw.waitFor('/v0.5/consents/hiu/on-notify');
    await hiu.deps.hie?.idle();
    const consent = (await fhir(hiu, 'GET', `/Consent?identifier=urn:ietf:rfc:3986|urn:uuid:${consentId}`)).body.entry[0].resource;
    const started = process.hrtime.bigint();
    const asked = await fhir(hiu, 'POST', `/Consent/${consent.id}/$abdm-request-data`, { resourceType: 'Parameters' });
    if (asked.status !== 202) throw new Error(`request refused: ${JSON.stringify(asked.body)}`);
    const done = await gw.waitFor('/v0.5/health-information/notify', (c) => (c.body.notification as { notifier?: { type?: string } })?.notifier?.type === 'HIU', 600_000);
    const totalMs = Number(process.hrtime.bigint() - started) / 1e6;
    const statuses = (done.body.notification as { statusNotification: { sessionStatus: string } }).statusNotification;
    if (statuses.sessionStatus !== 'TRANSFERRED') throw new Error(`transfer ${JSON.stringify(statuses).slice(0, 500)}`);
    const stored = (await fhir(hiu, 'GET', '/Bundle?type=document&_summary=count')).body.total as number;
    if (stored !== DOCUMENTS) throw new Error(`the HIU holds ${stored} documents, not ${DOCUMENTS}`);
    // The parts, apart, on the same data: assembly of every document, then encryption of each.
    const documentOf = documentSource(hip.deps);
    let t = process.hrtime.bigint();
    const texts: string[] = [];
    for (const c of data.compositions) texts.push(await documentOf(c));
    const assemblyMs = Number(process.hrtime.bigint() - t) / 1e6;
    const hiuKeys = generateKeyMaterial();
    t = process.hrtime.bigint();
    // As the HIP does it: fresh key material and one key exchange per page, then AES-GCM per entry.
    for (let i = 0; i < texts.length; i += PAGE) {
      const hipKeys = generateKeyMaterial();
      const seal = encryptor({ senderPrivateKey: hipKeys.privateKey, senderNonce: hipKeys.nonce, requesterPublicKey: hiuKeys.publicKey, requesterNonce: hiuKeys.nonce });
      for (const text of texts.slice(i, i + PAGE)) seal(text);
    }
    const encryptMs = Number(process.hrtime.bigint() - t) / 1e6;
    return { totalMs, assemblyMs, encryptMs, documents: stored };
  } finally {
    await hip.deps.hie?.idle();
    await hiu.deps.hie?.idle();
    hip.server.close();
    hiu.server.close();
    await gw.stop();
  }
}

async function main(): Promise<void> {
  const results = [];
  for (let r = 0; r < ROUNDS; r++) {
    const res = await round();
    results.push(res);
    console.log(`round ${r + 1}: ${res.documents} documents in ${(res.totalMs / 1000).toFixed(2)} s; per document: assembly ${(res.assemblyMs / DOCUMENTS).toFixed(2)} ms, encryption ${(res.encryptMs / DOCUMENTS).toFixed(2)} ms`);
  }
  const total = median(results.map((r) => r.totalMs));
  const assembly = median(results.map((r) => r.assemblyMs)) / DOCUMENTS;
  const encryption = median(results.map((r) => r.encryptMs)) / DOCUMENTS;
  const perDoc = total / DOCUMENTS;
  console.log(`median of ${ROUNDS}: ${DOCUMENTS} documents, ${CONTEXTS} care contexts, pages of ${PAGE}: ${(total / 1000).toFixed(2)} s end to end (${perDoc.toFixed(2)} ms per document)`);
  console.log(`  per document: assembly ${assembly.toFixed(2)} ms, encryption ${encryption.toFixed(2)} ms, push + decryption + validation + storage at the HIU ${(perDoc - assembly - encryption).toFixed(2)} ms (the rest)`);
}

main().then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1); });
