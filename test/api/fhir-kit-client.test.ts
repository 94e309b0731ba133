import { strict as assert } from 'node:assert';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle } from 'fhir/r4';
import Client from 'fhir-kit-client';
import { createApp } from '../../src/app';
import { testDeps } from '../helpers/deps';

/**
 * An unmodified third-party client (fhir-kit-client) against the real HTTP server: it creates,
 * reads and searches, and follows the `next` links of a system-level search across two types to
 * the end (search.html#paging), seeing every resource exactly once and nothing of other types.
 */
describe('clients: fhir-kit-client, unmodified, over HTTP', function () {
  this.timeout(60_000);
  let server: Server;
  let deps: ReturnType<typeof testDeps>;
  let client: InstanceType<typeof Client>;

  before(async () => {
    deps = testDeps();
    server = http.createServer(createApp(deps));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new Client({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir` });
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await deps.store.close();
  });

  it('creates and reads; a system search over _type pages to the end with every resource once', async () => {
    const created = new Set<string>();
    for (let i = 0; i < 9; i++) {
      const p = await client.create({ resourceType: 'Patient', body: { resourceType: 'Patient', name: [{ family: `Devi${i}` }] } }) as unknown as { id: string };
      created.add(`Patient/${p.id}`);
      const o = await client.create({ resourceType: 'Observation', body: { resourceType: 'Observation', status: 'final', code: { text: 'Weight' }, subject: { reference: `Patient/${p.id}` } } }) as unknown as { id: string };
      created.add(`Observation/${o.id}`);
      await client.create({ resourceType: 'Organization', body: { resourceType: 'Organization', name: `PHC ${i}` } });
    }
    const first = [...created][0].split('/');
    assert.equal(((await client.read({ resourceType: first[0], id: first[1] })) as unknown as { id: string }).id, first[1]);

    const seen: string[] = [];
    let page = await client.systemSearch({ searchParams: { _type: 'Patient,Observation', _count: '4' } }) as Bundle | undefined;
    let pages = 0;
    while (page) {
      pages++;
      for (const e of page.entry ?? []) seen.push(`${e.resource?.resourceType}/${e.resource?.id}`);
      page = await (client.nextPage({ bundle: page }) as Promise<Bundle> | undefined);
      assert.ok(pages < 20, 'paging ends');
    }
    assert.equal(pages, 5);
    assert.deepEqual([...seen].sort(), [...created].sort(), 'every Patient and Observation once, no Organization');
  });
});
