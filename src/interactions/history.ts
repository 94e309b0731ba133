import type { BundleEntry, BundleLink } from 'fhir/r4';
import { bundle } from '../fhir/bundle';
import { parsePeriod } from '../fhir/datetime';
import { etag } from '../fhir/etag';
import { FhirError } from '../fhir/errors';
import type { Deps } from '../deps';
import type { HistoryQuery, StoredVersion } from '../storage/store';
import type { FhirRequest, Handler } from './types';
import { requireId, requireType } from './write-support';

/** The parameters history understands (http.html#history); `_cursor` is our opaque paging token. */
const PARAMS = ['_count', '_since', '_at', '_cursor'] as const;

export function historyEntry(base: string, v: StoredVersion): BundleEntry {
  const fullUrl = `${base}/${v.type}/${v.id}`;
  const entry: BundleEntry = { fullUrl };
  if (!v.deleted && v.resource) entry.resource = v.resource;
  entry.request = { method: v.method, url: v.method === 'POST' ? v.type : `${v.type}/${v.id}` };
  entry.response = { status: v.deleted ? '204' : v.method === 'POST' ? '201' : '200', etag: etag(v.versionId), lastModified: v.lastUpdated };
  if (!v.deleted) entry.response.location = `${fullUrl}/_history/${v.versionId}`;
  return entry;
}

function single(query: URLSearchParams, name: string): string | undefined {
  const all = query.getAll(name);
  if (all.length > 1) throw new FhirError('invalid', `${name} may be given once`);
  return all[0];
}

export function pageSize(deps: Deps, raw: string | undefined): number {
  if (raw === undefined) return deps.config.defaultPageSize;
  if (!/^\d{1,6}$/.test(raw)) throw new FhirError('invalid', `_count must be a non-negative integer, got '${raw}'`);
  return Math.min(Number(raw), deps.config.maxPageSize);
}

function parseQuery(deps: Deps, request: FhirRequest): HistoryQuery {
  const q = request.query;
  const query: HistoryQuery = { type: request.type, id: request.id, count: pageSize(deps, single(q, '_count')), maxBytes: deps.config.maxPageBytes };
  const since = single(q, '_since');
  if (since !== undefined) {
    const period = parsePeriod(since);
    if (!period || !since.includes('T')) throw new FhirError('invalid', `_since must be an instant such as 2026-01-31T10:00:00+05:30, got '${since}'`);
    query.sinceMs = period.startMs;
  }
  const at = single(q, '_at');
  if (at !== undefined) {
    const period = parsePeriod(at);
    if (!period) throw new FhirError('invalid', `_at must be a FHIR date or dateTime, got '${at}'`);
    query.at = period;
  }
  query.cursor = single(q, '_cursor');
  return query;
}

function link(request: FhirRequest, count: number, cursor?: string): string {
  const params = new URLSearchParams();
  for (const name of PARAMS) {
    const value = name === '_count' ? String(count) : name === '_cursor' ? cursor : request.query.get(name) ?? undefined;
    if (value !== undefined) params.set(name, value);
  }
  const path = request.path.split('?')[0];
  return `${request.base}${path}?${params.toString()}`;
}

async function history(deps: Deps, request: FhirRequest) {
  const query = parseQuery(deps, request);
  const page = await deps.store.history(query);
  // The first page is the same request without a cursor; the last is not known without reading to the end.
  const links: BundleLink[] = [{ relation: 'self', url: link(request, query.count, query.cursor) }, { relation: 'first', url: link(request, query.count) }];
  if (page.nextCursor) links.push({ relation: 'next', url: link(request, query.count, page.nextCursor) });
  const entries = page.versions.map((v) => historyEntry(request.base, v));
  return { status: 200, resource: bundle('history', entries, links, { id: deps.ids.newId(), meta: { lastUpdated: deps.clock.now().toISOString() } }) };
}

export const historyInstance: Handler = async (deps, request) => {
  const type = requireType(request.type);
  const id = requireId(request.id);
  const current = await deps.store.read(type, id);
  if (!current) throw new FhirError('not-found', `${type}/${id} is not known`);
  return history(deps, request);
};

export const historyType: Handler = (deps, request) => history(deps, { ...request, id: undefined });

export const historySystem: Handler = (deps, request) => history(deps, { ...request, type: undefined, id: undefined });
