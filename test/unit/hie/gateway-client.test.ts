import { strict as assert } from 'node:assert';
import { GatewayClient, OutboundError, postJson, type Fetch } from '../../../src/hie/gateway-client';

/** A fetch that answers from a script of statuses (or throws for 'network'), recording each call. */
function scripted(statuses: (number | 'network')[]) {
  const calls: { url: string; headers: Record<string, string>; body: string }[] = [];
  const fetchFn: Fetch = async (url, init) => {
    calls.push({ url, headers: init.headers, body: init.body });
    const next = statuses.shift() ?? 200;
    if (next === 'network') throw new TypeError('fetch failed');
    return { status: next, text: async () => (url.endsWith('/v0.5/sessions') ? JSON.stringify({ accessToken: `t${calls.length}`, expiresIn: 600 }) : '') };
  };
  return { fetchFn, calls };
}

const fast = { timeoutMs: 1000, retries: 3, backoffMs: 1 };

describe('hie/gateway-client: outbound calls with timeouts, retries and the gateway session', () => {
  it('retries what may pass (network errors, 429, 5xx) and succeeds', async () => {
    const { fetchFn, calls } = scripted(['network', 503, 429, 202]);
    const res = await postJson(fetchFn, 'http://x/y', { a: 1 }, {}, fast);
    assert.equal(res.status, 202);
    assert.equal(calls.length, 4);
  });

  it('does not repeat a 4xx, and gives up after its retries', async () => {
    const bad = scripted([400]);
    await assert.rejects(postJson(bad.fetchFn, 'http://x/y', {}, {}, fast), (e: unknown) => e instanceof OutboundError && e.status === 400);
    assert.equal(bad.calls.length, 1);
    const down = scripted([500, 500, 500, 500, 500]);
    await assert.rejects(postJson(down.fetchFn, 'http://x/y', {}, {}, fast), /answered 500/);
    assert.equal(down.calls.length, 4);
  });

  it('opens a session once, sends it with X-CM-ID, and opens a fresh one after a 401', async () => {
    const { fetchFn, calls } = scripted([200, 202, 202, 401, 200, 202]);
    const client = new GatewayClient({ gatewayUrl: 'http://gw', clientId: 'c', clientSecret: 's', cmId: 'sbx' }, () => new Date(), fetchFn, fast);
    await client.call('/v0.5/a', {});
    await client.call('/v0.5/b', {});
    assert.deepEqual(calls.map((c) => c.url), ['http://gw/v0.5/sessions', 'http://gw/v0.5/a', 'http://gw/v0.5/b']);
    assert.equal(calls[1].headers.Authorization, 'Bearer t1');
    assert.equal(calls[1].headers['X-CM-ID'], 'sbx');
    await client.call('/v0.5/c', {});
    assert.deepEqual(calls.slice(3).map((c) => c.url), ['http://gw/v0.5/c', 'http://gw/v0.5/sessions', 'http://gw/v0.5/c']);
  });

  it('sends no gateway token to a dataPushUrl', async () => {
    const { fetchFn, calls } = scripted([202]);
    const client = new GatewayClient({ gatewayUrl: 'http://gw', clientId: 'c', clientSecret: 's', cmId: 'sbx' }, () => new Date(), fetchFn, fast);
    await client.push('http://hiu/push', { entries: [] });
    assert.equal(calls.length, 1);
    assert.equal(calls[0].headers.Authorization, undefined);
  });
});
