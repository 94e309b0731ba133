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
