import { UcumLhcUtils } from '@lhncbc/ucum-lhc';
import { isObject } from './element-tree';

/**
 * ElementDefinition.minValue[x] / maxValue[x] (elementdefinition-definitions.html#ElementDefinition.minValue_x_):
 * bounds on numbers, dates, times and Quantities. Returns -1, 0 or 1 comparing `value` with
 * `bound`, or undefined when the two cannot be compared (units of another dimension, other
 * precision rules).
 * - Quantities in UCUM compare after converting the value to the bound's unit (1 kg against
 *   900 g), through the UCUM library fhirpath already ships.
 * - A Duration bound on a date is relative to today: minValueDuration 100 a means "no earlier than
 *   100 years ago", maxValueDuration 10 a "no later than 10 years from now".
 */
const NUMERIC = new Set(['Integer', 'Decimal', 'PositiveInt', 'UnsignedInt', 'Integer64']);
const TEMPORAL = new Set(['Date', 'DateTime', 'Instant', 'Time']);
const ZONED = /(Z|[+-]\d{2}:\d{2})$/;
const UCUM = 'http://unitsofmeasure.org';

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

let converter: { convertUnitTo(from: string, value: number, to: string): { status: string; toVal?: number } } | undefined;

/** `value` (in `from`) expressed in `to`, when both are UCUM units of the same dimension. */
function convert(value: number, from: string, to: string): number | undefined {
  if (from === to) return value;
  converter ??= UcumLhcUtils.getInstance();
  const result = converter.convertUnitTo(from, value, to);
  return result.status === 'succeeded' && typeof result.toVal === 'number' ? result.toVal : undefined;
}

function compareQuantity(value: Record<string, unknown>, bound: Record<string, unknown>): number | undefined {
  if (typeof value.value !== 'number' || typeof bound.value !== 'number') return undefined;
  const unitOf = (q: Record<string, unknown>): string => String(q.code ?? q.unit ?? '');
  const sameSystem = (value.system ?? bound.system) === (bound.system ?? value.system);
  if (unitOf(value) === unitOf(bound) && sameSystem) return sign(value.value - bound.value);
  if (value.system !== UCUM || bound.system !== UCUM || typeof value.code !== 'string' || typeof bound.code !== 'string') return undefined;
  const converted = convert(value.value, value.code, bound.code);
  return converted === undefined ? undefined : sign(converted - bound.value);
}

const DAYS: Record<string, number> = { d: 1, wk: 7 };
const MONTHS: Record<string, number> = { mo: 1, a: 12 };

/** Today moved by a duration (UCUM a, mo, wk, d), as a date. */
function shiftedToday(duration: Record<string, unknown>, direction: 1 | -1, now: Date): string | undefined {
  const amount = typeof duration.value === 'number' ? duration.value * direction : undefined;
  const code = String(duration.code ?? duration.unit ?? '');
  if (amount === undefined) return undefined;
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  if (MONTHS[code]) d.setUTCMonth(d.getUTCMonth() + amount * MONTHS[code]);
  else if (DAYS[code]) d.setUTCDate(d.getUTCDate() + amount * DAYS[code]);
  else return undefined;
  return d.toISOString().slice(0, 10);
}

export function compareToBound(type: string, value: unknown, bound: unknown, side: 'min' | 'max' = 'min', now: Date = new Date()): number | undefined {
  if (NUMERIC.has(type)) return typeof value === 'number' && typeof bound === 'number' ? sign(value - bound) : undefined;
  if (TEMPORAL.has(type)) return typeof value === 'string' && typeof bound === 'string' ? compareTemporal(value, bound) : undefined;
  if (type === 'Duration' && typeof value === 'string' && isObject(bound)) {
    const limit = shiftedToday(bound, side === 'min' ? -1 : 1, now);
    return limit === undefined ? undefined : compareTemporal(value, limit);
  }
  if ((type === 'Quantity' || type === 'Duration' || type === 'Age') && isObject(value) && isObject(bound)) return compareQuantity(value, bound);
  return undefined;
}

export function showBound(bound: unknown): string {
  if (isObject(bound)) return `${String(bound.value)} ${String(bound.code ?? bound.unit ?? '')}`.trim();
  return String(bound);
}
