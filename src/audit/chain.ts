import { createHash } from 'node:crypto';
import type { AuditEvent, Extension } from 'fhir/r4';

/**
 * The hash chain over the audit trail. Each AuditEvent carries its chain's id, its sequence
 * number, the previous event's hash and its own: sha256 over the previous hash and the event's
 * canonical JSON (sorted keys; without id, meta and the hash itself). Changing, removing or
 * reordering a stored event breaks the recomputed hash or the next event's link, and the
 * verifier (verify.ts) names the event. Each server process writes its own chain, so chains
 * never need coordinating across processes.
 */
export const CHAIN_URL = 'https://abdm-fhir-gateway.github.io/fhir/StructureDefinition/audit-chain';
export const GENESIS = 'genesis';

export interface ChainLink {
  chain: string;
  sequence: number;
  previous: string;
  hash: string;
}

/**
 * JSON with object keys sorted at every level: one text for one value, whatever the key order.
 * Members whose value is undefined are left out, as JSON.stringify does; an undefined array item
 * gives an empty item (the form chains have always been hashed with). It runs once per event on
 * every audited request, so it is written as loops rather than map/filter/join.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const item: unknown = value[i];
      if (item !== undefined) out += canonicalJson(item);
    }
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

function linkExtension(chain: string, sequence: number, previous: string, hash?: string): Extension {
  const extension: Extension[] = [
    { url: 'chain', valueString: chain },
    { url: 'sequence', valueInteger: sequence },
    { url: 'previous', valueString: previous },
  ];
  if (hash !== undefined) extension.push({ url: 'hash', valueString: hash });
  return { url: CHAIN_URL, extension };
}

/** The event as it is hashed: no id or meta (the store sets them), its link without the hash. */
function hashed(event: AuditEvent, link: Omit<ChainLink, 'hash'>): string {
  const body = { ...event, extension: [...(event.extension ?? []).filter((e) => e.url !== CHAIN_URL), linkExtension(link.chain, link.sequence, link.previous)] };
  delete body.id;
  delete body.meta;
  return createHash('sha256').update(link.previous).update('\n').update(canonicalJson(body)).digest('hex');
}

/** The event linked after `previous`: a copy carrying its chain extension, and its hash. */
export function linkEvent(event: AuditEvent, chain: string, sequence: number, previous: string): { event: AuditEvent; hash: string } {
  const hash = hashed(event, { chain, sequence, previous });
  return { event: { ...event, extension: [...(event.extension ?? []), linkExtension(chain, sequence, previous, hash)] }, hash };
}

/** The link an event carries, if it carries a well-formed one. */
export function readLink(event: AuditEvent): ChainLink | undefined {
  const ext = (event.extension ?? []).find((e) => e.url === CHAIN_URL);
  const part = (url: string) => ext?.extension?.find((e) => e.url === url);
  const chain = part('chain')?.valueString;
  const sequence = part('sequence')?.valueInteger;
  const previous = part('previous')?.valueString;
  const hash = part('hash')?.valueString;
  if (chain === undefined || sequence === undefined || previous === undefined || hash === undefined) return undefined;
  return { chain, sequence, previous, hash };
}

/** Recomputes the hash the event should carry, from its content and its stated link. */
export function recomputeHash(event: AuditEvent, link: ChainLink): string {
  return hashed(event, link);
}
