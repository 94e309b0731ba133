import { createHash } from 'node:crypto';
import type { Bundle, Composition, Resource } from 'fhir/r4';
import { isResourceType } from '../fhir/definitions';
import { isDocument } from './document';

/**
 * The pure half of `Composition/[id]/$document` (composition-operation-document.html): what a
 * document built from a stored Composition must carry, and the Bundle that carries it. No store
 * and no I/O here; operations/document.ts reads, this decides.
 *
 * What is included (documents.html#content): the Composition first, then every resource it
 * refers to (subject, encounter, author, attester.party, custodian, relatesTo.targetReference,
 * event.detail, section.author, section.focus, section.entry at every nesting level: its whole
 * `res-ref-list`), and, transitively, what those refer to ("other resources that these
 * referenced resources refer to may also be included"). This server includes all of them: a
 * document it assembles must pass the same rules as one posted to it (checkDocument in
 * document.ts: every reference resolves inside the document), and a receiver of an ABDM record
 * must be able to read it without calling back. References are followed wherever they sit in a
 * resource, extensions and contained resources included, in document order; the result is the
 * breadth-first order of discovery, each resource once.
 */

/** A `Reference.reference` found in a resource, with the FHIRPath of where it sits. */
export interface FoundReference {
  reference: string;
  path: string;
}

/** Every `reference` string in `resource`, in document order, contained resources included. */
export function referencesOf(resource: Resource): FoundReference[] {
  const out: FoundReference[] = [];
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) { node.forEach((v, i) => walk(v, `${path}[${i}]`)); return; }
    if (typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'reference' && typeof value === 'string') out.push({ reference: value, path: `${path}.reference` });
      else walk(value, `${path}.${key}`);
    }
  };
  walk(resource, resource.resourceType);
  return out;
}

/**
 * What a reference in a stored resource points at, for a document built on this server:
 * - `contained`: `#id`, resolved inside the resource itself; left as it is.
 * - `local`: `Type/id` (optionally `/_history/n`), relative to this server or absolute under its
 *   base URL: read from the store and included.
 * - `external`: an absolute URL on another server. The operation leaves it to the server
 *   "whether to retrieve them or return an error" (OperationDefinition Composition-document);
 *   this one fetches nothing from elsewhere, and a document must carry what it refers to, so the
 *   caller is told (operations/document.ts).
 * - `unresolvable`: anything else (`urn:uuid:` outside a Bundle, a conditional reference, an
 *   unknown type): no stored resource can be what it names.
 */
export type Target =
  | { kind: 'contained' }
  | { kind: 'local'; type: string; id: string; versionId?: number }
  | { kind: 'external' }
  | { kind: 'unresolvable'; why: string };

const LITERAL = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([^/]+))?$/;
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:/;

export function classifyReference(reference: string, baseUrl: string): Target {
  if (reference.startsWith('#')) return { kind: 'contained' };
  const relative = reference.startsWith(`${baseUrl}/`) ? reference.slice(baseUrl.length + 1) : reference;
  const m = LITERAL.exec(relative);
  if (m) {
    if (!isResourceType(m[1])) return { kind: 'unresolvable', why: `'${m[1]}' is not an R4 resource type` };
    if (m[3] === undefined) return { kind: 'local', type: m[1], id: m[2] };
    if (!/^[1-9][0-9]{0,14}$/.test(m[3])) return { kind: 'unresolvable', why: `'${m[3].slice(0, 64)}' is not a version of this server` };
    return { kind: 'local', type: m[1], id: m[2], versionId: Number(m[3]) };
  }
  if (/^urn:(uuid|oid):/i.test(reference)) return { kind: 'unresolvable', why: 'a urn: reference names an entry of a Bundle, and no stored resource carries one' };
  if (ABSOLUTE.test(reference)) return { kind: 'external' };
  return { kind: 'unresolvable', why: 'it is not a literal reference (Type/id) this server can resolve' };
}

/** The key a resource is included under: one entry per `Type/id` (bdl-7). */
export const keyOf = (type: string, id: string): string => `${type}/${id}`;

/** The bounds of one assembly (see MAX_DOCUMENT_RESOURCES in operations/document.ts). */
export interface DocumentBounds {
  maxResources: number;
  maxBytes: number;
}

/** Where a document's content stands against its bounds: the first bound it would pass, if any. */
export function exceededBound(resources: number, bytes: number, bounds: DocumentBounds): string | undefined {
  if (resources > bounds.maxResources) return `more than ${bounds.maxResources} resources`;
  if (bytes > bounds.maxBytes) return `more than ${bounds.maxBytes} bytes`;
  return undefined;
}

/** The frame of a new document: where its resources live, when it was assembled, its identity. */
export interface DocumentFrame {
  /** The server's FHIR base URL: each entry's fullUrl is `{baseUrl}/{Type}/{id}`. */
  baseUrl: string;
  now: Date;
  /** A fresh UUID: the document identifier is `urn:uuid:{uuid}`, never reused (documents.html#content). */
  uuid: string;
}

/**
 * The document Bundle (bundle.html#document): `resources[0]` is the Composition (bdl-11); each
 * entry's fullUrl is the absolute URL of the stored resource, so the relative references inside
 * resolve against it (bundle.html#references); a new identifier (bdl-9, system urn:ietf:rfc:3986)
 * and `timestamp` (bdl-10) and `meta.lastUpdated` both say when it was assembled. The resources
 * are the stored versions as they are (ids and meta included), never rewritten. No entry carries
 * `search`, `request` or `response`, and the Bundle has no `total` (bdl-1, bdl-2).
 */
export function documentBundle(resources: Resource[], frame: DocumentFrame): Bundle {
  const now = frame.now.toISOString();
  return {
    resourceType: 'Bundle',
    meta: { lastUpdated: now },
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${frame.uuid}` },
    type: 'document',
    timestamp: now,
    entry: resources.map((resource) => ({ fullUrl: `${frame.baseUrl}/${resource.resourceType}/${resource.id}`, resource })),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A UUID from an id of the server's id source: the id itself when it is one (in production the
 * source is randomUUID), else a UUID derived from it (RFC 9562 version 8, from its SHA-256), so
 * a source of other ids (tests count) still yields a valid, repeatable `urn:uuid:`.
 */
export function uuidOf(id: string): string {
  if (UUID.test(id)) return id.toLowerCase();
  const h = createHash('sha256').update(id).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const NARRATIVE_LINK = /\b(href|src)\s*=\s*"[^"]*"/g;

/** A Composition's content, less what storing it as its own resource changes (document.ts, storeDocumentEntries). */
function contentOf(composition: Composition): string {
  return JSON.stringify(composition, (key, value: unknown) => {
    if (key === 'reference' && typeof value === 'string') return '';
    if (key === 'div' && typeof value === 'string') return value.replace(NARRATIVE_LINK, '$1=""');
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const entries = Object.entries(value).filter(([k]) => k !== 'id' && k !== 'meta').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return Object.fromEntries(entries);
    }
    return value;
  });
}

/**
 * Whether `bundle` is the document `composition` was stored from and still says what it says:
 * a document whose first entry is a Composition with the same content, apart from what storing
 * an entry as its own resource rewrites (its id and meta, where its references point, the links
 * in its narrative). A Composition changed since, or one that merely names a document in its
 * `meta.source`, is not answered by that document: "the correct version of the document"
 * (OperationDefinition Composition-document) must be what the Composition says now.
 */
export function isDocumentOf(bundle: Resource, composition: Composition): boolean {
  if (!isDocument(bundle)) return false;
  const first = bundle.entry?.[0]?.resource;
  return first?.resourceType === 'Composition' && contentOf(first as Composition) === contentOf(composition);
}

/** The `Bundle/{id}` a resource's `meta.source` names on this server (relative, or absolute under its base URL). */
export function sourceDocumentId(resource: Resource, baseUrl?: string): string | undefined {
  const source = resource.meta?.source;
  if (source === undefined) return undefined;
  const relative = baseUrl !== undefined && source.startsWith(`${baseUrl}/`) ? source.slice(baseUrl.length + 1) : source;
  return /^Bundle\/([A-Za-z0-9\-.]{1,64})$/.exec(relative)?.[1];
}
