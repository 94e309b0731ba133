import { strict as assert } from 'node:assert';
import { parseSearch } from '../../src/search/parse';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store';
import type { ResourceStore, SearchPage, StoreDeps } from '../../src/storage/store';
import { counterIds, TestClock } from '../helpers/clock';
import { testIndex, testSearchParameters } from '../helpers/search';
import { mongoTarget, openMongoTestStore, type MongoTarget } from '../support/mongo';
import { generate, searches, writes } from './differential-data';

/**
 * Differential check: the same generated dataset, loaded the same way into the SQLite store and
 * the MongoDB store, answers the same few hundred generated searches with the same ids, in the
 * same order, with the same totals and next-page flags, and the same _include/_revinclude targets.
 */
const SEED = 20261130;
const SEARCHES = 300;

async function load(store: ResourceStore, clock: TestClock, seed: number): Promise<void> {
  for (const w of writes(generate(seed), seed)) {
    clock.advance(60_000);
    await store.transact(async (uow) => {
      if (w.kind === 'put') await uow.update(w.resource);
      else await uow.delete(w.type, w.id);
    });
  }
}

const summary = (page: SearchPage) => ({ ids: page.versions.map((v) => `${v.type}/${v.id}/${v.versionId}`), hasMore: page.hasMore, total: page.total });

describe('differential: SQLite and MongoDB give the same answers', function () {
  this.timeout(180_000);
  let sqlite: ResourceStore;
  let mongo: ResourceStore;
  const clock = new TestClock();
  const deps = (): StoreDeps => ({ now: clock.now, newId: counterIds('d').newId, index: (r) => testIndex().index(r) });

  before(async function () {
    const found = await mongoTarget();
    if (typeof found === 'string') {
      console.log(`      ${found}`);
      this.skip();
    }
    const start = clock.ms;
    sqlite = new SqliteStore({ dataDir: ':memory:' }, deps());
    await load(sqlite, clock, SEED);
    clock.ms = start; // the same timestamps for the same writes
    mongo = openMongoTestStore(found as MongoTarget, deps());
    await load(mongo, clock, SEED);
  });
  after(async () => {
    await sqlite?.close();
    await mongo?.close();
  });

  it(`${SEARCHES} generated searches: same ids in the same order, same totals`, async () => {
    const data = generate(SEED);
    const differences: string[] = [];
    let nonEmpty = 0;
    for (const [type, query] of searches(data, SEED, SEARCHES)) {
      const parsed = parseSearch(testSearchParameters(), [type], new URLSearchParams(query), { strict: true, defaultCount: 20, maxCount: 100, base: 'http://x/fhir' });
      const [a, b] = [await sqlite.search(parsed.query), await mongo.search(parsed.query)];
      if (a.versions.length > 0) nonEmpty++;
      try {
        assert.deepEqual(summary(b), summary(a));
      } catch {
        differences.push(`${type}?${query}\n  sqlite ${JSON.stringify(summary(a))}\n  mongo  ${JSON.stringify(summary(b))}`);
      }
    }
    assert.deepEqual(differences, [], `${differences.length} of ${SEARCHES} searches differ:\n${differences.slice(0, 10).join('\n')}`);
    // A comparison of empty answers proves little: most searches must find something.
    assert.ok(nonEmpty > SEARCHES / 2, `only ${nonEmpty} of ${SEARCHES} searches found anything`);
  });

  it('_include and _revinclude targets are the same', async () => {
    const observations = (await sqlite.search({ types: ['Observation'], where: [], sort: [], count: 100, offset: 0, total: 'none' })).versions;
    const patients = (await sqlite.search({ types: ['Patient'], where: [], sort: [], count: 100, offset: 0, total: 'none' })).versions;
    const keys = (vs: { type: string; id: string }[]) => vs.map((v) => `${v.type}/${v.id}`);
    const included = async (s: ResourceStore) => keys(await s.referencedBy(observations, ['Observation.subject', 'Observation.encounter']));
    const revincluded = async (s: ResourceStore) => keys(await s.referencing(patients, ['Observation.subject', 'Encounter.subject']));
    const targeted = async (s: ResourceStore) => keys(await s.referencedBy(observations, ['Observation.subject', 'Observation.encounter'], 'Encounter'));
    assert.ok((await included(sqlite)).length > 10);
    assert.deepEqual((await included(mongo)).sort(), (await included(sqlite)).sort());
    assert.deepEqual((await revincluded(mongo)).sort(), (await revincluded(sqlite)).sort());
    assert.deepEqual((await targeted(mongo)).sort(), (await targeted(sqlite)).sort());
  });

  it('history is the same, page by page', async () => {
    const pages = async (s: ResourceStore, type?: string) => {
      const out: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await s.history({ type, count: 37, cursor });
        out.push(...page.versions.map((v) => `${v.type}/${v.id}/${v.versionId}/${v.method}`));
        cursor = page.nextCursor;
      } while (cursor);
      return out;
    };
    const all = await pages(sqlite);
    assert.ok(all.length > 250);
    assert.deepEqual(await pages(mongo), all);
    assert.deepEqual(await pages(mongo, 'Patient'), await pages(sqlite, 'Patient'));
  });
});
