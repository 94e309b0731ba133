/**
 * The few DER (X.690) pieces an X.509 SubjectPublicKeyInfo needs, read and written by hand.
 *
 * Why not a library: the keys are small, fixed structures (SEQUENCE, INTEGER, OID, OCTET STRING,
 * BIT STRING), node:crypto cannot import an EC key on a curve it does not know (Curve25519 in
 * short-Weierstrass form is one), and a general ASN.1 library would be the largest dependency of
 * the encryption path for a hundred lines of work.
 *
 * The reader is strict DER: definite lengths in their shortest form, one-byte tags, nothing after
 * the last element. Anything else throws `DerError`, which callers turn into their own error.
 */

export const TAG = { INTEGER: 0x02, BIT_STRING: 0x03, OCTET_STRING: 0x04, NULL: 0x05, OID: 0x06, SEQUENCE: 0x30 } as const;

/** The input is not DER, or not the structure the caller expected. */
export class DerError extends Error {}

/** One tag-length-value element; `body` is a view of the input, not a copy. */
export interface Tlv {
  tag: number;
  body: Buffer;
}

/** Reads one element at `pos`; returns it and the offset just past it. */
function readAt(buf: Buffer, pos: number): { tlv: Tlv; next: number } {
  if (pos + 2 > buf.length) throw new DerError('truncated element');
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used in a public key');
  let length = buf[pos + 1];
  let start = pos + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    // 0x80 is BER's indefinite length; more than 4 bytes of length is more than any key needs.
    if (count === 0 || count > 4 || start + count > buf.length) throw new DerError('bad length');
    length = buf.readUIntBE(start, count);
    if (length < 0x80 || buf[start] === 0) throw new DerError('length not in its shortest form');
    start += count;
  }
  if (start + length > buf.length) throw new DerError('element longer than its input');
  return { tlv: { tag, body: buf.subarray(start, start + length) }, next: start + length };
}

/** The elements that make up `buf` exactly, in order. */
export function readAll(buf: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = 0; pos < buf.length;) {
    const { tlv, next } = readAt(buf, pos);
    out.push(tlv);
    pos = next;
  }
  return out;
}

/** `buf` as exactly one element with tag `tag`. */
export function readOne(buf: Buffer, tag: number): Tlv {
  const all = readAll(buf);
  if (all.length !== 1) throw new DerError(`expected one element, found ${all.length}`);
  return expectTag(all[0], tag);
}

export function expectTag(tlv: Tlv | undefined, tag: number): Tlv {
  if (!tlv) throw new DerError(`missing element (tag 0x${tag.toString(16)})`);
  if (tlv.tag !== tag) throw new DerError(`tag 0x${tlv.tag.toString(16)} where 0x${tag.toString(16)} was expected`);
  return tlv;
}

/** The children of a SEQUENCE, checking there are between `min` and `max` of them. */
export function sequence(tlv: Tlv | undefined, min: number, max = min): Tlv[] {
  const items = readAll(expectTag(tlv, TAG.SEQUENCE).body);
  if (items.length < min || items.length > max) throw new DerError(`SEQUENCE of ${items.length} elements, expected ${min}..${max}`);
  return items;
}

/** A non-negative INTEGER (every INTEGER in an EC key is one). */
export function unsignedInteger(tlv: Tlv | undefined): bigint {
  const { body } = expectTag(tlv, TAG.INTEGER);
  if (body.length === 0) throw new DerError('empty INTEGER');
  if (body[0] & 0x80) throw new DerError('negative INTEGER');
  if (body.length > 1 && body[0] === 0 && !(body[1] & 0x80)) throw new DerError('INTEGER not in its shortest form');
  return BigInt('0x' + body.toString('hex'));
}

/** An OBJECT IDENTIFIER in dotted form. */
export function objectIdentifier(tlv: Tlv | undefined): string {
  const { body } = expectTag(tlv, TAG.OID);
  if (body.length === 0 || body[body.length - 1] & 0x80) throw new DerError('truncated OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let value = 0;
  for (let i = 0; i < body.length; i++) {
    if (value === 0 && body[i] === 0x80) throw new DerError('OBJECT IDENTIFIER arc not in its shortest form');
    value = value * 128 + (body[i] & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) throw new DerError('OBJECT IDENTIFIER arc too large');
    if (!(body[i] & 0x80)) { arcs.push(value); value = 0; }
  }
  const first = Math.min(Math.floor(arcs[0] / 40), 2);
  return [first, arcs[0] - first * 40, ...arcs.slice(1)].join('.');
}

/** The contents of a BIT STRING that holds whole bytes (as a public key does). */
export function octetBitString(tlv: Tlv | undefined): Buffer {
  const { body } = expectTag(tlv, TAG.BIT_STRING);
  if (body.length === 0 || body[0] !== 0) throw new DerError('BIT STRING with unused bits');
  return body.subarray(1);
}

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.of(length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One element of tag `tag` whose body is `parts` concatenated. */
export function encode(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.of(tag), encodeLength(body.length), body]);
}

export function encodeUnsignedInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  // A leading 1 bit would read as negative: DER prefixes a zero byte.
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = '00' + hex;
  return encode(TAG.INTEGER, Buffer.from(hex, 'hex'));
}

export function encodeObjectIdentifier(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return encode(TAG.OID, Buffer.from(bytes));
}
