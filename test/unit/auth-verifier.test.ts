import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import { exposureProblem } from '../../src/auth/access';
import { TokenVerifier } from '../../src/auth/verifier';
import { FhirError } from '../../src/fhir/errors';
import { AUDIENCE, forgedTokens, ISSUER, testIssuer } from '../helpers/tokens';

describe('auth: bearer token verification (RFC 7519, SMART on FHIR)', () => {
  let issuer: Awaited<ReturnType<typeof testIssuer>>;
  let verifier: TokenVerifier;
  before(async () => {
    issuer = await testIssuer();
    verifier = new TokenVerifier({ kind: 'file', path: issuer.jwksFile }, { issuer: ISSUER, audience: AUDIENCE, now: () => new Date() });
    await verifier.load();
  });
  after(() => issuer.cleanup());

  const rejects = async (token: string, why: RegExp): Promise<void> => {
    await assert.rejects(verifier.verify(token), (err: unknown) => {
      assert.ok(err instanceof FhirError);
      assert.equal(err.status, 401);
      assert.equal(err.issues[0].code, 'login');
      assert.match(err.issues[0].diagnostics, why);
      assert.match(err.headers?.['WWW-Authenticate'] ?? '', /^Bearer realm="fhir", error="invalid_token"/);
      return true;
    });
  };
  const now = Math.floor(Date.now() / 1000);

  it('a good token gives the principal: kind from fhirUser, grants from scope', async () => {
    const p = await verifier.verify(await issuer.mint({ scope: 'user/*.rs openid', fhirUser: 'https://gw.example.in/fhir/Practitioner/hpr-1' }));
    assert.equal(p.kind, 'practitioner');
    assert.deepEqual(p.fhirUser, { type: 'Practitioner', id: 'hpr-1' });
    assert.equal(p.grants.length, 1);
  });

  it('every failure class is a 401 that says why', async () => {
    const good = await issuer.mint({});
    const [h, , s] = good.split('.');
    await rejects(`${h}.${Buffer.from(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: 'admin', exp: now + 300 })).toString('base64url')}.${s}`, /signature/);
    await rejects(await issuer.mint({ exp: now - 120 }), /expired/);
    await rejects(await issuer.mint({ nbf: now + 600 }), /not valid yet/);
    await rejects(await issuer.mint({ iss: 'https://evil.example' }), /another issuer/);
    await rejects(await issuer.mint({ aud: 'https://other.example/fhir' }), /another audience/);
    await rejects(await issuer.mint({ exp: undefined }), /no expiry/);
    await rejects(await issuer.mint({ sub: undefined }), /names no one: it needs sub, or client_id \(or azp\)/);
    await rejects(await issuer.mint({}, { kid: 'rotated-away' }), /unknown key/);
    const forged = forgedTokens(issuer.publicPem, {});
    await rejects(forged.none, /'none' is not accepted/);
    await rejects(forged.hmac, /'HS256' is not accepted/);
    await rejects('not-a-token', /not a signed JWT/);
    await rejects('a.b.c', /header/);
  });

  it('a client-credentials token without sub is accepted when client_id or azp names the client (RFC 9068 §2.2, SMART backend services)', async () => {
    const byClientId = await verifier.verify(await issuer.mint({ sub: undefined, client_id: 'lab-integration', scope: 'system/*.rs' }));
    assert.deepEqual([byClientId.subject, byClientId.kind, byClientId.grants.length], ['lab-integration', 'system', 1]);
    const byAzp = await verifier.verify(await issuer.mint({ sub: undefined, azp: 'lab-app', scope: 'system/*.rs' }));
    assert.equal(byAzp.subject, 'lab-app');
    const both = await verifier.verify(await issuer.mint({ sub: 'user-7', client_id: 'portal', scope: 'user/*.rs' }));
    assert.equal(both.subject, 'user-7', 'sub names who acts whenever it is there');
    await rejects(await issuer.mint({ sub: '', client_id: '', scope: 'system/*.rs' }), /names no one/);
  });

  it('fhirUser, patient, scope and nbf of the wrong shape are refused, each naming its claim', async () => {
    await rejects(await issuer.mint({ fhirUser: 'Practitioner/has spaces' }), /fhirUser claim is not a reference/);
    await rejects(await issuer.mint({ fhirUser: 'Medication/m-1' }), /fhirUser claim/);
    await rejects(await issuer.mint({ fhirUser: { reference: 'Practitioner/1' } }), /fhirUser claim/);
    await rejects(await issuer.mint({ patient: 'Patient/p-1' }), /patient claim is not a Patient id/);
    await rejects(await issuer.mint({ patient: 12 }), /patient claim/);
    await rejects(await issuer.mint({ scope: ['system/*.rs'] }), /scope claim is not a space-separated string/);
    await rejects(await issuer.mint({ nbf: 'yesterday' }), /nbf\) is not a number/);
    const absolute = await verifier.verify(await issuer.mint({ fhirUser: 'https://gw.example.in/fhir/Organization/hfr-1', patient: 'p-1' }));
    assert.deepEqual([absolute.kind, absolute.patient], ['organization', 'p-1']);
  });

  it('a token that brings its own key is refused', async () => {
    await rejects(await issuer.mint({}, { jwk: { kty: 'EC' } }), /own keys/);
  });

  it('a JWKS holding a symmetric key is refused at load', async () => {
    const file = `${issuer.jwksFile}.oct`;
    fs.writeFileSync(file, JSON.stringify({ keys: [{ kty: 'oct', kid: 'k', k: 'c2VjcmV0' }] }));
    const bad = new TokenVerifier({ kind: 'file', path: file }, { issuer: ISSUER, audience: AUDIENCE, now: () => new Date() });
    await assert.rejects(bad.load(), /symmetric/);
  });

  it('secure by default: without keys only loopback addresses may be used', () => {
    assert.match(exposureProblem('0.0.0.0', false) ?? '', /refusing to listen on 0.0.0.0 without authentication/);
    assert.equal(exposureProblem('127.0.0.1', false), undefined);
    assert.equal(exposureProblem('::1', false), undefined);
    assert.equal(exposureProblem('0.0.0.0', true), undefined);
  });
});

describe('auth: verified tokens are remembered only while valid', () => {
  it('a cached token stops working when it expires', async () => {
    const { bearerAccess } = await import('../../src/auth/access');
    const issuer = await testIssuer();
    let nowMs = Date.now();
    const verifier = new TokenVerifier({ kind: 'file', path: issuer.jwksFile }, { issuer: ISSUER, audience: AUDIENCE, now: () => new Date(nowMs), leewaySeconds: 0 });
    await verifier.load();
    const auth = bearerAccess(verifier, () => nowMs);
    const token = await issuer.mint({ exp: Math.floor(nowMs / 1000) + 60 });
    assert.equal((await auth.authenticate(`Bearer ${token}`)).subject, 'user-1');
    assert.equal((await auth.authenticate(`Bearer ${token}`)).subject, 'user-1');
    nowMs += 61_000;
    await assert.rejects(auth.authenticate(`Bearer ${token}`), /expired/);
    issuer.cleanup();
  });
});
