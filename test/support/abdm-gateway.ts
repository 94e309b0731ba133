import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import jose from 'node-jose';

/**
 * A stand-in for the ABDM gateway and consent manager, for tests only: the v0.5 shapes over
 * loopback HTTP (FACTS §4.3, §4.4, §4.7). It issues sessions to the bridges it knows, signs every
 * call it makes to them with its own RS256 key (published at /v0.5/certs), forwards health-information
 * requests from an HIU to the HIP, and records every call so tests can wait for and inspect them.
 * It does what the real consent manager does for a flow, not its checks: tests send refused
 * requests straight to the HIP to see the provider's own checks.
 */
export interface Bridge { id: string; role: 'hip' | 'hiu'; url: string; clientId: string; clientSecret: string }
export interface Call { path: string; body: Record<string, unknown>; from?: string }

export class GatewayStandIn {
  readonly calls: Call[] = [];
  private readonly bridges: Bridge[] = [];
  private readonly tokens = new Map<string, string>();
  private readonly artefacts = new Map<string, Record<string, unknown>>();
  private key?: jose.JWK.Key;
  private server?: http.Server;
  private waiters: (() => void)[] = [];
  url = '';
  readonly issuer = 'https://gateway.test/auth';

  async start(): Promise<void> {
    this.key = await jose.JWK.createKey('RSA', 2048, { alg: 'RS256', use: 'sig', kid: randomUUID() });
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  register(bridge: Bridge): void {
    this.bridges.push(bridge);
  }

  /** A token as the gateway signs them for its calls to bridges. */
  async token(lifetimeS = 300): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const payload = JSON.stringify({ iss: this.issuer, sub: 'gateway', iat: now, exp: now + lifetimeS, clientId: 'gateway' });
    return String(await jose.JWS.createSign({ format: 'compact', fields: { typ: 'JWT' } }, this.key as jose.JWK.Key).update(payload).final());
  }

  /** Calls a bridge's endpoint as the gateway; returns its status and body. */
  async callBridge(role: 'hip' | 'hiu', path: string, body: unknown, token?: string): Promise<{ status: number; body: unknown }> {
    const bridge = this.bridges.find((b) => b.role === role);
    if (!bridge) throw new Error(`no ${role} registered`);
    const res = await fetch(`${bridge.url}${path}`, {
      method: 'POST', body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token ?? await this.token()}`, 'X-CM-ID': 'sbx' },
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /** The patient grants a consent: the HIP gets its copy, the HIU is told and fetches the artefact. */
  async grant(detail: Record<string, unknown>): Promise<void> {
    const consentId = detail.consentId as string;
    this.artefacts.set(consentId, detail);
    const { hiu: _hiu, requester: _requester, ...hipCopy } = detail;
    await this.expectOk(await this.callBridge('hip', '/v0.5/consents/hip/notify', {
      requestId: randomUUID(), timestamp: new Date().toISOString(),
      notification: { status: 'GRANTED', consentId, consentDetail: hipCopy, signature: 'c2lnbmF0dXJl', grantAcknowledgement: false },
    }));
    await this.expectOk(await this.callBridge('hiu', '/v0.5/consents/hiu/notify', {
      requestId: randomUUID(), timestamp: new Date().toISOString(),
      notification: { consentRequestId: randomUUID(), status: 'GRANTED', consentArtefacts: [{ id: consentId }] },
    }));
  }

  /** The patient revokes: both sides are told. */
  async revoke(consentId: string): Promise<void> {
    await this.expectOk(await this.callBridge('hip', '/v0.5/consents/hip/notify', {
      requestId: randomUUID(), timestamp: new Date().toISOString(), notification: { status: 'REVOKED', consentId },
    }));
    await this.expectOk(await this.callBridge('hiu', '/v0.5/consents/hiu/notify', {
      requestId: randomUUID(), timestamp: new Date().toISOString(),
      notification: { consentRequestId: randomUUID(), status: 'REVOKED', consentArtefacts: [{ id: consentId }] },
    }));
  }

  private async expectOk(answer: { status: number; body: unknown }): Promise<void> {
    if (answer.status !== 202) throw new Error(`bridge answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }

  /** Waits until a call to `path` matching `match` has arrived. */
  async waitFor(path: string, match: (c: Call) => boolean = () => true, timeoutMs = 20_000): Promise<Call> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.calls.find((c) => c.path === path && match(c));
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no call to ${path} within ${timeoutMs} ms; got ${this.calls.map((c) => c.path).join(', ')}`);
      await new Promise<void>((resolve) => { this.waiters.push(resolve); setTimeout(resolve, 200); });
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = (req.url ?? '').split('?')[0];
    const reply = (status: number, body?: unknown): void => {
      res.statusCode = status;
      res.setHeader('Content-Type', 'application/json');
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    if (req.method === 'GET' && path === '/v0.5/certs') return reply(200, (this.key as jose.JWK.Key).keystore.toJSON());
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      return reply(400, { error: { code: 1000, message: 'not JSON' } });
    }
    if (path === '/v0.5/sessions') {
      const bridge = this.bridges.find((b) => b.clientId === body.clientId && b.clientSecret === body.clientSecret);
      if (!bridge) return reply(401, { error: { code: 1401, message: 'bad client credentials' } });
      const token = randomUUID();
      this.tokens.set(token, bridge.id);
      return reply(200, { accessToken: token, expiresIn: 600, tokenType: 'bearer' });
    }
    if (path === '/sms') {
      // The facility's SMS service, for one-time passwords (ABDM_OTP_WEBHOOK_URL): recorded, not sent.
      this.calls.push({ path, body });
      for (const w of this.waiters.splice(0)) w();
      return reply(202);
    }
    const from = this.tokens.get(String(req.headers.authorization ?? '').replace(/^Bearer /, ''));
    if (!from) return reply(401, { error: { code: 1401, message: 'no session' } });
    this.calls.push({ path, body, from });
    for (const w of this.waiters.splice(0)) w();
    reply(202);
    setImmediate(() => void this.after(path, body).catch((err: unknown) => this.calls.push({ path: 'stand-in-error', body: { message: String(err) } })));
  }

  /** What the consent manager does after answering 202. */
  private async after(path: string, body: Record<string, unknown>): Promise<void> {
    if (path === '/v0.5/consents/fetch') {
      const detail = this.artefacts.get(body.consentId as string);
      await this.callBridge('hiu', '/v0.5/consents/on-fetch', {
        requestId: randomUUID(), timestamp: new Date().toISOString(),
        ...(detail ? { consent: { status: 'GRANTED', consentDetail: detail, signature: 'c2lnbmF0dXJl' } } : { error: { code: 1404, message: 'unknown consent' } }),
        resp: { requestId: body.requestId },
      });
    } else if (path === '/v0.5/health-information/cm/request') {
      const transactionId = randomUUID();
      await this.callBridge('hiu', '/v0.5/health-information/hiu/on-request', {
        requestId: randomUUID(), timestamp: new Date().toISOString(), hiRequest: { transactionId, sessionStatus: 'REQUESTED' }, resp: { requestId: body.requestId },
      });
      await this.callBridge('hip', '/v0.5/health-information/hip/request', {
        requestId: randomUUID(), timestamp: new Date().toISOString(), transactionId, hiRequest: body.hiRequest,
      });
    }
  }
}
