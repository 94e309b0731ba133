import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { AuditEvent, Bundle, OperationOutcome } from 'fhir/r4';
import { bearerAccess } from '../../src/auth/access';
import { TokenVerifier } from '../../src/auth/verifier';
import { BREAK_GLASS_URL, REQUEST_ID_URL } from '../../src/audit/event';
import { api, assertOutcome, FHIR_JSON, patient } from '../helpers/api';
import { TestClock } from '../helpers/clock';
import { AUDIENCE, ISSUER, testIssuer } from '../helpers/tokens';

const events = async (t: ReturnType<typeof api>): Promise<AuditEvent[]> => {
  const page = await t.deps.store.history({ type: 'AuditEvent', count: 1000 });
  return page.versions.map((v) => v.resource as AuditEvent).reverse();
};
const whats = (e: AuditEvent): string[] => (e.entity ?? []).map((x) => x.what?.reference ?? '');

describe('audit: an AuditEvent for every interaction (R4 AuditEvent; http.html)', () => {
  let t: ReturnType<typeof api>;
  beforeEach(() => { t = api({ config: { audit: true } }); });
  afterEach(() => t.close());

  it('a create is recorded with its write, naming the record, its version and its patient', async () => {
    const res = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('X-Request-Id', 'req-create-1').send(patient());
    assert.equal(res.status, 201);
    const [e] = await events(t);
    assert.equal(e.action, 'C');
    assert.equal(e.outcome, '0');
    assert.equal(e.subtype?.[0].code, 'create');
    assert.deepEqual(whats(e), [`Patient/${res.body.id}/_history/1`, `Patient/${res.body.id}`]);
    assert.equal(e.extension?.find((x) => x.url === REQUEST_ID_URL)?.valueString, 'req-create-1');
    assert.equal(e.agent[0].network?.address !== undefined, true);
    assert.equal(e.purposeOfEvent?.[0].coding?.[0].code, 'CAREMGT');
  });

  it('reads, searches and failures are recorded too, each once', async () => {
    const p = (await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient())).body as { id: string };
    await t.http.post('/fhir/Observation').set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Observation', status: 'final', code: { text: 'Hb' }, subject: { reference: `Patient/${p.id}` } });
    assert.equal((await t.http.get(`/fhir/Patient/${p.id}`)).status, 200);
    assert.equal((await t.http.get('/fhir/Observation?_include=Observation:subject')).status, 200);
    assert.equal((await t.http.get('/fhir/Patient/nope')).status, 404);
    const all = await events(t);
    assert.deepEqual(all.map((e) => `${e.action} ${e.subtype?.[0].code} ${e.outcome}`), [
      'C create 0', 'C create 0', 'R read 0', 'E search-type 0', 'R read 4',
    ]);
    assert.deepEqual(whats(all[2]), [`Patient/${p.id}/_history/1`, `Patient/${p.id}`]);
    // The search names both the match and the included patient.
    assert.equal(whats(all[3]).filter((w) => /_history/.test(w)).length, 2);
  });

  it('a failed transaction leaves no data and no write record, only the failure', async () => {
    const res = await t.http.post('/fhir').set('Content-Type', FHIR_JSON).send({
      resourceType: 'Bundle', type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:a', resource: patient(), request: { method: 'POST', url: 'Patient' } },
        { resource: patient({ id: 'x' }), request: { method: 'PUT', url: 'Patient/x' }, },
        { request: { method: 'DELETE', url: 'Patient/x' }, },
      ],
    });
    assert.equal(res.status >= 400, true);
    assert.equal((await t.deps.store.search({ types: ['Patient'], where: [], sort: [], count: 10, offset: 0, total: 'accurate' })).total, 0);
    const all = await events(t);
    assert.equal(all.length, 1);
    assert.equal(all[0].outcome, '4');
    assert.equal(all[0].entity, undefined);
  });

  it('AuditEvents are append-only: no client creates, changes or deletes one, alone or in a bundle', async () => {
    await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
    const [e] = await events(t);
    assertOutcome(await t.http.post('/fhir/AuditEvent').set('Content-Type', FHIR_JSON).send({ ...e, id: undefined }), 403, 'forbidden', /written by the server only/);
    assertOutcome(await t.http.put(`/fhir/AuditEvent/${e.id}`).set('Content-Type', FHIR_JSON).send(e), 403, 'forbidden');
    assertOutcome(await t.http.delete(`/fhir/AuditEvent/${e.id}`), 403, 'forbidden');
    const tx = await t.http.post('/fhir').set('Content-Type', FHIR_JSON).send({
      resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: `AuditEvent/${e.id}` } }],
    });
    assertOutcome(tx, 403, 'forbidden');
    assert.equal((await t.deps.store.read('AuditEvent', e.id as string))?.versionId, 1);
  });

  it('$verify-chain finds a whole trail whole', async () => {
    for (let i = 0; i < 5; i++) await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
    const res = await t.http.get('/fhir/AuditEvent/$verify-chain');
    assert.equal(res.status, 200);
    const outcome = res.body as OperationOutcome;
    assert.deepEqual(outcome.issue.map((i) => i.severity), ['information']);
    assert.match(outcome.issue[0].diagnostics ?? '', /^5 AuditEvents in 1 chains checked; 0 problems/);
  });
});

describe('audit: tampering is detected and the tampered event named', () => {
  let dir: string;
  let t: ReturnType<typeof api>;
  before(function () {
    // These tests edit the SQLite file underneath the server; the verifier itself is store-neutral.
    if (process.env.TEST_STORE === 'mongodb') {
      console.log('      (skipped on MongoDB: the tampering is done in the SQLite file)');
      this.skip();
    }
  });
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-'));
    t = api({ config: { audit: true, dataDir: dir } });
    for (let i = 0; i < 6; i++) await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
  });
  afterEach(async () => {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const verify = async () => ((await t.http.get('/fhir/AuditEvent/$verify-chain')).body as OperationOutcome).issue.filter((i) => i.severity === 'error').map((i) => i.diagnostics);
  const raw = () => {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.db') || f.endsWith('.sqlite'));
    return new Database(path.join(dir, files[0]));
  };

  it('an event whose stored content was edited in the database', async () => {
    const ids = (await events(t)).map((e) => e.id as string);
    const db = raw();
    const row = db.prepare(`SELECT v.vid, v.content FROM resource_version v JOIN resource r ON r.current_vid = v.vid WHERE r.type = 'AuditEvent' AND r.id = ?`).get(ids[2]) as { vid: number; content: string };
    const edited = JSON.parse(row.content) as AuditEvent;
    edited.agent[0].who = { reference: 'Practitioner/someone-else' };
    db.prepare('UPDATE resource_version SET content = ? WHERE vid = ?').run(JSON.stringify(edited), row.vid);
    db.close();
    assert.deepEqual(await verify(), [`AuditEvent/${ids[2]}: its content does not match its hash`]);
  });

  it('an event edited with its hash recomputed breaks the next event\'s link', async () => {
    const { linkEvent, readLink } = await import('../../src/audit/chain');
    const ids = (await events(t)).map((e) => e.id as string);
    const db = raw();
    const row = db.prepare(`SELECT v.vid, v.content FROM resource_version v JOIN resource r ON r.current_vid = v.vid WHERE r.type = 'AuditEvent' AND r.id = ?`).get(ids[1]) as { vid: number; content: string };
    const event = JSON.parse(row.content) as AuditEvent;
    const link = readLink(event);
    assert.ok(link);
    const { CHAIN_URL } = await import('../../src/audit/chain');
    const stripped = { ...event, outcome: '8' as const, extension: event.extension?.filter((x) => x.url !== CHAIN_URL) };
    const forged = linkEvent(stripped, link.chain, link.sequence, link.previous).event;
    db.prepare('UPDATE resource_version SET content = ? WHERE vid = ?').run(JSON.stringify({ ...forged, id: event.id, meta: event.meta }), row.vid);
    db.close();
    assert.deepEqual(await verify(), [`AuditEvent/${ids[2]}: does not link to AuditEvent/${ids[1]}, the event before it`]);
  });

  it('an event removed from the middle of the chain', async () => {
    const ids = (await events(t)).map((e) => e.id as string);
    const db = raw();
    const pk = (db.prepare(`SELECT pk FROM resource WHERE type = 'AuditEvent' AND id = ?`).get(ids[3]) as { pk: number }).pk;
    db.prepare('DELETE FROM resource_version WHERE pk = ?').run(pk);
    db.prepare('DELETE FROM resource WHERE pk = ?').run(pk);
    db.close();
    assert.deepEqual(await verify(), [`AuditEvent/${ids[4]}: sequence 5 follows 3: events are missing before it`]);
  });

  it('the newest events removed (a cut leaves the chain whole): named against the signed checkpoint', async () => {
    const { readLink } = await import('../../src/audit/chain');
    const { checkpointNow } = await import('../../src/main');
    const all = await events(t);
    const signed = checkpointNow(t.deps);
    assert.ok(signed && signed.sequence >= all.length, 'a checkpoint of the head was written');
    assert.deepEqual(await verify(), [], 'whole before the cut');
    // Cut the two newest events, as someone with the database file and no key could.
    const db = raw();
    const rows = db.prepare(`SELECT r.pk, v.content FROM resource r JOIN resource_version v ON v.vid = r.current_vid WHERE r.type = 'AuditEvent'`).all() as { pk: number; content: string }[];
    const bySequence = rows.map((r) => ({ pk: r.pk, sequence: readLink(JSON.parse(r.content) as AuditEvent)?.sequence ?? 0 })).sort((a, b) => b.sequence - a.sequence);
    const newest = bySequence[0].sequence;
    for (const r of bySequence.filter((x) => x.sequence > newest - 2)) {
      db.prepare('DELETE FROM resource_version WHERE pk = ?').run(r.pk);
      db.prepare('DELETE FROM resource WHERE pk = ?').run(r.pk);
    }
    db.close();
    const { verifyTrail } = await import('../../src/audit/verify');
    const report = await verifyTrail(t.deps.store, t.deps.auditCheckpoints?.read().heads);
    assert.equal(report.problems.length, 1, JSON.stringify(report.problems));
    assert.match(report.problems[0].problem, new RegExp(`^events ${newest - 1} to ${signed.sequence} are gone: the checkpoint of .* signed ${signed.sequence} events, the trail ends at ${newest - 2}$`));
    assert.equal(report.problems[0].id.startsWith('chain '), true);
    assert.ok((await verify()).some((p) => /are gone: the checkpoint/.test(p ?? '')), '$verify-chain names the cut too');
  });

  it('a checkpoint line that this server did not sign is named', async () => {
    const { checkpointNow } = await import('../../src/main');
    checkpointNow(t.deps);
    const file = path.join(dir, 'audit-checkpoints.jsonl');
    const [line] = fs.readFileSync(file, 'utf8').trim().split('\n');
    const token = (JSON.parse(line) as { checkpoint: string }).checkpoint;
    const [h, payload] = token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')), sequence: 1 })).toString('base64url');
    fs.appendFileSync(file, `${JSON.stringify({ checkpoint: `${h}.${forgedPayload}.${token.split('.')[2]}` })}\n`);
    assert.deepEqual(await verify(), ['audit-checkpoints.jsonl line 2 is not a checkpoint this server signed']);
  });

  it('an event changed through the store (a new version) is named as changed', async () => {
    const [first] = await events(t);
    await t.deps.store.transact((uow) => uow.update({ ...first, id: first.id as string, outcome: '8' } as AuditEvent & { id: string }));
    const problems = await verify();
    assert.ok(problems.includes(`AuditEvent/${first.id}: changed after it was written (now version 2)`), problems.join('\n'));
  });
});

describe('audit and consent together: who looked at my data', () => {
  let issuer: Awaited<ReturnType<typeof testIssuer>>;
  let t: ReturnType<typeof api>;
  const clock = new TestClock();
  const tokens: Record<string, string> = {};
  const as = (who: string) => ({ Authorization: `Bearer ${tokens[who]}` });

  before(async () => {
    issuer = await testIssuer();
    tokens.system = await issuer.mint({ scope: 'system/*.cruds' });
    tokens.asha = await issuer.mint({ scope: 'patient/*.rs', fhirUser: 'Patient/asha', patient: 'asha' });
    tokens.ravi = await issuer.mint({ scope: 'patient/*.rs', fhirUser: 'Patient/ravi', patient: 'ravi' });
    tokens.doctor = await issuer.mint({ scope: 'user/*.rs', fhirUser: 'Practitioner/dr-mehta' });
    tokens.nurse = await issuer.mint({ scope: 'user/*.rs', fhirUser: 'Practitioner/nurse-1' });
  });
  after(() => issuer.cleanup());
  beforeEach(async () => {
    const verifier = new TokenVerifier({ kind: 'file', path: issuer.jwksFile }, { issuer: ISSUER, audience: AUDIENCE, now: () => new Date() });
    await verifier.load();
    clock.ms = Date.UTC(2026, 0, 15, 10, 0, 0);
    t = api({ auth: bearerAccess(verifier), clock, config: { audit: true, breakTheGlass: true } });
    const put = (r: Record<string, unknown>) => t.http.put(`/fhir/${String(r.resourceType)}/${String(r.id)}`).set(as('system')).set('Content-Type', FHIR_JSON).send(r);
    await put(patient({ id: 'asha' }));
    await put(patient({ id: 'ravi' }));
    await put({ resourceType: 'Practitioner', id: 'dr-mehta', identifier: [{ system: 'https://doctor.ndhm.gov.in', value: '71-2665-5777-1234' }] });
    await put({ resourceType: 'Observation', id: 'hb', status: 'final', code: { text: 'Hb' }, subject: { reference: 'Patient/asha' }, effectiveDateTime: '2025-03-01' });
    await put({
      resourceType: 'Consent', id: 'consent-1', status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: { reference: 'Patient/asha' },
      performer: [{ identifier: { system: 'https://doctor.ndhm.gov.in', value: '71-2665-5777-1234' } }],
      policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
      provision: {
        type: 'permit', period: { start: '2026-01-01T00:00:00Z', end: '2026-02-01T00:00:00Z' },
        dataPeriod: { start: '2025-01-01', end: '2025-12-31' },
        purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'CAREMGT' }],
        class: [{ system: 'https://abdm-fhir-gateway.github.io/fhir/CodeSystem/abdm-hi-types', code: 'DiagnosticReport' }],
      },
    });
  });
  afterEach(() => t.close());

  it('the doctor reads through the consent; the patient finds that read, naming doctor and consent; nobody else does', async () => {
    assert.equal((await t.http.get('/fhir/Observation/hb').set(as('doctor'))).status, 200);
    assert.equal((await t.http.get('/fhir/Observation/hb').set(as('nurse'))).status, 404);
    const mine = (await t.http.get('/fhir/AuditEvent?_count=1000').set(as('asha'))).body as Bundle;
    const reads = (mine.entry ?? []).map((e) => e.resource as AuditEvent).filter((e) => e.agent[0].who?.reference === 'Practitioner/dr-mehta');
    assert.equal(reads.length, 1);
    assert.deepEqual(whats(reads[0]), ['Observation/hb/_history/1', 'Patient/asha', 'Consent/consent-1']);
    const ravis = (await t.http.get('/fhir/AuditEvent?_count=1000').set(as('ravi'))).body as Bundle;
    assert.equal((ravis.entry ?? []).some((e) => whats(e.resource as AuditEvent).includes('Observation/hb/_history/1')), false);
    assertOutcome(await t.http.get('/fhir/AuditEvent/$verify-chain').set(as('asha')), 403, 'forbidden');
  });

  it('revoking or expiring a consent takes effect on the very next request', async () => {
    assert.equal((await t.http.get('/fhir/Observation/hb').set(as('doctor'))).status, 200);
    const consent = (await t.http.get('/fhir/Consent/consent-1').set(as('system'))).body as Record<string, unknown>;
    const revoked = await t.http.put('/fhir/Consent/consent-1').set(as('system')).set('Content-Type', FHIR_JSON).send({ ...consent, status: 'inactive' });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.equal((await t.http.get('/fhir/Observation/hb').set(as('doctor'))).status, 404);
    await t.http.put('/fhir/Consent/consent-1').set(as('system')).set('Content-Type', FHIR_JSON).send({ ...consent, status: 'active' });
    assert.equal((await t.http.get('/fhir/Observation/hb').set(as('doctor'))).status, 200);
    clock.ms = Date.UTC(2026, 1, 1, 0, 0, 1); // past the consent's period (its end is inclusive, to the second: datatypes.html#Period)
    assert.equal((await t.http.get('/fhir/Observation/hb').set(as('doctor'))).status, 404);
  });

  it('a purpose the consent does not grant sees nothing; an unknown purpose is a 400', async () => {
    assert.equal((await t.http.get('/fhir/Observation/hb').set(as('doctor')).set('X-Purpose-Of-Use', 'HPAYMT')).status, 404);
    assertOutcome(await t.http.get('/fhir/Observation/hb').set(as('doctor')).set('X-Purpose-Of-Use', 'MARKETING'), 400, 'invalid', /X-Purpose-Of-Use/);
  });

  it('break-the-glass needs a practitioner, a reason and the deployment\'s consent, and is flagged', async () => {
    const btg = (who: string, reason?: string) => {
      const r = t.http.get('/fhir/Patient/ravi').set(as(who)).set('X-Purpose-Of-Use', 'BTG');
      return reason ? r.set('X-Break-Glass-Reason', reason) : r;
    };
    assertOutcome(await btg('nurse'), 403, 'forbidden', /stated reason/);
    const patientTries = await btg('asha', 'curious');
    assertOutcome(patientTries, 403, 'forbidden', /Only a practitioner/);
    assert.equal((await btg('nurse', 'unconscious patient in emergency')).status, 200);
    const flagged = (await events(t)).filter((e) => e.purposeOfEvent?.[0].coding?.[0].code === 'BTG' && e.outcome === '0');
    assert.equal(flagged.length, 1);
    assert.equal(flagged[0].extension?.find((x) => x.url === BREAK_GLASS_URL)?.valueString, 'unconscious patient in emergency');
    assert.equal(flagged[0].agent[0].who?.reference, 'Practitioner/nurse-1');
    await t.close();
    t = api({ auth: t.deps.auth, clock, config: { audit: true, breakTheGlass: false } });
    assertOutcome(await btg('nurse', 'unconscious patient in emergency'), 403, 'forbidden', /not enabled/);
    assert.equal((await t.deps.store.read('Patient', 'ravi')), undefined, 'refused whether or not the record exists');
  });

  it('a practitioner reads and corrects what they wrote without a consent; the writer tag cannot be forged', async () => {
    const WRITER = 'https://abdm-fhir-gateway.github.io/fhir/CodeSystem/record-writer';
    const nurseWrites = await issuer.mint({ scope: 'user/*.cruds', fhirUser: 'Practitioner/nurse-1' });
    const as2 = { Authorization: `Bearer ${nurseWrites}` };
    const forged = { resourceType: 'Observation', status: 'final', code: { text: 'BP' }, subject: { reference: 'Patient/asha' },
      meta: { tag: [{ system: WRITER, code: 'Practitioner/dr-mehta' }, { system: 'urn:x', code: 'keep' }] } };
    const created = await t.http.post('/fhir/Observation').set(as2).set('Content-Type', FHIR_JSON).send(forged);
    assert.equal(created.status, 201);
    assert.deepEqual(created.body.meta.tag, [{ system: 'urn:x', code: 'keep' }, { system: WRITER, code: 'Practitioner/nurse-1' }]);
    const id = created.body.id as string;
    assert.equal((await t.http.get(`/fhir/Observation/${id}`).set(as2)).status, 200);
    const updated = await t.http.put(`/fhir/Observation/${id}`).set(as2).set('Content-Type', FHIR_JSON).send({ ...created.body, status: 'amended' });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    const search = (await t.http.get('/fhir/Observation?_total=accurate').set(as2)).body as Bundle;
    assert.deepEqual([search.total, search.entry?.map((e) => e.resource?.id)], [1, [id]], 'the nurse sees what she wrote, not the consented report');
    // The doctor named in the forged tag does not get the record through it (it is undated, so no consent range holds it).
    assert.equal((await t.http.get(`/fhir/Observation/${id}`).set(as('doctor'))).status, 404);
  });

  it('a patient writes into their own compartment only', async () => {
    const write = await issuer.mint({ scope: 'patient/*.cruds', fhirUser: 'Patient/asha', patient: 'asha' });
    const obs = (subject: string) => ({ resourceType: 'Observation', status: 'final', code: { text: 'BP' }, subject: { reference: `Patient/${subject}` } });
    assert.equal((await t.http.post('/fhir/Observation').set('Authorization', `Bearer ${write}`).set('Content-Type', FHIR_JSON).send(obs('asha'))).status, 201);
    assertOutcome(await t.http.post('/fhir/Observation').set('Authorization', `Bearer ${write}`).set('Content-Type', FHIR_JSON).send(obs('ravi')), 403, 'forbidden', /own compartment/);
  });
});
