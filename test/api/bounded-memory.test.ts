import { strict as assert } from 'node:assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, OperationOutcome } from 'fhir/r4';
import { bearerAccess } from '../../src/auth/access';
import { TokenVerifier } from '../../src/auth/verifier';
import { createApp } from '../../src/app';
import { memoryBudgetOf } from '../../src/http/memory-budget';
import { api, FHIR_JSON, patient } from '../helpers/api';
import { testDeps } from '../helpers/deps';
import { AUDIENCE, ISSUER, testIssuer } from '../helpers/tokens';

/**
 * Memory bounded whatever the page size and the concurrency: history pages have a byte budget
 * like search pages (http.html#history, search.html#paging: a server may return fewer entries
 * than _count, with a next link); batch and transaction responses have one too
 * (bundle.html#batch-response); and bodies in flight across all requests share MEMORY_BUDGET.
 */
const relative = (url: string): string => url.slice(url.indexOf('/fhir'));
const nextOf = (b: Bundle): string | undefined => {
  const url = b.link?.find((l) => l.relation === 'next')?.url;
  return url === undefined ? undefined : relative(url);
};
const big = (i: number) => patient({ name: [{ family: `Big${i}`, text: 'x'.repeat(1500) }] });

describe('Bounded memory: history pages have a byte budget (MAX_PAGE_BYTES, http.html#history)', () => {
  for (const level of ['/fhir/_history', '/fhir/Patient/_history', '/fhir/Patient/p1/_history']) {
    it(`${level}: pages end early with a next link, and the links lead through every version once`, async () => {
      const t = api({ config: { maxPageBytes: 6000 } });
      try {
        for (let i = 0; i < 12; i++) {
          const res = await t.http.put('/fhir/Patient/p1').set('Content-Type', FHIR_JSON).send({ ...big(i), id: 'p1' });
          assert.ok(res.status === 200 || res.status === 201, JSON.stringify(res.body));
        }
        const seen: string[] = [];
        let url: string | undefined = `${level}?_count=12`;
        let pages = 0;
        while (url) {
          const res = await t.http.get(url);
          assert.equal(res.status, 200, JSON.stringify(res.body));
          const page = res.body as Bundle;
          pages++;
          const n = (page.entry ?? []).length;
          assert.ok(n >= 1 && n < 12, `page ${pages} has ${n} entries`);
          seen.push(...(page.entry ?? []).map((e) => e.response?.etag as string));
          url = nextOf(page);
          assert.ok(pages < 20);
        }
        assert.ok(pages >= 3, `${pages} pages`);
        assert.equal(seen.length, 12);
        assert.equal(new Set(seen).size, 12, seen.join(' '));
      } finally {
        t.close();
      }
    });
  }

  it('a restricted caller: the budget holds across the store pages read to fill one page', async () => {
    const issuer = await testIssuer();
    const verifier = new TokenVerifier({ kind: 'file', path: issuer.jwksFile }, { issuer: ISSUER, audience: AUDIENCE, now: () => new Date() });
    await verifier.load();
    const t = api({ auth: bearerAccess(verifier), config: { maxPageBytes: 6000 } });
    try {
      const system = `Bearer ${await issuer.mint({ scope: 'system/*.cruds' })}`;
      const write = (body: object) => t.http.post(`/fhir/${(body as { resourceType: string }).resourceType}`)
        .set('Authorization', system).set('Content-Type', FHIR_JSON).send(body);
      const mine = (await write(patient())).body.id as string;
      const other = (await write(patient({ name: [{ family: 'Other' }] }))).body.id as string;
      const obs = (p: string) => ({
        resourceType: 'Observation', status: 'final', code: { text: 'Hb' }, subject: { reference: `Patient/${p}` },
        effectiveDateTime: '2026-01-10', note: [{ text: 'n'.repeat(1500) }],
      });
      for (let i = 0; i < 8; i++) {
        await write(obs(mine));
        await write(obs(other));
      }
      const token = `Bearer ${await issuer.mint({ scope: 'patient/*.rs', fhirUser: `Patient/${mine}`, patient: mine })}`;
      const seen: string[] = [];
      let url: string | undefined = '/fhir/Observation/_history?_count=50';
      let pages = 0;
      while (url) {
        const res: { status: number; body: unknown } = await t.http.get(url).set('Authorization', token);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const page = res.body as Bundle;
        pages++;
        const n = (page.entry ?? []).length;
        assert.ok(n >= 1 && n <= 4, `page ${pages} has ${n} entries: more than the budget holds`);
        seen.push(...(page.entry ?? []).map((e) => e.fullUrl as string));
        url = nextOf(page);
        assert.ok(pages < 20);
      }
      assert.equal(seen.length, 8);
      assert.equal(new Set(seen).size, 8);
    } finally {
      t.close();
      issuer.cleanup();
    }
  });
});

describe('Bounded memory: batch and transaction responses have a byte budget (MAX_RESPONSE_BYTES, bundle.html#batch-response)', () => {
  const read = (url: string) => ({ request: { method: 'GET', url } });

  it('a batch: reads past the budget are refused one by one (413); writes still run and answer without their resource', async () => {
    const t = api({ config: { maxResponseBytes: 4000 } });
    try {
      for (let i = 0; i < 4; i++) await t.http.put(`/fhir/Patient/b${i}`).set('Content-Type', FHIR_JSON).send({ ...big(i), id: `b${i}` });
      const res = await t.http.post('/fhir').set('Content-Type', FHIR_JSON).set('Prefer', 'return=representation').send({
        resourceType: 'Bundle', type: 'batch',
        entry: [read('Patient/b0'), read('Patient/b1'), read('Patient/b2'),
          { resource: big(9), request: { method: 'POST', url: 'Patient' } }, read('Patient/b3')],
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const entries = (res.body as Bundle).entry ?? [];
      assert.equal(entries.length, 5);
      assert.deepEqual(entries.map((e) => e.response?.status.slice(0, 3)), ['200', '200', '413', '201', '413']);
      const refused = entries[2].response?.outcome as OperationOutcome;
      assert.equal(refused.issue[0].code, 'too-costly');
      assert.match(refused.issue[0].diagnostics ?? '', /MAX_RESPONSE_BYTES/);
      assert.equal(entries[3].resource, undefined, 'the write past the budget answers without its resource');
      const location = entries[3].response?.location as string;
      assert.equal((await t.http.get(`/fhir/${location.split('/_history')[0]}`)).status, 200, 'the write was made');
    } finally {
      t.close();
    }
  });

  it('a transaction whose reads overflow the budget is refused whole (413) and writes nothing', async () => {
    const t = api({ config: { maxResponseBytes: 4000 } });
    try {
      for (let i = 0; i < 4; i++) await t.http.put(`/fhir/Patient/t${i}`).set('Content-Type', FHIR_JSON).send({ ...big(i), id: `t${i}` });
      const res = await t.http.post('/fhir').set('Content-Type', FHIR_JSON).send({
        resourceType: 'Bundle', type: 'transaction',
        entry: [{ resource: { resourceType: 'Organization', name: 'Written?' }, request: { method: 'POST', url: 'Organization' } },
          read('Patient/t0'), read('Patient/t1'), read('Patient/t2'), read('Patient/t3')],
      });
      assert.equal(res.status, 413, JSON.stringify(res.body));
      assert.equal((res.body as OperationOutcome).issue[0].code, 'too-costly');
      assert.match((res.body as OperationOutcome).issue[0].expression?.[0] ?? '', /^Bundle\.entry\[\d\]/);
      const orgs = (await t.http.get('/fhir/Organization?name=Written')).body as Bundle;
      assert.equal(orgs.entry?.length ?? 0, 0, 'the transaction was rolled back');
    } finally {
      t.close();
    }
  });

  it('the same reads within the budget are answered in full', async () => {
    const t = api({ config: { maxResponseBytes: 64 * 1024 } });
    try {
      for (let i = 0; i < 4; i++) await t.http.put(`/fhir/Patient/t${i}`).set('Content-Type', FHIR_JSON).send({ ...big(i), id: `t${i}` });
      const res = await t.http.post('/fhir').set('Content-Type', FHIR_JSON).send({
        resourceType: 'Bundle', type: 'transaction', entry: [read('Patient/t0'), read('Patient/t1'), read('Patient/t2'), read('Patient/t3')],
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(((res.body as Bundle).entry ?? []).map((e) => e.resource?.id), ['t0', 't1', 't2', 't3']);
    } finally {
      t.close();
    }
  });
});

describe('Bounded memory: requests share MEMORY_BUDGET, and wait for room instead of growing the process', () => {
  it('concurrent searches that cannot all fit run in turn; all succeed and the budget is whole afterwards', async () => {
    const deps = testDeps({ config: { maxPageBytes: 64 * 1024, memoryBudget: 64 * 1024 } });
    const server = http.createServer(createApp(deps));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
    try {
      for (let i = 0; i < 3; i++) {
        await fetch(`${base}/Patient`, { method: 'POST', headers: { 'Content-Type': FHIR_JSON }, body: JSON.stringify(big(i)) });
      }
      const budget = memoryBudgetOf(deps, deps.config.memoryBudget);
      const answers = await Promise.all(Array.from({ length: 8 }, () => fetch(`${base}/Patient?_count=3`).then(async (r) => ({ status: r.status, body: await r.json() as Bundle }))));
      for (const a of answers) {
        assert.equal(a.status, 200);
        assert.equal(a.body.entry?.length, 3);
      }
      assert.equal(budget.inUse(), 0, 'every reservation was given back');
      // A read of one resource reserves nothing, so it never waits behind searches.
      const hold = await budget.reserve(budget.total);
      try {
        const res = await fetch(`${base}/Patient/${answers[0].body.entry?.[0].resource?.id}`);
        assert.equal(res.status, 200);
      } finally {
        hold();
      }
    } finally {
      server.closeAllConnections();
      server.close();
      await deps.store.close();
    }
  });

  it('a search waits while the budget is taken, and runs once it is given back', async () => {
    const deps = testDeps({ config: { maxPageBytes: 64 * 1024, memoryBudget: 64 * 1024 } });
    const server = http.createServer(createApp(deps));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
    try {
      const budget = memoryBudgetOf(deps, deps.config.memoryBudget);
      const hold = await budget.reserve(budget.total);
      let answered = false;
      const pending = fetch(`${base}/Patient`).then((r) => { answered = true; return r.status; });
      await new Promise((resolve) => setTimeout(resolve, 150));
      assert.equal(answered, false, 'the search waited for room');
      assert.equal(budget.queued(), 1);
      hold();
      assert.equal(await pending, 200);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(budget.inUse(), 0);
    } finally {
      server.closeAllConnections();
      server.close();
      await deps.store.close();
    }
  });
});
