import type { Deps } from '../deps';
import { FhirError } from '../fhir/errors';
import { GatewayAuth } from './gateway-auth';
import { GatewayClient, type Fetch, type RetryPolicy } from './gateway-client';
import { HipRole, type DocumentSource, type Outbound, type RoleContext } from './hip/hip';
import { HiuRole } from './hiu/hiu';

/**
 * The health-information exchange as one object main.ts builds when ABDM_GATEWAY_URL is set: the
 * roles this facility plays (HIP, HIU or both), the callbacks the gateway may make (ENDPOINTS), and
 * the work those callbacks start after they have been answered. Transport-free: http/abdm-routes.ts
 * mounts ENDPOINTS on express under /abdm.
 */
export interface Endpoint {
  path: string;
  role: 'hip' | 'hiu';
  /** False only for the data push, which an HIP sends directly: the encryption authenticates it. */
  gatewayToken: boolean;
  handle(hie: Hie, body: unknown): Promise<unknown>;
}

export const DATA_PUSH_PATH = '/v0.5/health-information/transfer';

export const ENDPOINTS: readonly Endpoint[] = [
  { path: '/v0.5/consents/hip/notify', role: 'hip', gatewayToken: true, handle: (h, b) => h.hipRole().consentNotify(b) },
  { path: '/v0.5/health-information/hip/request', role: 'hip', gatewayToken: true, handle: (h, b) => h.hipRole().healthInformationRequest(b) },
  { path: '/v0.5/care-contexts/discover', role: 'hip', gatewayToken: true, handle: (h, b) => h.hipRole().discover(b) },
  { path: '/v0.5/links/link/init', role: 'hip', gatewayToken: true, handle: (h, b) => h.hipRole().linkInit(b) },
  { path: '/v0.5/links/link/confirm', role: 'hip', gatewayToken: true, handle: (h, b) => h.hipRole().linkConfirm(b) },
  { path: '/v0.5/consents/hiu/notify', role: 'hiu', gatewayToken: true, handle: (h, b) => h.hiuRole().consentNotify(b) },
  { path: '/v0.5/consents/on-fetch', role: 'hiu', gatewayToken: true, handle: (h, b) => h.hiuRole().consentOnFetch(b) },
  { path: '/v0.5/health-information/hiu/on-request', role: 'hiu', gatewayToken: true, handle: (h, b) => h.hiuRole().onRequest(b) },
  { path: DATA_PUSH_PATH, role: 'hiu', gatewayToken: false, handle: (h, b) => h.hiuRole().receive(b) },
  // Acknowledgements the gateway sends back for our own calls: nothing to do but accept them.
  { path: '/v0.5/health-information/notify', role: 'hiu', gatewayToken: true, handle: async () => undefined },
];

export interface HieOptions {
  fetch?: Fetch;
  retry?: RetryPolicy;
  documentOf: DocumentSource;
  /** Tests give the gateway stand-in's issuer; production checks signature and time only. */
  gatewayIssuer?: string;
}

export class Hie {
  readonly auth: GatewayAuth;
  private readonly hip?: HipRole;
  private readonly hiu?: HiuRole;
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly deps: Deps, options: HieOptions) {
    const abdm = deps.config.abdm;
    if (!abdm.gatewayUrl || !abdm.clientId || !abdm.clientSecret || !abdm.callbackUrl) throw new Error('the ABDM exchange needs its gateway settings (config.ts checks them)');
    const client = new GatewayClient({ gatewayUrl: abdm.gatewayUrl, clientId: abdm.clientId, clientSecret: abdm.clientSecret, cmId: abdm.cmId }, () => deps.clock.now(), options.fetch, options.retry);
    const otpUrl = abdm.otpWebhookUrl;
    const out: Outbound = {
      call: (p, b, h) => client.call(p, b, h),
      push: (u, b) => client.push(u, b),
      ...(otpUrl ? { sendOtp: (mobile: string, message: string) => client.push(otpUrl, { to: mobile, message }) } : {}),
    };
    const ctx: RoleContext = { deps, out, later: (name, work) => this.later(name, work) };
    this.auth = new GatewayAuth(abdm.gatewayJwksUrl ?? `${abdm.gatewayUrl}/v0.5/certs`, () => deps.clock.now(), options.gatewayIssuer);
    if (abdm.hipId) this.hip = new HipRole(ctx, abdm.hipId, abdm.pushPageSize, options.documentOf);
    if (abdm.hiuId) this.hiu = new HiuRole(ctx, abdm.hiuId, `${abdm.callbackUrl}${DATA_PUSH_PATH}`);
  }

  has(role: 'hip' | 'hiu'): boolean {
    return role === 'hip' ? this.hip !== undefined : this.hiu !== undefined;
  }

  hipRole(): HipRole {
    if (!this.hip) throw new FhirError('not-supported', 'This server does not act as a health information provider (ABDM_HIP_ID is not set)');
    return this.hip;
  }

  hiuRole(): HiuRole {
    if (!this.hiu) throw new FhirError('not-supported', 'This server does not act as a health information user (ABDM_HIU_ID is not set)');
    return this.hiu;
  }

  /** Work after a callback's 202; failures are logged with what failed, never with the payload. */
  private later(name: string, work: () => Promise<void>): void {
    const task = new Promise<void>((resolve) => setImmediate(resolve)).then(work).catch((err: unknown) => {
      this.deps.logger.error('ABDM exchange step failed', { step: name, error: (err as Error).message?.slice(0, 300) });
    }).finally(() => this.running.delete(task));
    this.running.add(task);
  }

  /** Resolves when no started work is left (shutdown, and tests that wait for a flow to finish). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
