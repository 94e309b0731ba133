import { strict as assert } from 'node:assert';
import type { Bundle, OperationOutcome } from 'fhir/r4';
import { api, assertOutcome, FHIR_JSON } from '../helpers/api';
import { TestClock } from '../helpers/clock';

const ABHA = 'https://healthid.abdm.gov.in';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';

const fixtures = [
  { resourceType: 'Organization', id: 'lab', name: 'Pune Path Lab', identifier: [{ system: 'https://facility.abdm.gov.in', value: 'IN2710001' }] },
  { resourceType: 'Practitioner', id: 'dr', name: [{ family: 'Kulkarni', given: ['Meera'] }] },
  { resourceType: 'Patient', id: 'asha', name: [{ family: 'Sharma', given: ['Āsha'] }], gender: 'female', birthDate: '1990-05-14',
    identifier: [{ system: ABHA, value: '91-1111-2222-3333', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] } }],
    managingOrganization: { reference: 'Organization/lab' }, generalPractitioner: [{ reference: 'Practitioner/dr' }] },
  { resourceType: 'Patient', id: 'ravi', name: [{ family: 'Sharmila', given: ['Ravi'] }], gender: 'male', birthDate: '1985-11-02', active: false },
  { resourceType: 'Patient', id: 'noor', name: [{ family: 'Khan', given: ['Noor'] }], gender: 'female' },
  { resourceType: 'Observation', id: 'hb1', status: 'final', code: { coding: [{ system: LOINC, code: '718-7', display: 'Hemoglobin' }], text: 'Haemoglobin' },
    subject: { reference: 'Patient/asha' }, performer: [{ reference: 'Organization/lab' }], effectiveDateTime: '2026-03-10T09:30:00+05:30',
    valueQuantity: { value: 11.5, unit: 'g/dL', system: UCUM, code: 'g/dL' } },
  { resourceType: 'Observation', id: 'hb2', status: 'final', code: { coding: [{ system: LOINC, code: '718-7' }] },
    subject: { reference: 'Patient/asha' }, effectiveDateTime: '2026-04-02T23:30:00+05:30', valueQuantity: { value: 13.2, unit: 'g/dL', system: UCUM, code: 'g/dL' } },
  { resourceType: 'Observation', id: 'bp', status: 'final', code: { coding: [{ system: LOINC, code: '85354-9' }] },
    subject: { reference: 'Patient/ravi' }, effectiveDateTime: '2026-03-11',
    component: [
      { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: 142, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
      { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value: 91, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
    ] },
  { resourceType: 'DiagnosticReport', id: 'cbc', status: 'final', code: { text: 'CBC' }, subject: { reference: 'Patient/asha' },
    result: [{ reference: 'Observation/hb1' }] },
  { resourceType: 'ValueSet', id: 'vs', status: 'active', url: 'http://example.in/fhir/ValueSet/labs/cbc' },
  { resourceType: 'RiskAssessment', id: 'ra', status: 'final', subject: { reference: 'Patient/asha' }, prediction: [{ probabilityDecimal: 0.25 }] },
];

describe('search (search.html)', function () {
  let t: ReturnType<typeof api>;
  before(async function () {
    this.timeout(30_000);
    t = api({ config: { baseUrl: 'https://gw.example.in/fhir' } });
    for (const r of fixtures) {
      const res = await t.http.put(`/fhir/${r.resourceType}/${r.id}`).set('Content-Type', FHIR_JSON).send(r);
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
  });
  after(() => t.close());

  const ids = async (url: string): Promise<string[]> => {
    const res = await t.http.get(url);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const b = res.body as Bundle;
    assert.equal(b.type, 'searchset');
    return (b.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource?.id as string).sort();
  };

  it('token: code, system|code, |code, system|, :not, :text, :of-type, booleans', async () => {
    assert.deepEqual(await ids('/fhir/Observation?code=718-7'), ['hb1', 'hb2']);
    assert.deepEqual(await ids(`/fhir/Observation?code=${LOINC}|85354-9`), ['bp']);
    assert.deepEqual(await ids('/fhir/Observation?code=|718-7'), []);
    assert.deepEqual(await ids(`/fhir/Patient?identifier=${ABHA}|`), ['asha']);
    assert.deepEqual(await ids('/fhir/Patient?gender:not=female'), ['ravi']);
    assert.deepEqual(await ids('/fhir/Observation?code:text=haemo'), ['hb1']);
    assert.deepEqual(await ids('/fhir/Observation?code:text=hemoglobin'), ['hb1']);
    assert.deepEqual(await ids(`/fhir/Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|91-1111-2222-3333`), ['asha']);
    assert.deepEqual(await ids('/fhir/Patient?active=false'), ['ravi']);
  });

  it('string: starts-with, case- and accent-insensitive; :exact; :contains', async () => {
    assert.deepEqual(await ids('/fhir/Patient?family=sharm'), ['asha', 'ravi']);
    assert.deepEqual(await ids('/fhir/Patient?given=asha'), ['asha']);
    assert.deepEqual(await ids('/fhir/Patient?name=khan'), ['noor']);
    assert.deepEqual(await ids('/fhir/Patient?family:exact=Sharma'), ['asha']);
    assert.deepEqual(await ids('/fhir/Patient?family:exact=sharma'), []);
    assert.deepEqual(await ids('/fhir/Patient?family:contains=arm'), ['asha', 'ravi']);
  });

  it('date: precision ranges, every prefix, and India\'s +05:30', async () => {
    assert.deepEqual(await ids('/fhir/Patient?birthdate=1990'), ['asha']);
    assert.deepEqual(await ids('/fhir/Patient?birthdate=gt1986'), ['asha']);
    assert.deepEqual(await ids('/fhir/Patient?birthdate=lt1990-05-14'), ['ravi']);
    assert.deepEqual(await ids('/fhir/Patient?birthdate=le1990-05-14'), ['asha', 'ravi']);
    assert.deepEqual(await ids('/fhir/Patient?birthdate=ge1990-05-14'), ['asha']);
    assert.deepEqual(await ids('/fhir/Patient?birthdate=ne1990-05-14'), ['ravi']);
    assert.deepEqual(await ids('/fhir/Patient?birthdate=sa1985-11-02'), ['asha']);
    assert.deepEqual(await ids('/fhir/Patient?birthdate=eb1990'), ['ravi']);
    // 23:30 IST on 2 April is 18:00 UTC on 2 April.
    assert.deepEqual(await ids('/fhir/Observation?date=2026-04-02T18:00:00Z'), ['hb2']);
    assert.deepEqual(await ids(`/fhir/Observation?date=${encodeURIComponent('2026-04-02T23:30:00+05:30')}`), ['hb2']);
    assert.deepEqual(await ids('/fhir/Observation?date=ge2026-03-11&date=lt2026-04'), ['bp']);
    assert.deepEqual(await ids('/fhir/Observation?date=2026-03'), ['bp', 'hb1']);
    assertOutcome(await t.http.get('/fhir/Patient?birthdate=14-05-1990'), 400, 'invalid');
  });

  it('number and quantity, with implicit precision', async () => {
    assert.deepEqual(await ids('/fhir/RiskAssessment?probability=0.25'), ['ra']);
    assert.deepEqual(await ids('/fhir/RiskAssessment?probability=gt0.3'), []);
    assert.deepEqual(await ids(`/fhir/Observation?value-quantity=11.5|${UCUM}|g/dL`), ['hb1']);
    assert.deepEqual(await ids('/fhir/Observation?value-quantity=gt12||g/dL'), ['hb2']);
    assert.deepEqual(await ids('/fhir/Observation?value-quantity=12'), ['hb1']); // "12" means [11.5, 12.5)
    assert.deepEqual(await ids('/fhir/Observation?value-quantity=12.0'), []);
    assert.deepEqual(await ids('/fhir/Observation?value-quantity=ap12'), ['hb1', 'hb2']);
  });

  it('reference: Type/id, bare id, absolute URL, :Type, :identifier', async () => {
    assert.deepEqual(await ids('/fhir/Observation?subject=Patient/asha'), ['hb1', 'hb2']);
    assert.deepEqual(await ids('/fhir/Observation?subject=ravi'), ['bp']);
    assert.deepEqual(await ids(`/fhir/Observation?subject=${encodeURIComponent('https://gw.example.in/fhir/Patient/asha')}`), ['hb1', 'hb2']);
    assert.deepEqual(await ids('/fhir/Observation?subject:Patient=ravi'), ['bp']);
    assert.deepEqual(await ids('/fhir/Observation?patient=asha'), ['hb1', 'hb2']);
    assert.deepEqual(await ids('/fhir/Patient?organization:identifier=IN2710001'), []);
  });

  it('uri: exact, :below, :above', async () => {
    assert.deepEqual(await ids('/fhir/ValueSet?url=http://example.in/fhir/ValueSet/labs/cbc'), ['vs']);
    assert.deepEqual(await ids('/fhir/ValueSet?url:below=http://example.in/fhir/ValueSet'), ['vs']);
    assert.deepEqual(await ids('/fhir/ValueSet?url:above=http://example.in/fhir/ValueSet/labs/cbc/v2'), ['vs']);
    assert.deepEqual(await ids('/fhir/ValueSet?url=http://example.in/fhir'), []);
  });

  it('composite: component code and value must come from the same component', async () => {
    assert.deepEqual(await ids(`/fhir/Observation?component-code-value-quantity=${LOINC}|8480-6$gt140`), ['bp']);
    assert.deepEqual(await ids(`/fhir/Observation?component-code-value-quantity=${LOINC}|8462-4$gt140`), []);
    assert.deepEqual(await ids(`/fhir/Observation?code-value-quantity=${LOINC}|718-7$lt12`), ['hb1']);
  });

  it('union parameters (combo-*) search every part they unite, though only the parts are indexed', async () => {
    assert.deepEqual(await ids(`/fhir/Observation?combo-code=${LOINC}|8480-6`), ['bp']);
    assert.deepEqual(await ids(`/fhir/Observation?combo-code=${LOINC}|718-7,${LOINC}|8462-4`), ['bp', 'hb1', 'hb2']);
    assert.deepEqual(await ids('/fhir/Observation?combo-value-quantity=gt100'), ['bp']);
    assert.deepEqual(await ids('/fhir/Observation?combo-value-quantity=lt12'), ['hb1']);
    assert.deepEqual(await ids(`/fhir/Observation?combo-code-value-quantity=${LOINC}|8462-4$gt90`), ['bp']);
    assert.deepEqual(await ids(`/fhir/Observation?combo-code-value-quantity=${LOINC}|718-7$gt13`), ['hb2']);
    assert.deepEqual(await ids('/fhir/Observation?combo-value-quantity:missing=true'), []);
    assert.deepEqual(await ids('/fhir/Observation?value-quantity:missing=true'), ['bp']);
    assertOutcome(await t.http.get('/fhir/Observation?_sort=combo-code'), 400, 'not-supported', /union/);
  });

  it(':missing, comma = OR, repeated = AND', async () => {
    assert.deepEqual(await ids('/fhir/Patient?birthdate:missing=true'), ['noor']);
    assert.deepEqual(await ids('/fhir/Patient?birthdate:missing=false'), ['asha', 'ravi']);
    assert.deepEqual(await ids('/fhir/Patient?given=ravi,noor'), ['noor', 'ravi']);
    assert.deepEqual(await ids('/fhir/Patient?gender=female&family=khan'), ['noor']);
  });

  it('chaining and reverse chaining (_has)', async () => {
    assert.deepEqual(await ids('/fhir/Observation?subject:Patient.name=sharma'), ['hb1', 'hb2']);
    assert.deepEqual(await ids('/fhir/Observation?patient.gender=male'), ['bp']);
    assert.deepEqual(await ids('/fhir/DiagnosticReport?subject:Patient.organization.name=pune'), ['cbc']);
    assert.deepEqual(await ids('/fhir/Patient?_has:Observation:subject:code=85354-9'), ['ravi']);
    assert.deepEqual(await ids('/fhir/Patient?_has:Observation:subject:code=718-7'), ['asha']);
  });

  it('_include, _revinclude, :iterate and *', async () => {
    const b = (await t.http.get('/fhir/DiagnosticReport?_id=cbc&_include=DiagnosticReport:subject&_include=DiagnosticReport:result')).body as Bundle;
    assert.deepEqual(b.entry?.map((e) => `${e.search?.mode}:${e.resource?.resourceType}/${e.resource?.id}`).sort(),
      ['include:Observation/hb1', 'include:Patient/asha', 'match:DiagnosticReport/cbc']);
    const iter = (await t.http.get('/fhir/DiagnosticReport?_id=cbc&_include=DiagnosticReport:subject&_include:iterate=Patient:organization')).body as Bundle;
    assert.ok(iter.entry?.some((e) => e.resource?.id === 'lab' && e.search?.mode === 'include'));
    const rev = (await t.http.get('/fhir/Patient?_id=asha&_revinclude=Observation:subject')).body as Bundle;
    assert.deepEqual(rev.entry?.filter((e) => e.search?.mode === 'include').map((e) => e.resource?.id).sort(), ['hb1', 'hb2']);
    const star = (await t.http.get('/fhir/Patient?_id=asha&_include=*')).body as Bundle;
    assert.deepEqual(star.entry?.filter((e) => e.search?.mode === 'include').map((e) => e.resource?.id).sort(), ['dr', 'lab']);
  });

  it('_sort (several keys, descending), _count with self/next/previous links, _total', async () => {
    const sorted = (await t.http.get('/fhir/Patient?_sort=-birthdate,_id')).body as Bundle;
    assert.deepEqual(sorted.entry?.map((e) => e.resource?.id), ['asha', 'ravi', 'noor']);
    const byName = (await t.http.get('/fhir/Patient?_sort=family')).body as Bundle;
    assert.deepEqual(byName.entry?.map((e) => e.resource?.id), ['noor', 'asha', 'ravi']);
    const seen: string[] = [];
    let url: string | undefined = '/fhir/Patient?_sort=_id&_count=2&_total=accurate';
    let pages = 0;
    while (url) {
      const page = (await t.http.get(url)).body as Bundle;
      assert.equal(page.total, 3);
      seen.push(...(page.entry ?? []).map((e) => e.resource?.id as string));
      if (pages > 0) assert.ok(page.link?.some((l) => l.relation === 'previous'));
      const next = page.link?.find((l) => l.relation === 'next')?.url;
      url = next ? next.slice(next.indexOf('/fhir/')) : undefined;
      pages++;
    }
    assert.deepEqual(seen, ['asha', 'noor', 'ravi']);
    assert.equal(pages, 2);
    const none = (await t.http.get('/fhir/Patient?_count=2&_total=none')).body as Bundle;
    assert.equal(none.total, undefined);
  });

  it('_summary=count, _summary=true and _elements subset and tag the result', async () => {
    const count = (await t.http.get('/fhir/Observation?_summary=count')).body as Bundle;
    assert.equal(count.total, 3);
    assert.equal(count.entry, undefined);
    const summary = (await t.http.get('/fhir/Patient?_id=asha&_summary=true')).body as Bundle;
    const p = summary.entry?.[0].resource as unknown as Record<string, unknown>;
    assert.equal(p.generalPractitioner, undefined);
    assert.equal(p.birthDate, '1990-05-14');
    assert.ok(JSON.stringify(p.meta).includes('SUBSETTED'));
    const elements = (await t.http.get('/fhir/Patient?_id=asha&_elements=gender')).body as Bundle;
    assert.deepEqual(Object.keys(elements.entry?.[0].resource ?? {}).sort(), ['gender', 'id', 'meta', 'resourceType']);
  });

  it('POST _search with a form, system search with _type, compartment search', async () => {
    const post = await t.http.post('/fhir/Patient/_search').type('form').send({ family: 'khan' });
    assert.deepEqual((post.body as Bundle).entry?.map((e) => e.resource?.id), ['noor']);
    assertOutcome(await t.http.post('/fhir/Patient/_search').set('Content-Type', FHIR_JSON).send('{}'), 415, 'not-supported');
    assert.deepEqual(await ids('/fhir?_type=Patient,Organization&_id=asha,lab'), ['asha', 'lab']);
    assert.deepEqual(await ids('/fhir/Patient/asha/Observation'), ['hb1', 'hb2']);
    assert.deepEqual(await ids('/fhir/Patient/asha/DiagnosticReport?code:text=cbc'), ['cbc']);
    assert.deepEqual(await ids('/fhir/Patient/ravi/Observation'), ['bp']);
  });

  it('unknown parameters: ignored and reported by default, refused with Prefer: handling=strict', async () => {
    const res = await t.http.get('/fhir/Patient?family=khan&colour=blue');
    const b = res.body as Bundle;
    assert.deepEqual(b.entry?.filter((e) => e.search?.mode === 'match').map((e) => e.resource?.id), ['noor']);
    const outcome = b.entry?.find((e) => e.search?.mode === 'outcome')?.resource as OperationOutcome;
    assert.equal(outcome.issue[0].code, 'not-supported');
    assert.match(outcome.issue[0].diagnostics ?? '', /colour/);
    const self = b.link?.find((l) => l.relation === 'self')?.url ?? '';
    assert.ok(!self.includes('colour') && self.includes('family=khan'), self);
    assertOutcome(await t.http.get('/fhir/Patient?colour=blue').set('Prefer', 'handling=strict'), 400, 'not-supported', /colour/);
    assertOutcome(await t.http.get('/fhir/Patient?family:sounds-like=khan'), 400, 'not-supported');
    assertOutcome(await t.http.get('/fhir?_type=Nope'), 400, 'invalid');
  });
});

describe('search: the parameters every resource has (search.html#all)', () => {
  let t: ReturnType<typeof api>;
  const clock = new TestClock(Date.UTC(2026, 2, 1, 4, 30, 0));
  before(async function () {
    this.timeout(30_000);
    // Declared profiles are searched here, not enforced (that is the validation tests' business).
    t = api({ clock, config: { profileEnforcement: 'off' } });
    const put = async (r: Record<string, unknown>): Promise<void> => {
      const res = await t.http.put(`/fhir/Patient/${r.id as string}`).set('Content-Type', FHIR_JSON).send({ resourceType: 'Patient', ...r });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    };
    await put({ id: 'tagged', meta: { tag: [{ system: 'http://example.in/tags', code: 'camp-2026' }], profile: ['https://nrces.in/ndhm/fhir/r4/StructureDefinition/Patient'], source: 'https://hip.example.in/emr' } });
    clock.advance(24 * 3600_000); // 2026-03-02T04:30Z = 10:00 in India
    await put({ id: 'secured', meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] } });
    clock.advance(24 * 3600_000);
    await put({ id: 'plain' });
  });
  after(() => t.close());

  const ids = async (query: string): Promise<string[]> => {
    const res = await t.http.get(`/fhir/Patient?${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return ((res.body as Bundle).entry ?? []).map((e) => e.resource?.id as string).sort();
  };

  it('_tag, _security and _profile are tokens and uris on meta', async () => {
    assert.deepEqual(await ids('_tag=http://example.in/tags|camp-2026'), ['tagged']);
    assert.deepEqual(await ids('_tag=camp-2026'), ['tagged']);
    assert.deepEqual(await ids('_tag:not=camp-2026'), ['plain', 'secured']);
    assert.deepEqual(await ids('_security=http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R'), ['secured']);
    assert.deepEqual(await ids('_profile=https://nrces.in/ndhm/fhir/r4/StructureDefinition/Patient'), ['tagged']);
    assert.deepEqual(await ids('_profile:below=https://nrces.in/ndhm/fhir/r4'), ['tagged']);
    assert.deepEqual(await ids('_tag:missing=true'), ['plain', 'secured']);
  });

  it('_source matches meta.source', async () => {
    assert.deepEqual(await ids('_source=https://hip.example.in/emr'), ['tagged']);
    assert.deepEqual(await ids('_source=https://hip.example.in/other'), []);
  });

  it('_lastUpdated: the day in India (+05:30), prefixes, and sorting by it', async () => {
    assert.deepEqual(await ids('_lastUpdated=2026-03-02T10:00:00%2B05:30'), ['secured']);
    assert.deepEqual(await ids('_lastUpdated=ge2026-03-02'), ['plain', 'secured']);
    assert.deepEqual(await ids('_lastUpdated=lt2026-03-02T00:00:00Z'), ['tagged']);
    assert.deepEqual(await ids('_lastUpdated=ap2026-03-03'), ['plain']);
    const sorted = await t.http.get('/fhir/Patient?_sort=-_lastUpdated');
    assert.deepEqual((sorted.body as Bundle).entry?.map((e) => e.resource?.id), ['plain', 'secured', 'tagged']);
  });
});

describe('search: token :in and :not-in against ValueSets the server holds (search.html#token)', () => {
  let t: ReturnType<typeof api>;
  const CS = 'http://example.in/fhir/CodeSystem/tests';
  before(async function () {
    this.timeout(30_000);
    t = api();
    const put = async (r: Record<string, unknown>): Promise<void> => {
      const res = await t.http.put(`/fhir/${r.resourceType as string}/${r.id as string}`).set('Content-Type', FHIR_JSON).send(r);
      assert.equal(res.status, 201, JSON.stringify(res.body));
    };
    await put({ resourceType: 'CodeSystem', id: 'tests', url: CS, status: 'active', content: 'complete', concept: [
      { code: 'blood', concept: [{ code: 'cbc', concept: [{ code: 'hb' }, { code: 'wbc' }] }, { code: 'sugar' }] },
      { code: 'urine' },
    ] });
    const vs = (id: string, extra: Record<string, unknown>) => put({ resourceType: 'ValueSet', id, url: `http://example.in/fhir/ValueSet/${id}`, status: 'active', ...extra });
    await vs('listed', { compose: { include: [{ system: LOINC, concept: [{ code: '718-7' }, { code: '2345-7' }] }] } });
    await vs('whole', { compose: { include: [{ system: CS }] } });
    await vs('cbc', { compose: { include: [{ system: CS, filter: [{ property: 'concept', op: 'is-a', value: 'cbc' }] }] } });
    await vs('blood-not-cbc', { compose: { include: [{ system: CS, filter: [{ property: 'concept', op: 'descendent-of', value: 'blood' }] }], exclude: [{ system: CS, concept: [{ code: 'cbc' }, { code: 'hb' }] }] } });
    await vs('nested', { compose: { include: [{ valueSet: ['http://example.in/fhir/ValueSet/listed'] }] } });
    await vs('expanded', { expansion: { timestamp: '2026-01-01T00:00:00Z', contains: [{ system: LOINC, code: '718-7' }] } });
    await vs('snomed-filter', { compose: { include: [{ system: 'http://snomed.info/sct', filter: [{ property: 'concept', op: 'is-a', value: '404684003' }] }] } });
    const obs = (id: string, system: string, code: string) => put({ resourceType: 'Observation', id, status: 'final', code: { coding: [{ system, code }] } });
    await obs('o-hb', CS, 'hb');
    await obs('o-sugar', CS, 'sugar');
    await obs('o-urine', CS, 'urine');
    await obs('o-loinc-hb', LOINC, '718-7');
    await obs('o-loinc-glucose', LOINC, '2345-7');
    await obs('o-loinc-other', LOINC, '1234-5');
  });
  after(() => t.close());

  const ids = async (query: string): Promise<string[]> => {
    const res = await t.http.get(`/fhir/Observation?${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return ((res.body as Bundle).entry ?? []).map((e) => e.resource?.id as string).sort();
  };
  const VS = 'http://example.in/fhir/ValueSet';

  it('enumerated codes, a whole code system, is-a and descendent-of filters with exclusions', async () => {
    assert.deepEqual(await ids(`code:in=${VS}/listed`), ['o-loinc-glucose', 'o-loinc-hb']);
    assert.deepEqual(await ids(`code:in=${VS}/whole`), ['o-hb', 'o-sugar', 'o-urine']);
    assert.deepEqual(await ids(`code:in=${VS}/cbc`), ['o-hb']);
    assert.deepEqual(await ids(`code:in=${VS}/blood-not-cbc`), ['o-sugar']);
  });

  it('nested ValueSets, stored expansions, references by id, and comma as OR', async () => {
    assert.deepEqual(await ids(`code:in=${VS}/nested`), ['o-loinc-glucose', 'o-loinc-hb']);
    assert.deepEqual(await ids(`code:in=${VS}/expanded`), ['o-loinc-hb']);
    assert.deepEqual(await ids('code:in=ValueSet/cbc'), ['o-hb']);
    assert.deepEqual(await ids(`code:in=${VS}/cbc,${VS}/expanded`), ['o-hb', 'o-loinc-hb']);
  });

  it(':not-in is the complement', async () => {
    assert.deepEqual(await ids(`code:not-in=${VS}/whole`), ['o-loinc-glucose', 'o-loinc-hb', 'o-loinc-other']);
    assert.deepEqual(await ids(`code:not-in=${VS}/listed&code:not-in=${VS}/whole`), ['o-loinc-other']);
  });

  it('a ValueSet we do not hold, or cannot expand exactly, is a 400 saying why', async () => {
    assertOutcome(await t.http.get(`/fhir/Observation?code:in=${VS}/nope`), 400, 'invalid', /not held by this server/);
    assertOutcome(await t.http.get(`/fhir/Observation?code:in=${VS}/snomed-filter`), 400, 'not-supported', /does not hold/);
  });

  it('conditional interactions decide with the same expansion', async () => {
    const res = await t.http.post('/fhir/Observation').set('Content-Type', FHIR_JSON).set('If-None-Exist', `code:in=${VS}/cbc`)
      .send({ resourceType: 'Observation', status: 'final', code: { text: 'x' } });
    assert.equal(res.status, 200);
    assert.equal(res.body.id, 'o-hb');
  });
});

/**
 * search.html#prefix, written out independently of the planner: target range [tLo, tHi) against
 * the search value's range [sLo, sHi), both implied by precision (search.html#date).
 */
const PREFIX_RULES: Record<string, (t: [number, number], s: [number, number]) => boolean> = {
  eq: ([tLo, tHi], [sLo, sHi]) => tLo >= sLo && tHi <= sHi,
  ne: (t, s) => !PREFIX_RULES.eq(t, s),
  gt: ([, tHi], [, sHi]) => tHi > sHi,
  lt: ([tLo], [sLo]) => tLo < sLo,
  ge: (t, s) => PREFIX_RULES.gt(t, s) || PREFIX_RULES.eq(t, s),
  le: (t, s) => PREFIX_RULES.lt(t, s) || PREFIX_RULES.eq(t, s),
  sa: ([tLo], [, sHi]) => tLo >= sHi,
  eb: ([, tHi], [sLo]) => tHi <= sLo,
};

describe('search: every date prefix against every precision, table-driven (search.html#prefix, #date)', () => {
  let t: ReturnType<typeof api>;
  const ms = (iso: string): number => Date.parse(iso);
  // Stored values of several precisions and zones, with the range each one means.
  const stored: { id: string; value: Record<string, unknown>; range: [number, number] }[] = [
    { id: 'year', value: { effectiveDateTime: '2026' }, range: [ms('2026-01-01T00:00:00Z'), ms('2027-01-01T00:00:00Z')] },
    { id: 'month', value: { effectiveDateTime: '2026-03' }, range: [ms('2026-03-01T00:00:00Z'), ms('2026-04-01T00:00:00Z')] },
    { id: 'day', value: { effectiveDateTime: '2026-03-14' }, range: [ms('2026-03-14T00:00:00Z'), ms('2026-03-15T00:00:00Z')] },
    { id: 'ist-second', value: { effectiveDateTime: '2026-03-14T23:30:00+05:30' }, range: [ms('2026-03-14T18:00:00Z'), ms('2026-03-14T18:00:01Z')] },
    { id: 'period', value: { effectivePeriod: { start: '2026-03-10', end: '2026-03-20' } }, range: [ms('2026-03-10T00:00:00Z'), ms('2026-03-21T00:00:00Z')] },
    { id: 'open-end', value: { effectivePeriod: { start: '2026-03-14T10:00:00Z' } }, range: [ms('2026-03-14T10:00:00Z'), 8.64e15] },
  ];
  const searches: { text: string; range: [number, number] }[] = [
    { text: '2026', range: [ms('2026-01-01T00:00:00Z'), ms('2027-01-01T00:00:00Z')] },
    { text: '2026-03', range: [ms('2026-03-01T00:00:00Z'), ms('2026-04-01T00:00:00Z')] },
    { text: '2026-03-14', range: [ms('2026-03-14T00:00:00Z'), ms('2026-03-15T00:00:00Z')] },
    { text: '2026-03-14T23:30:00+05:30', range: [ms('2026-03-14T18:00:00Z'), ms('2026-03-14T18:00:01Z')] },
    { text: '2026-03-15T00:00:00Z', range: [ms('2026-03-15T00:00:00Z'), ms('2026-03-15T00:00:01Z')] },
  ];

  before(async function () {
    this.timeout(30_000);
    t = api();
    for (const s of stored) {
      const res = await t.http.put(`/fhir/Observation/${s.id}`).set('Content-Type', FHIR_JSON)
        .send({ resourceType: 'Observation', id: s.id, status: 'final', code: { text: 'x' }, ...s.value });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
  });
  after(() => t.close());

  for (const [prefix, rule] of Object.entries(PREFIX_RULES)) {
    it(`${prefix}: every stored precision against every search precision`, async () => {
      for (const s of searches) {
        const expected = stored.filter((x) => rule(x.range, s.range)).map((x) => x.id).sort();
        const res = await t.http.get(`/fhir/Observation?date=${prefix}${encodeURIComponent(s.text)}&_count=100`);
        const got = ((res.body as Bundle).entry ?? []).map((e) => e.resource?.id as string).sort();
        assert.deepEqual(got, expected, `date=${prefix}${s.text}`);
      }
    });
  }
});

describe('search: paging with _include (search.html#include)', () => {
  let t: ReturnType<typeof api>;
  before(async function () {
    this.timeout(30_000);
    t = api();
    await t.http.put('/fhir/Patient/p').set('Content-Type', FHIR_JSON).send({ resourceType: 'Patient', id: 'p' });
    await t.http.put('/fhir/Patient/q').set('Content-Type', FHIR_JSON).send({ resourceType: 'Patient', id: 'q' });
    for (let i = 1; i <= 5; i++) {
      await t.http.put(`/fhir/Observation/o${i}`).set('Content-Type', FHIR_JSON)
        .send({ resourceType: 'Observation', id: `o${i}`, status: 'final', code: { text: 'x' }, subject: { reference: i === 5 ? 'Patient/q' : 'Patient/p' } });
    }
  });
  after(() => t.close());

  it('every match appears once across the pages; each page carries its own includes once', async () => {
    const matches: string[] = [];
    let url: string | undefined = '/fhir/Observation?_sort=_id&_count=2&_include=Observation:subject';
    const includesPerPage: string[][] = [];
    while (url) {
      const page = (await t.http.get(url)).body as Bundle;
      matches.push(...(page.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource?.id as string));
      const included = (page.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => e.resource?.id as string);
      assert.equal(new Set(included).size, included.length, 'no include twice on one page');
      includesPerPage.push(included);
      const next = page.link?.find((l) => l.relation === 'next')?.url;
      url = next ? next.slice(next.indexOf('/fhir/')) : undefined;
    }
    assert.deepEqual(matches, ['o1', 'o2', 'o3', 'o4', 'o5']);
    assert.deepEqual(includesPerPage, [['p'], ['p'], ['q']]);
  });
});

describe('search: _lastUpdated with every prefix, from the version timestamp (search.html#lastUpdated)', () => {
  let t: ReturnType<typeof api>;
  const clock = new TestClock(Date.parse('2026-03-14T18:29:59.999Z'));
  const written: { id: string; ms: number }[] = [];
  before(async function () {
    this.timeout(30_000);
    t = api({ clock });
    // Just before, at, and after midnight in India (18:30Z), then a day and a year later.
    for (const [id, step] of [['a', 0], ['b', 1], ['c', 1000], ['d', 86_400_000], ['e', 365 * 86_400_000]] as const) {
      clock.advance(step);
      await t.http.put(`/fhir/Patient/${id}`).set('Content-Type', FHIR_JSON).send({ resourceType: 'Patient', id });
      written.push({ id, ms: clock.ms });
    }
  });
  after(() => t.close());

  const searches: { text: string; range: [number, number] }[] = [
    { text: '2026-03-15T00:00:00+05:30', range: [Date.parse('2026-03-14T18:30:00Z'), Date.parse('2026-03-14T18:30:01Z')] },
    { text: '2026-03-14', range: [Date.parse('2026-03-14T00:00:00Z'), Date.parse('2026-03-15T00:00:00Z')] },
    { text: '2026-03', range: [Date.parse('2026-03-01T00:00:00Z'), Date.parse('2026-04-01T00:00:00Z')] },
    { text: '2027', range: [Date.parse('2027-01-01T00:00:00Z'), Date.parse('2028-01-01T00:00:00Z')] },
  ];
  for (const [prefix, rule] of Object.entries(PREFIX_RULES)) {
    it(`${prefix}`, async () => {
      for (const s of searches) {
        const expected = written.filter((w) => rule([w.ms, w.ms + 1], s.range)).map((w) => w.id).sort();
        const res = await t.http.get(`/fhir/Patient?_lastUpdated=${prefix}${encodeURIComponent(s.text)}`);
        assert.deepEqual(((res.body as Bundle).entry ?? []).map((e) => e.resource?.id).sort(), expected, `_lastUpdated=${prefix}${s.text}`);
      }
    });
  }

  it(':missing is never true: every resource has a version timestamp', async () => {
    assert.deepEqual(((await t.http.get('/fhir/Patient?_lastUpdated:missing=true')).body as Bundle).entry ?? [], []);
    assert.equal(((await t.http.get('/fhir/Patient?_lastUpdated:missing=false')).body as Bundle).entry?.length, 5);
  });
});
