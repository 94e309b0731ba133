import { Field } from '@noble/curves/abstract/modular';
import { weierstrassN, type WeierstrassPoint } from '@noble/curves/abstract/weierstrass';
import * as der from './der';

/**
 * Keys of ABDM's Fidelius encryption (see fidelius.ts): parsing and checking what peers send,
 * writing the X.509 form Java peers expect, and ECDH. Curve25519 here is BouncyCastle's
 * short-Weierstrass form, so nothing X25519-shaped applies.
 */

export type FideliusErrorCode =
  | 'invalid-private-key' // not base64, wrong length, 0 or ≥ the group order
  | 'invalid-public-key' // not base64, wrong length or prefix, off the curve, identity, outside the subgroup
  | 'malformed-der' // looked like X.509 (began with SEQUENCE) but is not a well-formed SubjectPublicKeyInfo
  | 'unsupported-curve' // a well-formed X.509 key on another curve or of another algorithm
  | 'invalid-nonce' // not base64 or not 32 bytes
  | 'invalid-content' // not base64 or shorter than the GCM tag
  | 'authentication'; // the GCM tag did not verify: wrong key, wrong nonce, or tampered content

/** Every refusal of this module: bad input never surfaces as a crash or a library's own error. */
export class FideliusError extends Error {
  override readonly name = 'FideliusError';
  constructor(readonly code: FideliusErrorCode, message: string) {
    super(message);
  }
}

export type PublicKeyEncoding = 'raw-uncompressed' | 'raw-compressed' | 'x509-explicit' | 'x509-named';

export interface ParsedPublicKey {
  /** The point, uncompressed SEC1: 0x04 ‖ X ‖ Y, 65 bytes. */
  raw: Buffer;
  /** How it arrived. */
  encoding: PublicKeyEncoding;
}

// Curve25519 (y² = x³ + A·x² + x, A = 486662) in short-Weierstrass form y² = x³ + a·x + b by the
// substitution x_W = x_M + A/3, as BouncyCastle's CustomNamedCurves defines it.
const P = 2n ** 255n - 19n;
const Fp = Field(P);
const A = 486662n;
const CURVE = {
  p: P,
  a: Fp.div(Fp.sub(3n, Fp.sqr(A)), 3n),
  b: Fp.div(Fp.sub(Fp.mul(2n, Fp.pow(A, 3n)), Fp.mul(9n, A)), 27n),
  Gx: Fp.add(9n, Fp.div(A, 3n)),
  Gy: 14781619447589544791020593568409986887264606134616475288964881837755586237401n,
  n: 2n ** 252n + 27742317777372353535851937790883648493n,
  h: 8n,
} as const;
const Point = weierstrassN(CURVE, { Fp });
type CurvePoint = WeierstrassPoint<bigint>;

const ID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const PRIME_FIELD = '1.2.840.10045.1.1';
/** cryptlib's OID for curve25519, the one BouncyCastle's CustomNamedCurves registers it under. */
const CURVE25519_OID = '1.3.6.1.4.1.3029.1.5.1';
const toBigInt = (bytes: Uint8Array): bigint => (bytes.length ? BigInt('0x' + Buffer.from(bytes).toString('hex')) : 0n);
const field32 = (value: bigint): Buffer => Buffer.from(Fp.toBytes(value));

/** Standard base64 (padding optional), as Java's Base64 decoder takes it; Buffer.from alone skips junk. */
export function decodeBase64(value: string, code: FideliusErrorCode, what: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.replace(/=+$/, '').length % 4 === 1) {
    throw new FideliusError(code, `${what} is not base64`);
  }
  return Buffer.from(value, 'base64');
}

/**
 * A private key as a scalar in [1, n). Java writes keys with BigInteger.toByteArray(): big-endian,
 * with a 0x00 sign byte when the top bit is set and shorter when the top bytes are zero (1 key in 32 is
 * 31 bytes), so any length up to 32, or 33 with a leading zero, is taken.
 */
function parsePrivateKey(value: string): bigint {
  const bytes = decodeBase64(value, 'invalid-private-key', 'the private key');
  const body = bytes.length === 33 && bytes[0] === 0 ? bytes.subarray(1) : bytes;
  if (body.length === 0 || body.length > 32) {
    throw new FideliusError('invalid-private-key', `the private key is ${bytes.length} bytes; expected a 32-byte big-endian scalar`);
  }
  const d = toBigInt(body);
  if (d === 0n || d >= CURVE.n) throw new FideliusError('invalid-private-key', 'the private key is 0 or not below the group order');
  return d;
}

/** (x, y) from SEC1 bytes, or why not. Coordinates must be field elements; the caller checks the curve. */
function sec1Coordinates(bytes: Buffer): { x: bigint; y: bigint } {
  const bad = (why: string): FideliusError => new FideliusError('invalid-public-key', `the public key ${why}`);
  if (bytes.length === 1 && bytes[0] === 0) throw bad('is the point at infinity');
  const compressed = bytes.length === 33 && (bytes[0] === 2 || bytes[0] === 3);
  if (!compressed && !(bytes.length === 65 && bytes[0] === 4)) {
    const start = bytes.length ? ` starting 0x${bytes[0].toString(16).padStart(2, '0')}` : '';
    throw bad(`is ${bytes.length} bytes${start}; expected a 65-byte point 0x04‖X‖Y (or 33 bytes compressed)`);
  }
  const x = toBigInt(bytes.subarray(1, 33));
  const y = compressed ? 0n : toBigInt(bytes.subarray(33));
  if (x >= P || y >= P) throw bad('has a coordinate not below p');
  if (!compressed) return { x, y };
  let root: bigint;
  try {
    root = Fp.sqrt(Fp.add(Fp.add(Fp.pow(x, 3n), Fp.mul(CURVE.a, x)), CURVE.b));
  } catch {
    throw bad('is not on the curve (no y for this x)');
  }
  return { x, y: ((root & 1n) === 1n) === (bytes[0] === 3) ? root : Fp.neg(root) };
}

/**
 * A point a peer sent, refused unless it is on the curve and in the prime-order subgroup. A point
 * with a small-order component would let a malicious peer learn our scalar modulo the cofactor.
 */
function decodePoint(bytes: Buffer): CurvePoint {
  const { x, y } = sec1Coordinates(bytes);
  if (!Fp.eql(Fp.sqr(y), Fp.add(Fp.add(Fp.pow(x, 3n), Fp.mul(CURVE.a, x)), CURVE.b))) {
    throw new FideliusError('invalid-public-key', 'the public key is not on the curve');
  }
  const point = y === 0n ? undefined : Point.fromAffine({ x, y });
  if (!point || !inPrimeOrderSubgroup(point)) throw new FideliusError('invalid-public-key', 'the public key is not in the prime-order subgroup');
  return point;
}

/**
 * n·P = O. noble's projective points cannot hold y = 0, which on this curve (order 8n) is exactly the
 * points of order 2: it throws if one appears. Every multiple of a point of the odd-order subgroup
 * stays in it, so none does for a good key, and a throw can only mean the point is outside.
 */
function inPrimeOrderSubgroup(point: CurvePoint): boolean {
  try {
    return point.isTorsionFree();
  } catch {
    return false;
  }
}

const rawOf = (point: CurvePoint): Buffer => Buffer.from(point.toBytes(false));

/**
 * Checks that explicit ECParameters (X9.62: version, fieldID, curve, base, order, cofactor) are
 * this curve. Values are compared, not bytes, so other writers' layouts (a seed, a compressed base
 * point, no cofactor) are accepted too.
 */
function checkExplicitParameters(params: der.Tlv): void {
  const [version, fieldId, curve, base, order, cofactor] = der.sequence(params, 5, 7);
  const v = der.unsignedInteger(version);
  if (v < 1n || v > 3n) throw new der.DerError(`ECParameters version ${v}`);
  const [fieldType, prime] = der.sequence(fieldId, 2);
  const [aField, bField, seed] = der.sequence(curve, 2, 3);
  if (seed) der.expectTag(seed, der.TAG.BIT_STRING);
  const a = toBigInt(der.expectTag(aField, der.TAG.OCTET_STRING).body);
  const b = toBigInt(der.expectTag(bField, der.TAG.OCTET_STRING).body);
  const basePoint = der.expectTag(base, der.TAG.OCTET_STRING).body;
  const n = der.unsignedInteger(order);
  const h = cofactor ? der.unsignedInteger(cofactor) : CURVE.h;
  const differs: string[] = [];
  if (der.objectIdentifier(fieldType) !== PRIME_FIELD) differs.push('field type');
  else if (der.unsignedInteger(prime) !== CURVE.p) differs.push('p');
  if (a !== CURVE.a || b !== CURVE.b) differs.push('a, b');
  if (n !== CURVE.n || h !== CURVE.h) differs.push('order or cofactor');
  if (!differs.length && !sameAsBase(basePoint)) differs.push('base point');
  if (differs.length) {
    throw new FideliusError('unsupported-curve', `the X.509 key's explicit parameters are not BouncyCastle's curve25519 (${differs.join('; ')} differ)`);
  }
}

/** Compared as coordinates: G needs none of a peer key's checks (the subgroup check alone is a scalar multiply). */
function sameAsBase(encoded: Buffer): boolean {
  try {
    const { x, y } = sec1Coordinates(encoded);
    return x === CURVE.Gx && y === CURVE.Gy;
  } catch {
    return false;
  }
}

interface PeerKey {
  point: CurvePoint;
  encoding: PublicKeyEncoding;
}

/** SubjectPublicKeyInfo { AlgorithmIdentifier { id-ecPublicKey, ECParameters | named curve }, BIT STRING point }. */
function parseSpki(bytes: Buffer): PeerKey {
  try {
    const [algorithm, subjectPublicKey] = der.sequence(der.readOne(bytes, der.TAG.SEQUENCE), 2);
    // The algorithm first: an Ed25519 or X25519 key has no parameters, and should be named as such.
    const [algorithmOid, params] = der.sequence(algorithm, 1, 2);
    const keyType = der.objectIdentifier(algorithmOid);
    if (keyType !== ID_EC_PUBLIC_KEY) throw new FideliusError('unsupported-curve', `the X.509 key is not an EC key (algorithm ${keyType})`);
    if (!params) throw new der.DerError('an EC key without curve parameters');
    const point = der.octetBitString(subjectPublicKey);
    if (params.tag === der.TAG.OID) {
      const curve = der.objectIdentifier(params);
      if (curve !== CURVE25519_OID) throw new FideliusError('unsupported-curve', `the X.509 key is on the named curve ${curve}, not curve25519`);
      return { point: decodePoint(point), encoding: 'x509-named' };
    }
    if (params.tag !== der.TAG.SEQUENCE) throw new FideliusError('unsupported-curve', 'the X.509 key names no curve (implicitlyCA)');
    checkExplicitParameters(params);
    return { point: decodePoint(point), encoding: 'x509-explicit' };
  } catch (err) {
    if (err instanceof der.DerError) throw new FideliusError('malformed-der', `the X.509 public key is not well-formed DER: ${err.message}`);
    throw err;
  }
}

/**
 * A peer's public key, base64, in any form a peer sends: raw SEC1 (fidelius-cli `publicKey`) or X.509
 * SubjectPublicKeyInfo DER (BouncyCastle `getEncoded()`, which the NHA wrapper sends). The forms never
 * collide: a DER key begins with SEQUENCE (0x30), a SEC1 point with 0x00, 0x02, 0x03 or 0x04.
 */
export function parsePublicKey(publicKey: string): ParsedPublicKey {
  const { point, encoding } = peerKey(publicKey);
  return { raw: rawOf(point), encoding };
}

function peerKey(publicKey: string): PeerKey {
  const bytes = decodeBase64(publicKey, 'invalid-public-key', 'the public key');
  if (bytes[0] === der.TAG.SEQUENCE) return parseSpki(bytes);
  return { point: decodePoint(bytes), encoding: bytes.length === 33 ? 'raw-compressed' : 'raw-uncompressed' };
}

/**
 * The X.509 SubjectPublicKeyInfo of a public key (any accepted form), base64, byte for byte as
 * BouncyCastle's `getEncoded()` writes a key of this curve. BouncyCastle emits EXPLICIT ECParameters
 * in the AlgorithmIdentifier, not the named-curve OID: version 1; prime field p; curve a and b as
 * 32-byte OCTET STRINGs, no seed; uncompressed base point; order; cofactor. fidelius-cli's published
 * `x509PublicKey` has exactly this layout, and so do the NHA wrapper's keys.
 * We emit the same because every Java peer parses its own keys this way with X509EncodedKeySpec.
 * The cryptlib named-curve OID is not one every ASN.1 stack knows.
 */
export function encodeX509(publicKey: string): string {
  return spki(parsePublicKey(publicKey).raw);
}

/** SubjectPublicKeyInfo of an uncompressed point already known to be good (see encodeX509). */
function spki(raw: Buffer): string {
  const { encode, encodeUnsignedInteger: int, encodeObjectIdentifier: oid, TAG } = der;
  const parameters = encode(TAG.SEQUENCE,
    int(1n),
    encode(TAG.SEQUENCE, oid(PRIME_FIELD), int(CURVE.p)),
    encode(TAG.SEQUENCE, encode(TAG.OCTET_STRING, field32(CURVE.a)), encode(TAG.OCTET_STRING, field32(CURVE.b))),
    encode(TAG.OCTET_STRING, rawOf(Point.BASE)),
    int(CURVE.n),
    int(CURVE.h));
  const algorithm = encode(TAG.SEQUENCE, oid(ID_EC_PUBLIC_KEY), parameters);
  return encode(TAG.SEQUENCE, algorithm, encode(TAG.BIT_STRING, Buffer.of(0), raw)).toString('base64');
}

/** The raw (uncompressed SEC1) public key of a private key: priv·G. */
export function publicKeyFromPrivate(privateKey: string): string {
  return rawOf(Point.BASE.multiply(parsePrivateKey(privateKey))).toString('base64');
}

/**
 * A key pair (base64: 32-byte scalar, raw point, X.509) from `seed`, 48 random bytes reduced into
 * [1, n): the 128 spare bits make the reduction's bias negligible (FIPS 186-5 A.2.1), and unlike
 * rejection sampling it takes a fixed amount of randomness, so an injected source gives a fixed key.
 */
export function keyPairFromSeed(seed: Uint8Array): { privateKey: string; publicKey: string; x509PublicKey: string } {
  if (seed.length !== 48) throw new RangeError(`a private key takes a 48-byte seed, not ${seed.length}`);
  const d = (toBigInt(seed) % (CURVE.n - 1n)) + 1n;
  const raw = rawOf(Point.BASE.multiply(d));
  return { privateKey: field32(d).toString('base64'), publicKey: raw.toString('base64'), x509PublicKey: spki(raw) };
}

/** ECDH as BouncyCastle computes it: the x-coordinate of priv·peer, 32 bytes big-endian. */
export function ecdhSecret(privateKey: string, peerPublicKey: string): Buffer {
  const d = parsePrivateKey(privateKey);
  // d ∈ [1, n) and the peer point is in the order-n subgroup and not the identity, so d·Q is not either.
  return field32(peerKey(peerPublicKey).point.multiply(d).toAffine().x);
}
