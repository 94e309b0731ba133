import { parsePeriod } from '../fhir/datetime';
import { MAX_MS, MIN_MS, type DateRow, type IndexRows, type QuantityRow, type ReferenceRow, type StringRow, type TokenRow } from './index-rows';
import type { ParamType } from './parameters';

/**
 * One definition of what a token, string, date, number, quantity, reference and uri value is
 * (search.html#ptypes), used to index resources and to read search values.
 */
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Case- and accent-insensitive form for string search ("Ramesh" ~ "rāmesh"). */
export function normalizeString(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

function tokens(key: string, grp: number, v: unknown, out: TokenRow[]): void {
  if (typeof v === 'boolean') { out.push({ key, grp, system: '', code: String(v) }); return; }
  if (typeof v === 'string') { out.push({ key, grp, system: '', code: v }); return; }
  if (!isObj(v)) return;
  const text = str(v.text);
  if (Array.isArray(v.coding) || text) {                       // CodeableConcept
    const first = out.length;
    for (const c of (v.coding as unknown[]) ?? []) tokens(key, grp, c, out);
    if (!text) return;
    // The concept's text rides on its first coding's row (what :text searches is display and
    // text alike); only a concept with no coding needs a row of its own.
    const norm = normalizeString(text);
    if (out.length > first) out[first].text = out[first].text ? `${out[first].text}\n${norm}` : norm;
    else out.push({ key, grp, system: TEXT_ONLY, code: '', text: norm });
    return;
  }
  const code = str(v.code) ?? str(v.value);                    // Coding, Identifier, ContactPoint
  if (code === undefined) return;
  const display = str(v.display);
  out.push({ key, grp, system: str(v.system) ?? '', code, text: display && normalizeString(display) });
  if (isObj(v.type) && v.value !== undefined) {                // Identifier.type, for :of-type
    for (const c of (v.type.coding as Obj[] | undefined) ?? []) {
      if (str(c.code)) out.push({ key: `${key}:of-type`, grp, system: str(c.system) ?? '', code: `${String(c.code)}|${code}` });
    }
  }
}

/** The system of a row that carries only a CodeableConcept's text: no real system can equal it. */
export const TEXT_ONLY = '\u0000text';

const NAME_PARTS = ['text', 'family', 'given', 'prefix', 'suffix'];
const ADDRESS_PARTS = ['text', 'line', 'city', 'district', 'state', 'postalCode', 'country'];

function strings(key: string, grp: number, v: unknown, out: StringRow[]): void {
  if (typeof v === 'string') { out.push({ key, grp, norm: normalizeString(v), exact: v }); return; }
  if (!isObj(v)) return;
  const parts = 'family' in v || 'given' in v ? NAME_PARTS : 'city' in v || 'line' in v || 'postalCode' in v ? ADDRESS_PARTS : ['text', 'value', 'display'];
  for (const part of parts) {
    const value = v[part];
    for (const s of Array.isArray(value) ? value : [value]) if (typeof s === 'string' && s) strings(key, grp, s, out);
  }
}

function dates(key: string, grp: number, v: unknown, out: DateRow[]): void {
  if (typeof v === 'string') {
    const p = parsePeriod(v);
    if (p) out.push({ key, grp, lo: p.startMs, hi: p.endMs });
    return;
  }
  if (!isObj(v)) return;
  if ('start' in v || 'end' in v) {                            // Period: open ends are unbounded
    const start = typeof v.start === 'string' ? parsePeriod(v.start) : undefined;
    const end = typeof v.end === 'string' ? parsePeriod(v.end) : undefined;
    out.push({ key, grp, lo: start?.startMs ?? MIN_MS, hi: end?.endMs ?? MAX_MS });
  } else if (Array.isArray(v.event)) {                         // Timing
    for (const e of v.event) dates(key, grp, e, out);
  }
}

function quantities(key: string, grp: number, v: unknown, out: QuantityRow[]): void {
  if (!isObj(v)) return;
  if (typeof v.value === 'number') {
    const system = str(v.system) ?? '';
    out.push({ key, grp, system, code: str(v.code) ?? str(v.unit) ?? '', value: v.value });
    if (str(v.unit) && str(v.code) && v.unit !== v.code) out.push({ key, grp, system: '', code: String(v.unit), value: v.value });
  } else if (isObj(v.low) || isObj(v.high)) {                  // Range: index both ends
    quantities(key, grp, v.low, out);
    quantities(key, grp, v.high, out);
  }
}

const RELATIVE_REF = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;
const ABSOLUTE_REF = /\/([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

export function parseReference(ref: string): { type: string; id: string } | undefined {
  const m = RELATIVE_REF.exec(ref) ?? (/^https?:\/\//.test(ref) ? ABSOLUTE_REF.exec(ref) : null);
  return m ? { type: m[1], id: m[2] } : undefined;
}

function references(key: string, grp: number, v: unknown, out: ReferenceRow[], rows: IndexRows, targets?: string[]): void {
  const ref = typeof v === 'string' ? v : isObj(v) ? str(v.reference) : undefined;
  if (isObj(v) && isObj(v.identifier)) tokens(`${key}:identifier`, grp, v.identifier, rows.token);
  if (!ref || ref.startsWith('#')) return;
  const parsed = parseReference(ref);
  if (targets && (!parsed || !targets.includes(parsed.type))) return;
  out.push({ key, grp, type: parsed?.type ?? '', id: parsed?.id ?? '', url: ref.split('|')[0] });
}

/** Adds the index rows for one extracted value of a parameter of the given type. */
export function addValue(type: Exclude<ParamType, 'composite'>, key: string, grp: number, v: unknown, rows: IndexRows, targets?: string[]): void {
  switch (type) {
    case 'token': return tokens(key, grp, v, rows.token);
    case 'string': return strings(key, grp, v, rows.string);
    case 'date': return dates(key, grp, v, rows.date);
    case 'number': if (typeof v === 'number') rows.number.push({ key, grp, value: v }); return;
    case 'quantity': return quantities(key, grp, v, rows.quantity);
    case 'reference': return references(key, grp, v, rows.reference, rows, targets);
    case 'uri': if (typeof v === 'string') rows.uri.push({ key, grp, uri: v }); return;
    default: { const never: never = type; return never; }
  }
}
