import type { Resource, StructureDefinition } from 'fhir/r4';
import { r4ResourceDefinitions } from '../fhir/definitions';
import { FhirError } from '../fhir/errors';

/**
 * `_summary` and `_elements` (search.html#summary, #elements): which top-level elements a
 * subsetted resource keeps. Nested elements are kept whole. Subsetted resources are tagged
 * SUBSETTED so no client mistakes them for the full record.
 */
const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };
const ALWAYS = ['resourceType', 'id', 'meta'];

const summaryCache = new Map<string, Set<string>>();
const mandatoryCache = new Map<string, Set<string>>();

function topLevel(sd: StructureDefinition | undefined, keep: (e: { isSummary?: boolean; min?: number }) => boolean): Set<string> {
  const names = new Set<string>(ALWAYS);
  for (const e of sd?.snapshot?.element ?? []) {
    const parts = e.path.split('.');
    if (parts.length === 2 && keep(e)) names.add(parts[1].replace('[x]', ''));
  }
  return names;
}

function cached(cache: Map<string, Set<string>>, type: string, keep: (e: { isSummary?: boolean; min?: number }) => boolean): Set<string> {
  let set = cache.get(type);
  if (!set) cache.set(type, (set = topLevel(r4ResourceDefinitions().get(type), keep)));
  return set;
}

function keepOnly(resource: Resource, allowed: (key: string) => boolean): Resource {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(resource)) if (allowed(key)) out[key] = value;
  const meta = (out.meta ?? {}) as { tag?: unknown[] };
  out.meta = { ...meta, tag: [...(meta.tag ?? []), SUBSETTED] };
  return out as unknown as Resource;
}

/** A choice element `deceased[x]` is kept under any of its typed names (`deceasedBoolean`). */
function inSet(set: Set<string>, key: string): boolean {
  if (set.has(key)) return true;
  const base = key.replace(/[A-Z][A-Za-z]*$/, '');
  return base !== key && set.has(base);
}

export type Shape = { summary?: 'true' | 'text' | 'data' | 'count' | 'false'; elements?: string[] };

export function shapeResource(resource: Resource, shape: Shape): Resource {
  const type = resource.resourceType;
  if (shape.summary === 'true') return keepOnly(resource, (k) => inSet(cached(summaryCache, type, (e) => !!e.isSummary), k));
  if (shape.summary === 'text') {
    const mandatory = cached(mandatoryCache, type, (e) => (e.min ?? 0) > 0);
    return keepOnly(resource, (k) => k === 'text' || inSet(mandatory, k));
  }
  if (shape.summary === 'data') return keepOnly(resource, (k) => k !== 'text');
  if (shape.elements && shape.elements.length > 0) {
    const wanted = new Set([...ALWAYS, ...shape.elements]);
    const mandatory = cached(mandatoryCache, type, (e) => (e.min ?? 0) > 0);
    return keepOnly(resource, (k) => inSet(wanted, k) || inSet(mandatory, k));
  }
  return resource;
}

const READ_SUMMARIES = ['true', 'text', 'data', 'false'] as const;

/**
 * `_summary`/`_elements` on a read or vread (search.html#summary, #elements: they apply to any
 * interaction that returns resources). `count` has nothing to count there. Undefined: return whole.
 */
export function readShape(query: URLSearchParams): Shape | undefined {
  const summaries = query.getAll('_summary');
  const elements = query.getAll('_elements');
  if (summaries.length > 1 || elements.length > 1) throw new FhirError('invalid', '_summary and _elements may each be given once');
  const summary = summaries[0];
  if (summary !== undefined && !(READ_SUMMARIES as readonly string[]).includes(summary)) {
    throw new FhirError('invalid', `_summary on a read must be true, text, data or false, got '${summary.slice(0, 50)}'`);
  }
  const list = elements[0]?.split(',').map((e) => e.trim()).filter(Boolean);
  if (summary === undefined && (list === undefined || list.length === 0)) return undefined;
  return { summary: summary as Shape['summary'], elements: list };
}
