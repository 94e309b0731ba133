import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { databaseOf, MongoStore } from '../../src/storage/mongo/mongo-store';
import type { StoreDeps } from '../../src/storage/store';
import { counterIds, TestClock } from '../helpers/clock';
import { testIndex } from '../helpers/search';
import { mongoTarget, openMongoTestStore, type MongoTarget } from '../support/mongo';
import { storeContract } from './contract';

/**
 * The store contract against MongoDB: a real deployment when MONGO_URL is set, else the tests'
 * wire-protocol bridge. The bridge has no transactions, so the contract's atomicity tests run only
 * against a replica set or sharded cluster (see README: running the full suite).
 */
let t: MongoTarget | undefined;

describe('MongoDB store', function () {
  before(async function () {
    this.timeout(60_000);
    const found = await mongoTarget();
    if (typeof found === 'string') {
      console.log(`      ${found}`);
      this.skip();
    }
    t = found;
  });

  storeContract('MongoDB', async (deps) => openMongoTestStore(t as MongoTarget, deps), { transactions: () => t?.transactions === true });

  describe('start-up', () => {
    it('creates its indexes idempotently: starting twice on one database changes nothing', async () => {
      const clock = new TestClock();
      const deps: StoreDeps = { now: clock.now, newId: counterIds().newId, index: (r) => testIndex().index(r) };
      const first = openMongoTestStore(t as MongoTarget, deps);
      await first.start();
      const names = async (s: MongoStore) => (await s.indexNames()).sort();
      const before = await names(first);
      assert.ok(before.includes('live_token') && before.includes('resource_versions'), before.join(', '));
      await first.start();
      const second = new MongoStore({ url: (t as MongoTarget).url, database: first.database, testEngineWithoutTransactions: !(t as MongoTarget).transactions }, deps);
      await second.start();
      assert.deepEqual(await names(second), before);
      await second.close();
      await first.close();
    });

    it('refuses a deployment without transactions, naming MONGO_URL', async function () {
      if ((t as MongoTarget).transactions) this.skip(); // this target has transactions; the refusal needs one without
      const clock = new TestClock();
      const store = new MongoStore({ url: (t as MongoTarget).url, database: 'fhir_refused' }, { now: clock.now, newId: counterIds().newId, index: (r) => testIndex().index(r) });
      await assert.rejects(store.start(), /MONGO_URL .*without transactions.*replica set/);
      await assert.rejects(store.read('Patient', 'x'), /MONGO_URL/);
      await store.close();
    });
  });
});

/** The server as a process: STORE=mongodb on a deployment without transactions does not start. */
describe('process: MongoDB store at start-up', function () {
  this.timeout(60_000);
  it('refuses a deployment without transactions with a message naming MONGO_URL (exit 2)', async function () {
    const found = await mongoTarget();
    if (typeof found === 'string' || found.transactions) this.skip(); // needs an engine without transactions (the bridge)
    const main = path.resolve(__dirname, '../../src/main.js');
    const child = spawn(process.execPath, [main], {
      env: { ...process.env, PORT: '0', STORE: 'mongodb', MONGO_URL: (found as MongoTarget).url }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 2);
    assert.match(stderr, /MONGO_URL names a MongoDB deployment without transactions/);
  });

  it('STORE=mongodb without MONGO_URL is a configuration error', async () => {
    const child = spawn(process.execPath, [path.resolve(__dirname, '../../src/main.js')], {
      env: { ...process.env, PORT: '0', STORE: 'mongodb', MONGO_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    assert.equal(await new Promise<number | null>((resolve) => child.on('exit', resolve)), 2);
    assert.match(stderr, /MONGO_URL/);
  });
});

describe('MongoDB store: the database a connection string names', () => {
  it('is its path, or fhir without one', () => {
    assert.equal(databaseOf('mongodb://a:27017,b:27017/health?replicaSet=rs0'), 'health');
    assert.equal(databaseOf('mongodb+srv://cluster.example.in/state%5Fdb'), 'state_db');
    assert.equal(databaseOf('mongodb://a:27017/?replicaSet=rs0'), 'fhir');
    assert.equal(databaseOf('mongodb://a:27017'), 'fhir');
  });
});
