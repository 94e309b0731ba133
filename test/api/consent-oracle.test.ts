import { strict as assert } from 'node:assert';
import type { Bundle, Resource } from 'fhir/r4';
import { bearerAccess } from '../../src/auth/access';
import { TokenVerifier } from '../../src/auth/verifier';
import { api, FHIR_JSON } from '../helpers/api';
import { random } from '../helpers/random';
import { AUDIENCE, ISSUER, testIssuer } from '../helpers/tokens';

/**
 * A randomised check of consent enforcement on every read path, against an oracle written here
 * from the rules (consent.html; ABDM consent artefact) over the generated data's own facts —
 * not from the server's index rows, its decision code or its query restriction. Any leak (a
 * record shown or counted that the oracle hides) or wrongful denial (the reverse) fails.
 */

const SEED = Number(process.env.CONSENT_ORACLE_SEED ?? 20261129);
const rnd = random(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
const chance = (p: number): boolean => rnd() < p;

// ---- the oracle's own statement of the rules ----
/**
 * What each HI type covers, written here from the record profiles (not read from the server's
 * derived table): section entries, a required encounter, and the parts a record carries (see
 * README, "What a health-information type covers"). `docs`: the Composition types covered (for
 * DiagnosticReport, two of the codes its ValueSet lists).
 */
const REPORT_PARTS = ['DiagnosticReport', 'Observation', 'Specimen', 'ImagingStudy', 'Media', 'CarePlan', 'ImmunizationRecommendation', 'MedicationRequest', 'NutritionOrder', 'ServiceRequest'];
const COVERS: Record<string, { types: string[]; docs: string[] }> = {
  OPConsultation: {
    types: ['AllergyIntolerance', 'Appointment', 'Condition', 'DocumentReference', 'Encounter', 'FamilyMemberHistory', 'MedicationRequest', 'MedicationStatement', 'Observation', 'Procedure', 'ServiceRequest'],
    docs: ['371530004'],
  },
  Prescription: { types: ['MedicationRequest', 'Condition', 'Observation'], docs: ['440545006'] },
  DischargeSummary: {
    types: [...REPORT_PARTS, 'AllergyIntolerance', 'Condition', 'DocumentReference', 'Encounter', 'FamilyMemberHistory', 'Procedure',
      'Appointment', 'CommunicationRequest', 'DeviceRequest', 'RequestGroup', 'VisionPrescription'],
    docs: ['373942005'],
  },
  DiagnosticReport: { types: [...REPORT_PARTS, 'DocumentReference'], docs: ['721981007', '371528001'] },
  ImmunizationRecord: { types: ['Immunization', 'ImmunizationRecommendation', 'DocumentReference'], docs: ['41000179103'] },
  HealthDocumentRecord: { types: ['DocumentReference'], docs: ['419891008'] },
  WellnessRecord: { types: ['Observation', 'Condition', 'DocumentReference'], docs: [] },
};
const HI_TYPES = Object.keys(COVERS);
/** Document types: one per HI type, a second diagnostic report type, and one no HI type covers. */
const DOC_CODES = ['371530004', '440545006', '373942005', '721981007', '371528001', '41000179103', '419891008', '371531000'];
const CLINICAL = ['Observation', 'DiagnosticReport', 'MedicationRequest', 'Encounter', 'Condition', 'Immunization', 'Composition', 'DocumentReference', 'Specimen'];
const NOW = Date.UTC(2026, 0, 15, 10, 0, 0); // the test clock

interface Rec { type: string; id: string; patient?: string; day?: string; endDay?: string; doc?: string; code?: string; consentPatient?: string }
interface ConsentModel {
  id: string; status: string; patient: string; byIdentifier: boolean; grantee: string; granteeBy: 'consentor' | 'organization' | 'identifier';
  purpose: string; hiTypes: string[]; from: string; to: string; validFrom: number; validTo: number;
}
interface Who { name: string; kind: 'patient' | 'practitioner' | 'organization' | 'system'; ref?: string; token?: string }

const day = (offsetDays: number): string => new Date(Date.UTC(2024, 0, 1) + offsetDays * 86_400_000).toISOString().slice(0, 10);

function visible(who: Who, r: Rec, consents: ConsentModel[], purpose: string): boolean {
  if (who.kind === 'system') return true;
  if (r.type === 'Practitioner' || r.type === 'Organization') return true;
  if (r.type === 'Bundle') return false;
  if (r.type === 'Consent') {
    if (who.kind === 'patient') return r.consentPatient === who.ref;
    return consents.some((c) => c.id === r.id && c.grantee === who.ref && c.status === 'active');
  }
  if (who.kind === 'patient') return `Patient/${r.patient}` === who.ref;
  return consents.some((c) => c.grantee === who.ref && c.status === 'active' && c.purpose === purpose
    && c.validFrom <= NOW && NOW < c.validTo && c.patient === r.patient && covered(c, r));
}

function covered(c: ConsentModel, r: Rec): boolean {
  if (r.type === 'Patient') return true;
  const ok = r.type === 'Composition'
    ? c.hiTypes.some((h) => COVERS[h].docs.includes(r.doc ?? ''))
    : c.hiTypes.some((h) => COVERS[h].types.includes(r.type));
  if (!ok || r.day === undefined) return false;
  return r.day <= c.to && (r.endDay ?? r.day) >= c.from;
}

// ---- generation ----
function resourceOf(r: Rec, family: string): Resource {
  return resourceJson(r, family) as unknown as Resource;
}

function resourceJson(r: Rec, family: string): Record<string, unknown> {
  const subject = { reference: `Patient/${r.patient}` };
  const code = { coding: [{ system: 'http://loinc.org', code: r.code ?? '718-7' }] };
  switch (r.type) {
    case 'Patient': return { resourceType: 'Patient', id: r.id, name: [{ family }], identifier: [{ system: 'https://healthid.abdm.gov.in/abha-address', value: `${r.id}@sbx` }] };
    case 'Observation': return { resourceType: 'Observation', id: r.id, status: 'final', code, subject, ...(r.day ? { effectiveDateTime: r.day } : {}) };
    case 'DiagnosticReport': return { resourceType: 'DiagnosticReport', id: r.id, status: 'final', code, subject, ...(r.day ? { effectiveDateTime: r.day } : {}) };
    case 'MedicationRequest': return { resourceType: 'MedicationRequest', id: r.id, status: 'active', intent: 'order', medicationCodeableConcept: { text: 'Paracetamol' }, subject, ...(r.day ? { authoredOn: r.day } : {}) };
    case 'Encounter': return { resourceType: 'Encounter', id: r.id, status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject, ...(r.day ? { period: { start: r.day, end: r.endDay } } : {}) };
    case 'Condition': return { resourceType: 'Condition', id: r.id, code, subject, ...(r.day ? { recordedDate: r.day } : {}) };
    case 'Immunization': return { resourceType: 'Immunization', id: r.id, status: 'completed', vaccineCode: { text: 'BCG' }, patient: subject, occurrenceDateTime: r.day as string };
    case 'Composition': return {
      resourceType: 'Composition', id: r.id, status: 'final', type: { coding: [{ system: 'http://snomed.info/sct', code: r.doc }] },
      subject, date: r.day as string, author: [{ reference: 'Practitioner/dr-0' }], title: 'Record',
    };
    case 'DocumentReference': return { resourceType: 'DocumentReference', id: r.id, status: 'current', subject, content: [{ attachment: { contentType: 'application/pdf', title: 'report' } }], ...(r.day ? { date: `${r.day}T10:00:00Z` } : {}) };
    case 'Specimen': return { resourceType: 'Specimen', id: r.id, subject, ...(r.day ? { collection: { collectedDateTime: r.day } } : {}) };
    default: throw new Error(r.type);
  }
}

function consentResource(c: ConsentModel): Resource {
  return consentJson(c) as unknown as Resource;
}

function consentJson(c: ConsentModel): Record<string, unknown> {
  const grantee = c.granteeBy === 'identifier'
    ? { performer: [{ identifier: { system: 'https://doctor.ndhm.gov.in', value: `hpr-${c.grantee.split('/')[1]}` } }] }
    : c.granteeBy === 'consentor' ? { performer: [{ reference: c.grantee }] } : { organization: [{ reference: c.grantee }] };
  return {
    resourceType: 'Consent', id: c.id, status: c.status as 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: c.byIdentifier ? { identifier: { system: 'https://healthid.abdm.gov.in/abha-address', value: `${c.patient}@sbx` } } : { reference: `Patient/${c.patient}` },
    ...grantee,
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      period: { start: new Date(c.validFrom).toISOString(), end: new Date(c.validTo).toISOString() },
      dataPeriod: { start: c.from, end: c.to },
      purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: c.purpose }],
      class: c.hiTypes.map((code) => ({ system: 'https://abdm-fhir-gateway.github.io/fhir/CodeSystem/abdm-hi-types', code })),
    },
  };
}

describe(`consent enforcement: randomised, against an independent oracle (seed ${SEED})`, function () {
  this.timeout(300_000);
  let issuer: Awaited<ReturnType<typeof testIssuer>>;
  let t: ReturnType<typeof api>;
  const records: Rec[] = [];
  const consents: ConsentModel[] = [];
  const principals: Who[] = [];
  const families = new Map<string, string>();
  let requests = 0;

  before(async () => {
    issuer = await testIssuer();
    const verifier = new TokenVerifier({ kind: 'file', path: issuer.jwksFile }, { issuer: ISSUER, audience: AUDIENCE, now: () => new Date() });
    await verifier.load();
    t = api({ auth: bearerAccess(verifier) });
    const patients = Array.from({ length: 10 }, (_, i) => `pt-${i}`);
    const doctors = Array.from({ length: 5 }, (_, i) => `dr-${i}`);
    const orgs = Array.from({ length: 3 }, (_, i) => `org-${i}`);
    let n = 0;
    for (const p of patients) {
      families.set(p, `Family${p.slice(3)}`);
      records.push({ type: 'Patient', id: p, patient: p });
      for (let k = 0; k < 14; k++) {
        const type = pick(CLINICAL);
        const start = Math.floor(rnd() * 900);
        const dated = type === 'Composition' || type === 'Immunization' || chance(0.9);
        records.push({
          type, id: `r-${++n}`, patient: p,
          day: dated ? day(start) : undefined,
          endDay: type === 'Encounter' && dated ? day(start + Math.floor(rnd() * 20)) : undefined,
          doc: type === 'Composition' ? pick(DOC_CODES) : undefined,
          code: pick(['718-7', '4548-4', '2339-0']),
        });
      }
    }
    for (const d of doctors) records.push({ type: 'Practitioner', id: d });
    for (const o of orgs) records.push({ type: 'Organization', id: o });
    const granteeOptions = [...doctors.map((d) => `Practitioner/${d}`), ...orgs.map((o) => `Organization/${o}`)];
    for (let i = 0; i < 40; i++) {
      const grantee = pick(granteeOptions);
      const isDoctor = grantee.startsWith('Practitioner/');
      const from = Math.floor(rnd() * 700);
      const validFrom = NOW + (chance(0.15) ? 86_400_000 : -86_400_000 * Math.floor(1 + rnd() * 30));
      const c: ConsentModel = {
        id: `c-${i}`, status: pick(['active', 'active', 'active', 'inactive', 'rejected', 'proposed']), patient: pick(patients), byIdentifier: chance(0.3),
        grantee, granteeBy: isDoctor ? (chance(0.4) ? 'identifier' : 'consentor') : 'organization',
        purpose: pick(['CAREMGT', 'CAREMGT', 'PUBHLTH', 'HPAYMT']), hiTypes: HI_TYPES.filter(() => chance(0.35)),
        from: day(from), to: day(from + Math.floor(rnd() * 400)),
        validFrom, validTo: chance(0.15) ? NOW - 1000 : NOW + 86_400_000 * 30,
      };
      if (c.hiTypes.length === 0) c.hiTypes.push(pick(HI_TYPES));
      consents.push(c);
      records.push({ type: 'Consent', id: c.id, consentPatient: c.byIdentifier ? undefined : `Patient/${c.patient}` });
    }
    const system = await issuer.mint({ scope: 'system/*.cruds' });
    const entries = records.filter((r) => r.type !== 'Consent' && r.type !== 'Practitioner' && r.type !== 'Organization').map((r) => resourceOf(r, families.get(r.patient as string) ?? ''));
    entries.push(...doctors.map((d) => ({ resourceType: 'Practitioner', id: d, identifier: [{ system: 'https://doctor.ndhm.gov.in', value: `hpr-${d}` }] }) as Resource));
    entries.push(...orgs.map((o) => ({ resourceType: 'Organization', id: o, name: o }) as Resource));
    entries.push(...consents.map(consentResource));
    const tx = await t.http.post('/fhir').set('Authorization', `Bearer ${system}`).set('Content-Type', FHIR_JSON).send({
      resourceType: 'Bundle', type: 'transaction',
      entry: entries.map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } })),
    });
    assert.equal(tx.status, 200, JSON.stringify(tx.body).slice(0, 2000));
    const document = { resourceType: 'Bundle', id: 'doc-1', type: 'collection', entry: [{ resource: resourceOf(records[1], '') }] };
    assert.equal((await t.http.put('/fhir/Bundle/doc-1').set('Authorization', `Bearer ${system}`).set('Content-Type', FHIR_JSON).send(document)).status, 201);
    records.push({ type: 'Bundle', id: 'doc-1' });

    principals.push({ name: 'system', kind: 'system', token: system });
    for (const p of patients.slice(0, 4)) {
      principals.push({ name: `patient ${p}`, kind: 'patient', ref: `Patient/${p}`, token: await issuer.mint({ scope: 'patient/*.rs', fhirUser: `Patient/${p}`, patient: p }) });
    }
    for (const d of doctors) principals.push({ name: `doctor ${d}`, kind: 'practitioner', ref: `Practitioner/${d}`, token: await issuer.mint({ scope: 'user/*.rs', fhirUser: `Practitioner/${d}` }) });
    for (const o of orgs) principals.push({ name: `facility ${o}`, kind: 'organization', ref: `Organization/${o}`, token: await issuer.mint({ scope: 'user/*.rs', fhirUser: `Organization/${o}` }) });
  });
  after(async () => {
    issuer.cleanup();
    await t.close();
  });

  const PURPOSE_HEADERS: (string | undefined)[] = [undefined, 'CAREMGT', 'PUBHLTH', 'HPAYMT'];
  async function get(who: Who, url: string, purpose?: string) {
    requests++;
    const req = t.http.get(url).set('Authorization', `Bearer ${who.token}`);
    if (purpose) req.set('X-Purpose-Of-Use', purpose);
    return req;
  }
  const ids = (b: Bundle, mode = 'match'): string[] => (b.entry ?? []).filter((e) => e.search?.mode === mode || (mode === 'match' && !e.search)).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`).sort();
  const expected = (who: Who, purpose: string, filter: (r: Rec) => boolean): string[] =>
    records.filter((r) => filter(r) && visible(who, r, consents, purpose)).map((r) => `${r.type}/${r.id}`).sort();
  const ctx = (who: Who, what: string, purpose: string) => `${who.name} (${purpose}): ${what}`;

  it('read and vread: 200 exactly when the oracle allows, 404 otherwise', async () => {
    for (const who of principals) {
      for (const r of records) {
        const asked = pick(PURPOSE_HEADERS);
        const purpose = asked ?? 'CAREMGT';
        const allowed = visible(who, r, consents, purpose);
        const url = chance(0.25) ? `/fhir/${r.type}/${r.id}/_history/1` : `/fhir/${r.type}/${r.id}`;
        const res = await get(who, url, asked);
        assert.equal(res.status, allowed ? 200 : 404, ctx(who, url, purpose));
      }
    }
  });

  it('type searches: the same matches and the same total as the oracle, with _summary=count agreeing', async () => {
    for (const who of principals) {
      for (const type of ['Patient', ...CLINICAL, 'Consent', 'Bundle', 'Practitioner']) {
        const asked = pick(PURPOSE_HEADERS);
        const purpose = asked ?? 'CAREMGT';
        const want = expected(who, purpose, (r) => r.type === type);
        const res = await get(who, `/fhir/${type}?_count=1000&_total=accurate`, asked);
        assert.equal(res.status, 200, ctx(who, type, purpose));
        assert.deepEqual(ids(res.body as Bundle), want, ctx(who, `${type} search`, purpose));
        assert.equal((res.body as Bundle).total, want.length, ctx(who, `${type} total`, purpose));
        const count = await get(who, `/fhir/${type}?_summary=count`, asked);
        assert.equal((count.body as Bundle).total, want.length, ctx(who, `${type} _summary=count`, purpose));
      }
    }
  });

  it('includes, revincludes, chains, _has and compartments never reach past the oracle', async () => {
    for (const who of principals) {
      const asked = pick(PURPOSE_HEADERS);
      const purpose = asked ?? 'CAREMGT';
      const seen = (r: Rec) => visible(who, r, consents, purpose);
      const byId = new Map(records.map((r) => [`${r.type}/${r.id}`, r]));

      const inc = (await get(who, '/fhir/Observation?_count=1000&_include=Observation:subject', asked)).body as Bundle;
      const obs = expected(who, purpose, (r) => r.type === 'Observation');
      assert.deepEqual(ids(inc), obs, ctx(who, '_include matches', purpose));
      const wantInc = [...new Set(obs.map((k) => `Patient/${byId.get(k)?.patient}`))].filter((k) => seen(byId.get(k) as Rec)).sort();
      assert.deepEqual(ids(inc, 'include'), wantInc, ctx(who, '_include', purpose));

      const rev = (await get(who, '/fhir/Patient?_count=1000&_revinclude=Observation:subject&_revinclude=Condition:subject', asked)).body as Bundle;
      const pts = expected(who, purpose, (r) => r.type === 'Patient');
      assert.deepEqual(ids(rev), pts, ctx(who, '_revinclude matches', purpose));
      const wantRev = expected(who, purpose, (r) => (r.type === 'Observation' || r.type === 'Condition') && pts.includes(`Patient/${r.patient}`));
      assert.deepEqual(ids(rev, 'include'), wantRev, ctx(who, '_revinclude', purpose));

      for (const p of ['pt-0', 'pt-5']) {
        const chain = (await get(who, `/fhir/Observation?_count=1000&subject.family=${families.get(p)}`, asked)).body as Bundle;
        const patientSeen = seen(byId.get(`Patient/${p}`) as Rec);
        assert.deepEqual(ids(chain), patientSeen ? expected(who, purpose, (r) => r.type === 'Observation' && r.patient === p) : [], ctx(who, `chain on ${p}`, purpose));
        const compartment = (await get(who, `/fhir/Patient/${p}/Observation?_count=1000`, asked)).body as Bundle;
        assert.deepEqual(ids(compartment), expected(who, purpose, (r) => r.type === 'Observation' && r.patient === p), ctx(who, `compartment ${p}`, purpose));
      }
      for (const code of ['718-7', '4548-4']) {
        const has = (await get(who, `/fhir/Patient?_count=1000&_has:Observation:subject:code=${code}`, asked)).body as Bundle;
        const want = expected(who, purpose, (r) => r.type === 'Patient'
          && records.some((o) => o.type === 'Observation' && o.patient === r.id && o.code === code && seen(o)));
        assert.deepEqual(ids(has), want, ctx(who, `_has code ${code}`, purpose));
      }
    }
  });

  it('history (instance, type, system) shows only what the oracle allows', async () => {
    for (const who of principals) {
      const asked = pick(PURPOSE_HEADERS);
      const purpose = asked ?? 'CAREMGT';
      const type = pick(CLINICAL);
      const hist = (await get(who, `/fhir/${type}/_history?_count=1000`, asked)).body as Bundle;
      const got = [...new Set((hist.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`))].sort();
      assert.deepEqual(got, expected(who, purpose, (r) => r.type === type), ctx(who, `${type}/_history`, purpose));
      const all = (await get(who, '/fhir/_history?_count=1000', asked)).body as Bundle;
      const gotAll = [...new Set((all.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`))].sort();
      assert.deepEqual(gotAll, expected(who, purpose, () => true), ctx(who, '_history', purpose));
      for (const r of records.slice(0, 30)) {
        const res = await get(who, `/fhir/${r.type}/${r.id}/_history`, asked);
        const n = ((res.body as Bundle).entry ?? []).filter((e) => e.resource).length;
        assert.equal(n, visible(who, r, consents, purpose) ? 1 : 0, ctx(who, `${r.type}/${r.id}/_history`, purpose));
      }
    }
  });

  it('batch GET entries answer exactly as the requests alone would', async () => {
    for (const who of principals) {
      const asked = pick(PURPOSE_HEADERS);
      const purpose = asked ?? 'CAREMGT';
      const sample = Array.from({ length: 25 }, () => pick(records));
      const req = t.http.post('/fhir').set('Authorization', `Bearer ${who.token}`).set('Content-Type', FHIR_JSON);
      if (asked) req.set('X-Purpose-Of-Use', asked);
      requests++;
      const res = await req.send({
        resourceType: 'Bundle', type: 'batch',
        entry: [
          ...sample.map((r) => ({ request: { method: 'GET', url: `${r.type}/${r.id}` } })),
          { request: { method: 'GET', url: 'Observation?_count=1000&_total=accurate' } },
        ],
      });
      assert.equal(res.status, 200, ctx(who, 'batch', purpose));
      const out = (res.body as Bundle).entry ?? [];
      sample.forEach((r, i) => assert.equal(out[i].response?.status?.slice(0, 3), visible(who, r, consents, purpose) ? '200' : '404', ctx(who, `batch ${r.type}/${r.id}`, purpose)));
      const search = out[sample.length].resource as Bundle;
      assert.deepEqual(ids(search), expected(who, purpose, (r) => r.type === 'Observation'), ctx(who, 'batch search', purpose));
      assert.equal(search.total, expected(who, purpose, (r) => r.type === 'Observation').length);
    }
  });

  it('covers thousands of requests, and every kind of principal both sees and is denied something', () => {
    assert.ok(requests > 2000, `only ${requests} requests`);
    for (const who of principals.filter((w) => w.kind !== 'system')) {
      const seen = records.filter((r) => r.patient !== undefined && r.type !== 'Patient' && visible(who, r, consents, 'CAREMGT')).length;
      const hidden = records.filter((r) => !visible(who, r, consents, 'CAREMGT')).length;
      assert.ok(hidden > 0, `${who.name} is denied nothing: the data does not test denial`);
      if (who.kind === 'patient') assert.ok(seen > 0, `${who.name} sees nothing`);
    }
    const holders = principals.filter((w) => w.kind !== 'system' && w.kind !== 'patient'
      && records.some((r) => r.patient !== undefined && r.type !== 'Patient' && visible(w, r, consents, 'CAREMGT')));
    assert.ok(holders.length >= 3, `only ${holders.length} consent holders see clinical data: the data does not test consent`);
  });
});

// ---- the HI-type grid: every HI type against one record of every type ----
const GRID_PATIENT = 'grid-pt';
const GRID_DAY = '2025-03-10';
/** Every type some HI type covers, and patient data none does (Binary: unrestricted callers only). */
const GRID_TYPES = [...new Set(Object.values(COVERS).flatMap((c) => c.types))].sort();
const NEVER_COVERED = ['Goal', 'Flag', 'RiskAssessment', 'Communication', 'Binary'];
/** Composition types: each HI type's, a second diagnostic report type, one no HI type covers, and a text-only type (WellnessRecord's). */
const GRID_DOCS = [...DOC_CODES, undefined];

/** A valid R4 record of `type` about the grid patient, with its date of care on GRID_DAY. */
function gridJson(type: string, id: string, doc?: string): Record<string, unknown> {
  const subject = { reference: `Patient/${GRID_PATIENT}` };
  const text = (t: string) => ({ text: t });
  const at = `${GRID_DAY}T09:30:00Z`;
  const base = { resourceType: type, id };
  switch (type) {
    case 'AllergyIntolerance': return {
      ...base, patient: subject, recordedDate: GRID_DAY, code: text('Penicillin'),
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
    };
    case 'Appointment': return { ...base, status: 'booked', start: at, end: `${GRID_DAY}T10:00:00Z`, participant: [{ actor: subject, status: 'accepted' }] };
    case 'CarePlan': return { ...base, status: 'active', intent: 'plan', subject, period: { start: GRID_DAY } };
    case 'CommunicationRequest': return { ...base, status: 'active', subject, authoredOn: GRID_DAY };
    case 'Condition': return { ...base, subject, code: text('Type 2 diabetes'), recordedDate: GRID_DAY };
    case 'DeviceRequest': return { ...base, status: 'active', intent: 'order', codeCodeableConcept: text('Wheelchair'), subject, authoredOn: GRID_DAY };
    case 'DiagnosticReport': return { ...base, status: 'final', code: text('CBC'), subject, effectiveDateTime: GRID_DAY };
    case 'DocumentReference': return { ...base, status: 'current', subject, date: at, content: [{ attachment: { contentType: 'application/pdf', title: 'scan' } }] };
    case 'Encounter': return {
      ...base, status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject, period: { start: GRID_DAY, end: GRID_DAY },
    };
    case 'FamilyMemberHistory': return {
      ...base, status: 'completed', patient: subject, date: GRID_DAY, relationship: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'FTH' }] },
    };
    case 'ImagingStudy': return { ...base, status: 'available', subject, started: at };
    case 'Immunization': return { ...base, status: 'completed', vaccineCode: text('BCG'), patient: subject, occurrenceDateTime: GRID_DAY };
    case 'ImmunizationRecommendation': return {
      ...base, patient: subject, date: at,
      recommendation: [{ vaccineCode: [text('BCG')], forecastStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/immunization-recommendation-status', code: 'due' }] } }],
    };
    case 'Media': return { ...base, status: 'completed', subject, createdDateTime: GRID_DAY, content: { contentType: 'image/jpeg', title: 'x-ray' } };
    case 'MedicationRequest': return { ...base, status: 'active', intent: 'order', medicationCodeableConcept: text('Metformin'), subject, authoredOn: GRID_DAY };
    case 'MedicationStatement': return { ...base, status: 'active', medicationCodeableConcept: text('Metformin'), subject, effectiveDateTime: GRID_DAY };
    case 'NutritionOrder': return { ...base, status: 'active', intent: 'order', patient: subject, dateTime: at, oralDiet: { type: [text('Diabetic diet')] } };
    case 'Observation': return { ...base, status: 'final', code: text('Weight'), subject, effectiveDateTime: GRID_DAY };
    case 'Procedure': return { ...base, status: 'completed', code: text('Dressing'), subject, performedDateTime: GRID_DAY };
    case 'RequestGroup': return { ...base, status: 'active', intent: 'plan', subject, authoredOn: GRID_DAY };
    case 'ServiceRequest': return { ...base, status: 'active', intent: 'order', code: text('HbA1c'), subject, authoredOn: GRID_DAY };
    case 'Specimen': return { ...base, subject, collection: { collectedDateTime: GRID_DAY } };
    case 'VisionPrescription': return {
      ...base, status: 'active', created: at, patient: subject, dateWritten: at, prescriber: { reference: 'Practitioner/grid-none' },
      lensSpecification: [{ product: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/ex-visionprescriptionproduct', code: 'lens' }] }, eye: 'right' }],
    };
    case 'Composition': return {
      ...base, status: 'final', type: doc ? { coding: [{ system: 'http://snomed.info/sct', code: doc }] } : text('Wellness Record'),
      subject, date: at, author: [{ reference: 'Practitioner/grid-none' }], title: 'Record',
    };
    case 'Goal': return { ...base, lifecycleStatus: 'active', description: text('Walk daily'), subject, startDate: GRID_DAY };
    case 'Flag': return { ...base, status: 'active', code: text('Fall risk'), subject, period: { start: GRID_DAY } };
    case 'RiskAssessment': return { ...base, status: 'final', subject, occurrenceDateTime: GRID_DAY };
    case 'Communication': return { ...base, status: 'completed', subject, sent: at };
    case 'Binary': return { ...base, contentType: 'application/pdf', data: 'JVBERi0xLjQK' };
    default: throw new Error(`no grid record for ${type}`);
  }
}

describe('consent enforcement: the HI-type grid (one consent per HI type × one record of every type)', function () {
  this.timeout(300_000);
  interface GridRec { type: string; id: string; doc?: string }
  let issuer: Awaited<ReturnType<typeof testIssuer>>;
  let t: ReturnType<typeof api>;
  const records: GridRec[] = [{ type: 'Patient', id: GRID_PATIENT }];
  for (const type of [...GRID_TYPES, ...NEVER_COVERED]) records.push({ type, id: `g-${type}` });
  GRID_DOCS.forEach((doc, i) => records.push({ type: 'Composition', id: `g-doc-${i}`, doc }));
  /** One practitioner per HI type holding only that consent, and one holding none. */
  const holders: { hiType?: string; token: string }[] = [];

  /** The grid's own statement: the Patient with any consent, a Composition by its type, anything else by the table. */
  const allowed = (hiType: string | undefined, r: GridRec): boolean => {
    if (hiType === undefined) return false;
    if (r.type === 'Patient') return true;
    if (r.type === 'Composition') return r.doc !== undefined && COVERS[hiType].docs.includes(r.doc);
    return COVERS[hiType].types.includes(r.type);
  };

  before(async () => {
    issuer = await testIssuer();
    const verifier = new TokenVerifier({ kind: 'file', path: issuer.jwksFile }, { issuer: ISSUER, audience: AUDIENCE, now: () => new Date() });
    await verifier.load();
    t = api({ auth: bearerAccess(verifier) });
    const entries: Record<string, unknown>[] = [
      { resourceType: 'Patient', id: GRID_PATIENT, name: [{ family: 'Grid' }] },
      { resourceType: 'Practitioner', id: 'grid-none' },
      ...records.filter((r) => r.type !== 'Patient').map((r) => gridJson(r.type, r.id, r.doc)),
    ];
    for (const hiType of HI_TYPES) {
      entries.push({ resourceType: 'Practitioner', id: `grid-${hiType}` });
      entries.push(consentJson({
        id: `grid-c-${hiType}`, status: 'active', patient: GRID_PATIENT, byIdentifier: false, grantee: `Practitioner/grid-${hiType}`, granteeBy: 'consentor',
        purpose: 'CAREMGT', hiTypes: [hiType], from: '2025-01-01', to: '2025-12-31', validFrom: NOW - 86_400_000, validTo: NOW + 86_400_000 * 30,
      }));
    }
    const system = await issuer.mint({ scope: 'system/*.cruds' });
    const tx = await t.http.post('/fhir').set('Authorization', `Bearer ${system}`).set('Content-Type', FHIR_JSON).send({
      resourceType: 'Bundle', type: 'transaction',
      entry: entries.map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType as string}/${resource.id as string}` } })),
    });
    assert.equal(tx.status, 200, JSON.stringify(tx.body).slice(0, 3000));
    for (const hiType of HI_TYPES) holders.push({ hiType, token: await issuer.mint({ scope: 'user/*.rs', fhirUser: `Practitioner/grid-${hiType}` }) });
    holders.push({ token: await issuer.mint({ scope: 'user/*.rs', fhirUser: 'Practitioner/grid-none' }) });
  });
  after(async () => {
    issuer.cleanup();
    await t.close();
  });

  const who = (h: { hiType?: string }) => (h.hiType ? `${h.hiType} consent` : 'no consent');

  it('covers every type some HI type covers, and the grid data is what it claims', () => {
    assert.ok(GRID_TYPES.length >= 20, `only ${GRID_TYPES.length} covered types`);
    for (const type of GRID_TYPES) assert.ok(HI_TYPES.some((h) => allowed(h, { type, id: '' })));
    for (const type of NEVER_COVERED) assert.ok(!HI_TYPES.some((h) => allowed(h, { type, id: '' })));
  });

  it('read: each holder reads exactly what their one consent covers (no leak, no wrongful denial)', async () => {
    const leaks: string[] = [];
    const denials: string[] = [];
    for (const h of holders) {
      for (const r of records) {
        const res = await t.http.get(`/fhir/${r.type}/${r.id}`).set('Authorization', `Bearer ${h.token}`);
        const want = allowed(h.hiType, r);
        if (res.status === 200 && !want) leaks.push(`${who(h)}: ${r.type}/${r.id}${r.doc ? ` (${r.doc})` : ''}`);
        else if (res.status !== 200 && want) denials.push(`${who(h)}: ${r.type}/${r.id}${r.doc ? ` (${r.doc})` : ''} → ${res.status}`);
        else if (res.status !== 200) assert.equal(res.status, 404, `${who(h)}: ${r.type}/${r.id}`);
      }
    }
    assert.deepEqual({ leaks, denials }, { leaks: [], denials: [] });
  });

  it('search: each holder\'s type searches match and count exactly what their consent covers', async () => {
    const leaks: string[] = [];
    const denials: string[] = [];
    for (const h of holders) {
      for (const type of ['Patient', 'Composition', ...GRID_TYPES, ...NEVER_COVERED]) {
        const res = await t.http.get(`/fhir/${type}?_count=1000&_total=accurate`).set('Authorization', `Bearer ${h.token}`);
        assert.equal(res.status, 200, `${who(h)}: ${type} search`);
        const bundle = res.body as Bundle;
        const got = new Set((bundle.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`));
        const want = new Set(records.filter((r) => r.type === type && allowed(h.hiType, r)).map((r) => `${r.type}/${r.id}`));
        for (const k of got) if (!want.has(k)) leaks.push(`${who(h)}: ${type} search shows ${k}`);
        for (const k of want) if (!got.has(k)) denials.push(`${who(h)}: ${type} search misses ${k}`);
        if (bundle.total !== want.size) leaks.push(`${who(h)}: ${type} search total ${bundle.total} ≠ ${want.size}`);
      }
    }
    assert.deepEqual({ leaks, denials }, { leaks: [], denials: [] });
  });
});
