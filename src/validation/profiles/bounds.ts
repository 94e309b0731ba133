import { isObject } from './element-tree';

/**
 * ElementDefinition.minValue[x] / maxValue[x] (elementdefinition-definitions.html#ElementDefinition.minValue_x_):
 * bounds on numbers, dates, times and Quantities. Returns -1, 0 or 1 comparing `value` with
 * `bound`, or undefined when the two cannot be compared (different units, other precision rules).
 */
const NUMERIC = new Set(['Integer', 'Decimal', 'PositiveInt', 'UnsignedInt', 'Integer64']);
const TEMPORAL = new Set(['Date', 'DateTime', 'Instant', 'Time']);
const ZONED = /(Z|[+-]\d{2}:\d{2})$/;

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

/** Dates compare as text at the precision both share (2026-03 against 2026-03-14 is 0); instants with zones as times. */
function compareTemporal(a: string, b: string): number | undefined {
  if (a.includes('T') && b.includes('T') && ZONED.test(a) && ZONED.test(b)) {
    const ta = Date.parse(a);
    const tb = Date.parse(b);
    return Number.isNaN(ta) || Number.isNaN(tb) ? undefined : sign(ta - tb);
  }
  const strip = (s: string): string => s.replace(ZONED, '');
  const [x, y] = [strip(a), strip(b)];
  const n = Math.min(x.length, y.length);
  return sign(x.slice(0, n).localeCompare(y.slice(0, n)));
}

export function compareToBound(type: string, value: unknown, bound: unknown): number | undefined {
  if (NUMERIC.has(type)) return typeof value === 'number' && typeof bound === 'number' ? sign(value - bound) : undefined;
  if (TEMPORAL.has(type)) return typeof value === 'string' && typeof bound === 'string' ? compareTemporal(value, bound) : undefined;
  if (type === 'Quantity' && isObject(value) && isObject(bound) && typeof value.value === 'number' && typeof bound.value === 'number') {
    const unitOf = (q: Record<string, unknown>): string => String(q.code ?? q.unit ?? '');
    return unitOf(value) === unitOf(bound) && (value.system ?? bound.system) === (bound.system ?? value.system) ? sign(value.value - bound.value) : undefined;
  }
  return undefined;
}

export function showBound(bound: unknown): string {
  if (isObject(bound)) return `${String(bound.value)} ${String(bound.code ?? bound.unit ?? '')}`.trim();
  return String(bound);
}
