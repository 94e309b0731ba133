import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Checkpoints of the audit chain's head: a hash chain shows an edited, removed or reordered event,
 * but not the removal of its newest events (what remains is still a whole chain). So the server
 * periodically signs its chain's head (chain id, sequence, hash) and writes the signature outside
 * the database: to a checkpoint file beside it and to its own log, which operators ship elsewhere.
 * A trail that ends before a checkpoint it once signed, or differs from it, was cut. Pure: signing
 * is HMAC-SHA256 in a compact JWS (RFC 7515, `alg: HS256`), with a key that never leaves the server.
 */
export interface ChainHead {
  chain: string;
  sequence: number;
  hash: string;
  /** When the head was signed (ISO instant). */
  at: string;
}

const b64 = (v: string | Buffer): string => Buffer.from(v).toString('base64url');
const HEADER = b64(JSON.stringify({ alg: 'HS256', typ: 'audit-checkpoint' }));

export function signCheckpoint(head: ChainHead, key: Buffer): string {
  const payload = b64(JSON.stringify({ chain: head.chain, sequence: head.sequence, hash: head.hash, at: head.at }));
  const mac = createHmac('sha256', key).update(`${HEADER}.${payload}`).digest();
  return `${HEADER}.${payload}.${b64(mac)}`;
}

/** The head a checkpoint names, or undefined when its signature (or shape) is not ours. */
export function readCheckpoint(token: string, key: Buffer): ChainHead | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER) return undefined;
  const expected = createHmac('sha256', key).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const head = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as ChainHead;
    const ok = typeof head.chain === 'string' && Number.isInteger(head.sequence) && head.sequence > 0 && typeof head.hash === 'string' && typeof head.at === 'string';
    return ok ? head : undefined;
  } catch {
    return undefined;
  }
}

/** The newest checkpoint of each chain (the highest sequence: it covers all earlier ones). */
export function latestPerChain(heads: ChainHead[]): Map<string, ChainHead> {
  const out = new Map<string, ChainHead>();
  for (const h of heads) {
    const seen = out.get(h.chain);
    if (!seen || h.sequence > seen.sequence) out.set(h.chain, h);
  }
  return out;
}
