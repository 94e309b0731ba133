import { isResourceType } from '../../fhir/definitions';
import { isObject, type Json } from './element-tree';

/**
 * Resolving a reference without I/O (references.html#contained, bundle.html#references): a
 * `#id` names a resource contained in the one being checked, and inside a Bundle a reference
 * names another entry by its fullUrl (`urn:uuid:…`, an absolute URL) or, relatively, by
 * `Type/id`. Anything else would need the store, so it is not resolved here; its type is still
 * known from the reference itself.
 */
export interface Located {
  resource: Json;
  /** FHIRPath of the resource, e.g. `Bundle.entry[2].resource`, used in the issues found in it. */
  at: string;
}

export interface Scope {
  /** Entries of the enclosing Bundle by fullUrl and by `Type/id`. */
  bundle?: Map<string, Located>;
  /** Contained resources of the enclosing resource by id (without the `#`). */
  contained?: Map<string, Located>;
}

/** The entries of a Bundle, for resolving references between them. */
export function bundleScope(bundle: Json, at: string): Map<string, Located> {
  const out = new Map<string, Located>();
  const entries = Array.isArray(bundle.entry) ? bundle.entry : [];
  entries.forEach((e: unknown, i) => {
    if (!isObject(e) || !isObject(e.resource)) return;
    const located = { resource: e.resource, at: `${at}.entry[${i}].resource` };
    if (typeof e.fullUrl === 'string') out.set(e.fullUrl, located);
    const { resourceType, id } = e.resource;
    if (typeof resourceType === 'string' && typeof id === 'string' && !out.has(`${resourceType}/${id}`)) out.set(`${resourceType}/${id}`, located);
  });
  return out;
}

export function containedScope(resource: Json, at: string): Map<string, Located> | undefined {
  if (!Array.isArray(resource.contained)) return undefined;
  const out = new Map<string, Located>();
  resource.contained.forEach((c: unknown, i) => {
    if (isObject(c) && typeof c.id === 'string') out.set(c.id, { resource: c, at: `${at}.contained[${i}]` });
  });
  return out;
}

const RESTFUL = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** The resource a reference names, when it is in scope. */
export function resolveReference(reference: string, scope: Scope): Located | undefined {
  if (reference.startsWith('#')) return scope.contained?.get(reference.slice(1));
  if (!scope.bundle) return undefined;
  const exact = scope.bundle.get(reference);
  if (exact) return exact;
  const m = RESTFUL.exec(reference);
  return m ? scope.bundle.get(`${m[1]}/${m[2]}`) : undefined;
}

/** The type of the resource a Reference points at: resolved, from its URL, or from Reference.type. */
export function referencedType(value: Json, scope: Scope): { type?: string; target?: Located } {
  const reference = typeof value.reference === 'string' ? value.reference : undefined;
  const target = reference === undefined ? undefined : resolveReference(reference, scope);
  if (target && typeof target.resource.resourceType === 'string') return { type: target.resource.resourceType, target };
  const m = reference === undefined ? null : RESTFUL.exec(reference);
  if (m && isResourceType(m[1])) return { type: m[1] };
  // Reference.type is a URI; for FHIR types it is the type name (or the core URL of one).
  const declared = typeof value.type === 'string' ? value.type.replace('http://hl7.org/fhir/StructureDefinition/', '') : undefined;
  return { type: declared !== undefined && isResourceType(declared) ? declared : undefined };
}
