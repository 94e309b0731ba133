import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AUDIENCE, ISSUER, testIssuer } from '../helpers/tokens';
import { startServer } from './server-process';

const MAIN = path.resolve(__dirname, '../../src/main.js');

/** Secure by default (the server as a process): no keys means loopback only; with keys, tokens rule. */
describe('process: authentication at start-up', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fhir-auth-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses to listen on a public address without authentication', async () => {
    const child = spawn(process.execPath, [MAIN], { env: { ...process.env, HOST: '0.0.0.0', PORT: '0', DATA_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 2);
    assert.match(stderr, /refusing to listen on 0\.0\.0\.0 without authentication/);
  });

  it('with a JWKS it requires a valid token, even on a public address', async () => {
    const issuer = await testIssuer();
    const server = await startServer({ HOST: '0.0.0.0', DATA_DIR: dir, JWKS_FILE: issuer.jwksFile, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE });
    try {
      const local = server.base.replace('0.0.0.0', '127.0.0.1');
      assert.equal((await fetch(`${local}/Patient`)).status, 401);
      const token = await issuer.mint({ scope: 'system/*.rs' });
      assert.equal((await fetch(`${local}/Patient`, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      issuer.cleanup();
    }
  });
});
