import { strict as assert } from 'node:assert';
import { auditEvent } from '../../../src/audit/event';
import { canonicalJson } from '../../../src/audit/chain';

/** The form every chain so far was hashed with, kept here as the reference the fast one must match byte for byte. */
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj).sort().filter((k) => obj[k] !== undefined).map((k) => `${JSON.stringify(k)}:${reference(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) as string;
}

/** A seeded generator of JSON-like values: nested objects and arrays, nulls, undefined members and items, odd keys. */
function generate(seed: number): unknown {
  let x = seed;
  const next = (): number => { x = (x * 1103515245 + 12345) % 2147483648; return x / 2147483648; };
  const value = (depth: number): unknown => {
    const r = next();
    if (depth > 4 || r < 0.3) return [null, true, false, 0, -1.5, 1e21, 'text', 'ü\u0000"\\', undefined][Math.floor(next() * 9)];
    if (r < 0.6) return Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1));
    const obj: Record<string, unknown> = {};
    for (let i = Math.floor(next() * 5); i > 0; i--) obj[['b', 'a', '10', '2', 'é', '__proto_', 'resourceType'][Math.floor(next() * 7)] + String(i)] = value(depth + 1);
    return obj;
  };
  return value(0);
}

describe('audit chain: canonical JSON', () => {
  it('the fast form is byte for byte the form chains were hashed with (2,000 generated values)', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const v = generate(seed);
      assert.equal(canonicalJson(v), reference(v), `seed ${seed}`);
    }
  });

  it('and on a real AuditEvent, whatever the key order', () => {
    const event = auditEvent({
      interaction: 'read', action: 'R', recorded: '2026-01-01T00:00:00Z', status: 200, requestId: 'r1', clientAddress: '127.0.0.1',
      agent: { kind: 'practitioner', subject: 's', fhirUser: 'Practitioner/p' }, purpose: 'CAREMGT', consents: ['c1'],
      entities: [{ type: 'Observation', id: 'o1', versionId: 2, patients: ['p1'] }],
    });
    assert.equal(canonicalJson(event), reference(event));
    const reversed = JSON.parse(JSON.stringify(event, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).reverse()) : v))) as unknown;
    assert.equal(canonicalJson(reversed), canonicalJson(event));
  });
});
