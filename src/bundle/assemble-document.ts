import type { Bundle, Composition, Resource } from 'fhir/r4';
import { FhirError } from '../fhir/errors';
import type { LiveVersion, StoredVersion, StoreReader } from '../storage/store';
import {
  classifyReference, documentBundle, exceededBound, isDocumentOf, keyOf, referencesOf, sourceDocumentId, uuidOf, type DocumentBounds, type Target,
} from './document-assembly';

/**
 * The reads of `$document` (document-assembly.ts decides; this reads). Both functions take any
 * StoreReader: the HTTP operation passes the request's store, which enforces consent
 * (consent/guarded-store.ts), so a caller gets through them only what it could read directly; the
 * ABDM HIP flow passes whatever store its own access rules give it.
 */

/** What the assembly reads: a resource's current version, or one named version. */
export type DocumentReader = Pick<StoreReader, 'read' | 'vread'>;

/**
 * At most this many resources in one assembled document, the Composition included. A document
 * cannot be paged (bundle.html#document), so its size is bounded instead: 1000, the same bound
 * search puts on the resources `_include` adds to one page (interactions/search.ts), far above
 * any ABDM health record (the NRCeS examples carry at most a few dozen).
 */
export const MAX_DOCUMENT_RESOURCES = 1000;

export interface AssembleOptions {
  /** The server's FHIR base URL: entries' fullUrls are built on it, and references under it are this server's. */
  baseUrl: string;
  /** When the document is assembled: Bundle.timestamp and meta.lastUpdated. */
  now: Date;
  /** The server's id source; the document identifier is `urn:uuid:` and a UUID made from one id (uuidOf). */
  newId: () => string;
  /** Bounds: MAX_DOCUMENT_RESOURCES resources, and no byte bound unless given. */
  bounds?: Partial<DocumentBounds>;
  /**
   * Called with each resource type before anything of it is read (the caller's SMART scopes);
   * throwing refuses the whole document.
   */
  mayRead?: (type: string) => void;
}

/** The stored JSON size of a version. */
const sizeOf = (v: StoredVersion): number => v.json?.length ?? JSON.stringify(v.resource).length;

function unavailable(reference: string, where: string, path: string, deleted: boolean): FhirError {
  const why = deleted ? 'it was deleted' : 'it is not stored here, or not readable by this caller';
  // Missing and not readable are one answer: a record the caller may not see is absent to it (404, guarded-store.ts).
  return new FhirError('not-found',
    `The document cannot be assembled whole: ${where} refers to '${reference.slice(0, 200)}' and ${why}. ` +
    'A document carries everything it refers to (documents.html#content), so none is returned rather than an incomplete one', { expression: [path] });
}

/**
 * Builds the document for `composition` (composition-operation-document.html, bundle.html#document):
 * the Composition, then everything it refers to and, transitively, everything those refer to,
 * each once (cycles end there), breadth-first in the order found. Each resource is read through
 * `store`; a version-specific reference (`Type/id/_history/n`) includes that version. The answer is
 * a whole document or an error, never a partial one ("either returns a full document bundle, or
 * returns an error", OperationDefinition Composition-document):
 * - a reference nothing stored answers (never stored, deleted, or hidden from the caller by
 *   `store`): 404 not-found naming it and where it sits. HAPI's $document (an `_include:iterate=*`
 *   search, JpaResourceDaoComposition) leaves such targets out, which yields a document whose
 *   references dangle; documents.html#content says they SHALL be included, and this server refuses
 *   posted documents that dangle (document.ts, checkDocument), so it does not make one either;
 * - a reference to another server: 400 not-supported (the server's discretion, per the definition);
 * - two versions of one resource needed: 400 not-supported (one entry per fullUrl, bdl-7);
 * - past MAX_DOCUMENT_RESOURCES or `bounds.maxBytes`: 413 too-costly naming the bound.
 * `composition` must be a stored Composition (with its id); it is the first entry as given.
 */
export async function assembleDocument(store: DocumentReader, composition: Composition, opts: AssembleOptions): Promise<Bundle> {
  if (!composition.id) throw new FhirError('exception', 'assembleDocument takes a stored Composition (with an id)');
  const bounds: DocumentBounds = { maxResources: opts.bounds?.maxResources ?? MAX_DOCUMENT_RESOURCES, maxBytes: opts.bounds?.maxBytes ?? Infinity };
  const name = keyOf('Composition', composition.id);
  const included = new Map<string, Resource>([[name, composition]]);
  const order: Resource[] = [composition];
  let bytes = JSON.stringify(composition).length;
  for (let i = 0; i < order.length; i++) {
    const source = order[i];
    const where = keyOf(source.resourceType, source.id as string);
    for (const { reference, path } of referencesOf(source)) {
      const target = classifyReference(reference, opts.baseUrl);
      if (target.kind === 'contained') continue;
      if (target.kind !== 'local') throw notLocal(target, reference, where, path);
      const key = keyOf(target.type, target.id);
      const held = included.get(key);
      if (held) {
        if (target.versionId !== undefined && held.meta?.versionId !== String(target.versionId)) {
          throw new FhirError('not-supported', `${where} refers to version ${target.versionId} of ${key}, and the document already holds version ${held.meta?.versionId ?? '?'}; a document holds one version of each resource`, { expression: [path] });
        }
        continue;
      }
      const over = exceededBound(order.length + 1, bytes, bounds);
      if (over) throw tooCostly(name, over);
      opts.mayRead?.(target.type);
      const version = target.versionId === undefined ? await store.read(target.type, target.id) : await store.vread(target.type, target.id, target.versionId);
      if (!version?.resource || version.deleted) throw unavailable(reference, where, path, version?.deleted === true);
      bytes += sizeOf(version);
      const past = exceededBound(order.length + 1, bytes, bounds);
      if (past) throw tooCostly(name, past);
      included.set(key, version.resource);
      order.push(version.resource);
    }
  }
  return documentBundle(order, { baseUrl: opts.baseUrl, now: opts.now, uuid: uuidOf(opts.newId()) });
}

function notLocal(target: Exclude<Target, { kind: 'local' | 'contained' }>, reference: string, where: string, path: string): FhirError {
  const ref = reference.slice(0, 200);
  return target.kind === 'external'
    ? new FhirError('not-supported', `${where} refers to '${ref}' on another server; this server assembles documents from its own records only`, { expression: [path] })
    : new FhirError('not-found', `${where} refers to '${ref}', which no stored resource can answer: ${target.why}`, { expression: [path] });
}

function tooCostly(composition: string, bound: string): FhirError {
  return new FhirError('too-costly', `The document of ${composition} would hold ${bound}, the most one $document assembles; ` +
    'it is too large to be one document here (its resources can still be read one by one)');
}

/**
 * The stored document a Composition came from, if any: a document Bundle posted to this server
 * is stored exactly as sent and each entry also as its own resource, its `meta.source` naming the
 * document as `Bundle/{id}` (document.ts, storeDocumentEntries). Answers that Bundle when `store`
 * shows it, it is a document, and its Composition still says what `composition` says
 * (isDocumentOf); otherwise undefined: never posted as a document, the document deleted or not
 * readable through `store`, or the Composition changed since. A document is a signed, attested
 * unit (documents.html: "the document is immutable"; its signature covers it as sent), so where
 * it exists it, not a reassembly, is the document of that Composition.
 */
export async function storedDocumentOf(store: Pick<StoreReader, 'read'>, composition: Composition, baseUrl?: string): Promise<LiveVersion | undefined> {
  const id = sourceDocumentId(composition, baseUrl);
  if (id === undefined) return undefined;
  const version = await store.read('Bundle', id);
  if (!version?.resource || version.deleted || !isDocumentOf(version.resource, composition)) return undefined;
  return version as LiveVersion;
}
