import { FhirError } from '../fhir/errors';
import type { IdentifierToken, LiveVersion, MatchCriteria, StoreReader } from './store';

/**
 * Conditional create/update/delete (http.html#ccreate, #cond-update, #cdelete), written once over
 * the store contract. Until full search lands, criteria may use `_id` and `identifier` only; any
 * other parameter is refused, because ignoring a criterion could update or delete the wrong record.
 */
const SUPPORTED = new Set(['_id', 'identifier']);
/** Result-shaping parameters that do not narrow a match. */
const IGNORED = new Set(['_format', '_pretty']);

/** Splits on a separator not preceded by a backslash, then unescapes (search.html#escaping). */
function splitEscaped(text: string, sep: ',' | '|'): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) {
      current += c + text[++i];
    } else if (c === sep) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

const unescape = (s: string): string => s.replace(/\\([\\,|$])/g, '$1');

export function parseIdentifierToken(text: string): IdentifierToken {
  const bar = splitEscaped(text, '|');
  if (bar.length > 2) throw new FhirError('invalid', `Invalid identifier token '${text}'`);
  if (bar.length === 1) return { value: unescape(bar[0]) };
  const [system, value] = bar.map(unescape);
  if (system === '' && value === '') throw new FhirError('invalid', `Invalid identifier token '${text}'`);
  return { system, value: value === '' ? undefined : value };
}

/** Parses the query part of a conditional request (`identifier=s|v&_id=x`) into criteria. */
export function parseCriteria(query: URLSearchParams): MatchCriteria {
  const criteria: MatchCriteria = {};
  let any = false;
  for (const [name, value] of query) {
    if (IGNORED.has(name)) continue;
    if (!SUPPORTED.has(name)) {
      throw new FhirError('not-supported', `Conditional criteria may use _id and identifier only; '${name}' is not supported`);
    }
    if (value === '') throw new FhirError('invalid', `Search parameter '${name}' has no value`);
    any = true;
    if (name === '_id') {
      if (criteria.id !== undefined && criteria.id !== value) criteria.id = '\u0000no-match';
      else criteria.id = value;
      if (value.includes(',')) throw new FhirError('not-supported', 'Several _id values in conditional criteria are not supported');
    } else {
      (criteria.identifiers ??= []).push(splitEscaped(value, ',').map(parseIdentifierToken));
    }
  }
  if (!any) throw new FhirError('invalid', 'A conditional request needs search criteria, e.g. identifier=system|value');
  return criteria;
}

/** `If-None-Exist` carries a query string, optionally written as `Type?query` or `?query`. */
export function criteriaFromHeader(header: string, type: string): MatchCriteria {
  let query = header.trim();
  if (query.startsWith(`${type}?`)) query = query.slice(type.length + 1);
  else if (query.startsWith('?')) query = query.slice(1);
  return parseCriteria(new URLSearchParams(query));
}

export type MatchOutcome = { kind: 'none' } | { kind: 'one'; match: LiveVersion } | { kind: 'many'; count: number };

export async function findMatch(reader: StoreReader, type: string, criteria: MatchCriteria): Promise<MatchOutcome> {
  const found = await reader.match(type, criteria, 2);
  if (found.length === 0) return { kind: 'none' };
  if (found.length === 1) return { kind: 'one', match: found[0] };
  return { kind: 'many', count: found.length };
}

export function tooManyMatches(type: string, what: string): FhirError {
  return new FhirError('duplicate', `${what}: more than one ${type} matches the criteria; make them more selective`, { status: 412 });
}
