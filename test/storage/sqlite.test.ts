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
