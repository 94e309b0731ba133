import type { Bundle, Resource } from 'fhir/r4';
import type { Deps } from '../deps';
import { FhirError, type Issue } from '../fhir/errors';
import { createMatch, identifiedDocuments } from '../consent/identity';
import { nationalIdKind } from '../validation/national-identifiers';
import { conditionalQuery, type CreateMatch } from '../storage/conditional';
import type { LiveVersion, UnitOfWork } from '../storage/store';
import { rewriteReferences } from './references';

/**
 * FHIR documents (documents.html, bundle.html#document): an ABDM health record such as an
 * OPConsultRecord or a DiagnosticReportRecord arrives as a Bundle of type `document` whose first
 * entry is a Composition. The Bundle is a signed, attested unit, so it is stored exactly as
 * sent and never rewritten. To make its contents findable, each entry is also stored as a
 * resource of its own (server-assigned id, references pointing at those copies, `meta.source`
 * naming the document relative to this server, `Bundle/{id}`, so `DiagnosticReport?_source=Bundle/{id}`,
 * or the same with any base URL of this server, lists what came from it).
 * Patients, practitioners and organisations that a stored resource already carries by the same
 * identifier (ABHA number, HPR id, HFR id) are linked to, not copied again.
 */

export function isDocument(body: unknown): body is Bundle & { type: 'document' } {
  return typeof body === 'object' && body !== null && (body as Bundle).resourceType === 'Bundle' && (body as Bundle).type === 'document';
}

/** Every `reference` in `root` with the FHIRPath of where it sits. */
function referencesIn(root: unknown, path: string, out: { reference: string; path: string }[]): void {
  if (Array.isArray(root)) { root.forEach((v, i) => referencesIn(v, `${path}[${i}]`, out)); return; }
  if (typeof root !== 'object' || root === null) return;
  for (const [key, value] of Object.entries(root)) {
    if (key === 'reference' && typeof value === 'string') out.push({ reference: value, path: `${path}.reference` });
    else if (key !== 'contained') referencesIn(value, `${path}.${key}`, out);
  }
}

/** The document rules (bundle.html#document, invariants bdl-9, bdl-10, bdl-11, bdl-7). */
export function checkDocument(bundle: Bundle): void {
  const issues: Issue[] = [];
  const problem = (diagnostics: string, expression: string, code: Issue['code'] = 'invariant'): void => {
    issues.push({ severity: 'error', code, diagnostics, expression: [expression] });
  };
  if (!bundle.identifier?.system || !bundle.identifier.value) problem('A document needs Bundle.identifier with system and value (bdl-9)', 'Bundle.identifier', 'required');
  if (!bundle.timestamp) problem('A document needs Bundle.timestamp (bdl-10)', 'Bundle.timestamp', 'required');
  const entries = bundle.entry ?? [];
  if (entries[0]?.resource?.resourceType !== 'Composition') problem('The first entry of a document must be a Composition (bdl-11)', 'Bundle.entry[0].resource');
  // Each entry by fullUrl and by `Type/id`, with its version, for version-specific references.
  const fullUrls = new Map<string, string | undefined>();
  const local = new Map<string, string | undefined>();
  entries.forEach((e, i) => {
    const version = e.resource?.meta?.versionId;
    if (!e.fullUrl) problem('Every entry of a document needs a fullUrl', `Bundle.entry[${i}].fullUrl`, 'required');
    else if (fullUrls.has(e.fullUrl)) problem(`fullUrl '${e.fullUrl}' appears twice (bdl-7)`, `Bundle.entry[${i}].fullUrl`);
    else fullUrls.set(e.fullUrl, version);
    if (!e.resource) problem('Every entry of a document carries a resource', `Bundle.entry[${i}].resource`, 'required');
    else if (e.resource.id) local.set(`${e.resource.resourceType}/${e.resource.id}`, version);
    if (e.request || e.response) problem('Entries of a document have no request or response', `Bundle.entry[${i}]`);
  });
  // `…/_history/n` resolves to the entry with that fullUrl (or Type/id) and meta.versionId n (bundle.html#references).
  const resolves = (reference: string): boolean => {
    if (reference.startsWith('#') || fullUrls.has(reference) || local.has(reference)) return true;
    const m = /^(.+)\/_history\/([^/]+)$/.exec(reference);
    return m !== null && ((fullUrls.has(m[1]) && fullUrls.get(m[1]) === m[2]) || (local.has(m[1]) && local.get(m[1]) === m[2]));
  };
  entries.forEach((e, i) => {
    const found: { reference: string; path: string }[] = [];
    referencesIn(e.resource, `Bundle.entry[${i}].resource`, found);
    for (const { reference, path } of found) {
      if (resolves(reference)) continue;
      problem(`The reference '${reference.slice(0, 200)}' does not resolve inside the document; a document must carry what it refers to`, path, 'invalid');
    }
  });
  if (issues.length > 0) throw FhirError.of(issues);
}

/** A stored document is immutable: a correction is a new document (documents.html#content). */
export async function refuseDocumentChange(uow: UnitOfWork, type: string, id: string): Promise<void> {
  if (type !== 'Bundle') return;
  const current = await uow.read(type, id);
  if (current && !current.deleted && isDocument(current.resource)) {
    throw new FhirError('conflict', `Bundle/${id} is a document and cannot be changed; send the corrected document as a new Bundle`, { status: 409 });
  }
}

/** JSON with object keys sorted, so two resources compare by content, not by key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : v));
}

/** A document's content: everything but the server's id and meta (version, time, writer tag). */
const content = (bundle: Bundle): string => canonical({ ...bundle, id: undefined, meta: undefined });

/**
 * A document is identified by `Bundle.identifier` (bundle.html#document, documents.html: the
 * same document keeps its identifier wherever it goes), whoever stored it. Posting it again
 * returns the stored one (nothing new stored, entries included), `withheld` when the caller may
 * not see it; another document under the same identifier is a 409, which names the stored one
 * only to a caller that may see it (consent/identity.ts). `none`: no document has that identifier.
 */
export async function storedDocument(deps: Deps, uow: UnitOfWork, bundle: Bundle, base: string): Promise<Exclude<CreateMatch, { kind: 'many' }>> {
  const { system, value } = bundle.identifier ?? {};
  if (!system || !value) return { kind: 'none' };
  const escape = (s: string): string => s.replace(/[,$|\\]/g, (c) => `\\${c}`);
  const query = conditionalQuery(deps.search, 'Bundle', new URLSearchParams({ identifier: `${escape(system)}|${escape(value)}` }), base);
  const documents = (await identifiedDocuments(uow, { ...query, count: 10 })).filter((d) => isDocument(d.version.resource));
  const wanted = content(bundle);
  // Compared inside the server: a caller that sent the same content learns nothing it did not hold.
  const same = documents.find((d) => content(d.version.resource as Bundle) === wanted);
  if (same) return same.visible ? { kind: 'one', match: same.version } : { kind: 'withheld', match: { type: 'Bundle', id: same.version.id } };
  if (documents.length === 0) return { kind: 'none' };
  const identity = `${system.slice(0, 200)}|${value.slice(0, 200)}`;
  const advice = 'a new or corrected document needs an identifier of its own';
  const shown = documents.find((d) => d.visible);
  throw new FhirError('conflict', shown
    ? `Bundle/${shown.version.id} is already stored under the identifier ${identity} with other content; ${advice}`
    : `The identifier ${identity} is already used by another document; ${advice}`, { status: 409, expression: ['Bundle.identifier'] });
}

/** Types whose entries are matched to existing records by identifier instead of being copied. */
const SHARED_BY_IDENTIFIER = new Set(['Patient', 'Practitioner', 'Organization']);

/**
 * The record an entry stands for, found by identifier: a national identifier first (matched
 * over the whole store, consent/identity.ts, so a restricted caller links to a person it cannot
 * see rather than copying them), else the first identifier with a system (within the caller's view).
 */
async function existingByIdentifier(deps: Deps, uow: UnitOfWork, resource: Resource, base: string): Promise<{ type: string; id: string } | undefined> {
  if (!SHARED_BY_IDENTIFIER.has(resource.resourceType)) return undefined;
  const identifiers = ((resource as { identifier?: { system?: string; value?: string }[] }).identifier ?? []).filter((i) => i.system && i.value);
  const id = identifiers.find((i) => nationalIdKind(i) !== undefined) ?? identifiers[0];
  if (!id) return undefined;
  const value = `${id.system}|${id.value}`.replace(/[,$\\]/g, (c) => `\\${c}`);
  const found = await createMatch(uow, conditionalQuery(deps.search, resource.resourceType, new URLSearchParams({ identifier: value }), base));
  return found.kind === 'one' || found.kind === 'withheld' ? found.match : undefined;
}

/**
 * Stores each entry of the stored document `doc` as a findable resource, inside the document's
 * own unit of work: the document and its searchable contents are kept together or not at all.
 */
export async function storeDocumentEntries(deps: Deps, uow: UnitOfWork, doc: LiveVersion, base: string): Promise<void> {
  const bundle = doc.resource as Bundle;
  // Relative to this server, not built from the request's Host: the same record is reached by
  // many names (proxies, internal and public hosts), and `_source` must find it by any of them.
  const source = `Bundle/${doc.id}`;
  const targets = new Map<string, string>();
  const plan: { resource: Resource; id: string; index: number }[] = [];
  for (const [index, entry] of (bundle.entry ?? []).entries()) {
    const original = entry.resource as Resource;
    const existing = await existingByIdentifier(deps, uow, original, base);
    const id = existing?.id ?? deps.ids.newId();
    const to = `${original.resourceType}/${id}`;
    if (entry.fullUrl) targets.set(entry.fullUrl, to);
    if (original.id) targets.set(`${original.resourceType}/${original.id}`, to);
    if (!existing) plan.push({ resource: structuredClone(original), id, index });
  }
  for (const { resource, id, index } of plan) {
    rewriteReferences(resource, `Bundle.entry[${index}].resource`, targets);
    const copy = { ...resource, id, meta: { ...resource.meta, source } } as Resource;
    delete copy.meta?.versionId;
    delete copy.meta?.lastUpdated;
    await uow.create(copy, { id, method: 'POST' });
  }
}
