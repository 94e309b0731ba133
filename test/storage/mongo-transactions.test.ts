import { strict as assert } from 'node:assert';
import type { Patient } from 'fhir/r4';
import { FhirError } from '../../src/fhir/errors';
import { parseSearch } from '../../src/search/parse';
import { conditionalQuery, findMatch } from '../../src/storage/conditional';
import { MongoStore } from '../../src/storage/mongo/mongo-store';
import type { StoreDeps } from '../../src/storage/store';
import { counterIds, TestClock } from '../helpers/clock';
import { testIndex, testSearchParameters } from '../helpers/search';
import { mongoTarget, openMongoTestStore, type MongoTarget } from '../support/mongo';

/**
 * What only a deployment with transactions can show: units of work of two separate clients (two
 * gateway processes, no shared lock) on one database. Runs when MONGO_URL names a replica set or
 * a sharded cluster (README: running the full suite); skipped on the wire bridge, which has none.
 */
describe('MongoDB store: transactions across clients (replica set only)', function () {
  this.timeout(120_000);
  let t: MongoTarget;
  let a: MongoStore;
  let b: MongoStore;
  const clock = new TestClock();
  const deps = (prefix: string): StoreDeps => ({ now: clock.now, newId: counterIds(prefix).newId, index: (r) => testIndex().index(r) });
  const patient = (extra: Partial<Patient> = {}): Patient => ({ resourceType: 'Patient', active: true, ...extra });

  before(async function () {
    const found = await mongoTarget();
    if (typeof found === 'string' || !found.transactions) {
      console.log('      needs MONGO_URL of a replica set or sharded cluster: the wire bridge has no transactions');
      this.skip();
    }
    t = found as MongoTarget;
  });
  beforeEach(async () => {
    a = openMongoTestStore(t, deps('a'));
    // A second client on the same database, as a second gateway process would be.
    b = new MongoStore({ url: t.url, database: a.database }, deps('b'));
    await Promise.all([a.start(), b.start()]);
  });
  afterEach(async () => {
    await b.close();
    await a.close();
  });

  it('concurrent updates from two clients: versions 1..n without gaps or duplicates', async () => {
    const v1 = await a.transact((uow) => uow.create(patient()));
    await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).transact((uow) =>
      uow.update({ ...(v1.resource as Patient), id: v1.id, birthDate: `19${String(60 + i)}-01-01` } as Patient & { id: string }))));
    const page = await a.history({ type: 'Patient', id: v1.id, count: 100 });
    assert.deepEqual(page.versions.map((v) => v.versionId), Array.from({ length: 17 }, (_, i) => 17 - i));
    assert.equal((await b.read('Patient', v1.id))?.versionId, 17);
  });

  it('update-as-create of one id from two clients at once: one creates, the other writes version 2', async () => {
    const results = await Promise.all([a, b].map((s) => s.transact((uow) => uow.update(patient({ id: 'same' }) as Patient & { id: string }))));
    assert.deepEqual(results.map((r) => r.created).sort(), [false, true]);
    assert.deepEqual(results.map((r) => r.version.versionId).sort(), [1, 2]);
  });

  it('conditional creates with the same criteria from two clients at once create one resource (http.html#ccreate)', async () => {
    const criteria = conditionalQuery(testSearchParameters(), 'Patient', new URLSearchParams('identifier=urn:abha|91-1'), 'http://x/fhir');
    const conditionalCreate = (s: MongoStore) => s.transact(async (uow) => {
      const found = await findMatch(uow, criteria);
      if (found.kind === 'none') return (await uow.create(patient({ identifier: [{ system: 'urn:abha', value: '91-1' }] }))).id;
      if (found.kind === 'one') return found.match.id;
      throw new Error('more than one');
    });
    const ids = await Promise.all([a, b, a, b].map(conditionalCreate));
    assert.equal(new Set(ids).size, 1, `one resource for all four, got ${ids.join(', ')}`);
    assert.equal((await a.history({ type: 'Patient', count: 10 })).versions.length, 1);
  });

  it('a failed unit of work leaves nothing, also not in the search index, for either client', async () => {
    const v1 = await a.transact((uow) => uow.create(patient({ identifier: [{ system: 'urn:x', value: 'kept' }] })));
    await assert.rejects(a.transact(async (uow) => {
      await uow.create(patient({ identifier: [{ system: 'urn:x', value: 'ghost' }] }));
      await uow.update({ ...(v1.resource as Patient), id: v1.id, active: false } as Patient & { id: string });
      throw new FhirError('conflict', 'rolled back on purpose');
    }), /on purpose/);
    const search = async (q: string) => (await b.search(parseSearch(testSearchParameters(), ['Patient'], new URLSearchParams(q),
      { strict: true, defaultCount: 10, maxCount: 10, base: 'http://x/fhir' }).query)).versions.map((v) => v.id);
    assert.deepEqual(await search('identifier=ghost'), []);
    assert.deepEqual(await search('identifier=kept'), [v1.id]);
    assert.equal((await b.read('Patient', v1.id))?.versionId, 1);
    assert.equal((await b.history({ count: 10 })).versions.length, 1);
  });

  it('another client never sees a unit of work before it commits, and sees all of it after', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let id = '';
    const tx = a.transact(async (uow) => {
      id = (await uow.create(patient())).id;
      await uow.create(patient({ gender: 'male' }));
      await gate;
    });
    while (!id) await new Promise((r) => setTimeout(r, 5));
    assert.equal(await b.read('Patient', id), undefined);
    release();
    await tx;
    assert.equal((await b.read('Patient', id))?.versionId, 1);
    assert.equal((await b.history({ type: 'Patient', count: 10 })).versions.length, 2);
  });
});
