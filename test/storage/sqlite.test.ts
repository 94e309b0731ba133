import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store';
import { storeContract } from './contract';

storeContract('SQLite in memory', async (deps) => new SqliteStore({ dataDir: ':memory:' }, deps));

const dirs: string[] = [];
storeContract('SQLite on disk (WAL)', async (deps) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fhir-store-'));
  dirs.push(dir);
  return new SqliteStore({ dataDir: dir }, deps);
});
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('SQLite: generation() sees another process write the same file', () => {
  it('a write through a second store on the same directory moves every type\'s token in the first', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fhir-store-'));
    dirs.push(dir);
    const deps = { now: () => new Date(), newId: (() => { let n = 0; return () => `g${n++}`; })(), index: () => ({ token: [], string: [], date: [], number: [], quantity: [], reference: [], uri: [] }) };
    const first = new SqliteStore({ dataDir: dir }, deps);
    const second = new SqliteStore({ dataDir: dir }, { ...deps, newId: (() => { let n = 0; return () => `h${n++}`; })() });
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
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fhir-store-'));
    dirs.push(dir);
    const { Indexer } = await import('../../src/search/extract');
    const { testSearchParameters } = await import('../helpers/search');
    const { parseSearch } = await import('../../src/search/parse');
    const indexer = new Indexer(testSearchParameters());
    const deps = { now: () => new Date(), newId: (() => { let n = 0; return () => `d${n++}`; })(), index: (r: never) => indexer.index(r) };
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
