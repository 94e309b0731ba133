import { strict as assert } from 'node:assert';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CapabilityStatement } from 'fhir/r4';
import Client from 'fhir-kit-client';
import { createApp } from '../../src/app';
import { bearerAccess } from '../../src/auth/access';
import { TokenVerifier } from '../../src/auth/verifier';
import { api, FHIR_JSON } from '../helpers/api';
import { testDeps } from '../helpers/deps';
import { AUDIENCE, ISSUER, testIssuer } from '../helpers/tokens';

/** Browsers: CORS (the Fetch standard) and SMART App Launch discovery (.well-known/smart-configuration). */
describe('browser-ready: CORS', () => {
  it('open loopback mode: any origin; a preflight names the methods and FHIR headers, responses expose Location and ETag', async () => {
    const t = api();
    try {
      const pre = await t.http.options('/fhir/Patient').set('Origin', 'http://localhost:3000')
        .set('Access-Control-Request-Method', 'POST').set('Access-Control-Request-Headers', 'authorization, content-type, prefer');
      assert.equal(pre.status, 204);
      assert.equal(pre.headers['access-control-allow-origin'], '*');
      assert.match(pre.headers['access-control-allow-methods'], /POST/);
      for (const h of ['Authorization', 'Prefer', 'If-Match', 'Content-Type']) assert.match(pre.headers['access-control-allow-headers'], new RegExp(h));
      const created = await t.http.post('/fhir/Patient').set('Origin', 'http://localhost:3000').set('Content-Type', FHIR_JSON).send({ resourceType: 'Patient' });
      assert.equal(created.status, 201);
      assert.equal(created.headers['access-control-allow-origin'], '*');
      for (const h of ['Location', 'ETag', 'Last-Modified']) assert.match(created.headers['access-control-expose-headers'], new RegExp(h));
      const read = await t.http.get(`/fhir/Patient/${created.body.id}`).set('Origin', 'http://localhost:3000');
      assert.equal(read.headers['access-control-allow-origin'], '*', 'the read fast path carries it too');
    } finally {
      await t.close();
    }
  });

  it('configured origins: an allowed one is named back; another is refused at preflight and gets no CORS headers', async () => {
    const t = api({ config: { corsOrigins: ['https://phr.example.in'] } });
    try {
      const ok = await t.http.options('/fhir/Observation').set('Origin', 'https://phr.example.in').set('Access-Control-Request-Method', 'GET');
      assert.equal(ok.status, 204);
      assert.equal(ok.headers['access-control-allow-origin'], 'https://phr.example.in');
      assert.match(ok.headers.vary, /Origin/);
      const refused = await t.http.options('/fhir/Observation').set('Origin', 'https://evil.example.com').set('Access-Control-Request-Method', 'GET');
      assert.equal(refused.status, 403);
      assert.equal(refused.body.resourceType, 'OperationOutcome');
      assert.equal(refused.headers['access-control-allow-origin'], undefined);
      const simple = await t.http.get('/fhir/Observation').set('Origin', 'https://evil.example.com');
      assert.equal(simple.status, 200, 'the server answers; the browser withholds it');
      assert.equal(simple.headers['access-control-allow-origin'], undefined);
    } finally {
      await t.close();
    }
  });

  it('a plain OPTIONS names the methods in Allow (http.html); an unknown path is 404', async () => {
    const t = api();
    try {
      const res = await t.http.options('/fhir/Patient/123');
      assert.equal(res.status, 204);
      assert.match(res.headers.allow, /GET, HEAD, PUT, PATCH, DELETE, OPTIONS/);
      assert.equal((await t.http.options('/nowhere')).status, 404);
    } finally {
      await t.close();
    }
  });

  it('CORS_ORIGINS must be * or origins', async () => {
    const { loadConfig } = await import('../../src/config');
    assert.deepEqual(loadConfig({ CORS_ORIGINS: 'https://a.example.in, http://localhost:3000' }, []).corsOrigins, ['https://a.example.in', 'http://localhost:3000']);
    assert.throws(() => loadConfig({ CORS_ORIGINS: 'https://a.example.in/app' }, []), /no path/);
    assert.throws(() => loadConfig({ CORS_ORIGINS: 'a.example.in' }, []), /CORS_ORIGINS/);
  });
});

describe('browser-ready: SMART App Launch discovery', () => {
  let issuer: Awaited<ReturnType<typeof testIssuer>>;
  let server: Server;
  let base: string;
  const smart = { smartAuthorizeUrl: 'https://auth.example.in/authorize', smartTokenUrl: 'https://auth.example.in/token' };

  before(async () => {
    issuer = await testIssuer();
    const verifier = new TokenVerifier({ kind: 'file', path: issuer.jwksFile }, { issuer: ISSUER, audience: AUDIENCE, now: () => new Date() });
    await verifier.load();
    const deps = testDeps({ auth: bearerAccess(verifier), config: { jwksFile: issuer.jwksFile, authIssuer: ISSUER, authAudience: AUDIENCE, ...smart } });
    server = http.createServer(createApp(deps));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    issuer.cleanup();
  });

  it('the discovery document names the configured issuer, endpoints, scopes and capabilities, without a token', async () => {
    const res = await fetch(`${base}/.well-known/smart-configuration`);
    assert.equal(res.status, 200);
    const doc = await res.json() as Record<string, unknown>;
    assert.equal(doc.issuer, ISSUER);
    assert.equal(doc.authorization_endpoint, smart.smartAuthorizeUrl);
    assert.equal(doc.token_endpoint, smart.smartTokenUrl);
    assert.ok((doc.scopes_supported as string[]).includes('patient/*.rs'));
    assert.ok((doc.capabilities as string[]).includes('permission-v2'));
    assert.deepEqual(doc.code_challenge_methods_supported, ['S256']);
  });

  it('the CapabilityStatement says SMART-on-FHIR with the oauth-uris extension', async () => {
    const cs = await (await fetch(`${base}/metadata`)).json() as CapabilityStatement;
    const security = cs.rest?.[0].security;
    assert.equal(security?.service?.[0].coding?.[0].code, 'SMART-on-FHIR');
    const uris = security?.extension?.[0].extension?.map((e) => [e.url, e.valueUri]);
    assert.deepEqual(uris, [['authorize', smart.smartAuthorizeUrl], ['token', smart.smartTokenUrl]]);
    assert.equal(security?.cors, false, 'no origins configured with authentication on');
  });

  it("fhir-kit-client's smartAuthMetadata(), unmodified, returns the configured endpoints", async () => {
    const client = new Client({ baseUrl: base });
    const meta = await client.smartAuthMetadata() as { authorizeUrl?: URL; tokenUrl?: URL };
    assert.equal(String(meta.authorizeUrl), smart.smartAuthorizeUrl);
    assert.equal(String(meta.tokenUrl), smart.smartTokenUrl);
  });
});
