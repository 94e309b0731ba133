import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startServer, type RunningServer } from './server-process';

describe('process: graceful shutdown on SIGTERM', function () {
  this.timeout(60_000);
  let dir: string;
  let server: RunningServer | undefined;

  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fhir-shutdown-')); });
  after(() => {
    server?.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finishes an in-flight write, then exits 0 with the database closed', async () => {
    server = await startServer({ DATA_DIR: dir });
    const body = JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Iyer' }] });
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request({ port: server?.port, host: '127.0.0.1', method: 'POST', path: '/fhir/Patient',
        headers: { 'Content-Type': 'application/fhir+json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (c) => { text += c; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      // Half the body now, SIGTERM, then the rest: the request is in flight when shutdown begins.
      req.write(body.slice(0, 20));
      setTimeout(() => {
        server?.child.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(20)), 200);
      }, 200);
    });
    const res = await response;
    assert.equal(res.status, 201, res.text);
    assert.equal(await server.exited, 0);
    const wal = path.join(dir, 'fhir.sqlite-wal');
    assert.ok(!fs.existsSync(wal) || fs.statSync(wal).size === 0, 'WAL checkpointed on close');
    const again = await startServer({ DATA_DIR: dir });
    server = again;
    const id = JSON.parse(res.text).id as string;
    const read = await fetch(`${again.base}/Patient/${id}`);
    assert.equal(read.status, 200);
    again.child.kill('SIGTERM');
    assert.equal(await again.exited, 0);
  });
});
