import fs from 'node:fs';
import jose from 'node-jose';
import { FhirError } from '../fhir/errors';
import { parseScopes, type Grant } from './scopes';

/**
 * Bearer JWT verification against a JWKS (RFC 7515, 7517, 7519). Only asymmetric algorithms
 * are accepted, named here, so neither `alg: none` nor an HMAC signed with a public key can pass
 * (the classic key-confusion attack). The claims are then checked by claimProblem (issuer, audience,
 * expiry, not-before, who acts, and the shape of scope, fhirUser and patient).
 * Keys come from a file or a URL; a URL's keys are cached and fetched again when a token names a
 * key id the cache does not have (key rotation), at most once a minute.
 */
export const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;

/** Who is asking, as the token says (SMART on FHIR claims). */
export interface Principal {
  /**
   * Who acts, for the audit trail when no `fhirUser` names them: the token's `sub`, or, in a
   * token without one, the client it was issued to (`client_id`, else `azp`). See actorOf.
   */
  subject: string;
  kind: 'patient' | 'practitioner' | 'organization' | 'system' | 'local';
  grants: Grant[];
  /** `fhirUser`, e.g. Practitioner/123. */
  fhirUser?: { type: string; id: string };
  /** The launch context patient (SMART `patient` claim). */
  patient?: string;
  /** When the token expires (ms since epoch). */
  expiresAt?: number;
}

export interface VerifierOptions {
  issuer: string;
  audience: string;
  now(): Date;
  /** Allowed difference between our clock and the issuer's, in seconds. */
  leewaySeconds?: number;
  /** Claim rules other than claimProblem's, for tokens that are not SMART access tokens (the ABDM gateway's). */
  claimCheck?: (claims: Record<string, unknown>, rules: ClaimRules) => string | undefined;
}

export type KeySource = { kind: 'file'; path: string } | { kind: 'url'; url: string };

const REFRESH_MS = 60_000;

/** The failure answered to the client: always 401, saying why in terms that reveal no key material. */
export function unauthorized(description: string): FhirError {
  return new FhirError('login', description, {
    headers: { 'WWW-Authenticate': `Bearer realm="fhir", error="invalid_token", error_description="${description.replace(/["\\]/g, '')}"` },
  });
}

function decodePart(part: string | undefined): Record<string, unknown> | undefined {
  if (!part || !/^[A-Za-z0-9_-]+$/.test(part)) return undefined;
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const FHIR_USER = /^(?:.*\/)?(Patient|Practitioner|PractitionerRole|Organization|RelatedPerson|Device)\/([A-Za-z0-9\-.]{1,64})$/;
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value !== '';

/**
 * Who acts. Consent never looks at this (a caller's reach comes from `fhirUser` and the scopes):
 * it is what the audit trail records as the agent when no `fhirUser` names one. A user's token
 * names the user in `sub`. A client acting on its own behalf (a SMART backend service, an OAuth
 * client-credentials grant) has no user: RFC 9068 §2.2 puts the client's id in `sub` too, but
 * issuers that leave `sub` out still name the client in `client_id` (RFC 9068, RFC 8693; SMART
 * token introspection always returns it) or `azp` (OpenID Connect). Undefined: the token names
 * no one, and is refused.
 */
export function actorOf(claims: Record<string, unknown>): string | undefined {
  if (nonEmpty(claims.sub)) return claims.sub;
  if (nonEmpty(claims.client_id)) return claims.client_id;
  return nonEmpty(claims.azp) ? claims.azp : undefined;
}

export interface ClaimRules {
  issuer: string;
  audience: string;
  /** Seconds since the epoch. */
  now: number;
  leewaySeconds: number;
}

/**
 * What is wrong with a verified token's claims, in the words the 401 uses (each names its claim),
 * or undefined when nothing is. The README's Authentication section states these same rules.
 */
export function claimProblem(claims: Record<string, unknown>, rules: ClaimRules): string | undefined {
  const { now, leewaySeconds: leeway } = rules;
  if (claims.iss !== rules.issuer) return 'The token is from another issuer (iss)';
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(rules.audience)) return 'The token is for another audience (aud)';
  if (typeof claims.exp !== 'number') return 'The token has no expiry (exp)';
  if (claims.exp + leeway <= now) return 'The token has expired (exp)';
  if (claims.nbf !== undefined && typeof claims.nbf !== 'number') return 'The token\'s not-before time (nbf) is not a number';
  if (typeof claims.nbf === 'number' && claims.nbf - leeway > now) return 'The token is not valid yet (nbf)';
  if (actorOf(claims) === undefined) return 'The token names no one: it needs sub, or client_id (or azp) for a client acting on its own behalf';
  if (claims.scope !== undefined && typeof claims.scope !== 'string') return 'The token\'s scope claim is not a space-separated string';
  if (claims.fhirUser !== undefined && (typeof claims.fhirUser !== 'string' || !FHIR_USER.test(claims.fhirUser))) {
    return 'The token\'s fhirUser claim is not a reference to a Patient, Practitioner, PractitionerRole, Organization, RelatedPerson or Device';
  }
  if (claims.patient !== undefined && (typeof claims.patient !== 'string' || !FHIR_ID.test(claims.patient))) {
    return 'The token\'s patient claim is not a Patient id';
  }
  return undefined;
}

export function principalFrom(claims: Record<string, unknown>): Principal {
  const grants = parseScopes(typeof claims.scope === 'string' ? claims.scope : '');
  const m = typeof claims.fhirUser === 'string' ? FHIR_USER.exec(claims.fhirUser) : null;
  const fhirUser = m ? { type: m[1], id: m[2] } : undefined;
  const kind: Principal['kind'] = fhirUser?.type === 'Patient' ? 'patient'
    : fhirUser?.type === 'Practitioner' || fhirUser?.type === 'PractitionerRole' ? 'practitioner'
      : fhirUser?.type === 'Organization' ? 'organization' : 'system';
  return {
    subject: actorOf(claims) ?? '',
    kind, grants, fhirUser,
    patient: typeof claims.patient === 'string' ? claims.patient : undefined,
  };
}

export class TokenVerifier {
  private keystore?: jose.JWK.KeyStore;
  private fetchedAt = 0;

  constructor(private readonly source: KeySource, private readonly options: VerifierOptions) {}

  /** Loads the keys now, so a bad JWKS stops the server at start-up rather than at the first request. */
  async load(): Promise<void> {
    const text = this.source.kind === 'file' ? fs.readFileSync(this.source.path, 'utf8') : await this.fetchKeys(this.source.url);
    const jwks = JSON.parse(text) as { keys?: { kty?: string; k?: string }[] };
    if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) throw new Error('the JWKS has no keys');
    if (jwks.keys.some((k) => k.kty === 'oct' || k.k !== undefined)) throw new Error('the JWKS holds a symmetric key; only public keys belong there');
    this.keystore = await jose.JWK.asKeyStore(jwks);
    this.fetchedAt = Date.now();
  }

  private async fetchKeys(url: string): Promise<string> {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`JWKS ${url} answered ${res.status}`);
    return res.text();
  }

  async verify(token: string): Promise<Principal> {
    const parts = token.split('.');
    if (parts.length !== 3) throw unauthorized('The token is not a signed JWT');
    const header = decodePart(parts[0]);
    if (!header) throw unauthorized('The token header is not readable');
    if (typeof header.alg !== 'string' || !(ALLOWED_ALGORITHMS as readonly string[]).includes(header.alg)) {
      throw unauthorized(`Signing algorithm '${String(header.alg).slice(0, 20)}' is not accepted`);
    }
    if (header.jwk !== undefined || header.jku !== undefined || header.x5u !== undefined) throw unauthorized('Tokens may not name their own keys');
    if (typeof header.kid !== 'string') throw unauthorized('The token names no key (kid)');
    let keystore = this.keystore;
    if (!keystore) throw unauthorized('No keys are loaded');
    if (!keystore.get(header.kid) && this.source.kind === 'url' && Date.now() - this.fetchedAt > REFRESH_MS) {
      await this.load().catch(() => undefined);
      keystore = this.keystore as jose.JWK.KeyStore;
    }
    if (!keystore.get(header.kid)) throw unauthorized('The token is signed by an unknown key');
    let payload: Buffer;
    try {
      payload = (await jose.JWS.createVerify(keystore, { algorithms: [...ALLOWED_ALGORITHMS] }).verify(token)).payload;
    } catch {
      throw unauthorized('The token signature does not verify');
    }
    let claims: Record<string, unknown>;
    try {
      claims = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw unauthorized('The token claims are not JSON');
    }
    this.checkClaims(claims);
    return { ...principalFrom(claims), expiresAt: (claims.exp as number) * 1000 };
  }

  private checkClaims(claims: Record<string, unknown>): void {
    const problem = (this.options.claimCheck ?? claimProblem)(claims, {
      issuer: this.options.issuer, audience: this.options.audience,
      now: Math.floor(this.options.now().getTime() / 1000), leewaySeconds: this.options.leewaySeconds ?? 30,
    });
    if (problem !== undefined) throw unauthorized(problem);
  }
}
