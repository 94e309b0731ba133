/**
 * Development keys and tokens (run by hand: `npm run dev:tokens`). Creates an ES256 signing key
 * once under dev-keys/ (the private key file is readable by its owner only), writes the public
 * JWKS the server verifies with, and prints a token for each kind of caller, with the settings
 * to start the server with. For development only: production tokens come from the real issuer.
 *   --dir D (dev-keys)  --issuer URL  --audience URL  --hours N (8)
 */
import fs from 'node:fs';
import path from 'node:path';
import jose from 'node-jose';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const DIR = path.resolve(args.get('dir') ?? 'dev-keys');
const ISSUER = args.get('issuer') ?? 'http://127.0.0.1:8080/dev-issuer';
const AUDIENCE = args.get('audience') ?? 'http://127.0.0.1:8080/fhir';
const HOURS = Number(args.get('hours') ?? 8);

/** Each kind of caller of the gateway, as SMART claims. */
const ROLES: Record<string, { sub: string; scope: string; fhirUser?: string; patient?: string }> = {
  // ABHA-holding patient in a PHR app: confined to their own compartment.
  patient: { sub: '91-7561-4088-8857', scope: 'openid fhirUser launch/patient patient/*.rs', fhirUser: 'Patient/abha-91756140888857', patient: 'abha-91756140888857' },
  // Doctor identified by HPR id, reading as a health information user.
  practitioner: { sub: '71-2665-5777-1234', scope: 'openid fhirUser user/*.rs', fhirUser: 'Practitioner/hpr-71266557771234' },
  // Facility (HFR id) posting records as a health information provider.
  'facility-hip': { sub: 'IN2710000001', scope: 'user/*.cruds', fhirUser: 'Organization/hfr-IN2710000001' },
  // Back-end integration (EMR or lab system) with system scopes.
  system: { sub: 'lab-integration', scope: 'system/*.cruds' },
};

async function main(): Promise<void> {
  fs.mkdirSync(DIR, { recursive: true });
  const keyFile = path.join(DIR, 'signing-key.json');
  const jwksFile = path.join(DIR, 'jwks.json');
  const keystore = fs.existsSync(keyFile)
    ? await jose.JWK.asKeyStore(fs.readFileSync(keyFile, 'utf8'))
    : jose.JWK.createKeyStore();
  if (!fs.existsSync(keyFile)) {
    await keystore.generate('EC', 'P-256', { alg: 'ES256', use: 'sig', kid: `dev-${Date.now()}` });
    fs.writeFileSync(keyFile, JSON.stringify(keystore.toJSON(true)), { mode: 0o600 });
  }
  fs.writeFileSync(jwksFile, JSON.stringify(keystore.toJSON(false), null, 2));
  const key = keystore.all({ use: 'sig' })[0];
  const now = Math.floor(Date.now() / 1000);
  console.log(`# start the server with:\nJWKS_FILE=${jwksFile} AUTH_ISSUER=${ISSUER} AUTH_AUDIENCE=${AUDIENCE} npm start\n`);
  for (const [role, claims] of Object.entries(ROLES)) {
    const payload = { iss: ISSUER, aud: AUDIENCE, iat: now, nbf: now, exp: now + HOURS * 3600, ...claims };
    const token = await jose.JWS.createSign({ format: 'compact', fields: { typ: 'JWT' } }, key).update(JSON.stringify(payload)).final();
    console.log(`# ${role}: ${claims.scope}\n${role.toUpperCase().replace(/-/g, '_')}_TOKEN=${String(token)}\n`);
  }
}

main().catch((err: unknown) => { console.error(err); process.exit(1); });
