import { strict as assert } from 'node:assert';
import type { Bundle } from 'fhir/r4';
import { bearerAccess } from '../../src/auth/access';
import { TokenVerifier } from '../../src/auth/verifier';
import { api, FHIR_JSON, patient } from '../helpers/api';
import { AUDIENCE, ISSUER, testIssuer } from '../helpers/tokens';

/**
 * Paging (search.html#paging, http.html#history) driven the way a client does it: follow `next`
 * links until there are none. fhir-kit-client is not among this project's dependencies, so the
 * links are followed with supertest, exactly as they come back.
 */
const relative = (url: string): string => url.slice(url.indexOf('/fhir'));
const linkOf = (b: Bundle, relation: string): string | undefined => b.link?.find((l) => l.relation === relation)?.url;

async function follow(get: (url: string) => Promise<Bundle>, start: string): Promise<Bundle[]> {
  const pages: Bundle[] = [];
  let next: string | undefined = start;
  while (next !== undefined && pages.length < 100) {
    const page = await get(next);
    pages.push(page);
    const link = linkOf(page, 'next');
    next = link === undefined ? undefined : relative(link);
  }
  return pages;
}

describe('Paging (search.html#paging, http.html#history)', () => {
  let t: ReturnType<typeof api>;
  afterEach(() => t.close());

  const post = (body: object) => t.http.post(`/fhir/${(body as { resourceType: string }).resourceType}`).set('Content-Type', FHIR_JSON).send(body);
  const get = async (url: string): Promise<Bundle> => {
    const res = await t.http.get(url);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as Bundle;
  };

  describe('open server', () => {
    beforeEach(async () => {
      t = api();
      for (let i = 0; i < 4; i++) await post(patient({ name: [{ family: `F${i}` }] }));
      for (let i = 0; i < 3; i++) await post({ resourceType: 'Observation', status: 'final', code: { text: `o${i}` } });
      for (let i = 0; i < 3; i++) await post({ resourceType: 'Organization', name: `org${i}` });
    });

    it('the next links of a system search keep _type, and lead through every match exactly once (search.html#paging)', async () => {
      const pages = await follow(get, '/fhir?_type=Patient,Observation&_count=2');
      const seen = pages.flatMap((p) => (p.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`));
      assert.equal(new Set(seen).size, seen.length, `a resource came twice: ${seen.join(' ')}`);
      assert.equal(seen.length, 7, seen.join(' '));
      assert.ok(seen.every((k) => k.startsWith('Patient/') || k.startsWith('Observation/')), seen.join(' '));
      assert.equal(pages.length, 4);
      for (const p of pages) assert.match(linkOf(p, 'self') ?? '', /_type=Patient%2CObservation/);
    });

    it('a searchset carries first, previous, next and, with a known total, last (search.html#paging)', async () => {
      const second = await get('/fhir/Patient?_count=3&_offset=3&_total=accurate');
      assert.equal(second.total, 4);
      assert.match(linkOf(second, 'first') ?? '', /\/fhir\/Patient\?_total=accurate&_count=3$/);
      assert.match(linkOf(second, 'previous') ?? '', /_count=3$/);
      assert.match(linkOf(second, 'last') ?? '', /_count=3&_offset=3$/);
      assert.equal(linkOf(second, 'next'), undefined);
      const first = await get(relative(linkOf(second, 'first') ?? ''));
      assert.equal(first.entry?.length, 3);
      assert.ok(linkOf(first, 'next'));
      // No total asked for: no last link, but first all the same.
      const plain = await get('/fhir/Patient?_count=3');
      assert.ok(linkOf(plain, 'first'));
      assert.equal(linkOf(plain, 'last'), undefined);
    });

    it('a history Bundle carries a first link besides self and next (http.html#history)', async () => {
      const page = await get('/fhir/_history?_count=4');
      assert.ok(linkOf(page, 'next'));
      const first = linkOf(page, 'first') ?? '';
      assert.match(first, /\/fhir\/_history\?_count=4$/);
      const second = await get(relative(linkOf(page, 'next') ?? ''));
      assert.equal(relative(linkOf(second, 'first') ?? ''), relative(first));
    });
  });

  describe('a restricted caller', () => {
    let issuer: Awaited<ReturnType<typeof testIssuer>>;
    before(async () => { issuer = await testIssuer(); });
    after(() => issuer.cleanup());

    it('never gets an empty history page that still has a next link (http.html#history)', async () => {
      const verifier = new TokenVerifier({ kind: 'file', path: issuer.jwksFile }, { issuer: ISSUER, audience: AUDIENCE, now: () => new Date() });
      await verifier.load();
      t = api({ auth: bearerAccess(verifier) });
      const system = `Bearer ${await issuer.mint({ scope: 'system/*.cruds' })}`;
      const write = (body: object) => t.http.post(`/fhir/${(body as { resourceType: string }).resourceType}`)
        .set('Authorization', system).set('Content-Type', FHIR_JSON).send(body);
      const mine = (await write(patient())).body.id as string;
      const other = (await write(patient({ name: [{ family: 'Other' }] }))).body.id as string;
      const obs = (p: string) => ({ resourceType: 'Observation', status: 'final', code: { text: 'Hb' }, subject: { reference: `Patient/${p}` }, effectiveDateTime: '2026-01-10' });
      await write(obs(mine));
      for (let i = 0; i < 9; i++) await write(obs(other)); // a long run the caller may not see
      await write(obs(mine));
      const token = `Bearer ${await issuer.mint({ scope: 'patient/*.rs', fhirUser: `Patient/${mine}`, patient: mine })}`;
      const pages = await follow(async (url) => {
        const res = await t.http.get(url).set('Authorization', token);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return res.body as Bundle;
      }, '/fhir/_history?_count=2');
      for (const [i, p] of pages.entries()) {
        assert.ok((p.entry?.length ?? 0) > 0 || i === pages.length - 1, `page ${i + 1} of ${pages.length} is empty but not the last`);
      }
      const seen = pages.flatMap((p) => (p.entry ?? []).map((e) => e.fullUrl?.split('/fhir/')[1]));
      assert.equal(seen.length, 3, seen.join(' '));
      assert.ok(seen.includes(`Patient/${mine}`));
      assert.equal(pages.length, 2);
    });
  });
});

describe('Paging: a byte budget per search page (MAX_PAGE_BYTES)', () => {
  it('a page of large resources ends early with a next link; following the links returns every match once', async () => {
    const t = api({ config: { maxPageBytes: 6000 } });
    try {
      const note = 'x'.repeat(1500);
      for (let i = 0; i < 12; i++) {
        const res = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ name: [{ family: `Big${i}`, text: note }] }));
        assert.equal(res.status, 201);
      }
      const seen: string[] = [];
      let url: string | undefined = '/fhir/Patient?_count=12';
      let pages = 0;
      while (url) {
        const page: Bundle = (await t.http.get(url)).body as Bundle;
        pages++;
        assert.ok((page.entry ?? []).length >= 1 && (page.entry ?? []).length < 12, `page ${pages} is cut by the budget: ${(page.entry ?? []).length}`);
        seen.push(...(page.entry ?? []).map((e) => e.resource?.id as string));
        const next = page.link?.find((l) => l.relation === 'next')?.url;
        url = next ? next.slice(next.indexOf('/fhir')) : undefined;
        assert.ok(pages < 20);
      }
      assert.ok(pages >= 3, `${pages} pages`);
      assert.equal(new Set(seen).size, 12);
      assert.equal(seen.length, 12);
    } finally {
      t.close();
    }
  });

  it('a single resource larger than the budget still comes back, alone on its page', async () => {
    const t = api({ config: { maxPageBytes: 1024 } });
    try {
      for (let i = 0; i < 2; i++) await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ name: [{ text: 'y'.repeat(3000) }] }));
      const page = (await t.http.get('/fhir/Patient?_count=10')).body as Bundle;
      assert.equal(page.entry?.length, 1);
      assert.ok(page.link?.some((l) => l.relation === 'next'));
    } finally {
      t.close();
    }
  });
});
