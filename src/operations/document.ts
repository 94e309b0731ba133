import type { Bundle, Composition, Parameters, ParametersParameter } from 'fhir/r4';
import { allows, authorize } from '../auth/access';
import { assembleDocument, storedDocumentOf } from '../bundle/assemble-document';
import { checkDocument } from '../bundle/document';
import type { Deps } from '../deps';
import { FhirError, type Issue } from '../fhir/errors';
import { isValidId } from '../fhir/ids';
import { shown } from '../interactions/read';
import type { FhirRequest, FhirResult, Handler } from '../interactions/types';
import { validResource, withWarnings } from '../interactions/write-support';

export { assembleDocument, MAX_DOCUMENT_RESOURCES, storedDocumentOf, type AssembleOptions, type DocumentReader } from '../bundle/assemble-document';

/**
 * `Composition/[id]/$document` and `Composition/$document?id=[id]`, by GET or POST
 * (composition-operation-document.html, R4 OperationDefinition Composition-document): the
 * document of a stored Composition, as a Bundle of type `document` returned directly (as HAPI
 * does; R4's "wrapped inside the search bundle" note names no parameter that returns one).
 *
 * - A Composition stored from a posted document is answered by that document, exactly as stored,
 *   when the caller may read it (a document is a signed, attested unit; storedDocumentOf).
 * - Otherwise the document is assembled (assembleDocument): the Composition and everything it
 *   refers to, transitively, through the request's store, so consent applies to every resource
 *   as to a read of it, and each type needs the caller's read scope. Anything the document needs
 *   that the caller may not read refuses the whole document (scopes: 403; records: 404, as for
 *   a record that does not exist), never a partial one.
 * - `persist=true` (POST only: it changes state) stores the assembled document as a Bundle through
 *   the write path's validation, consent and audit, and needs create scope on Bundle: 201 with
 *   Location. Its entries are stored resources already, so they are not stored again.
 * - `graph` (a GraphDefinition) is refused: the contents are always the whole reference graph.
 */
export const OPERATION = {
  name: 'document',
  definition: 'http://hl7.org/fhir/OperationDefinition/Composition-document',
  types: ['Composition'],
  documentation: 'GET or POST, instance or type level (id). The stored document when the Composition came from one the caller may read, '
    + 'else the Composition and every resource it refers to, transitively (at most 1000 resources; each must be readable by the caller, or the '
    + 'whole request is refused). persist=true (POST only, needs create on Bundle) stores it as a Bundle. graph is not supported.',
} as const;

const PARAMETERS: ReadonlySet<string> = new Set(['id', 'persist', 'graph']);

interface Input { id: string; persist: boolean }

/** A parameter's value from a Parameters body: the one value[x] it has, as text (persist: a boolean). */
function bodyValue(p: ParametersParameter, at: string): string {
  const values = Object.entries(p).filter(([k]) => k.startsWith('value'));
  if (values.length !== 1) throw new FhirError('invalid', `${at} (${p.name}) needs exactly one value`, { expression: [at] });
  const [key, value] = values[0];
  if (p.name === 'persist' && key !== 'valueBoolean') throw new FhirError('invalid', `${at}: persist is a boolean (valueBoolean)`, { expression: [at] });
  if (typeof value !== 'string' && typeof value !== 'boolean') throw new FhirError('invalid', `${at} (${p.name}) needs a primitive value`, { expression: [at] });
  return String(value);
}

/** Each parameter's values, from the URL (less `_format` and its kind) and a POST's Parameters body. */
function givenParameters(request: FhirRequest): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (name: string, value: string): void => { out.set(name, [...(out.get(name) ?? []), value]); };
  for (const [name, value] of request.query) if (!name.startsWith('_')) add(name, value);
  const body = request.body as Parameters | undefined;
  if (body === undefined) return out;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || body.resourceType !== 'Parameters') {
    throw new FhirError('invalid', '$document by POST takes a Parameters resource (persist; id at the type level)');
  }
  const list: unknown = body.parameter ?? [];
  if (!Array.isArray(list)) throw new FhirError('structure', 'Parameters.parameter must be an array', { expression: ['Parameters.parameter'] });
  list.forEach((p: ParametersParameter, i) => {
    const at = `Parameters.parameter[${i}]`;
    if (typeof p !== 'object' || p === null || typeof p.name !== 'string') throw new FhirError('structure', `${at} needs a name`, { expression: [at] });
    add(p.name, PARAMETERS.has(p.name) ? bodyValue(p, at) : '');
  });
  return out;
}

/** The Composition's id: the URL's, or (type level) the `id` parameter: an id, or a URL of one on this server. */
function compositionId(request: FhirRequest, param: string | undefined): string {
  if (request.id !== undefined) {
    if (param !== undefined) throw new FhirError('invalid', 'The id parameter SHALL NOT be used on Composition/[id]/$document (OperationDefinition Composition-document)');
    return request.id;
  }
  if (param === undefined) throw new FhirError('required', 'Composition/$document needs the id parameter (or use Composition/[id]/$document)');
  const local = param.startsWith(`${request.base}/`) ? param.slice(request.base.length + 1) : param;
  const id = local.startsWith('Composition/') ? local.slice('Composition/'.length) : local;
  if (isValidId(id)) return id;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(param)) {
    throw new FhirError('not-supported', `'${param.slice(0, 200)}' is a Composition on another server; this server makes documents of its own Compositions only`);
  }
  throw new FhirError('invalid', `id '${param.slice(0, 100)}' is neither a Composition id nor its URL on this server`);
}

function documentInput(request: FhirRequest): Input {
  const given = givenParameters(request);
  for (const [name, values] of given) {
    if (!PARAMETERS.has(name)) throw new FhirError('invalid', `$document takes the parameters id, persist and graph, not '${name.slice(0, 64)}'`);
    if (values.length > 1) throw new FhirError('invalid', `The parameter '${name}' may be given once (0..1)`);
  }
  if (given.has('graph')) {
    throw new FhirError('not-supported', 'graph (a GraphDefinition choosing what the document holds) is not supported: it holds the Composition and everything it refers to, transitively');
  }
  const persist = given.get('persist')?.[0];
  if (persist !== undefined && persist !== 'true' && persist !== 'false') throw new FhirError('invalid', `persist is true or false, not '${persist.slice(0, 20)}'`);
  return { id: compositionId(request, given.get('id')?.[0]), persist: persist === 'true' };
}

/**
 * Stores an assembled document as a Bundle: validated as any write is (its declared profiles, the
 * deployment's required ones), then created through the request's store, so consent decides and
 * the audit trail records it. Its entries already are stored resources: unlike a posted document
 * (document.ts, storeDocumentEntries) they are not copied again.
 */
async function persistDocument(deps: Deps, bundle: Bundle): Promise<FhirResult> {
  const warnings: Issue[] = [];
  const valid = validResource(deps, bundle, { expectedType: 'Bundle', warnings }) as Bundle;
  checkDocument(valid);
  const version = await deps.store.transact((uow) => uow.create(valid));
  const shows = (bundle.entry ?? []).map((e) => e.resource).filter((r) => r !== undefined);
  return withWarnings({ status: 201, version, location: true, shows, message: `Created Bundle/${version.id}` }, warnings);
}

export const compositionDocument: Handler = async (deps, request) => {
  if (request.type !== 'Composition') {
    throw new FhirError('not-supported', `$document is an operation on Composition, not ${request.type}: [base]/Composition/[id]/$document`);
  }
  const { id, persist } = documentInput(request);
  // A GET carries no body and a POST always carries its Parameters (the HTTP layer requires one).
  if (persist && request.body === undefined) {
    throw new FhirError('not-supported', 'persist=true stores the document, so it is asked for by POST: a GET changes nothing (operations.html)');
  }
  if (persist) authorize(request.principal, 'c', 'Bundle');
  const composition = shown(await deps.store.read('Composition', id), `Composition/${id}`).resource as Composition;
  // The stored document is shown only to who may read it as a Bundle; anyone else gets one assembled from what they may read.
  if (allows(request.principal, 'r', 'Bundle')) {
    const stored = await storedDocumentOf(deps.store, composition, request.base);
    if (stored) return { status: 200, version: stored, location: persist };
  }
  const bundle = await assembleDocument(deps.store, composition, {
    baseUrl: request.base,
    now: deps.clock.now(),
    newId: () => deps.ids.newId(),
    bounds: { maxBytes: deps.config.maxResponseBytes },
    mayRead: (type) => authorize(request.principal, 'r', type),
  });
  return persist ? persistDocument(deps, bundle) : { status: 200, resource: bundle };
};
