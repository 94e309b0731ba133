import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store';
import type { StoreDeps } from '../../src/storage/store';
import { storeContract } from './contract';

storeContract('SQLite in memory', async (deps) => new SqliteStore({ dataDir: ':memory:' }, deps));

const dirs: string[] = [];
storeContract('SQLite on disk (WAL)', async (deps) => new SqliteStore({ dataDir: freshDir() }, deps));
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory for one test, removed after the suite. */
function freshDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fhir-store-'));
  dirs.push(dir);
  return dir;
}

/** Store deps with ids `${prefix}0`, `${prefix}1`, … and no index rows (or those of `index`). */
function plainDeps(prefix: string, index: StoreDeps['index'] = () => ({ token: [], string: [], date: [], number: [], quantity: [], reference: [], uri: [] })): StoreDeps {
  let n = 0;
  return { now: () => new Date(), newId: () => `${prefix}${n++}`, index };
}

describe('SQLite: generation() sees another process write the same file', () => {
  it('a write through a second store on the same directory moves every type\'s token in the first', async () => {
    const dir = freshDir();
    const first = new SqliteStore({ dataDir: dir }, plainDeps('g'));
    const second = new SqliteStore({ dataDir: dir }, plainDeps('h'));
    try {
      const before = await first.generation('Consent');
      await second.transact((uow) => uow.create({ resourceType: 'Consent', status: 'active' } as never));
      const after = await first.generation('Consent');
      if (after === before) throw new Error('a Consent written by another connection left the token unchanged');
    } finally {
      await first.close();
      await second.close();
    }
  });
});

describe('SQLite: deferred index rows survive a crash', () => {
  it('rows left waiting by a process that stopped without closing are written by the next one, before its first search', async () => {
    const dir = freshDir();
    const { Indexer } = await import('../../src/search/extract');
    const { testSearchParameters } = await import('../helpers/search');
    const { parseSearch } = await import('../../src/search/parse');
    const indexer = new Indexer(testSearchParameters());
    const deps = plainDeps('d', (r) => indexer.index(r));
    const crashed = new SqliteStore({ dataDir: dir }, deps);
    const v = await crashed.transact((uow) => uow.create({ resourceType: 'AuditEvent', recorded: '2026-01-01T00:00:00Z', source: { site: 'left', observer: { display: 'x' } } } as never, { deferIndex: true }));
    // No close(): the indexer never ran. The next process finds the row waiting.
    const next = new SqliteStore({ dataDir: dir }, { ...deps, newId: () => 'unused' });
    try {
      const parsed = parseSearch(testSearchParameters(), ['AuditEvent'], new URLSearchParams('site=left'), { strict: true, defaultCount: 50, maxCount: 100, base: 'http://x/fhir' });
      const found = await next.search(parsed.query);
      if (found.versions.map((x) => x.id).join() !== v.id) throw new Error(`expected ${v.id}, found ${found.versions.map((x) => x.id).join()}`);
    } finally {
      await next.close();
      await crashed.close();
    }
  });
});

describe('SQLite: group commit of concurrent units of work', () => {
  it('units asked for together share one commit; one that fails is rolled back alone, and its rollback hook runs then', async () => {
    const dir = freshDir();
    const store = new SqliteStore({ dataDir: dir }, plainDeps('u'));
    const Database = (await import('better-sqlite3')).default;
    const watcher = new Database(path.join(dir, 'fhir.sqlite'), { readonly: true });
    const commits = (): number => Number(watcher.pragma('data_version', { simple: true }));
    try {
      const before = commits();
      const undone: string[] = [];
      const results = await Promise.allSettled([
        store.transact((uow) => uow.create({ resourceType: 'Basic', code: { text: 'a' } } as never)),
        store.transact(async (uow) => {
          uow.onRollback?.(() => undone.push('b'));
          await uow.create({ resourceType: 'Basic', code: { text: 'b' } } as never);
          throw new Error('b fails');
        }),
        store.transact((uow) => uow.create({ resourceType: 'Basic', code: { text: 'c' } } as never)),
      ]);
      if (results[0].status !== 'fulfilled' || results[2].status !== 'fulfilled') throw new Error('a and c should have been committed');
      if (results[1].status !== 'rejected' || (results[1].reason as Error).message !== 'b fails') throw new Error('b should fail with its own error');
      if (undone.join() !== 'b') throw new Error(`rollback hooks: ${undone.join()}`);
      const after = commits();
      if (after - before !== 1) throw new Error(`three units took ${after - before} commits, not one`);
      const texts = [];
      for (const id of ['u0', 'u1', 'u2']) {
        const v = await store.read('Basic', id);
        if (v && !v.deleted) texts.push((v.resource as unknown as { code: { text: string } }).code.text);
      }
      if (texts.sort().join() !== 'a,c') throw new Error(`stored: ${texts.join()}`);
      // A unit alone (no savepoint: the transaction is its own) rolls back and runs its hook too.
      const alone: string[] = [];
      const failed = await store.transact(async (uow) => {
        uow.onRollback?.(() => alone.push('d'));
        await uow.create({ resourceType: 'Basic', code: { text: 'd' } } as never);
        throw new Error('d fails');
      }).then(() => 'committed', (err: Error) => err.message);
      if (failed !== 'd fails' || alone.join() !== 'd') throw new Error(`alone: ${failed}, hooks ${alone.join()}`);
      if ((await store.read('Basic', 'u3')) !== undefined) throw new Error('the failed unit left its write');
    } finally {
      watcher.close();
      await store.close();
    }
  });
});
