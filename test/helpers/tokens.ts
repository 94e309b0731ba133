import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jose from 'node-jose';

export const ISSUER = 'https://auth.example.in';
export const AUDIENCE = 'https://gw.example.in/fhir';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A signing key, its public JWKS in a temp file, and a minter of tokens (good and bad) for tests. */
export async function testIssuer(): Promise<{
  jwksFile: string;
  mint(claims: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
  publicPem: string;
  cleanup(): void;
}> {
  const keystore = jose.JWK.createKeyStore();
  const key = await keystore.generate('EC', 'P-256', { alg: 'ES256', use: 'sig', kid: 'test-key-1' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jwks-'));
  const jwksFile = path.join(dir, 'jwks.json');
  fs.writeFileSync(jwksFile, JSON.stringify(keystore.toJSON(false)));
  const now = Math.floor(Date.now() / 1000);
  return {
    jwksFile,
    publicPem: key.toPEM(false),
    async mint(claims, header = {}) {
      const payload = { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', iat: now, exp: now + 300, ...claims };
      return (await jose.JWS.createSign({ format: 'compact', fields: { typ: 'JWT', ...header } }, key).update(JSON.stringify(payload)).final()) as unknown as string;
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** An unsigned (`alg: none`) token and an HS256 token keyed with the public key: both must fail. */
export function forgedTokens(publicPem: string, claims: Record<string, unknown>): { none: string; hmac: string } {
  const now = Math.floor(Date.now() / 1000);
  const payload = b64({ iss: ISSUER, aud: AUDIENCE, sub: 'user-1', exp: now + 300, ...claims });
  const none = `${b64({ alg: 'none', typ: 'JWT', kid: 'test-key-1' })}.${payload}.`;
  const head = b64({ alg: 'HS256', typ: 'JWT', kid: 'test-key-1' });
  const mac = crypto.createHmac('sha256', publicPem).update(`${head}.${payload}`).digest('base64url');
  return { none, hmac: `${head}.${payload}.${mac}` };
}
