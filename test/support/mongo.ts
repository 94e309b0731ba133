import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { openStore } from '../../src/storage';
import { MongoStore } from '../../src/storage/mongo/mongo-store';
import { transactionProblem } from '../../src/storage/mongo/schema';
import type { StoreDeps } from '../../src/storage/store';

/**
 * Where the MongoDB tests run. With MONGO_URL set: that deployment (a real replica set runs the
 * transaction tests too). Otherwise the wire-protocol bridge (mongo-bridge.py: MockupDB in front
 * of mongomock) when Debian's python3 has both packages; otherwise nowhere, and the suites skip.
 */
export interface MongoTarget {
  url: string;
  /** A real deployment with transactions; false for the bridge (and a standalone server). */
  transactions: boolean;
  label: string;
}

const PYTHON = '/usr/bin/python3';
const BRIDGE = path.resolve(__dirname, '../../../test/support/mongo-bridge.py');

let target: Promise<MongoTarget | string> | undefined;
let resolved: MongoTarget | undefined;
let bridge: ChildProcess | undefined;

function bridgeProblem(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import mockupdb, mongomock'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return `MongoDB tests skipped: no MONGO_URL, and ${PYTHON} cannot import mockupdb and mongomock (apt-get install python3-mockupdb python3-mongomock)`;
  }
  return undefined;
}

function startBridge(): Promise<MongoTarget> {
  return new Promise((resolve, reject) => {
    // The bridge exits when its stdin closes, so it never outlives this process.
    const child = spawn(PYTHON, [BRIDGE], { stdio: ['pipe', 'pipe', 'inherit'] });
    bridge = child;
    let out = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the MongoDB wire bridge exited (${String(code)}) before listening`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /listening (\d+)/.exec(out);
      if (!m) return;
      child.removeAllListeners('exit');
      child.unref();
      (child.stdout as unknown as { unref(): void }).unref();
      (child.stdin as unknown as { unref(): void }).unref();
      resolve({ url: `mongodb://127.0.0.1:${m[1]}/?directConnection=true`, transactions: false, label: 'wire bridge (mongomock), no transactions' });
    });
  });
}

async function realTarget(url: string): Promise<MongoTarget> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
  try {
    const hello = await client.db('admin').command({ hello: 1 });
    const transactions = transactionProblem(hello) === undefined;
    return { url, transactions, label: transactions ? `MONGO_URL (${String(hello.setName ?? 'mongos')})` : 'MONGO_URL (standalone, no transactions)' };
  } finally {
    await client.close();
  }
}

/** The target of this test run, or the reason there is none (a message for the skipped suites). */
export function mongoTarget(): Promise<MongoTarget | string> {
  target ??= (async () => {
    const url = process.env.MONGO_URL;
    const found = url ? await realTarget(url) : bridgeProblem() ?? await startBridge();
    if (typeof found !== 'string') resolved = found;
    return found;
  })();
  return target;
}

/** The target found by an earlier mongoTarget(); for synchronous openers such as testDeps. */
export function resolvedMongoTarget(): MongoTarget {
  if (!resolved) throw new Error('no MongoDB target: await mongoTarget() first (a root hook does for test:mongo)');
  return resolved;
}

let databases = 0;

/** A store on a fresh database of the target, dropped again when the store is closed. */
export function openMongoTestStore(t: MongoTarget, deps: StoreDeps): MongoStore {
  const database = `fhir_test_${process.pid}_${++databases}`;
  const store = openStore({ kind: 'mongodb', url: t.url, database, testEngineWithoutTransactions: !t.transactions }, deps) as MongoStore;
  const close = store.close.bind(store);
  store.close = async () => {
    await store.drop();
    await close();
  };
  return store;
}

/** Stops the bridge, if this process started one. */
export function stopBridge(): void {
  bridge?.stdin?.end();
  bridge = undefined;
}
