import { strict as assert } from 'node:assert';
import type { Bundle, Composition, Resource } from 'fhir/r4';
import { assembleDocument, storedDocumentOf, type DocumentReader } from '../../../src/bundle/assemble-document';
import { checkDocument } from '../../../src/bundle/document';
import { classifyReference, documentBundle, exceededBound, isDocumentOf, referencesOf, sourceDocumentId, uuidOf } from '../../../src/bundle/document-assembly';
import { FhirError } from '../../../src/fhir/errors';
import type { StoredVersion } from '../../../src/storage/store';

const BASE = 'https://gw.example.in/fhir';
const NOW = new Date('2026-03-14T04:30:00.000Z');

/** A stored resource as the store returns it: id and meta.versionId set. */
function stored<T extends Resource>(r: T, versionId = 1): T {
  return { ...r, meta: { versionId: String(versionId), lastUpdated: '2026-03-01T00:00:00.000Z' } };
}

/** A reader over fixed versions (each `Type/id` → its versions, last is current), recording what it reads. */
function reader(resources: Resource[], deleted: string[] = []): DocumentReader & { reads: string[] } {
  const versions = new Map<string, Resource[]>();
  for (const r of resources) versions.set(`${r.resourceType}/${r.id}`, [...(versions.get(`${r.resourceType}/${r.id}`) ?? []), r]);
  const version = (r: Resource): StoredVersion => ({
    type: r.resourceType, id: r.id as string, versionId: Number(r.meta?.versionId), lastUpdated: '2026-03-01T00:00:00.000Z', deleted: false, resource: r, method: 'POST',
  });
  const reads: string[] = [];
  return {
    reads,
    async read(type, id) {
      reads.push(`${type}/${id}`);
      if (deleted.includes(`${type}/${id}`)) return { type, id, versionId: 2, lastUpdated: '2026-03-02T00:00:00.000Z', deleted: true, method: 'DELETE' };
      const all = versions.get(`${type}/${id}`);
      return all ? version(all[all.length - 1]) : undefined;
    },
    async vread(type, id, versionId) {
      reads.push(`${type}/${id}/_history/${versionId}`);
      const hit = versions.get(`${type}/${id}`)?.find((r) => r.meta?.versionId === String(versionId));
      return hit ? version(hit) : undefined;
    },
  };
}

const patient = stored({ resourceType: 'Patient', id: 'pt', managingOrganization: { reference: 'Organization/org' } } as Resource);
const org = stored({ resourceType: 'Organization', id: 'org', name: 'City Lab' } as Resource);
const practitioner = stored({ resourceType: 'Practitioner', id: 'dr' } as Resource);
const specimen = stored({ resourceType: 'Specimen', id: 'sp', subject: { reference: 'Patient/pt' } } as Resource);
const obs = (id: string, extra: object = {}): Resource => stored({
  resourceType: 'Observation', id, status: 'final', code: { text: 'Hb' }, subject: { reference: 'Patient/pt' }, performer: [{ reference: 'Practitioner/dr' }], ...extra,
} as Resource);
const report = stored({
  resourceType: 'DiagnosticReport', id: 'dr1', status: 'final', code: { text: 'CBC' }, subject: { reference: 'Patient/pt' },
  specimen: [{ reference: 'Specimen/sp' }], result: [{ reference: 'Observation/o1' }, { reference: 'Observation/o2' }],
} as Resource);

function composition(extra: Partial<Composition> = {}): Composition {
  return {
    ...stored({
      resourceType: 'Composition', id: 'c1', status: 'final', type: { text: 'Diagnostic report' }, date: '2026-03-14', title: 'Lab',
      subject: { reference: 'Patient/pt' }, author: [{ reference: 'Practitioner/dr' }], custodian: { reference: `${BASE}/Organization/org` },
      section: [{ title: 'Results', entry: [{ reference: 'DiagnosticReport/dr1' }] }],
    } as Composition),
    ...extra,
  };
}

const everything = (): Resource[] => [patient, org, practitioner, specimen, obs('o1', { specimen: { reference: 'Specimen/sp' } }), obs('o2'), report];
const opts = { baseUrl: BASE, now: NOW, newId: () => 'id-1' };
const keys = (b: Bundle): string[] => (b.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);

async function refused(work: Promise<unknown>, code: string, diagnostics?: RegExp): Promise<FhirError> {
  try {
    await work;
  } catch (err) {
    assert.ok(err instanceof FhirError, String(err));
    assert.equal(err.issues[0].code, code, err.message);
    if (diagnostics) assert.match(err.message, diagnostics);
    return err;
  }
  assert.fail('expected a refusal');
}

describe('$document, the pure part: what a document holds and how it is framed (bundle/document-assembly.ts)', () => {
  it('finds every reference in document order, with its FHIRPath, contained resources and extensions included', () => {
    const c = composition({
      contained: [{ resourceType: 'Practitioner', id: 'x', qualification: [{ code: { text: 'MD' }, issuer: { reference: 'Organization/org' } }] } as Resource],
      extension: [{ url: 'http://example.org/x', valueReference: { reference: '#x' } }],
    });
    assert.deepEqual(referencesOf(c).map((r) => `${r.path} → ${r.reference}`), [
      'Composition.subject.reference → Patient/pt',
      'Composition.author[0].reference → Practitioner/dr',
      'Composition.custodian.reference → https://gw.example.in/fhir/Organization/org',
      'Composition.section[0].entry[0].reference → DiagnosticReport/dr1',
      'Composition.contained[0].qualification[0].issuer.reference → Organization/org',
      'Composition.extension[0].valueReference.reference → #x',
    ]);
  });

  it('classifies references: contained, this server (relative, absolute, versioned), another server, unresolvable', () => {
    assert.deepEqual(classifyReference('#x', BASE), { kind: 'contained' });
    assert.deepEqual(classifyReference('Patient/pt', BASE), { kind: 'local', type: 'Patient', id: 'pt' });
    assert.deepEqual(classifyReference(`${BASE}/Patient/pt`, BASE), { kind: 'local', type: 'Patient', id: 'pt' });
    assert.deepEqual(classifyReference('Observation/o1/_history/2', BASE), { kind: 'local', type: 'Observation', id: 'o1', versionId: 2 });
    assert.deepEqual(classifyReference('https://other.example/fhir/Patient/pt', BASE), { kind: 'external' });
    for (const ref of ['urn:uuid:8c5b3d1e-2f4a-4b6c-9d0e-1f2a3b4c5d6e', 'Patient?identifier=x|1', 'Unknown/1', 'Observation/o1/_history/x']) {
      assert.equal(classifyReference(ref, BASE).kind, 'unresolvable', ref);
    }
  });

  it('frames a document: Composition first, absolute fullUrls, urn:uuid identifier, timestamp; it passes the document rules', () => {
    const b = documentBundle([composition(), patient], { baseUrl: BASE, now: NOW, uuid: uuidOf('id-1') });
    assert.equal(b.type, 'document');
    assert.deepEqual(b.identifier?.system, 'urn:ietf:rfc:3986');
    assert.match(b.identifier?.value ?? '', /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(b.timestamp, '2026-03-14T04:30:00.000Z');
    assert.deepEqual(b.entry?.map((e) => e.fullUrl), [`${BASE}/Composition/c1`, `${BASE}/Patient/pt`]);
    assert.ok(b.entry?.every((e) => !('search' in e) && !('request' in e)) && !('total' in b));
  });

  it('uuidOf keeps a UUID, and makes a valid, repeatable one of any other id', () => {
    assert.equal(uuidOf('8C5B3D1E-2F4A-4B6C-9D0E-1F2A3B4C5D6E'), '8c5b3d1e-2f4a-4b6c-9d0e-1f2a3b4c5d6e');
    assert.equal(uuidOf('id-7'), uuidOf('id-7'));
    assert.notEqual(uuidOf('id-7'), uuidOf('id-8'));
  });

  it('bounds: resources first, then bytes', () => {
    assert.equal(exceededBound(3, 10, { maxResources: 3, maxBytes: 10 }), undefined);
    assert.equal(exceededBound(4, 10, { maxResources: 3, maxBytes: 10 }), 'more than 3 resources');
    assert.equal(exceededBound(3, 11, { maxResources: 3, maxBytes: 10 }), 'more than 10 bytes');
  });

  it('a stored document answers for its Composition only while that says the same (ids, meta, references and narrative links aside)', () => {
    const entry = composition({ id: 'e1', subject: { reference: 'urn:uuid:p' }, text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><a href="urn:uuid:p">Asha</a></div>' } });
    const doc: Bundle = { resourceType: 'Bundle', type: 'document', entry: [{ fullUrl: 'urn:uuid:c', resource: entry }] };
    const copy = composition({ meta: { source: 'Bundle/b1', versionId: '3' }, text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><a href="Patient/pt">Asha</a></div>' } });
    assert.equal(isDocumentOf(doc, copy), true);
    assert.equal(isDocumentOf(doc, { ...copy, title: 'Changed' }), false);
    assert.equal(isDocumentOf({ ...doc, type: 'collection' } as Bundle, copy), false);
    assert.equal(sourceDocumentId(copy), 'b1');
    assert.equal(sourceDocumentId({ ...copy, meta: { source: `${BASE}/Bundle/b1` } }, BASE), 'b1');
    assert.equal(sourceDocumentId({ ...copy, meta: { source: 'https://other.example/fhir/Bundle/b1' } }, BASE), undefined);
    assert.equal(sourceDocumentId({ ...copy, meta: { source: '#abc' } }, BASE), undefined);
  });

  it('the document rules resolve version-specific references by meta.versionId (bundle.html#references)', () => {
    const c = composition({ section: [{ title: 'R', entry: [{ reference: 'Patient/pt/_history/1' }] }], author: [{ reference: `${BASE}/Patient/pt/_history/1` }] });
    delete c.custodian;
    const doc = documentBundle([c, stored({ resourceType: 'Patient', id: 'pt' } as Resource)], { baseUrl: BASE, now: NOW, uuid: uuidOf('x') });
    checkDocument(doc);
    (c.section as NonNullable<Composition['section']>)[0].entry = [{ reference: 'Patient/pt/_history/2' }];
    assert.throws(() => checkDocument(doc), /does not resolve inside the document/);
  });
});

describe('$document, the reads: assembleDocument and storedDocumentOf over any StoreReader (bundle/assemble-document.ts)', () => {
  it('includes what the Composition refers to and, transitively, what those refer to: each once, breadth-first, cycles ending', async () => {
    const o1 = obs('o1', { specimen: { reference: 'Specimen/sp' }, hasMember: [{ reference: 'Observation/o2' }] });
    const o2 = obs('o2', { hasMember: [{ reference: 'Observation/o1' }] });
    const store = reader([patient, org, practitioner, specimen, o1, o2, report]);
    const doc = await assembleDocument(store, composition(), opts);
    assert.deepEqual(keys(doc), [
      'Composition/c1', 'Patient/pt', 'Practitioner/dr', 'Organization/org', 'DiagnosticReport/dr1', 'Specimen/sp', 'Observation/o1', 'Observation/o2',
    ]);
    assert.equal(new Set(store.reads).size, store.reads.length, 'nothing is read twice');
    checkDocument(doc);
    assert.equal(doc.entry?.[4].resource, report, 'stored versions as they are, never rewritten');
  });

  it('follows every place a Composition refers from: nested sections, section.author and focus, attester, relatesTo, event.detail, encounter', async () => {
    const more: Resource[] = [
      stored({ resourceType: 'Encounter', id: 'enc', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/pt' } } as Resource),
      stored({ resourceType: 'Composition', id: 'c0', status: 'final', type: { text: 'x' }, date: '2026-01-01', title: 'Old', author: [{ reference: 'Practitioner/dr' }] } as Resource),
      stored({ resourceType: 'Procedure', id: 'proc', status: 'completed', subject: { reference: 'Patient/pt' } } as Resource),
      stored({ resourceType: 'Condition', id: 'cond', subject: { reference: 'Patient/pt' } } as Resource),
      stored({ resourceType: 'PractitionerRole', id: 'role' } as Resource),
    ];
    const c = composition({
      encounter: { reference: 'Encounter/enc' },
      attester: [{ mode: 'legal', party: { reference: 'PractitionerRole/role' } }],
      relatesTo: [{ code: 'replaces', targetReference: { reference: 'Composition/c0' } }],
      event: [{ detail: [{ reference: 'Procedure/proc' }] }],
      section: [{ title: 'Outer', author: [{ reference: 'Practitioner/dr' }], focus: { reference: 'Patient/pt' }, section: [{ title: 'Inner', entry: [{ reference: 'Condition/cond' }] }] }],
    });
    const doc = await assembleDocument(reader([...everything(), ...more]), c, opts);
    for (const key of ['Encounter/enc', 'PractitionerRole/role', 'Composition/c0', 'Procedure/proc', 'Condition/cond']) assert.ok(keys(doc).includes(key), key);
    checkDocument(doc);
  });

  it('a version-specific reference includes that version; needing two versions of one resource is refused', async () => {
    const v1 = obs('o9');
    const v2 = { ...obs('o9'), meta: { versionId: '2' }, status: 'amended' } as Resource;
    const one = composition({ section: [{ title: 'R', entry: [{ reference: 'Observation/o9/_history/1' }] }] });
    const doc = await assembleDocument(reader([...everything(), v1, v2]), one, opts);
    assert.equal((doc.entry?.find((e) => e.resource?.id === 'o9')?.resource as unknown as { status: string }).status, 'final');
    checkDocument(doc);
    const two = composition({ section: [{ title: 'R', entry: [{ reference: 'Observation/o9' }, { reference: 'Observation/o9/_history/1' }] }] });
    await refused(assembleDocument(reader([...everything(), v1, v2]), two, opts), 'not-supported', /version 1 of Observation\/o9/);
  });

  it('a whole document or an error: a missing or deleted target is 404 naming where it is referred from; nothing is left out', async () => {
    const missing = composition({ section: [{ title: 'R', entry: [{ reference: 'DiagnosticReport/dr1' }, { reference: 'Observation/gone' }] }] });
    const e1 = await refused(assembleDocument(reader(everything()), missing, opts), 'not-found', /Composition\/c1 refers to 'Observation\/gone'/);
    assert.deepEqual(e1.issues[0].expression, ['Composition.section[0].entry[1].reference']);
    const e2 = await refused(assembleDocument(reader(everything(), ['Specimen/sp']), composition(), opts), 'not-found', /DiagnosticReport\/dr1 refers to 'Specimen\/sp' and it was deleted/);
    assert.deepEqual(e2.issues[0].expression, ['DiagnosticReport.specimen[0].reference']);
  });

  it('another server\'s resources are not fetched (400 not-supported); unresolvable references are 404', async () => {
    const external = composition({ author: [{ reference: 'https://other.example/fhir/Practitioner/9' }] });
    await refused(assembleDocument(reader(everything()), external, opts), 'not-supported', /on another server/);
    const urn = composition({ author: [{ reference: 'urn:uuid:8c5b3d1e-2f4a-4b6c-9d0e-1f2a3b4c5d6e' }] });
    await refused(assembleDocument(reader(everything()), urn, opts), 'not-found', /no stored resource can answer/);
  });

  it('is bounded: past the resource bound or the byte bound it stops with too-costly naming the bound', async () => {
    await refused(assembleDocument(reader(everything()), composition(), { ...opts, bounds: { maxResources: 3 } }), 'too-costly', /more than 3 resources/);
    await refused(assembleDocument(reader(everything()), composition(), { ...opts, bounds: { maxBytes: 600 } }), 'too-costly', /more than 600 bytes/);
    assert.equal(keys(await assembleDocument(reader(everything()), composition(), { ...opts, bounds: { maxResources: 8 } })).length, 8);
  });

  it('asks mayRead about each type before reading anything of it, and stops at its refusal', async () => {
    const store = reader(everything());
    const asked: string[] = [];
    const mayRead = (type: string): void => {
      asked.push(type);
      if (type === 'Specimen') throw new FhirError('forbidden', 'no Specimen scope');
    };
    await refused(assembleDocument(store, composition(), { ...opts, mayRead }), 'forbidden');
    assert.deepEqual(asked, ['Patient', 'Practitioner', 'Organization', 'DiagnosticReport', 'Specimen']);
    assert.ok(!store.reads.includes('Specimen/sp'));
  });

  it('storedDocumentOf: the Bundle its meta.source names, when readable, a document, and of this Composition as it is now', async () => {
    const entry = composition({ id: 'e1', subject: { reference: 'urn:uuid:p' } });
    const doc = stored({ resourceType: 'Bundle', id: 'b1', type: 'document', entry: [{ fullUrl: 'urn:uuid:c', resource: entry }] } as Bundle);
    const copy = composition({ meta: { source: 'Bundle/b1' } });
    assert.equal((await storedDocumentOf(reader([doc]), copy))?.id, 'b1');
    assert.equal(await storedDocumentOf(reader([]), copy), undefined, 'not readable, or gone');
    assert.equal(await storedDocumentOf(reader([doc]), { ...copy, status: 'amended' }), undefined, 'changed since');
    assert.equal(await storedDocumentOf(reader([doc]), composition()), undefined, 'no source');
  });
});
