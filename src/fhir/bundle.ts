import type { Bundle, BundleEntry, BundleLink, Resource } from 'fhir/r4';

/** Bundle builders, shared by history, search and batch/transaction responses. */


export function bundle(type: Bundle['type'], entries: BundleEntry[], links: BundleLink[], extra: Partial<Bundle> = {}): Bundle {
  const b: Bundle = { resourceType: 'Bundle', type, ...extra };
  if (links.length) b.link = links;
  if (entries.length) b.entry = entries;
  return b;
}

export function isResource(value: unknown): value is Resource {
  return typeof value === 'object' && value !== null && typeof (value as Resource).resourceType === 'string';
}
