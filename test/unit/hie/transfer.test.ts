import { strict as assert } from 'node:assert';
import type { Consent } from 'fhir/r4';
import { FhirError } from '../../../src/fhir/errors';
import { generateKeyMaterial } from '../../../src/hie/fidelius';
import { careContextsOfConsent, checkRequest, parseHiRequest, type HiRequest } from '../../../src/hie/hip/transfer';
import { consentFromArtefact } from '../../../src/consent/artefact';

const keys = generateKeyMaterial();
const body = (over: Record<string, unknown> = {}) => ({
  requestId: '5f7a535d-a3fd-416b-b069-c97d021fbacd', transactionId: 'a152c932-2f70-3d53-a3b5-25fd46b12a18',
  hiRequest: {
    consent: { id: '8fd6b0cc-d8ad-4c6a-8cbb-2b5d59b2a5f6' },
    dateRange: { from: '2026-01-01T00:00:00', to: '2026-06-30T00:00:00' },
    dataPushUrl: 'https://hiu.example.in/data-push',
    keyMaterial: { cryptoAlg: 'ECDH', curve: 'Curve25519', dhPublicKey: { expiry: '2027-01-01T00:00:00Z', parameters: 'Curve25519/32byte random key', keyValue: keys.publicKey }, nonce: keys.nonce },
    ...over,
  },
});

const hipConsent = (status = 'GRANTED', permission?: object): Consent => consentFromArtefact({
  status,
  consentDetail: {
    consentId: '8fd6b0cc-d8ad-4c6a-8cbb-2b5d59b2a5f6', createdAt: '2026-01-10T10:00:00Z', patient: { id: 'asha@sbx' },
    careContexts: [{ patientReference: 'p1', careContextReference: 'e1' }, { patientReference: 'p1', careContextReference: 'OPD 2026/1' }],
    purpose: { code: 'CAREMGT', text: 'Care Management' }, hip: { id: 'IN1' }, consentManager: { id: 'sbx' }, hiTypes: ['Prescription'],
    permission: permission ?? { accessMode: 'VIEW', dateRange: { from: '2026-01-01T00:00:00Z', to: '2026-06-30T00:00:00Z' }, dataEraseAt: '2026-12-31T00:00:00Z', frequency: { unit: 'HOUR', value: 1, repeats: 0 } },
  },
}, 'hip');

describe('hie/hip/transfer: a health-information request, read and checked (pure)', () => {
  const now = Date.UTC(2026, 5, 1);
  const request = (over: Partial<HiRequest> = {}): HiRequest => ({ ...parseHiRequest(body()), ...over });

  it('reads the v0.5 shape; a date-time without a zone is UTC, as the gateway writes them', () => {
    const r = parseHiRequest(body());
    assert.equal(r.fromMs, Date.UTC(2026, 0, 1));
    assert.equal(r.dataPushUrl, 'https://hiu.example.in/data-push');
    assert.equal(r.hiuPublicKey, keys.publicKey);
  });

  it('refuses a malformed request with a 4xx naming the path', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...body(), requestId: 'nope' }, /requestId/],
      [body({ dataPushUrl: 'file:///etc/passwd' }), /dataPushUrl/],
      [body({ keyMaterial: { cryptoAlg: 'RSA', curve: 'P-256', dhPublicKey: { keyValue: 'x', expiry: '2027-01-01' }, nonce: 'x' } }), /ECDH on Curve25519/],
      [body({ keyMaterial: { cryptoAlg: 'ECDH', curve: 'Curve25519', dhPublicKey: { keyValue: 'AAAA', expiry: '2027-01-01' }, nonce: keys.nonce } }), /keyMaterial cannot be used/],
      [body({ dateRange: { from: 'yesterday', to: '2026-01-01' } }), /dateRange.from/],
      [[], /JSON object/],
    ];
    for (const [input, message] of cases) {
      assert.throws(() => parseHiRequest(input), (err: unknown) => err instanceof FhirError && err.status < 500 && message.test(err.message), String(message));
    }
  });

  it('allows a request inside an active, unexpired consent', () => {
    assert.equal(checkRequest(hipConsent(), request(), now), undefined);
  });

  it('refuses what the data-flow rules refuse, each with its ABDM code', () => {
    assert.equal(checkRequest(undefined, request(), now)?.code, 'ABDM-1062');
    assert.equal(checkRequest(hipConsent('REVOKED'), request(), now)?.code, 'ABDM-1062');
    assert.equal(checkRequest(hipConsent(), request(), Date.UTC(2027, 0, 1))?.code, 'ABDM-1061');
    assert.equal(checkRequest(hipConsent(), request({ fromMs: Date.UTC(2025, 11, 31) }), now)?.code, 'ABDM-1063', 'a wider window is refused, not trimmed');
    assert.equal(checkRequest(hipConsent(), request({ toMs: Date.UTC(2026, 6, 1) }), now)?.code, 'ABDM-1063');
    assert.equal(checkRequest(hipConsent(), request({ fromMs: Date.UTC(2026, 3, 1), toMs: Date.UTC(2026, 2, 1) }), now)?.code, 'ABDM-1063');
    assert.match(checkRequest(hipConsent(), request({ keyExpiryMs: now - 1 }), now)?.message ?? '', /key material/);
  });

  it('the HIP copy keeps its care contexts, including references that are not FHIR ids', () => {
    const c = hipConsent();
    assert.deepEqual(careContextsOfConsent(c), [
      { patientReference: 'p1', careContextReference: 'e1' }, { patientReference: 'p1', careContextReference: 'OPD 2026/1' },
    ]);
    assert.equal(c.provision?.data?.[0].reference.reference, 'Encounter/e1');
    assert.equal(c.provision?.data?.[1].reference.reference, undefined);
    assert.equal(c.organization?.[0].identifier?.value, 'sbx', 'managed by the consent manager');
    assert.equal(c.provision?.actor, undefined, 'names no local party: the HIP copy grants no one here anything');
  });
});
