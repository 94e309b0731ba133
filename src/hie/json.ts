import { FhirError } from '../fhir/errors';

/**
 * Readers for the gateway's JSON payloads. Each names the path of what is missing or wrong, so a
 * refused callback says exactly why (the gateway shows it to the facility's integrators).
 */
export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function object(obj: Json, key: string, at: string): Json {
  const v = obj[key];
  if (!isObject(v)) throw new FhirError('required', `${at}.${key} must be an object`, { expression: [`${at}.${key}`] });
  return v;
}

export function text(obj: Json, key: string, at: string, max = 1024): string {
  const v = obj[key];
  if (typeof v !== 'string' || v.trim() === '') throw new FhirError('required', `${at}.${key} must be a non-empty string`, { expression: [`${at}.${key}`] });
  if (v.length > max) throw new FhirError('too-long', `${at}.${key} is longer than ${max} characters`, { expression: [`${at}.${key}`] });
  return v;
}

export function optionalText(obj: Json, key: string, at: string, max = 1024): string | undefined {
  return obj[key] === undefined || obj[key] === null ? undefined : text(obj, key, at, max);
}

export function list(obj: Json, key: string, at: string, max: number): unknown[] {
  const v = obj[key];
  if (!Array.isArray(v)) throw new FhirError('required', `${at}.${key} must be a list`, { expression: [`${at}.${key}`] });
  if (v.length > max) throw new FhirError('too-costly', `${at}.${key} has more than ${max} items`, { expression: [`${at}.${key}`] });
  return v;
}

export function objects(obj: Json, key: string, at: string, max: number): Json[] {
  return list(obj, key, at, max).map((v, i) => {
    if (!isObject(v)) throw new FhirError('invalid', `${at}.${key}[${i}] must be an object`, { expression: [`${at}.${key}[${i}]`] });
    return v;
  });
}

export function integer(obj: Json, key: string, at: string, min: number, max: number): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new FhirError('invalid', `${at}.${key} must be an integer from ${min} to ${max}`, { expression: [`${at}.${key}`] });
  }
  return v;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function uuid(obj: Json, key: string, at: string): string {
  const v = text(obj, key, at, 36);
  if (!UUID.test(v)) throw new FhirError('invalid', `${at}.${key} must be a UUID`, { expression: [`${at}.${key}`] });
  return v.toLowerCase();
}

/** An ISO date-time as milliseconds; a bare date-time without zone is read as UTC, as the gateway writes them. */
export function instant(obj: Json, key: string, at: string): number {
  const v = text(obj, key, at, 64);
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
  if (!Number.isFinite(ms)) throw new FhirError('invalid', `${at}.${key} must be a date-time, got '${v.slice(0, 40)}'`, { expression: [`${at}.${key}`] });
  return ms;
}
