import { strict as assert } from 'node:assert';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { createApp } from '../../src/app';
import { chooseEncoding } from '../../src/http/compression';
import { testDeps } from '../helpers/deps';

/** Raw bytes and headers, so the test sees the encoding itself (fetch and supertest would undo it). */
function get(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

describe('compression by Accept-Encoding (RFC 9110 §12.5.3)', () => {
  let server: Server;
  let port: number;
  before(async () => {
    server = http.createServer(createApp(testDeps()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('brotli and gzip bodies decode to exactly the uncompressed answer, many times smaller', async () => {
    const plain = await get(port, '/fhir/metadata', {});
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.match(String(plain.headers.vary), /Accept-Encoding/);
    const br = await get(port, '/fhir/metadata', { 'Accept-Encoding': 'gzip, br' });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(Number(br.headers['content-length']), br.body.length);
    assert.ok(br.body.length * 5 < plain.body.length, `${br.body.length} vs ${plain.body.length}`);
    const gz = await get(port, '/fhir/metadata', { 'Accept-Encoding': 'gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    // The CapabilityStatement's date is the start-up time: the three bodies are the same document.
    assert.deepEqual(zlib.brotliDecompressSync(br.body), plain.body);
    assert.deepEqual(zlib.gunzipSync(gz.body), plain.body);
  });

  it('small bodies and refused codings go as they are', async () => {
    const small = await get(port, '/fhir/Patient/nope', { 'Accept-Encoding': 'br' });
    assert.equal(small.status, 404);
    assert.equal(small.headers['content-encoding'], undefined);
    const refused = await get(port, '/fhir/metadata', { 'Accept-Encoding': 'br;q=0, gzip;q=0' });
    assert.equal(refused.headers['content-encoding'], undefined);
  });

  it('the coding follows q-values', () => {
    assert.equal(chooseEncoding('gzip;q=1, br;q=0.5'), 'gzip');
    assert.equal(chooseEncoding('br, gzip'), 'br');
    assert.equal(chooseEncoding('*'), 'br');
    assert.equal(chooseEncoding('deflate'), undefined);
    assert.equal(chooseEncoding('identity'), undefined);
    assert.equal(chooseEncoding(undefined), undefined);
  });
});
