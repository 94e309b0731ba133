import type { Context } from 'mocha';
import { mongoTarget, stopBridge, type MongoTarget } from './mongo';

/**
 * Root hooks of `npm run test:mongo`: the API suite, unchanged, on the MongoDB store. Every app
 * the suite creates gets a fresh database (test/helpers/deps.ts). On an engine without
 * transactions (the wire bridge) the tests that prove a failed transaction or write keeps
 * nothing are skipped, by title, because that engine cannot roll back; against a replica set
 * (MONGO_URL) they all run.
 */
export const NEEDS_TRANSACTIONS: readonly string[] = [
  'Bounded memory: batch and transaction responses have a byte budget (MAX_RESPONSE_BYTES, bundle.html#batch-response) a transaction whose reads overflow the budget is refused whole (413) and writes nothing',
  'REST: batch and transaction Bundles (http.html#transaction, bundle.html#transaction) transaction any failing entry rolls back every other: stale ifMatch (412)',
];

let target: MongoTarget | undefined;
const seen = new Set<string>();

export const mochaHooks = {
  async beforeAll(this: Context): Promise<void> {
    this.timeout(60_000);
    const found = await mongoTarget();
    if (typeof found === 'string') {
      console.log(found);
      this.skip();
    }
    target = found;
    process.env.TEST_STORE = 'mongodb';
    console.log(`API suite on the MongoDB store: ${target.label}`);
    if (!target.transactions) console.log(`${NEEDS_TRANSACTIONS.length} test(s) of transaction rollback skipped: this engine has no transactions (set MONGO_URL to a replica set to run them)`);
  },
  beforeEach(this: Context): void {
    const title = this.currentTest?.fullTitle() ?? '';
    seen.add(title);
    if (target && !target.transactions && NEEDS_TRANSACTIONS.includes(title)) {
      this.skip(); // rolls back a failed unit of work: needs a replica set (README: running the full suite)
    }
  },
  afterAll(): void {
    // A renamed test would silently leave this list: say so, so that the list is kept true.
    const stale = NEEDS_TRANSACTIONS.filter((t) => !seen.has(t));
    if (target && stale.length > 0) console.warn(`NEEDS_TRANSACTIONS names tests that did not run: ${stale.join('; ')}`);
    stopBridge();
  },
};
