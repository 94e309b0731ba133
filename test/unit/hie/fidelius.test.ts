import { strict as assert } from 'node:assert';
import { createCipheriv, createDecipheriv, createHash, generateKeyPairSync, hkdfSync } from 'node:crypto';
import { decrypt, encodeX509, encrypt, FideliusError, generateKeyMaterial, parsePublicKey, publicKeyFromPrivate, type FideliusErrorCode } from '../../../src/hie/fidelius';

// ---------------------------------------------------------------------------------------------
// An independent reference: Curve25519 in short-Weierstrass form with BigInt alone (affine
// double-and-add, inverses by Fermat), HKDF and AES-GCM straight from node:crypto. It shares no
// code with the module (no noble, no DER helpers), so agreeing with it means agreeing with the maths.
// ---------------------------------------------------------------------------------------------
const p = 2n ** 255n - 19n;
const n = 2n ** 252n + 27742317777372353535851937790883648493n;
const mod = (x: bigint): bigint => ((x % p) + p) % p;
const pow = (base: bigint, e: bigint): bigint => {
  let r = 1n;
  for (let b = mod(base); e > 0n; e >>= 1n, b = (b * b) % p) if (e & 1n) r = (r * b) % p;
  return r;
};
const inv = (x: bigint): bigint => pow(x, p - 2n);
const A = 486662n;
const a = mod((3n - A * A) * inv(3n));
const b = mod((2n * A ** 3n - 9n * A) * inv(27n));
type Pt = { x: bigint; y: bigint } | null; // null is the identity
const G: Pt = { x: mod(9n + A * inv(3n)), y: 14781619447589544791020593568409986887264606134616475288964881837755586237401n };

function add(P: Pt, Q: Pt): Pt {
  if (!P) return Q;
  if (!Q) return P;
  if (P.x === Q.x && mod(P.y + Q.y) === 0n) return null;
  const l = P.x === Q.x ? mod((3n * P.x * P.x + a) * inv(2n * P.y)) : mod((Q.y - P.y) * inv(Q.x - P.x));
  const x = mod(l * l - P.x - Q.x);
  return { x, y: mod(l * (P.x - x) - P.y) };
}
function mul(k: bigint, P: Pt): Pt {
  let r: Pt = null;
  for (let q = P; k > 0n; k >>= 1n, q = add(q, q)) if (k & 1n) r = add(r, q);
  return r;
}
const be32 = (v: bigint): Buffer => Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
const int = (buf: Buffer): bigint => BigInt('0x' + (buf.toString('hex') || '0'));
const b64 = (s: string): Buffer => Buffer.from(s, 'base64');
const sec1 = (P: Pt): Buffer => Buffer.concat([Buffer.of(4), be32(P!.x), be32(P!.y)]);
const compressed = (P: Pt): Buffer => Buffer.concat([Buffer.of(P!.y & 1n ? 3 : 2), be32(P!.x)]);
const fromSec1 = (buf: Buffer): Pt => ({ x: int(buf.subarray(1, 33)), y: int(buf.subarray(33)) });

/** A point of order 8 (the curve's whole torsion): n·R for the first R whose n-multiple has order 8. */
function order8(): Pt {
  const sqrtMinus1 = pow(2n, (p - 1n) / 4n);
  for (let x = 1n; ; x++) {
    const rhs = mod(x ** 3n + a * x + b);
    let y = pow(rhs, (p + 3n) / 8n);
    if (mod(y * y) !== rhs) y = mod(y * sqrtMinus1);
    if (mod(y * y) !== rhs) continue;
    const T = mul(n, { x, y });
    if (mul(4n, T)) return T;
  }
}

/** Key and IV as both parties derive them, from the reference ECDH. */
function refSession(privateKey: Buffer, peerPublic: Buffer, nonceA: Buffer, nonceB: Buffer): { key: Buffer; iv: Buffer } {
  const secret = be32(mul(int(privateKey), fromSec1(peerPublic))!.x);
  const x = Buffer.from(nonceA.map((v, i) => v ^ nonceB[i]));
  return { key: Buffer.from(hkdfSync('sha256', secret, x.subarray(0, 20), Buffer.alloc(0), 32)), iv: x.subarray(20) };
}
function refEncrypt(plaintext: Buffer, s: { key: Buffer; iv: Buffer }): string {
  const c = createCipheriv('aes-256-gcm', s.key, s.iv);
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]).toString('base64');
}
function refDecrypt(content: string, s: { key: Buffer; iv: Buffer }): Buffer {
  const data = b64(content);
  const d = createDecipheriv('aes-256-gcm', s.key, s.iv);
  d.setAuthTag(data.subarray(data.length - 16));
  return Buffer.concat([d.update(data.subarray(0, data.length - 16)), d.final()]);
}

// DER, written out by hand again, for the X.509 forms the module must read.
const tlv = (tag: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  const len = body.length < 128 ? Buffer.of(body.length) : body.length < 256 ? Buffer.of(0x81, body.length) : Buffer.of(0x82, body.length >> 8, body.length & 0xff);
  return Buffer.concat([Buffer.of(tag), len, body]);
};
const derInt = (v: bigint): Buffer => {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return tlv(2, Buffer.from((parseInt(hex.slice(0, 2), 16) >= 0x80 ? '00' : '') + hex, 'hex'));
};
const OID = {
  ecPublicKey: Buffer.from('06072a8648ce3d0201', 'hex'), // 1.2.840.10045.2.1
  primeField: Buffer.from('06072a8648ce3d0101', 'hex'), // 1.2.840.10045.1.1
  curve25519: Buffer.from('060a2b060104019755010501', 'hex'), // 1.3.6.1.4.1.3029.1.5.1 (cryptlib)
  p256: Buffer.from('06082a8648ce3d030107', 'hex'), // 1.2.840.10045.3.1.7
};
interface Params { p?: bigint; a?: bigint; b?: bigint; base?: Buffer; n?: bigint; h?: bigint | null; seed?: boolean }
function explicitSpki(point: Buffer, o: Params = {}): Buffer {
  const curve = tlv(0x30, tlv(4, be32(o.a ?? a)), tlv(4, be32(o.b ?? b)), o.seed ? tlv(3, Buffer.of(0), Buffer.alloc(20, 7)) : Buffer.alloc(0));
  const params = tlv(0x30, derInt(1n), tlv(0x30, OID.primeField, derInt(o.p ?? p)), curve, tlv(4, o.base ?? sec1(G)), derInt(o.n ?? n),
    o.h === null ? Buffer.alloc(0) : derInt(o.h ?? 8n));
  return tlv(0x30, tlv(0x30, OID.ecPublicKey, params), tlv(3, Buffer.of(0), point));
}
const namedSpki = (point: Buffer, curveOid = OID.curve25519): Buffer => tlv(0x30, tlv(0x30, OID.ecPublicKey, curveOid), tlv(3, Buffer.of(0), point));

// ---------------------------------------------------------------------------------------------
// fidelius-cli's README (mgrmtech/fidelius-cli): key material of a requester and a sender, and the
// sender's ciphertext. Its plaintext line reads "…have been the Potter…", but the ciphertext decrypts
// and authenticates to the sentence without "the" below, so that is the sentence it encrypts.
// ---------------------------------------------------------------------------------------------
const requester = {
  privateKey: 'DMxHPri8d7IT23KgLk281zZenMfVHSdeamq0RhwlIBk=',
  publicKey: 'BAheD5rUqTy4V5xR4/6HWmYpopu5CO+KO8BECS0udNqUTSNo91TIqIIy1A4Vh+F94c+n9vAcwXU2bGcfsI5f69Y=',
  x509PublicKey: 'MIIBMTCB6gYHKoZIzj0CATCB3gIBATArBgcqhkjOPQEBAiB/////////////////////////////////////////7TBEBCAqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqYSRShRAQge0Je0Je0Je0Je0Je0Je0Je0Je0Je0Je0JgtenHcQyGQEQQQqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq0kWiCuGaG4oIa04B7dLHdI0UySPU1+bXxhsinpxaJ+ztPZAiAQAAAAAAAAAAAAAAAAAAAAFN753qL3nNZYEmMaXPXT7QIBCANCAAQIXg+a1Kk8uFecUeP+h1pmKaKbuQjvijvARAktLnTalE0jaPdUyKiCMtQOFYfhfeHPp/bwHMF1NmxnH7COX+vW',
  nonce: '6uj1RdDUbcpI3lVMZvijkMC8Te20O4Bcyz0SyivX8Eg=',
};
const sender = {
  privateKey: 'AYhVZpbVeX4KS5Qm/W0+9Ye2q3rnVVGmqRICmseWni4=',
  publicKey: 'BABVt+mpRLMXiQpIfEq6bj8hlXsdtXIxLsspmMgLNI1SR5mHgDVbjHO2A+U4QlMddGzqyEidzm1AkhtSxSO2Ahg=',
  x509PublicKey: 'MIIBMTCB6gYHKoZIzj0CATCB3gIBATArBgcqhkjOPQEBAiB/////////////////////////////////////////7TBEBCAqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqYSRShRAQge0Je0Je0Je0Je0Je0Je0Je0Je0Je0Je0JgtenHcQyGQEQQQqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq0kWiCuGaG4oIa04B7dLHdI0UySPU1+bXxhsinpxaJ+ztPZAiAQAAAAAAAAAAAAAAAAAAAAFN753qL3nNZYEmMaXPXT7QIBCANCAAQAVbfpqUSzF4kKSHxKum4/IZV7HbVyMS7LKZjICzSNUkeZh4A1W4xztgPlOEJTHXRs6shInc5tQJIbUsUjtgIY',
  nonce: 'lmXgblZwotx+DfBgKJF0lZXtAXgBEYr5khh79Zytr2Y=',
};
const PLAINTEXT = "Wormtail should never have been Potter cottage's secret keeper.";
const PUBLISHED = 'pzMvVZNNVtJzqPkkxcCbBUWgDEBy/mBXIeT2dJWI16ZAQnnXUb9lI+S4k8XK6mgZSKKSRIHkcNvJpllnBg548wUgavBa0vCRRwdL6kY6Yw==';

const fromSender = (requesterPublicKey: string, plaintext: string | Buffer = PLAINTEXT): string =>
  encrypt({ plaintext, senderPrivateKey: sender.privateKey, senderNonce: sender.nonce, requesterPublicKey, requesterNonce: requester.nonce });
const toRequester = (content: string, senderPublicKey: string, requesterNonce = requester.nonce): Buffer =>
  decrypt({ content, requesterPrivateKey: requester.privateKey, requesterNonce, senderPublicKey, senderNonce: sender.nonce });

/** A seeded random source (SHA-256 in counter mode), so generated key material is fixed. */
function seeded(label: string): (size: number) => Buffer {
  let counter = 0;
  return (size) => Buffer.concat(Array.from({ length: Math.ceil(size / 32) }, () => createHash('sha256').update(`${label}/${counter++}`).digest())).subarray(0, size);
}

function refuses(code: FideliusErrorCode, fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof FideliusError, `expected a FideliusError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('hie/fidelius: ABDM end-to-end encryption (hie/fidelius.ts)', () => {
  describe("fidelius-cli's published vector", () => {
    it('both public keys are priv·G, by the module and by the reference', () => {
      for (const party of [requester, sender]) {
        assert.equal(publicKeyFromPrivate(party.privateKey), party.publicKey);
        assert.deepEqual(sec1(mul(int(b64(party.privateKey)), G)), b64(party.publicKey));
      }
    });

    it('the X.509 form is byte for byte what BouncyCastle wrote (explicit parameters), and what the reference builds', () => {
      for (const party of [requester, sender]) {
        assert.equal(encodeX509(party.publicKey), party.x509PublicKey);
        assert.equal(explicitSpki(b64(party.publicKey)).toString('base64'), party.x509PublicKey);
      }
    });

    it('encrypting gives the published ciphertext, whichever form the requester key is in', () => {
      for (const key of [requester.publicKey, requester.x509PublicKey]) assert.equal(fromSender(key), PUBLISHED);
    });

    it('the published ciphertext decrypts and authenticates, by the module and by the reference', () => {
      for (const key of [sender.publicKey, sender.x509PublicKey]) assert.equal(toRequester(PUBLISHED, key).toString('utf8'), PLAINTEXT);
      const session = refSession(b64(requester.privateKey), b64(sender.publicKey), b64(requester.nonce), b64(sender.nonce));
      assert.equal(refDecrypt(PUBLISHED, session).toString('utf8'), PLAINTEXT);
    });

    it('ECDH agrees from both sides: the reference x-coordinate matches in both directions', () => {
      const one = mul(int(b64(requester.privateKey)), fromSec1(b64(sender.publicKey)));
      const two = mul(int(b64(sender.privateKey)), fromSec1(b64(requester.publicKey)));
      assert.equal(one!.x, two!.x);
    });
  });

  describe('against the independent reference, with generated keys', () => {
    const hiu = generateKeyMaterial(seeded('hiu'));
    const hip = generateKeyMaterial(seeded('hip'));
    const document = Buffer.from(JSON.stringify({ resourceType: 'Bundle', type: 'document', note: 'नमस्ते', pad: 'x'.repeat(5000) }));

    it('generated key material is well formed and fixed by its random source', () => {
      assert.deepEqual(generateKeyMaterial(seeded('hiu')), hiu);
      assert.equal(b64(hiu.privateKey).length, 32);
      assert.equal(b64(hiu.nonce).length, 32);
      assert.deepEqual(sec1(mul(int(b64(hiu.privateKey)), G)), b64(hiu.publicKey));
      assert.equal(hiu.x509PublicKey, explicitSpki(b64(hiu.publicKey)).toString('base64'));
      assert.notEqual(generateKeyMaterial().privateKey, generateKeyMaterial().privateKey);
    });

    it('the module encrypts (HIP), the reference decrypts (HIU)', () => {
      const content = encrypt({ plaintext: document, senderPrivateKey: hip.privateKey, senderNonce: hip.nonce, requesterPublicKey: hiu.x509PublicKey, requesterNonce: hiu.nonce });
      const session = refSession(b64(hiu.privateKey), b64(hip.publicKey), b64(hiu.nonce), b64(hip.nonce));
      assert.deepEqual(refDecrypt(content, session), document);
    });

    it('the reference encrypts (HIP), the module decrypts (HIU)', () => {
      const session = refSession(b64(hip.privateKey), b64(hiu.publicKey), b64(hip.nonce), b64(hiu.nonce));
      const content = refEncrypt(document, session);
      assert.deepEqual(decrypt({ content, requesterPrivateKey: hiu.privateKey, requesterNonce: hiu.nonce, senderPublicKey: hip.publicKey, senderNonce: hip.nonce }), document);
    });

    it('a 1 MB document round-trips', () => {
      const big = seeded('big')(1 << 20);
      const content = encrypt({ plaintext: big, senderPrivateKey: hip.privateKey, senderNonce: hip.nonce, requesterPublicKey: hiu.publicKey, requesterNonce: hiu.nonce });
      assert.deepEqual(decrypt({ content, requesterPrivateKey: hiu.privateKey, requesterNonce: hiu.nonce, senderPublicKey: hip.x509PublicKey, senderNonce: hip.nonce }), big);
    });
  });

  describe('every public-key encoding, in both roles', () => {
    const forms = (raw: string): [string, string][] => [
      ['raw-uncompressed', raw],
      ['raw-compressed', compressed(fromSec1(b64(raw))).toString('base64')],
      ['x509-explicit', encodeX509(raw)],
      ['x509-explicit', explicitSpki(b64(raw), { base: compressed(G), seed: true, h: null }).toString('base64')], // another writer's layout
      ['x509-named', namedSpki(b64(raw)).toString('base64')],
    ];
    for (const [i, [encoding]] of forms(requester.publicKey).entries()) {
      it(`${encoding} (#${i + 1}): parsed to the same point, and a round trip with it for either party`, () => {
        const requesterKey = forms(requester.publicKey)[i][1];
        const senderKey = forms(sender.publicKey)[i][1];
        assert.deepEqual(parsePublicKey(requesterKey), { raw: b64(requester.publicKey), encoding });
        assert.equal(fromSender(requesterKey), PUBLISHED);
        assert.equal(toRequester(PUBLISHED, senderKey).toString('utf8'), PLAINTEXT);
      });
    }
  });

  describe('refusals, each with a typed error', () => {
    it('altered content, or a wrong nonce or key, fails authentication', () => {
      const data = b64(PUBLISHED);
      for (const at of [0, data.length - 17, data.length - 1]) {
        const altered = Buffer.from(data);
        altered[at] ^= 1;
        refuses('authentication', () => toRequester(altered.toString('base64'), sender.publicKey));
      }
      refuses('authentication', () => toRequester(PUBLISHED, sender.publicKey, sender.nonce));
      refuses('authentication', () => toRequester(PUBLISHED, requester.publicKey));
      refuses('authentication', () => toRequester(Buffer.concat([data, Buffer.of(0)]).toString('base64'), sender.publicKey));
      refuses('authentication', () => toRequester(data.subarray(1).toString('base64'), sender.publicKey));
    });

    it('bad content and nonces', () => {
      refuses('invalid-content', () => toRequester('not base64!', sender.publicKey));
      refuses('invalid-content', () => toRequester(Buffer.alloc(15).toString('base64'), sender.publicKey), /shorter than the GCM tag/);
      refuses('invalid-nonce', () => toRequester(PUBLISHED, sender.publicKey, Buffer.alloc(31).toString('base64')));
      refuses('invalid-nonce', () => toRequester(PUBLISHED, sender.publicKey, '@@@@'));
      refuses('invalid-nonce', () => encrypt({ plaintext: 'x', senderPrivateKey: sender.privateKey, senderNonce: '', requesterPublicKey: requester.publicKey, requesterNonce: requester.nonce }));
    });

    it('public keys that are not points of the subgroup', () => {
      const Q = fromSec1(b64(requester.publicKey))!;
      const order2: Pt = { x: mod(A * inv(3n)), y: 0n }; // Montgomery (0, 0), mapped: a point of order 2
      const T8 = order8();
      assert.deepEqual(mul(4n, T8), order2);
      const cases: [Buffer, RegExp][] = [
        [b64(requester.publicKey).subarray(0, 64), /64 bytes/],
        [Buffer.concat([b64(requester.publicKey), Buffer.of(0)]), /66 bytes/],
        [Buffer.concat([Buffer.of(5), b64(requester.publicKey).subarray(1)]), /starting 0x05/],
        [Buffer.alloc(0), /0 bytes/],
        [Buffer.of(0), /infinity/],
        [sec1({ x: Q.x, y: mod(Q.y + 1n) }), /not on the curve/],
        [Buffer.concat([Buffer.of(4), be32(Q.x + p), be32(Q.y)]), /not below p/], // the same x, unreduced
        [sec1(order2), /prime-order subgroup/],
        [sec1(add(Q, order2)), /prime-order subgroup/],
        [compressed(order2), /prime-order subgroup/],
        [sec1(T8), /prime-order subgroup/],
        [sec1(mul(2n, T8)), /prime-order subgroup/], // order 4
        [sec1(add(Q, T8)), /prime-order subgroup/],
        [compressed(add(Q, mul(2n, T8))), /prime-order subgroup/],
      ];
      for (const [key, message] of cases) refuses('invalid-public-key', () => fromSender(key.toString('base64')), message);
      refuses('invalid-public-key', () => fromSender('BAhe%D5rU'), /not base64/);
      // An x with no y on the curve: the first x ≥ 1 for which x³ + ax + b is not a square.
      let x = 1n;
      while (pow(mod(x ** 3n + a * x + b), (p - 1n) / 2n) === 1n) x++;
      refuses('invalid-public-key', () => fromSender(Buffer.concat([Buffer.of(2), be32(x)]).toString('base64')), /not on the curve/);
    });

    it('X.509 keys on another curve or of another algorithm', () => {
      const point = b64(requester.publicKey);
      const others: [Buffer, RegExp][] = [
        [explicitSpki(point, { b: mod(b + 1n) }), /a, b differ/],
        [explicitSpki(point, { p: p - 2n }), /p differ/],
        [explicitSpki(point, { n: n + 2n }), /order or cofactor/],
        [explicitSpki(point, { h: 4n }), /order or cofactor/],
        [explicitSpki(point, { base: sec1(mul(2n, G)) }), /base point/],
        [namedSpki(point, OID.p256), /named curve 1\.2\.840\.10045\.3\.1\.7/],
        [generateKeyPairSync('ec', { namedCurve: 'P-256', paramEncoding: 'explicit' }).publicKey.export({ type: 'spki', format: 'der' }), /differ/],
        [generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }), /not an EC key/],
      ];
      for (const [der, message] of others) refuses('unsupported-curve', () => parsePublicKey(der.toString('base64')), message);
    });

    it('garbage DER', () => {
      const good = b64(requester.x509PublicKey);
      const garbage = [
        Buffer.of(0x30), Buffer.of(0x30, 0x80, 0, 0), Buffer.of(0x30, 0xff, 1, 2, 3), good.subarray(0, good.length - 1),
        Buffer.concat([good, Buffer.of(0)]), Buffer.concat([Buffer.of(0x30, 0x82, 0x01, 0x31), Buffer.alloc(305, 0xaa)]),
        tlv(0x30, tlv(0x30, OID.ecPublicKey, tlv(0x30, derInt(1n))), tlv(3, Buffer.of(0), b64(requester.publicKey))),
      ];
      for (const der of garbage) refuses('malformed-der', () => parsePublicKey(der.toString('base64')));
    });

    it('any single-byte change to a key is refused with a FideliusError or parses to a valid point, never a crash', () => {
      const random = seeded('mutations');
      for (const key of [b64(requester.publicKey), b64(requester.x509PublicKey), compressed(fromSec1(b64(requester.publicKey)))]) {
        for (let i = 0; i < 150; i++) {
          const [at, value] = random(4);
          const mutated = Buffer.from(key);
          mutated[((at << 8) | value) % key.length] = random(1)[0];
          try {
            const { raw } = parsePublicKey(mutated.toString('base64'));
            const P = fromSec1(raw);
            assert.equal(mod(P!.y * P!.y), mod(P!.x ** 3n + a * P!.x + b));
          } catch (err) {
            assert.ok(err instanceof FideliusError, `${mutated.toString('hex')}: ${String(err)}`);
          }
        }
      }
    });

    it('private keys that are not scalars in [1, n)', () => {
      const bad = [Buffer.alloc(32), be32(n), be32(n + 1n), Buffer.alloc(32, 0xff), Buffer.alloc(34, 1), Buffer.alloc(0), Buffer.concat([Buffer.of(1), be32(5n)])];
      for (const key of bad) refuses('invalid-private-key', () => publicKeyFromPrivate(key.toString('base64')));
      refuses('invalid-private-key', () => encrypt({ plaintext: 'x', senderPrivateKey: 'AA==', senderNonce: sender.nonce, requesterPublicKey: requester.publicKey, requesterNonce: requester.nonce }));
    });

    it("Java's BigInteger.toByteArray() forms of a scalar are taken: a 0x00 sign byte, or fewer than 32 bytes", () => {
      const d = b64(requester.privateKey);
      assert.equal(publicKeyFromPrivate(Buffer.concat([Buffer.of(0), d]).toString('base64')), requester.publicKey);
      const small = be32(2n ** 232n + 12345n); // Java writes it in 30 bytes
      const javaForm = small.subarray(small.findIndex((v) => v !== 0));
      assert.equal(javaForm.length, 30);
      assert.equal(publicKeyFromPrivate(javaForm.toString('base64')), publicKeyFromPrivate(small.toString('base64')));
      assert.deepEqual(b64(publicKeyFromPrivate(javaForm.toString('base64'))), sec1(mul(2n ** 232n + 12345n, G)));
    });
  });
});
