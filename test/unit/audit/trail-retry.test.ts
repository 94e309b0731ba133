import { strict as assert } from 'node:assert';
import type { AuditEvent } from 'fhir/r4';
import { GENESIS, readLink } from '../../../src/audit/chain';
import { AuditTrail } from '../../../src/audit/trail';
import { SqliteStore } from '../../../src/storage/sqlite/sqlite-store';
import type { ResourceStore, UnitOfWork } from '../../../src/storage/store';

class Blip extends Error {}

/** A store whose next `failures` units of work fail with an error it calls transient (or not). */
function flaky(failures: number, transient: boolean): { store: ResourceStore; attempts: () => number; close: () => Promise<void> } {
  const inner = new SqliteStore({ dataDir: ':memory:' }, {
    now: () => new Date(), newId: (() => { let n = 0; return () => `a${n++}`; })(),
    index: () => ({ token: [], string: [], date: [], number: [], quantity: [], reference: [], uri: [] }),
  });
  let attempts = 0;
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'isTransient') return (err: unknown) => transient && err instanceof Blip;
      if (prop === 'transact') {
        return async <T>(work: (uow: UnitOfWork) => Promise<T>): Promise<T> => {
          attempts++;
          // The unit runs (and links) before the commit fails, as a lost connection at commit time does.
          return target.transact(async (uow) => {
            const result = await work(uow);
            if (attempts <= failures) throw new Blip('connection lost');
            return result;
          });
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as ResourceStore;
  return { store, attempts: () => attempts, close: () => inner.close() };
}

const event = (): AuditEvent => ({
  resourceType: 'AuditEvent', type: { code: 'rest' }, recorded: '2026-01-01T00:00:00Z',
  agent: [{ requestor: true }], source: { observer: { display: 'gateway' } },
} as AuditEvent);

describe('AuditTrail: a transient store failure is retried, not answered with an error', () => {
  it('a batch whose commit fails twice with a transient error is stored on the third attempt, linked from the genesis once', async () => {
    const f = flaky(2, true);
    try {
      const trail = new AuditTrail(f.store);
      await trail.record([event()]);
      assert.equal(f.attempts(), 3);
      const stored = (await f.store.history({ type: 'AuditEvent', count: 10 })).versions;
      assert.equal(stored.length, 1, 'the failed attempts left nothing');
      const link = readLink(stored[0].resource as AuditEvent);
      assert.equal(link?.sequence, 1, 'a retry links from the same point');
      assert.equal(link?.previous, GENESIS);
    } finally {
      await f.close();
    }
  });

  it('an error the store does not call transient fails the batch at once', async () => {
    const f = flaky(1, false);
    try {
      const trail = new AuditTrail(f.store);
      await assert.rejects(trail.record([event()]), /connection lost/);
      assert.equal(f.attempts(), 1);
    } finally {
      await f.close();
    }
  });
});
