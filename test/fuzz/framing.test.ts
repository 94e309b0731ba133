import { strict as assert } from 'node:assert';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app';
import { testDeps } from '../helpers/deps';

/**
 * Broken HTTP framing over a raw socket (RFC 9112): each bad connection gets a 4xx or is closed,
 * without a 5xx or an unhandled error, and the server keeps serving other connections.
 */
interface Exchange { received: string; closed: boolean }

/** Writes `chunks`, optionally half-closes, and collects what comes back until the server closes. */
function exchange(port: number, chunks: string[], opts: { end?: boolean; waitMs?: number } = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve({ received, closed });
    };
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => { received += d; });
    socket.on('close', () => finish(true));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? finish(true) : reject(err)));
    socket.on('connect', () => {
      for (const c of chunks) socket.write(c);
      if (opts.end !== false) socket.end();
      // A connection the server keeps open (waiting for the rest of a body) is judged after this.
      setTimeout(() => finish(false), opts.waitMs ?? 5_000);
    });
  });
}

const statusOf = (text: string): number | undefined => {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
  return m ? Number(m[1]) : undefined;
};

describe('HTTP framing: broken requests on a raw socket (RFC 9112, http.html)', function () {
  this.timeout(60_000);
  let server: http.Server;
  let port: number;
  let unhandled: string[];
  let close: () => void;

  before(async () => {
    const deps = testDeps();
    unhandled = [];
    deps.logger.error = ((message: string) => { unhandled.push(message); return deps.logger; }) as typeof deps.logger.error;
    server = http.createServer(createApp(deps));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    close = () => { server.closeAllConnections(); server.close(); deps.store.close(); };
    const put = await fetch(`http://127.0.0.1:${port}/fhir/Patient/p1`, {
      method: 'PUT', headers: { 'Content-Type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Patient', id: 'p1', active: true }),
    });
    assert.ok(put.status === 201 || put.status === 200);
  });
  after(() => close());

  const readStillWorks = async (): Promise<void> => {
    const res = await fetch(`http://127.0.0.1:${port}/fhir/Patient/p1`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { active: boolean }).active, true);
  };

  const cases: [string, string[], (status: number | undefined) => boolean][] = [
    ['a garbage request line', ['GARBAGE\r\n\r\n'], (s) => s === 400],
    // Node's parser reads a version-less line as HTTP/0.9-style: a plain answer is as good as a refusal.
    ['a request line with no version', ['GET /fhir/Patient/p1\r\n\r\n'], (s) => s === undefined || s === 400 || s === 200],
    ['a 20 KB header (past the 16 KB limit)', [`GET /fhir/Patient/p1 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`], (s) => s === 431],
    ['a header with a control character', ['GET /fhir/Patient/p1 HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n'], (s) => s === 400],
    ['a Content-Length that is not a number', ['POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}'], (s) => s === 400],
    ['two different Content-Lengths', ['POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}'], (s) => s === 400],
    ['Content-Length beside chunked encoding', ['POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n'], (s) => s === 400],
    ['a malformed chunk size', ['POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n'], (s) => s === 400],
    ['a body shorter than its Content-Length, then the client hangs up',
      ['POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\nContent-Length: 1000\r\n\r\n{"resourceType":'], (s) => s === undefined || (s >= 400 && s < 500)],
    // The parser may meet the garbage before the first answer is written: then a 400 ends the connection.
    ['a valid request followed by garbage on the same connection',
      ['GET /fhir/Patient/p1 HTTP/1.1\r\nHost: x\r\n\r\n', 'BOGUS STUFF\r\n\r\n'], (s) => s === 200 || s === 400],
  ];

  for (const [name, chunks, ok] of cases) {
    it(`${name}: a 4xx or a clean close, and other connections are served`, async () => {
      const { received, closed } = await exchange(port, chunks);
      assert.ok(closed, 'the server closes the connection');
      const status = statusOf(received);
      assert.ok(ok(status), `unexpected answer: ${received.slice(0, 300)}`);
      assert.ok(!/^HTTP\/1\.1 5/m.test(received), received.slice(0, 300));
      await readStillWorks();
      assert.deepEqual(unhandled, []);
    });
  }

  it('while one connection waits for the rest of its body, others are served', async () => {
    const stalled = exchange(port, ['POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\nContent-Length: 100000\r\n\r\n{"a":'],
      { end: false, waitMs: 1_000 });
    await readStillWorks();
    await readStillWorks();
    const { received } = await stalled;
    assert.equal(received, '', 'nothing is answered before the body is complete');
    await readStillWorks();
    assert.deepEqual(unhandled, []);
  });
});
