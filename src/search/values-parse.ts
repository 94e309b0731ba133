import { parsePeriod } from '../fhir/datetime';
import { FhirError } from '../fhir/errors';
import { PREFIXES, type Prefix, type QuantityValue, type Ranged, type ReferenceValue, type TokenValue } from './query';
import { parseReference } from './values';

/** Search values as written in a URL (search.html#ptypes), read into typed values. */
export function splitEscaped(text: string, sep: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) current += text[++i];
    else if (c === sep) { parts.push(current); current = ''; }
    else current += c;
  }
  parts.push(current);
  return parts;
}

/** Commas separate OR values; `\,` is a literal comma. Escapes other than the separator are kept for later splits. */
export function orValues(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) { current += text[i + 1] === ',' ? ',' : c + text[i + 1]; i++; }
    else if (c === ',') { parts.push(current); current = ''; }
    else current += c;
  }
  parts.push(current);
  return parts;
}

const bad = (name: string, value: string, what: string): FhirError =>
  new FhirError('invalid', `Search parameter '${name}': '${value}' is not ${what}`);

function prefixed(value: string): { prefix: Prefix; rest: string } {
  const p = value.slice(0, 2) as Prefix;
  return (PREFIXES as readonly string[]).includes(p) && /^[a-z]{2}[-0-9]/.test(value) ? { prefix: p, rest: value.slice(2) } : { prefix: 'eq', rest: value };
}

export function parseToken(value: string): TokenValue {
  const parts = splitEscaped(value, '|');
  if (parts.length === 1) return { code: parts[0] };
  if (parts.length > 2) return { system: parts[0], code: parts.slice(1).join('|') };
  return parts[1] === '' ? { system: parts[0] } : { system: parts[0], code: parts[1] };
}

export function parseDate(name: string, value: string): Ranged {
  const { prefix, rest } = prefixed(value);
  const period = parsePeriod(rest);
  if (!period) throw bad(name, value, 'a date such as 2026-01-15 or 2026-01-15T10:00:00+05:30');
  return { prefix, lo: period.startMs, hi: period.endMs, value: period.startMs };
}

/** search.html#number: "100" means [99.5, 100.5), "100.0" means [99.95, 100.05). */
export function parseNumber(name: string, value: string): Ranged {
  const { prefix, rest } = prefixed(value);
  if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(rest)) throw bad(name, value, 'a number');
  const n = Number(rest);
  const [mantissa, exp] = rest.toLowerCase().split('e');
  const decimals = (mantissa.split('.')[1] ?? '').length - Number(exp ?? 0);
  const half = 0.5 * 10 ** -decimals;
  return { prefix, lo: n - half, hi: n + half, value: n };
}

export function parseQuantity(name: string, value: string): QuantityValue {
  const [num, system, code] = splitEscaped(value, '|');
  const q: QuantityValue = parseNumber(name, num);
  if (system) q.system = system;
  if (code) q.code = code;
  return q;
}

/** `Type/id`, a bare `id`, or an absolute URL (ours are read as `Type/id`). */
export function parseReferenceValue(value: string, base: string, typeModifier?: string): ReferenceValue {
  if (typeModifier) return { type: typeModifier, id: value };
  if (value.startsWith(`${base}/`)) value = value.slice(base.length + 1);
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) return { url: value.split('|')[0] };
  const ref = parseReference(value);
  if (ref) return ref;
  if (/^[A-Za-z0-9\-.]{1,64}$/.test(value)) return { id: value };
  throw new FhirError('invalid', `'${value}' is not a reference (Type/id, id or URL)`);
}

export { prefixed };
