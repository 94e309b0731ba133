import type { Issue } from '../fhir/errors';

/**
 * The rules of bundle.html that R4 states in prose rather than as invariants:
 * - `fullUrl` is an absolute URL (bundle.html#bundle-unique), and one resource appears once:
 *   no two entries of a non-history Bundle carry the same type, id and version;
 * - a link relation occurs at most once (bundle.html#bundle-links: self, first, next …);
 * - in a document, references resolve inside the Bundle (bundle.html#references): a reference
 *   that several entries answer (same fullUrl, different versions) is ambiguous unless it names
 *   its version, and a versioned reference must find that version.
 * The invariants the spec does write (bdl-1 … bdl-12) run with the other base rules.
 */
type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;
const VERSIONED_URL = /^(.*\/[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})\/_history\/([A-Za-z0-9\-.]{1,64})$/;

interface Entry { index: number; fullUrl?: string; resource?: Json }

export function bundleRuleIssues(bundle: Json): Issue[] {
  const entries: Entry[] = (Array.isArray(bundle.entry) ? bundle.entry : []).map((e, index) => (isObject(e)
    ? { index, fullUrl: typeof e.fullUrl === 'string' ? e.fullUrl : undefined, resource: isObject(e.resource) ? e.resource : undefined }
    : { index }));
  const issues: Issue[] = [];
  for (const e of entries) {
    if (e.fullUrl !== undefined && !ABSOLUTE.test(e.fullUrl)) {
      issues.push({ severity: 'error', code: 'invalid', diagnostics: `The fullUrl must be an absolute URL (not '${e.fullUrl.slice(0, 100)}')`, expression: [`Bundle.entry[${e.index}].fullUrl`] });
    }
  }
  if (bundle.type !== 'history') issues.push(...duplicates(entries));
  issues.push(...linkRelations(bundle));
  if (bundle.type === 'document') issues.push(...documentReferences(entries));
  return issues;
}

function duplicates(entries: Entry[]): Issue[] {
  const seen = new Map<string, number>();
  const issues: Issue[] = [];
  for (const e of entries) {
    const r = e.resource;
    if (!r || typeof r.resourceType !== 'string' || typeof r.id !== 'string') continue;
    const version = isObject(r.meta) && typeof r.meta.versionId === 'string' ? r.meta.versionId : '';
    // Different fullUrls on different servers may carry the same type and id legitimately.
    const key = `${e.fullUrl ?? ''} ${r.resourceType}/${r.id}/${version}`;
    const first = seen.get(key);
    if (first === undefined) { seen.set(key, e.index); continue; }
    issues.push({
      severity: 'error', code: 'duplicate', expression: [`Bundle.entry[${e.index}].resource.id`],
      diagnostics: `${r.resourceType}/${r.id}${version ? ` version ${version}` : ''} is already in this Bundle at entry ${first}: a resource may appear only once`,
    });
  }
  return issues;
}

function linkRelations(bundle: Json): Issue[] {
  const seen = new Set<string>();
  const issues: Issue[] = [];
  (Array.isArray(bundle.link) ? bundle.link : []).forEach((link, i) => {
    if (!isObject(link) || typeof link.relation !== 'string') return;
    if (seen.has(link.relation)) {
      issues.push({ severity: 'error', code: 'invalid', diagnostics: `The link relation '${link.relation}' may occur only once`, expression: [`Bundle.link[${i}]`] });
    }
    seen.add(link.relation);
  });
  return issues;
}

/** The absolute URL a reference in an entry points at (bundle.html#references), and the version it names. */
function target(reference: string, from: string | undefined): { url: string; version?: string } | undefined {
  const relative = RELATIVE.exec(reference);
  if (relative) {
    const base = from && /^https?:\/\//.test(from) ? from.replace(/\/[A-Z][A-Za-z]+\/[^/]+(\/_history\/[^/]+)?$/, '') : undefined;
    if (base === undefined) return undefined;
    return { url: `${base}/${relative[1]}/${relative[2]}`, version: relative[3] };
  }
  if (!ABSOLUTE.test(reference)) return undefined;
  const versioned = VERSIONED_URL.exec(reference);
  return versioned ? { url: versioned[1], version: versioned[2] } : { url: reference };
}

function documentReferences(entries: Entry[]): Issue[] {
  const byUrl = new Map<string, Entry[]>();
  for (const e of entries) if (e.fullUrl) byUrl.set(e.fullUrl, [...(byUrl.get(e.fullUrl) ?? []), e]);
  const issues: Issue[] = [];
  for (const e of entries) {
    if (!e.resource) continue;
    eachReference(e.resource, `Bundle.entry[${e.index}].resource`, (reference, at) => {
      const t = target(reference, e.fullUrl);
      const candidates = t ? byUrl.get(t.url) ?? [] : [];
      if (!t || candidates.length === 0) return;
      if (t.version === undefined && candidates.length > 1) {
        issues.push({ severity: 'error', code: 'invalid', diagnostics: `${candidates.length} entries match the reference ${reference} (fullUrl ${t.url}); name the version`, expression: [at] });
      } else if (t.version !== undefined && !candidates.some((c) => isObject(c.resource?.meta) && c.resource.meta.versionId === t.version)) {
        issues.push({ severity: 'error', code: 'invalid', diagnostics: `The document has ${t.url}, but not version ${t.version} that ${reference} names`, expression: [at] });
      }
    });
  }
  return issues;
}

function eachReference(value: unknown, at: string, visit: (reference: string, at: string) => void, depth = 0): void {
  if (depth > 64 || typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) { value.forEach((v, i) => eachReference(v, `${at}[${i}]`, visit, depth + 1)); return; }
  const o = value as Json;
  if (typeof o.reference === 'string') visit(o.reference, at);
  for (const [k, v] of Object.entries(o)) if (typeof v === 'object' && k !== 'contained') eachReference(v, `${at}.${k}`, visit, depth + 1);
}
