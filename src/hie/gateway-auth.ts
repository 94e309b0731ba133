import { TokenVerifier, unauthorized, type ClaimRules } from '../auth/verifier';

/**
 * The ABDM gateway signs a bearer JWT for every call it makes to a bridge; its keys are published
 * as a JWKS (`{gateway}/v0.5/certs`). The signature, algorithm and key id are checked exactly as
 * for our own access tokens (auth/verifier.ts: asymmetric algorithms only, no self-named keys, key
 * rotation); the claims differ: the gateway's tokens are not SMART tokens, so only time is checked
 * (and the issuer, when the deployment names it).
 */
export function gatewayClaimProblem(claims: Record<string, unknown>, rules: ClaimRules): string | undefined {
  if (rules.issuer !== '' && claims.iss !== rules.issuer) return 'The gateway token is from another issuer (iss)';
  if (typeof claims.exp !== 'number') return 'The gateway token has no expiry (exp)';
  if (claims.exp + rules.leewaySeconds <= rules.now) return 'The gateway token has expired (exp)';
  if (typeof claims.nbf === 'number' && claims.nbf - rules.leewaySeconds > rules.now) return 'The gateway token is not valid yet (nbf)';
  return undefined;
}

export class GatewayAuth {
  private readonly verifier: TokenVerifier;

  constructor(jwksUrl: string, now: () => Date, issuer = '') {
    this.verifier = new TokenVerifier({ kind: 'url', url: jwksUrl }, { issuer, audience: '', now, claimCheck: gatewayClaimProblem });
  }

  private loaded = false;
  private lastAttemptMs = 0;

  async load(): Promise<void> {
    this.lastAttemptMs = Date.now();
    await this.verifier.load();
    this.loaded = true;
  }

  /** Throws the 401 FhirError when the Authorization header does not carry a valid gateway token. */
  async check(authorization: string | undefined): Promise<void> {
    const m = /^Bearer ([A-Za-z0-9\-_.]+)$/.exec(authorization ?? '');
    if (!m) throw unauthorized('ABDM gateway calls carry the gateway\'s bearer token');
    // Keys missing since start-up (the gateway was unreachable): try again, at most every 10 s.
    if (!this.loaded && Date.now() - this.lastAttemptMs > 10_000) await this.load().catch(() => undefined);
    await this.verifier.verify(m[1]);
  }
}
