import type { Bundle, BundleEntry, Resource } from 'fhir/r4';
import { isResourceType } from '../fhir/definitions';
import { FhirError } from '../fhir/errors';
import { isValidId } from '../fhir/ids';
import { matchRoute, type RouteMatch } from '../http/routes';
import { parseJson } from '../json/safe-json';

/**
 * One entry of a batch or transaction, checked and matched to the interaction it asks for
 * (bundle.html#transaction, http.html#transaction). Pure: no store, no I/O.
 */
export interface EntryRequest {
  /** Position in the request Bundle: responses keep this order, errors name it. */
  index: number;
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The entry's URL as sent (relative to the base). */
  url: string;
  match: RouteMatch;
  query: URLSearchParams;
  fullUrl?: string;
  resource?: Resource;
  ifNoneExist?: string;
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
}

export type ParsedEntry = { ok: true; entry: EntryRequest } | { ok: false; index: number; error: FhirError };

export const BUNDLE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export function entryPath(index: number): string {
  return `Bundle.entry[${index}]`;
}

/** The type and shape of a batch or transaction Bundle; entries are checked one by one later. */
export function checkBundle(body: unknown, maxEntries: number): Bundle & { type: 'batch' | 'transaction' } {
  const b = body as Bundle;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || b.resourceType !== 'Bundle') {
    throw new FhirError('invalid', 'POST to the base takes a Bundle of type batch or transaction', { expression: ['Bundle'] });
  }
  if (b.type !== 'batch' && b.type !== 'transaction') {
    throw new FhirError('invalid', `Bundle.type must be batch or transaction here, not '${String(b.type)}'` +
      (b.type === 'document' ? ' (documents are stored with POST [base]/Bundle)' : ''), { expression: ['Bundle.type'] });
  }
  if (b.entry !== undefined && !Array.isArray(b.entry)) throw new FhirError('structure', 'Bundle.entry must be an array', { expression: ['Bundle.entry'] });
  if ((b.entry?.length ?? 0) > maxEntries) {
    throw new FhirError('too-long', `The Bundle has ${b.entry?.length} entries; this server takes at most ${maxEntries} in one request`,
      { status: 413, expression: ['Bundle.entry'] });
  }
  return b as Bundle & { type: 'batch' | 'transaction' };
}

/** An entry URL relative to our base; an absolute URL on our own base is made relative. */
function relativeUrl(url: string, base: string, at: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
    if (url === base || url.startsWith(`${base}/`) || url.startsWith(`${base}?`)) return url.slice(base.length).replace(/^\//, '');
    throw new FhirError('not-supported', `${at}.request.url '${url.slice(0, 200)}' is on another server; entries act on this server only`,
      { expression: [`${at}.request.url`] });
  }
  return url.replace(/^\//, '');
}

function optionalString(value: unknown, at: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new FhirError('structure', `${at} must be a string`, { expression: [at] });
  return value;
}

/** Checks one entry and finds its interaction; a problem is returned, not thrown, so a batch goes on. */
export function parseEntry(raw: BundleEntry, index: number, base: string): ParsedEntry {
  const at = entryPath(index);
  try {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new FhirError('structure', `${at} must be an object`, { expression: [at] });
    const request = raw.request;
    if (typeof request !== 'object' || request === null) {
      throw new FhirError('required', `${at}.request is required in a batch or transaction`, { expression: [`${at}.request`] });
    }
    const method = request.method as EntryRequest['method'];
    if (!BUNDLE_METHODS.includes(method)) {
      throw new FhirError('value', `${at}.request.method must be one of ${BUNDLE_METHODS.join(', ')}`, { expression: [`${at}.request.method`] });
    }
    const given = optionalString(request.url, `${at}.request.url`);
    if (!given) throw new FhirError('required', `${at}.request.url is required`, { expression: [`${at}.request.url`] });
    const url = relativeUrl(given, base, at);
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    let match: RouteMatch | undefined;
    try {
      match = matchRoute(method === 'HEAD' ? 'GET' : method, `/${path}`);
    } catch {
      throw new FhirError('invalid', `${at}.request.url has a malformed %-escape`, { expression: [`${at}.request.url`] });
    }
    // PUT/PATCH/DELETE [type] without criteria is no interaction at all, as over HTTP.
    if (match && match.route.interaction.startsWith('conditional-') && q < 0) match = undefined;
    if (!match) {
      throw new FhirError('not-supported', `${at}: ${method} ${given.slice(0, 200)} is not an interaction this server supports`,
        { expression: [`${at}.request.url`] });
    }
    if (match.route.interaction === 'transaction') {
      throw new FhirError('not-supported', `${at}: a batch or transaction cannot contain another one`, { expression: [`${at}.request`] });
    }
    const { type, id } = match.params;
    if (type !== undefined && !isResourceType(type)) {
      throw new FhirError('not-found', `${at}: '${type}' is not a FHIR R4 resource type this server knows`, { expression: [`${at}.request.url`] });
    }
    if (id !== undefined && !isValidId(id)) {
      throw new FhirError('invalid', `${at}: '${id.slice(0, 100)}' is not a valid FHIR id`, { expression: [`${at}.request.url`] });
    }
    const resource = raw.resource;
    if ((method === 'POST' || method === 'PUT' || method === 'PATCH') && resource === undefined) {
      throw new FhirError('required', `${at}.resource is required for ${method}`, { expression: [`${at}.resource`] });
    }
    return {
      ok: true,
      entry: {
        index, method, url, match, query,
        fullUrl: optionalString(raw.fullUrl, `${at}.fullUrl`),
        resource,
        ifNoneExist: optionalString(request.ifNoneExist, `${at}.request.ifNoneExist`),
        ifMatch: optionalString(request.ifMatch, `${at}.request.ifMatch`),
        ifNoneMatch: optionalString(request.ifNoneMatch, `${at}.request.ifNoneMatch`),
        ifModifiedSince: optionalString(request.ifModifiedSince, `${at}.request.ifModifiedSince`),
      },
    };
  } catch (err) {
    if (err instanceof FhirError) return { ok: false, index, error: err };
    throw err;
  }
}

/**
 * The body a PATCH entry carries: a Binary holding a JSON Patch document (http.html#patch,
 * bundle.html#patch). FHIRPath Patch (Parameters) is not supported yet, and says so.
 */
export function patchDocument(entry: EntryRequest, maxDepth: number): unknown {
  const at = `${entryPath(entry.index)}.resource`;
  const r = entry.resource as { resourceType?: string; contentType?: string; data?: string } | undefined;
  if (r?.resourceType === 'Parameters') throw new FhirError('not-supported', `${at}: FHIRPath Patch is not supported; send a Binary with a JSON Patch`, { expression: [at] });
  if (r?.resourceType !== 'Binary' || !/^application\/json-patch\+json\b/i.test(r.contentType ?? '') || typeof r.data !== 'string') {
    throw new FhirError('invalid', `${at}: a PATCH entry carries a Binary with contentType application/json-patch+json and base64 data`, { expression: [at] });
  }
  try {
    return parseJson(Buffer.from(r.data, 'base64').toString('utf8'), maxDepth);
  } catch (err) {
    const why = err instanceof FhirError ? err.issues[0].diagnostics : 'not JSON';
    throw new FhirError('invalid', `${at}.data is not a usable base64-encoded JSON Patch document: ${why}`, { expression: [`${at}.data`] });
  }
}

/** Rewrites an error's text and locations so the client can find the entry that failed. */
export function atEntry(err: FhirError, index: number, method: string, url: string): FhirError {
  const at = entryPath(index);
  for (const issue of err.issues) {
    if (!issue.diagnostics.startsWith(at)) issue.diagnostics = `${at} (${method} ${url.slice(0, 200)}): ${issue.diagnostics}`;
    if (issue.expression) {
      issue.expression = issue.expression.map((e) => {
        if (e.startsWith('Bundle.')) return e;
        // `Patient.name[0]` → `….resource.name[0]`; a bare `resourceType` (no type known) → `….resource.resourceType`.
        const rest = e.replace(/^[A-Z][A-Za-z]*/, '');
        return rest === '' || rest.startsWith('.') || rest.startsWith('[') ? `${at}.resource${rest}` : `${at}.resource.${rest}`;
      });
    } else {
      issue.expression = [at];
    }
  }
  return err;
}
