/**
 * Calls this server makes to the ABDM gateway and to a health information user's dataPushUrl.
 * Every call has a timeout and is retried with exponential back-off when the failure may pass
 * (network error, timeout, 429, 5xx); a 4xx other than 429 is the caller's mistake and is not
 * repeated. The gateway session token (POST /v0.5/sessions) is cached until shortly before it
 * expires and fetched again once when a call answers 401. Nothing here logs a body or a token.
 */
export interface RetryPolicy {
  timeoutMs: number;
  /** Attempts after the first. */
  retries: number;
  /** First back-off; doubled each attempt. */
  backoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { timeoutMs: 10_000, retries: 4, backoffMs: 500 };

export class OutboundError extends Error {
  constructor(message: string, readonly status?: number, readonly retriable = false) {
    super(message);
  }
}

export type Fetch = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{ status: number; text(): Promise<string> }>;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const MAX_ANSWER_CHARS = 1_000_000;

/** One POST of JSON with the policy's timeout and retries; returns the answer's status and text. */
export async function postJson(
  fetchFn: Fetch, url: string, body: unknown, headers: Record<string, string>, policy: RetryPolicy,
): Promise<{ status: number; text: string }> {
  const payload = JSON.stringify(body);
  let last: OutboundError = new OutboundError(`POST ${url} was not attempted`);
  for (let attempt = 0; attempt <= policy.retries; attempt++) {
    if (attempt > 0) await sleep(policy.backoffMs * 2 ** (attempt - 1));
    try {
      const res = await fetchFn(url, {
        method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: payload, signal: AbortSignal.timeout(policy.timeoutMs),
      });
      const text = (await res.text()).slice(0, MAX_ANSWER_CHARS);
      if (res.status < 300) return { status: res.status, text };
      const retriable = res.status === 429 || res.status >= 500;
      last = new OutboundError(`POST ${url} answered ${res.status}`, res.status, retriable);
      if (!retriable) throw last;
    } catch (err) {
      if (err instanceof OutboundError && !err.retriable) throw err;
      if (!(err instanceof OutboundError)) last = new OutboundError(`POST ${url} failed: ${(err as Error).name === 'TimeoutError' ? `no answer within ${policy.timeoutMs} ms` : (err as Error).message}`, undefined, true);
    }
  }
  throw last;
}

export interface GatewaySettings {
  gatewayUrl: string;
  clientId: string;
  clientSecret: string;
  cmId: string;
}

export class GatewayClient {
  private token?: { value: string; expiresAtMs: number };

  constructor(
    private readonly settings: GatewaySettings,
    private readonly now: () => Date,
    private readonly fetchFn: Fetch = fetch as unknown as Fetch,
    readonly policy: RetryPolicy = DEFAULT_RETRY,
  ) {}

  /** POST a callback to the gateway (`/v0.5/...`), as this bridge, with X-CM-ID and the role header. */
  async call(path: string, body: unknown, headers: Record<string, string> = {}): Promise<void> {
    const send = async (): Promise<{ status: number }> => postJson(this.fetchFn, `${this.settings.gatewayUrl}${path}`, body, {
      Authorization: `Bearer ${await this.session()}`, 'X-CM-ID': this.settings.cmId, ...headers,
    }, this.policy);
    try {
      await send();
    } catch (err) {
      if (!(err instanceof OutboundError) || err.status !== 401) throw err;
      this.token = undefined; // expired or revoked early: one fresh session, then give up
      await send();
    }
  }

  /** POST to a URL the gateway gave us (an HIU's dataPushUrl): no gateway token goes to a third party. */
  async push(url: string, body: unknown): Promise<void> {
    await postJson(this.fetchFn, url, body, {}, this.policy);
  }

  private async session(): Promise<string> {
    const nowMs = this.now().getTime();
    if (this.token && this.token.expiresAtMs > nowMs) return this.token.value;
    const answer = await postJson(this.fetchFn, `${this.settings.gatewayUrl}/v0.5/sessions`,
      { clientId: this.settings.clientId, clientSecret: this.settings.clientSecret }, { 'X-CM-ID': this.settings.cmId }, this.policy);
    let parsed: { accessToken?: unknown; expiresIn?: unknown };
    try {
      parsed = JSON.parse(answer.text) as typeof parsed;
    } catch {
      throw new OutboundError('the gateway session answer is not JSON');
    }
    if (typeof parsed.accessToken !== 'string' || parsed.accessToken === '') throw new OutboundError('the gateway session answer has no accessToken');
    const lifetimeS = typeof parsed.expiresIn === 'number' && parsed.expiresIn > 0 ? parsed.expiresIn : 300;
    // Renew a minute early (or at half life for short tokens) so a token never expires in flight.
    this.token = { value: parsed.accessToken, expiresAtMs: nowMs + Math.max(lifetimeS / 2, lifetimeS - 60) * 1000 };
    return this.token.value;
  }
}
