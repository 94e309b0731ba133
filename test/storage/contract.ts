import { strict as assert } from 'node:assert';
import type { Patient, Resource } from 'fhir/r4';
import { FhirError } from '../../src/fhir/errors';
import type { ResourceStore, StoreDeps } from '../../src/storage/store';
import { counterIds, TestClock } from '../helpers/clock';
import { testIndex, testSearchParameters } from '../helpers/search';
import { parseSearch } from '../../src/search/parse';
import type { Condition } from '../../src/search/query';

export interface ContractOptions {
  /**
   * Whether the store runs real transactions here (asked when the tests run). A test engine
   * without them (the MongoDB wire bridge) skips the tests of atomicity and isolation, which it
   * cannot pass and must not pretend to.
   */
  transactions?: () => boolean;
}

/**
 * The storage contract, proved once and run unchanged against every backend.
 * `open` returns a fresh, empty store using the given clock and ids.
 */
export function storeContract(name: string, open: (deps: StoreDeps) => Promise<ResourceStore>, options: ContractOptions = {}): void {
  describe(`store contract: ${name}`, () => {
    /** A test that needs all-or-nothing units of work and isolation of uncommitted writes. */
    const atomic = (title: string, test: () => Promise<void>): void => {
      it(title, async function () {
        if (options.transactions && !options.transactions()) {
          this.skip(); // no transactions on this engine: atomicity is tested against a real replica set
        }
        await test();
      });
    };

    let store: ResourceStore;
    let clock: TestClock;

    beforeEach(async () => {
      clock = new TestClock();
      store = await open({ now: clock.now, newId: counterIds('p').newId, index: (r) => testIndex().index(r) });
    });
    afterEach(async () => {
      await store.close();
    });

    const patient = (extra: Partial<Patient> = {}): Patient => ({ resourceType: 'Patient', active: true, ...extra });
    const create = (r: Resource) => store.transact((uow) => uow.create(r));
    const update = <T extends Resource>(r: T & { id: string }, expectedVersion?: number) =>
      store.transact((uow) => uow.update(r, { expectedVersion }));
    const remove = (type: string, id: string) => store.transact((uow) => uow.delete(type, id));

    it('generation(type) moves with every create, update and delete of that type', async () => {
      const g0 = await store.generation('Consent');
      const c = await create({ resourceType: 'Consent', status: 'active' } as Resource);
      const g1 = await store.generation('Consent');
      assert.notEqual(g1, g0, 'create');
      assert.equal(await store.generation('Consent'), g1, 'stable while nothing is written');
      await update({ ...(c.resource as Resource & { id: string }) });
      const g2 = await store.generation('Consent');
      assert.notEqual(g2, g1, 'update');
      await remove('Consent', c.id);
      const g3 = await store.generation('Consent');
      assert.notEqual(g3, g2, 'delete');
      // Several writes in one millisecond (the test clock stands still) each move it.
      await create({ resourceType: 'Consent', status: 'active' } as Resource);
      const g4 = await store.generation('Consent');
      await create({ resourceType: 'Consent', status: 'active' } as Resource);
      assert.notEqual(await store.generation('Consent'), g4, 'a second write in the same millisecond');
    });

    it('create assigns a fresh id and version 1, and stamps meta', async () => {
      const v = await create(patient({ id: 'ignored', meta: { profile: ['http://example.org/p'] } }));
      assert.equal(v.id, 'p-1');
      assert.equal(v.versionId, 1);
      assert.equal(v.lastUpdated, clock.now().toISOString());
      assert.deepEqual(v.resource.meta, { profile: ['http://example.org/p'], versionId: '1', lastUpdated: v.lastUpdated });
      const read = await store.read('Patient', 'p-1');
      assert.deepEqual(read?.resource, v.resource);
      assert.equal(read?.deleted, false);
      assert.equal(read?.method, 'POST');
    });

    it('create with a caller-drawn id uses it, and never overwrites an existing or deleted resource', async () => {
      const v = await store.transact((uow) => uow.create(patient(), { id: 'drawn-1' }));
      assert.equal(v.id, 'drawn-1');
      assert.equal(v.versionId, 1);
      await assert.rejects(store.transact((uow) => uow.create(patient({ active: false }), { id: 'drawn-1' })), FhirError);
      await remove('Patient', 'drawn-1');
      await assert.rejects(store.transact((uow) => uow.create(patient({ active: false }), { id: 'drawn-1' })), FhirError);
      const current = await store.read('Patient', 'drawn-1');
      assert.equal(current?.deleted, true);
      assert.equal(current?.versionId, 2);
    });

    it('read of an unknown resource is undefined, also for another type with the same id', async () => {
      await create(patient());
      assert.equal(await store.read('Patient', 'nope'), undefined);
      assert.equal(await store.read('Observation', 'p-1'), undefined);
    });

    it('update numbers versions without gaps and keeps every old version', async () => {
      const v1 = await create(patient({ gender: 'male' }));
      clock.advance(1000);
      const { version: v2, created } = await update({ ...v1.resource, id: v1.id, gender: 'female' } as Patient & { id: string });
      assert.equal(created, false);
      assert.equal(v2.versionId, 2);
      assert.equal((await store.vread('Patient', v1.id, 1))?.resource && ((await store.vread('Patient', v1.id, 1))?.resource as Patient).gender, 'male');
      assert.equal(((await store.read('Patient', v1.id))?.resource as Patient).gender, 'female');
      assert.equal(await store.vread('Patient', v1.id, 3), undefined);
    });

    it('update of an absent id creates it (update as create)', async () => {
      const { version, created } = await update(patient({ id: 'abha-1' }) as Patient & { id: string });
      assert.equal(created, true);
      assert.equal(version.versionId, 1);
      assert.equal(version.method, 'PUT');
    });

    it('a stale expected version is a 412 and changes nothing', async () => {
      const v1 = await create(patient());
      await update({ ...(v1.resource as Patient), id: v1.id });
      await assert.rejects(update({ ...(v1.resource as Patient), id: v1.id, active: false }, 1),
        (e: unknown) => e instanceof FhirError && e.status === 412 && e.issues[0].code === 'conflict');
      assert.equal((await store.read('Patient', v1.id))?.versionId, 2);
      await assert.rejects(update(patient({ id: 'absent' }) as Patient & { id: string }, 1),
        (e: unknown) => e instanceof FhirError && e.status === 412);
      assert.equal(await store.read('Patient', 'absent'), undefined);
    });

    it('delete writes a tombstone version; deleting again or deleting nothing writes nothing', async () => {
      const v1 = await create(patient());
      const tomb = await remove('Patient', v1.id);
      assert.equal(tomb?.versionId, 2);
      assert.equal(tomb?.deleted, true);
      const read = await store.read('Patient', v1.id);
      assert.equal(read?.deleted, true);
      assert.equal(read?.resource, undefined);
      assert.equal(await remove('Patient', v1.id), undefined);
      assert.equal(await remove('Patient', 'never'), undefined);
      assert.equal((await store.read('Patient', v1.id))?.versionId, 2);
      assert.equal((await store.vread('Patient', v1.id, 1))?.deleted, false);
    });

    it('a write after a delete revives the resource with the next version', async () => {
      const v1 = await create(patient());
      await remove('Patient', v1.id);
      const { version, created } = await update({ ...(v1.resource as Patient), id: v1.id });
      assert.equal(created, true);
      assert.equal(version.versionId, 3);
    });

    atomic('a unit of work that throws leaves nothing behind', async () => {
      const v1 = await create(patient());
      await assert.rejects(store.transact(async (uow) => {
        await uow.create(patient({ gender: 'other' }));
        await uow.update({ ...(v1.resource as Patient), id: v1.id, active: false } as Patient & { id: string });
        await uow.delete('Patient', v1.id);
        throw new Error('boom');
      }), /boom/);
      assert.equal(await store.read('Patient', 'p-2'), undefined);
      assert.equal((await store.read('Patient', v1.id))?.versionId, 1);
      assert.equal((await store.history({ count: 10 })).versions.length, 1);
    });

    atomic('reads inside a unit of work see its own writes; reads outside never see uncommitted ones', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => { release = r; });
      let outsideRead: Promise<unknown> | undefined;
      const tx = store.transact(async (uow) => {
        const v = await uow.create(patient());
        assert.equal((await uow.read('Patient', v.id))?.versionId, 1);
        outsideRead = store.read('Patient', v.id);
        await gate;
        throw new Error('rolled back');
      });
      await new Promise((r) => setTimeout(r, 10));
      release();
      await assert.rejects(tx, /rolled back/);
      assert.equal(await outsideRead, undefined);
    });

    it('concurrent updates of one resource are serialised: versions 1..n without gaps', async () => {
      const v1 = await create(patient());
      await Promise.all(Array.from({ length: 20 }, (_, i) =>
        update({ ...(v1.resource as Patient), id: v1.id, birthDate: `19${String(50 + i)}-01-01` })));
      const page = await store.history({ type: 'Patient', id: v1.id, count: 100 });
      assert.deepEqual(page.versions.map((v) => v.versionId), Array.from({ length: 21 }, (_, i) => 21 - i));
    });

    it('timestamps of one resource never go backwards, even if the clock does', async () => {
      const v1 = await create(patient());
      clock.advance(-60_000);
      const { version } = await update({ ...(v1.resource as Patient), id: v1.id });
      assert.ok(version.lastUpdated >= v1.lastUpdated);
    });

    it('history: instance, type and system, newest first, with paging', async () => {
      const a = await create(patient());
      clock.advance(1000);
      const o = await create({ resourceType: 'Observation', status: 'final', code: { text: 'x' } } as Resource);
      clock.advance(1000);
      await update({ ...(a.resource as Patient), id: a.id });
      clock.advance(1000);
      await remove('Patient', a.id);
      const instance = await store.history({ type: 'Patient', id: a.id, count: 10 });
      assert.deepEqual(instance.versions.map((v) => [v.versionId, v.method, v.deleted]), [[3, 'DELETE', true], [2, 'PUT', false], [1, 'POST', false]]);
      const type = await store.history({ type: 'Observation', count: 10 });
      assert.deepEqual(type.versions.map((v) => v.id), [o.id]);
      const first = await store.history({ count: 2 });
      assert.equal(first.versions.length, 2);
      assert.ok(first.nextCursor);
      const second = await store.history({ count: 2, cursor: first.nextCursor });
      assert.deepEqual(second.versions.map((v) => `${v.type}/${v.versionId}`), ['Observation/1', 'Patient/1']);
      assert.equal(second.nextCursor, undefined);
      assert.deepEqual((await store.history({ type: 'Patient', id: 'none', count: 5 })).versions, []);
    });

    it('history _since and _at select by time', async () => {
      const t0 = clock.ms;
      const a = await create(patient());
      clock.advance(10_000);
      await update({ ...(a.resource as Patient), id: a.id, gender: 'male' });
      clock.advance(10_000);
      await update({ ...(a.resource as Patient), id: a.id, gender: 'female' });
      const since = await store.history({ id: a.id, type: 'Patient', sinceMs: t0 + 5_000, count: 10 });
      assert.deepEqual(since.versions.map((v) => v.versionId), [3, 2]);
      const at = await store.history({ id: a.id, type: 'Patient', at: { startMs: t0 + 5_000, endMs: t0 + 5_001 }, count: 10 });
      assert.deepEqual(at.versions.map((v) => v.versionId), [1]);
      const span = await store.history({ id: a.id, type: 'Patient', at: { startMs: t0 + 5_000, endMs: t0 + 15_000 }, count: 10 });
      assert.deepEqual(span.versions.map((v) => v.versionId), [2, 1]);
    });

    const search = async (type: string, query: string, extra: Partial<{ count: number }> = {}) => {
      const parsed = parseSearch(testSearchParameters(), [type], new URLSearchParams(query), { strict: true, defaultCount: 50, maxCount: 100, base: 'http://x/fhir' });
      const page = await store.search({ ...parsed.query, ...extra });
      return page.versions.map((v) => v.id);
    };

    it('deferIndex: a resource indexed later is still found by the very next search, inside and outside a unit of work', async () => {
      const event = (site: string) => ({ resourceType: 'AuditEvent', recorded: '2026-01-01T00:00:00Z', source: { site, observer: { display: 'x' } } }) as unknown as Resource;
      const a = await store.transact((uow) => uow.create(event('a'), { deferIndex: true }));
      assert.deepEqual(await search('AuditEvent', 'site=a'), [a.id]);
      const b = await store.transact((uow) => uow.create(event('b'), { deferIndex: true }));
      const inside = await store.transact(async (uow) => {
        const parsed = parseSearch(testSearchParameters(), ['AuditEvent'], new URLSearchParams('site=b'), { strict: true, defaultCount: 50, maxCount: 100, base: 'http://x/fhir' });
        return (await uow.search(parsed.query)).versions.map((v) => v.id);
      });
      assert.deepEqual(inside, [b.id]);
      // Updated before the indexer reached it: indexed once, by its new content.
      const c = await store.transact((uow) => uow.create(event('c'), { deferIndex: true }));
      await update({ ...(c.resource as Resource & { id: string }), source: { site: 'c2', observer: { display: 'x' } } } as Resource & { id: string });
      assert.deepEqual(await search('AuditEvent', 'site=c'), []);
      assert.deepEqual(await search('AuditEvent', 'site=c2'), [c.id]);
      assert.deepEqual((await search('AuditEvent', '_count=50')).sort(), [a.id, b.id, c.id].sort());
    });

    it('search finds live resources by _id and identifier, AND of ORs, and keeps the index current', async () => {
      const abha = 'https://healthid.abdm.gov.in';
      const mrn = 'https://hospital.example.in/mrn';
      const a = await create(patient({ identifier: [{ system: abha, value: '91-1234-5678-9012' }, { system: mrn, value: 'M1' }] }));
      const b = await create(patient({ identifier: [{ system: mrn, value: 'M2' }] }));
      assert.deepEqual(await search('Patient', `identifier=${abha}|91-1234-5678-9012`), [a.id]);
      assert.deepEqual(await search('Patient', 'identifier=M2'), [b.id]);
      assert.deepEqual(await search('Patient', `identifier=${mrn}|`), [a.id, b.id]);
      assert.deepEqual(await search('Patient', `identifier=${mrn}|M1,${mrn}|M2`), [a.id, b.id]);
      assert.deepEqual(await search('Patient', `identifier=${mrn}|&identifier=${abha}|`), [a.id]);
      assert.deepEqual(await search('Patient', 'identifier=|M1'), []);
      assert.deepEqual(await search('Patient', `_id=${b.id}`), [b.id]);
      assert.deepEqual(await search('Patient', `_id=${b.id}&identifier=M1`), []);
      assert.deepEqual(await search('Observation', 'identifier=M1'), []);
      await update({ ...(b.resource as Patient), id: b.id, identifier: [{ system: mrn, value: 'M3' }] });
      assert.deepEqual(await search('Patient', 'identifier=M2'), []);
      assert.deepEqual(await search('Patient', 'identifier=M3'), [b.id]);
      await remove('Patient', b.id);
      assert.deepEqual(await search('Patient', 'identifier=M3'), []);
      assert.deepEqual(await search('Patient', `_id=${b.id}`), []);
    });

    it('search pages report whether more follow, and an accurate total on request', async () => {
      for (let i = 0; i < 5; i++) await create(patient({ gender: 'female' }));
      const first = await store.search({ ...parseSearch(testSearchParameters(), ['Patient'], new URLSearchParams('gender=female'),
        { strict: true, defaultCount: 2, maxCount: 10, base: 'http://x/fhir' }).query, total: 'accurate' });
      assert.equal(first.versions.length, 2);
      assert.equal(first.hasMore, true);
      assert.equal(first.total, 5);
      assert.deepEqual(await search('Patient', 'gender=female', { count: 10 }), ['p-1', 'p-2', 'p-3', 'p-4', 'p-5']);
    });

    atomic('index rows written in a unit of work that fails are rolled back with it', async () => {
      await assert.rejects(store.transact(async (uow) => {
        await uow.create(patient({ identifier: [{ system: 'urn:x', value: 'ghost' }] }));
        throw new Error('boom');
      }));
      assert.deepEqual(await search('Patient', 'identifier=ghost'), []);
      const v = await create(patient({ identifier: [{ system: 'urn:x', value: 'real' }] }));
      assert.deepEqual(await search('Patient', 'identifier=real'), [v.id]);
    });

    it('a composite matches its components on one base value only (search.html#composite)', async () => {
      const loinc = 'http://loinc.org';
      const bp = (systolic: number, diastolic: number): Resource => ({
        resourceType: 'Observation', status: 'final', code: { coding: [{ system: loinc, code: '85354-9' }] },
        component: [
          { code: { coding: [{ system: loinc, code: '8480-6' }] }, valueQuantity: { value: systolic, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
          { code: { coding: [{ system: loinc, code: '8462-4' }] }, valueQuantity: { value: diastolic, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
        ],
      } as Resource);
      const high = await create(bp(150, 95));
      const normal = await create(bp(118, 76));
      assert.deepEqual(await search('Observation', `component-code-value-quantity=${loinc}|8480-6$gt140`), [high.id]);
      assert.deepEqual(await search('Observation', `component-code-value-quantity=${loinc}|8462-4$lt80`), [normal.id]);
      // 95 is a diastolic value: no systolic component has it, although the resource has both.
      assert.deepEqual(await search('Observation', `component-code-value-quantity=${loinc}|8480-6$95`), []);
      assert.deepEqual(await search('Observation', `component-code-value-quantity=${loinc}|8480-6$gt140,${loinc}|8462-4$lt80`), [high.id, normal.id]);
    });

    it('and, type and empty lists in conditions (access restrictions build them): an empty OR matches nothing, an empty AND everything', async () => {
      const a = await create(patient({ gender: 'female', birthDate: '1990-01-01' }));
      const b = await create(patient({ gender: 'male', birthDate: '1990-01-01' }));
      const o = await create({ resourceType: 'Observation', status: 'final', code: { text: 'x' } } as Resource);
      const where = (types: string[], ...conditions: Condition[]) =>
        store.search({ types, where: conditions, sort: [], count: 10, offset: 0, total: 'none' }).then((p) => p.versions.map((v) => v.id));
      const female = parseSearch(testSearchParameters(), ['Patient'], new URLSearchParams('gender=female'),
        { strict: true, defaultCount: 10, maxCount: 10, base: 'http://x/fhir' }).query.where[0];
      assert.deepEqual(await where(['Patient'], { kind: 'and', all: [female, { kind: 'id', values: [a.id, b.id] }] }), [a.id]);
      assert.deepEqual(await where(['Patient'], { kind: 'or', any: [{ kind: 'and', all: [female] }, { kind: 'id', values: [b.id] }] }), [a.id, b.id]);
      assert.deepEqual(await where(['Patient'], { kind: 'and', all: [] }), [a.id, b.id]);
      assert.deepEqual(await where(['Patient'], { kind: 'or', any: [] }), []);
      assert.deepEqual(await where(['Patient', 'Observation'], { kind: 'type', types: ['Observation'] }), [o.id]);
      assert.deepEqual(await where(['Patient', 'Observation'], { kind: 'type', types: [] }), []);
      assert.deepEqual(await where(['Patient', 'Observation'], { kind: 'or', any: [{ kind: 'type', types: ['Observation'] }, female] }), [a.id, o.id]);
    });

    it('ping answers while open', async () => {
      assert.equal(await store.ping(), true);
    });
  });
}
