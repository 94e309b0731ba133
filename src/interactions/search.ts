import type { BundleEntry, BundleLink } from 'fhir/r4';
import { allows, authorizeSearch } from '../auth/access';
import { compartmentParams } from '../consent/compartment';
import type { Deps } from '../deps';
import { bundle } from '../fhir/bundle';
import { isResourceType, r4ResourceTypes } from '../fhir/definitions';
import { FhirError } from '../fhir/errors';
import { operationOutcome } from '../fhir/operation-outcome';
import { parseSearch, RESULT_PARAMS, type ParsedSearch } from '../search/parse';
import type { SearchParameters } from '../search/parameters';
import type { Condition, IncludeSpec } from '../search/query';
import { shapeResource } from '../search/shape';
import { resolveValueSets } from '../search/valuesets';
import type { LiveVersion, ResourceKey } from '../storage/store';
import type { FhirRequest, FhirResult, Handler } from './types';
import { requireId, requireType } from './write-support';

/** How many rounds `:iterate` follows, so a reference cycle cannot run away. */
const MAX_ITERATIONS = 4;
/** Included resources per page, beyond which the Bundle would grow without bound. */
const MAX_INCLUDES = 1000;

const key = (v: LiveVersion): string => `${v.type}/${v.id}`;

async function includes(deps: Deps, matches: LiveVersion[], parsed: ParsedSearch): Promise<LiveVersion[]> {
  const seen = new Set(matches.map(key));
  const out: LiveVersion[] = [];
  let frontier = matches;
  for (let round = 0; round < MAX_ITERATIONS && frontier.length > 0 && out.length < MAX_INCLUDES; round++) {
    const next: LiveVersion[] = [];
    const run = async (spec: IncludeSpec, reverse: boolean): Promise<void> => {
      if (round > 0 && !spec.iterate) return;
      const sources: ResourceKey[] = frontier.filter((v) => reverse || v.type === spec.sourceType).map((v) => ({ type: v.type, id: v.id }));
      const found = reverse ? await deps.store.referencing(sources, spec.keys) : await deps.store.referencedBy(sources, spec.keys, spec.targetType);
      for (const v of found) {
        if (!seen.has(key(v)) && out.length + next.length < MAX_INCLUDES) { seen.add(key(v)); next.push(v); }
      }
    };
    for (const spec of parsed.include) await run(spec, false);
    for (const spec of parsed.revinclude) await run(spec, true);
    out.push(...next);
    frontier = next;
  }
  return out;
}

/**
 * Paging links (search.html#paging): self, first, previous and next, and last when the total is
 * known. Each repeats the search, `_type` of a system search included, so following one stays in it.
 */
/** `returned`: the matches on this page, fewer than `_count` when the page's byte budget ended it. */
function links(request: FhirRequest, pathPart: string, parsed: ParsedSearch, hasMore: boolean, total: number | undefined, returned: number): BundleLink[] {
  const { count, offset } = parsed.query;
  const types = request.query.getAll('_type');
  const url = (o: number): string => {
    const params = new URLSearchParams(types.map((t): [string, string] => ['_type', t]));
    for (const [n, v] of parsed.used) if (n !== '_offset' && n !== '_count') params.append(n, v);
    params.set('_count', String(count));
    if (o > 0) params.set('_offset', String(o));
    return `${request.base}${pathPart}?${params.toString()}`;
  };
  const out: BundleLink[] = [{ relation: 'self', url: url(offset) }, { relation: 'first', url: url(0) }];
  if (offset > 0) out.push({ relation: 'previous', url: url(Math.max(0, offset - count)) });
  if (hasMore && count > 0) out.push({ relation: 'next', url: url(offset + returned) });
  if (total !== undefined && count > 0) out.push({ relation: 'last', url: url(Math.max(0, Math.floor((total - 1) / count) * count)) });
  return out;
}

function strict(request: FhirRequest): boolean {
  return /(?:^|[;,\s])handling\s*=\s*strict/i.test(request.headers.prefer ?? '');
}

/**
 * `_source` (search.html#all): the server names its own records relative to itself (`Bundle/1`,
 * see bundle/document.ts), whatever host a request came by; a value given as an absolute URL under
 * this request's base finds them too, and a relative one also finds records stored absolute.
 */
function sourceForms(where: Condition[], base: string): void {
  for (const c of where) {
    if (c.kind === 'or') sourceForms(c.any, base);
    if (c.kind !== 'uri' || c.match !== 'exact' || !c.key.endsWith('._source')) continue;
    const forms = new Set(c.values);
    for (const v of c.values) {
      if (v.startsWith(`${base}/`)) forms.add(v.slice(base.length + 1));
      else if (/^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(v)) forms.add(`${base}/${v}`);
    }
    c.values = [...forms];
  }
}

async function run(deps: Deps, request: FhirRequest, types: string[], pathPart: string, extra: Condition[] = []): Promise<FhirResult> {
  const parsed = parseSearch(deps.search, types, request.query, {
    strict: strict(request), defaultCount: deps.config.defaultPageSize, maxCount: deps.config.maxPageSize, base: request.base,
  });
  for (const type of types) authorizeSearch(request.principal, type, parsed.query.where, false);
  sourceForms(parsed.query.where, request.base);
  parsed.query.where.push(...extra);
  parsed.query.where = await resolveValueSets(deps.store, parsed.query.where);
  parsed.query.maxBytes = deps.config.maxPageBytes;
  const page = await deps.store.search(parsed.query);
  const shape = { summary: parsed.summary, elements: parsed.elements };
  const entry = (v: LiveVersion, mode: 'match' | 'include'): BundleEntry => ({
    fullUrl: `${request.base}/${v.type}/${v.id}`,
    resource: shapeResource(v.resource, shape),
    search: { mode },
  });
  const entries = page.versions.map((v) => entry(v, 'match'));
  // Included resources of a type the caller may not read are left out, as if they did not exist.
  for (const v of await includes(deps, page.versions, parsed)) if (allows(request.principal, 'r', v.type)) entries.push(entry(v, 'include'));
  if (parsed.ignored.length > 0) {
    entries.push({
      resource: operationOutcome(parsed.ignored.map((name) => ({
        severity: 'warning', code: 'not-supported', diagnostics: `Unknown search parameter '${name}' was ignored`,
      }))),
      search: { mode: 'outcome' },
    });
  }
  const result = bundle('searchset', entries, links(request, pathPart, parsed, page.hasMore, page.total, page.versions.length), {
    id: deps.ids.newId(), meta: { lastUpdated: deps.clock.now().toISOString() },
  });
  if (page.total !== undefined) result.total = page.total;
  return { status: 200, resource: result };
}

/** `GET [base]/[type]?…` and `POST [base]/[type]/_search` (search.html#search). */
export const searchType: Handler = async (deps, request) => {
  const type = requireType(request.type);
  return run(deps, request, [type], `/${type}`);
};

/**
 * Across several types only a parameter every one of them defines may be used (search.html,
 * searching across types): `_id`, `_lastUpdated` and the other all-resource ones, or one the
 * types named in `_type` share. One that only some define would quietly search the others
 * unfiltered, so it is a 400 naming it. A parameter no type knows is left to the parser
 * (reported as unknown, or refused with handling=strict).
 */
function checkCommon(params: SearchParameters, types: string[], query: URLSearchParams): void {
  for (const name of new Set(query.keys())) {
    const code = name.split(/[:.]/)[0];
    if (RESULT_PARAMS.has(code) || code === '_offset' || code === '_id' || code === '_has') continue;
    const lacking = types.filter((t) => !params.get(t, code));
    if (lacking.length === 0 || lacking.length === types.length) continue;
    const which = lacking.length > 5 ? `${lacking.slice(0, 5).join(', ')} and ${lacking.length - 5} more` : lacking.join(', ');
    throw new FhirError('invalid', `Search parameter '${code}' is not defined for ${which}; a search across types may only use parameters common to all of them`);
  }
}

/** `GET [base]?_type=…` (search.html#searchsystem): several types, or all of them. */
export const searchSystem: Handler = async (deps, request) => {
  const named = request.query.getAll('_type').flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
  for (const t of named) if (!isResourceType(t)) throw new FhirError('invalid', `_type names an unknown resource type '${t}'`);
  const types = named.length ? [...new Set(named)] : [...r4ResourceTypes()];
  checkCommon(deps.search, types, request.query);
  return run(deps, request, types, '');
};

/** `GET [base]/Patient/[id]/[type]` (http.html#search, R4 Patient CompartmentDefinition). */
export const searchCompartment: Handler = async (deps, request) => {
  const compartment = requireType(request.type);
  const id = requireId(request.id);
  const type = request.compartmentType ?? '';
  if (type.startsWith('$')) throw new FhirError('not-supported', `Operation '${type.slice(0, 64)}' is not supported here`);
  if (compartment !== 'Patient') throw new FhirError('not-supported', `Only the Patient compartment is supported, not ${compartment}`);
  if (!isResourceType(type)) throw new FhirError('not-found', `'${type}' is not a FHIR R4 resource type this server knows`);
  const codes = compartmentParams(type);
  if (codes.length === 0) throw new FhirError('invalid', `${type} is not in the Patient compartment`);
  const conditions: Condition[] = codes.map((code) => {
    if (code === '{def}') return { kind: 'id', values: [id] };
    const def = deps.search.get(type, code);
    if (!def) throw new FhirError('exception', `compartment parameter ${type}.${code} is not defined`);
    return { kind: 'reference', key: def.key, values: [{ type: 'Patient', id }] };
  });
  return run(deps, request, [type], `/Patient/${id}/${type}`, [conditions.length === 1 ? conditions[0] : { kind: 'or', any: conditions }]);
};
