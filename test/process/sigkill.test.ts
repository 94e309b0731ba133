import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bundle, Patient } from 'fhir/r4';
import { startServer, type RunningServer } from './server-process';

/**
 * Durability: a server killed with SIGKILL in the middle of a stream of writes loses no write it
 * acknowledged and leaves no partial one (WAL with synchronous=NORMAL survives a process crash).
 */
describe('process: SIGKILL during a stream of writes', function () {
  this.timeout(90_000);
  let dir: string;
  let server: RunningServer | undefined;

  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fhir-sigkill-')); });
  after(() => {
    server?.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  interface Ack { id: string; version: number; marker: string }

  it('keeps every acknowledged write, whole', async () => {
    server = await startServer({ DATA_DIR: dir });
    const base = server.base;
    const acked: Ack[] = [];
    let stop = false;
    let seq = 0;
    const write = async (id: string | undefined): Promise<string | undefined> => {
      const marker = `m-${++seq}`;
      const body: Patient = { resourceType: 'Patient', identifier: [{ system: 'urn:test', value: marker }], name: [{ family: 'Rao', given: [marker] }] };
      const res = await fetch(id ? `${base}/Patient/${id}` : `${base}/Patient`, {
        method: id ? 'PUT' : 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body: JSON.stringify(id ? { ...body, id } : body),
      });
      if (res.status !== 200 && res.status !== 201) throw new Error(`unexpected ${res.status}`);
      const stored = (await res.json()) as Patient;
      acked.push({ id: stored.id as string, version: Number(stored.meta?.versionId), marker });
      return stored.id;
    };
    const client = async (n: number): Promise<void> => {
      let id: string | undefined;
      for (let i = 0; !stop; i++) {
        try {
          id = await write(i % 3 === 0 ? undefined : id ?? `c${n}`);
        } catch {
          return; // the server died under us: this write was never acknowledged
        }
      }
    };
    const clients = Array.from({ length: 8 }, (_, n) => client(n));
    while (acked.length < 400) await new Promise((r) => setTimeout(r, 20));
    server.child.kill('SIGKILL');
    await server.exited;
    stop = true;
    await Promise.all(clients);

    server = await startServer({ DATA_DIR: dir });
    const again = server.base;
    const highest = new Map<string, number>();
    for (const ack of acked) {
      const res = await fetch(`${again}/Patient/${ack.id}/_history/${ack.version}`);
      assert.equal(res.status, 200, `acknowledged ${ack.id} v${ack.version} is missing`);
      const p = (await res.json()) as Patient;
      assert.equal(p.identifier?.[0].value, ack.marker);
      highest.set(ack.id, Math.max(highest.get(ack.id) ?? 0, ack.version));
    }
    for (const [id, version] of highest) {
      const history = (await (await fetch(`${again}/Patient/${id}/_history?_count=1000`)).json()) as Bundle;
      const versions = (history.entry ?? []).map((e) => Number(e.response?.etag?.replace(/\D/g, '')));
      assert.ok(versions[0] >= version, `${id} current version ${versions[0]} < acknowledged ${version}`);
      assert.deepEqual(versions, Array.from({ length: versions.length }, (_, i) => versions.length - i), `${id} has gaps`);
      for (const e of history.entry ?? []) assert.equal((e.resource as Patient).name?.[0].family, 'Rao');
    }
    const fresh = await fetch(`${again}/Patient`, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body: '{"resourceType":"Patient"}' });
    assert.equal(fresh.status, 201);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  });

  it('a transaction cut off by SIGKILL leaves nothing; transactions acknowledged before it stay whole', async () => {
    const size = 3000;
    const transaction = (tag: string, size: number): string => JSON.stringify({
      resourceType: 'Bundle', type: 'transaction',
      entry: [
        { fullUrl: `urn:uuid:p-${tag}`, resource: { resourceType: 'Patient', meta: { tag: [{ system: 'urn:tx', code: tag }] } }, request: { method: 'POST', url: 'Patient' } },
        ...Array.from({ length: size - 1 }, (_, i) => ({
          fullUrl: `urn:uuid:o-${tag}-${i}`,
          resource: { resourceType: 'Observation', meta: { tag: [{ system: 'urn:tx', code: tag }] }, status: 'final', code: { text: `obs ${i}` }, subject: { reference: `urn:uuid:p-${tag}` } },
          request: { method: 'POST', url: 'Observation' },
        })),
      ],
    });
    const count = async (base: string, tag: string): Promise<number> => {
      let total = 0;
      for (const type of ['Patient', 'Observation']) total += ((await (await fetch(`${base}/${type}?_tag=urn:tx|${tag}&_summary=count`)).json()) as Bundle).total ?? 0;
      return total;
    };
    fs.rmSync(dir, { recursive: true, force: true });
    server = await startServer({ DATA_DIR: dir });
    const post = (tag: string, n: number) => fetch(`${server?.base}`, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json', Prefer: 'return=minimal' }, body: transaction(tag, n) });
    const started = Date.now();
    assert.equal((await post('A', size)).status, 200);
    const took = Date.now() - started;
    // B is three times A and is killed at half A's time, so the kill lands well before B's commit
    // even when A ran slow (a cold server, a busy machine) and B fast.

    let answered = false;
    const cut = post('B', 3 * size).then(() => { answered = true; }, () => undefined);
    await new Promise((r) => setTimeout(r, took / 2));
    server.child.kill('SIGKILL');
    await server.exited;
    await cut;
    assert.equal(answered, false, 'the server answered before it was killed; the test needs a larger transaction');

    server = await startServer({ DATA_DIR: dir });
    assert.equal(await count(server.base, 'A'), size, 'the acknowledged transaction is whole');
    assert.equal(await count(server.base, 'B'), 0, 'nothing of the cut-off transaction is visible');
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  });
});
