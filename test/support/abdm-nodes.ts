import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app';
import type { Authenticator } from '../../src/auth/access';
import type { Config } from '../../src/config';
import type { Deps } from '../../src/deps';
import { createHie } from '../../src/hie';
import { testDeps } from '../helpers/deps';
import type { GatewayStandIn } from './abdm-gateway';

/**
 * Servers for the ABDM exchange tests and benchmark: an HIP or HIU instance of this server on
 * loopback, registered with the gateway stand-in, optionally behind a proxy that can lose answers.
 */
export const HIP_ID = 'IN2710000001';
export const HIU_ID = 'IN2710000099';

export interface Node { deps: Deps; base: string; server: http.Server }

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from the server, which each test narrows
export async function fhir(node: Node, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${node.base}/fhir${path}`, {
    method, headers: { 'Content-Type': 'application/fhir+json', ...(token ? { Authorization: `Bearer ${token}` } : {}) }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function listen(handler: { current?: http.RequestListener }): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((req, res) => (handler.current as http.RequestListener)(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Forwards to the HIU; `loseAnswerToPage` drops the HIU's answer to that page once (the page is stored, the HIP does not know). */
export class LossyProxy {
  loseAnswerToPage?: number;
  pagesSeen: number[] = [];
  constructor(private readonly target: () => string) {}
  listener: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = { 'Content-Type': String(req.headers['content-type'] ?? 'application/json') };
      if (req.headers.authorization) headers.Authorization = req.headers.authorization;
      const answer = await fetch(`${this.target()}${req.url}`, { method: req.method, headers, body: req.method === 'POST' ? body : undefined });
      const text = await answer.text();
      if (req.url?.endsWith('/health-information/transfer')) {
        const page = (JSON.parse(body.toString('utf8')) as { pageNumber: number }).pageNumber;
        this.pagesSeen.push(page);
        if (page === this.loseAnswerToPage) {
          this.loseAnswerToPage = undefined;
          res.socket?.destroy();
          return;
        }
      }
      res.statusCode = answer.status;
      res.setHeader('Content-Type', 'application/json');
      res.end(text);
    });
  };
}

export async function startNode(gw: GatewayStandIn, role: 'hip' | 'hiu', proxy?: LossyProxy, options: { pushPageSize?: number; audit?: boolean; auth?: Authenticator } = {}): Promise<Node> {
  const handler: { current?: http.RequestListener } = {};
  const { server, url } = await listen(handler);
  let callbackUrl = `${url}/abdm`;
  if (proxy) {
    const front = await listen({ current: proxy.listener });
    callbackUrl = `${front.url}/abdm`;
    server.on('close', () => front.server.close());
  }
  const clientId = `${role}-bridge`;
  const abdm: Config['abdm'] = {
    gatewayUrl: gw.url, clientId, clientSecret: `${role}-secret`, cmId: 'sbx', callbackUrl, pushPageSize: options.pushPageSize ?? 2,
    ...(role === 'hip' ? { hipId: HIP_ID, otpWebhookUrl: `${gw.url}/sms` } : { hiuId: HIU_ID }),
  };
  const deps = testDeps({ config: { abdm, audit: options.audit ?? true }, auth: options.auth });
  deps.hie = createHie(deps, { gatewayIssuer: gw.issuer, retry: { timeoutMs: 3000, retries: 3, backoffMs: 20 } });
  handler.current = createApp(deps);
  gw.register({ id: role === 'hip' ? HIP_ID : HIU_ID, role, url: callbackUrl, clientId, clientSecret: `${role}-secret` });
  return { deps, base: url, server };
}

