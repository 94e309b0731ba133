import { FhirError } from '../fhir/errors';

/**
 * Content negotiation (http.html#mime-type): what we read and what we write. JSON only for
 * now; XML requests get an explicit answer rather than JSON they did not ask for.
 */
export const FHIR_JSON = 'application/fhir+json';
export const JSON_PATCH = 'application/json-patch+json';

const JSON_TYPES = new Set(['application/fhir+json', 'application/json', 'application/json+fhir', 'json', 'text/json']);
const XML_TYPES = new Set(['application/fhir+xml', 'application/xml', 'application/xml+fhir', 'text/xml', 'xml']);
const WILDCARDS = new Set(['*/*', 'application/*']);

const XML_LATER = 'XML is not supported yet; ask for application/fhir+json';

function mediaType(value: string): string {
  return value.split(';')[0].trim().toLowerCase();
}

/** `_format` wins over Accept (http.html#mime-type). Throws 406 when we cannot answer in JSON. */
export function checkAcceptable(accept: string | undefined, format: string | undefined): void {
  if (format !== undefined) {
    const f = mediaType(format);
    if (JSON_TYPES.has(f)) return;
    throw new FhirError('not-supported', XML_TYPES.has(f) ? XML_LATER : `_format '${format}' is not supported`, { status: 406 });
  }
  if (accept === undefined || accept.trim() === '') return;
  let sawXml = false;
  for (const part of accept.split(',')) {
    const type = mediaType(part);
    const q = /;\s*q=([0-9.]+)/.exec(part);
    if (q && Number(q[1]) === 0) continue;
    if (JSON_TYPES.has(type) || WILDCARDS.has(type)) return;
    if (XML_TYPES.has(type)) sawXml = true;
  }
  throw new FhirError('not-supported', sawXml ? XML_LATER : `Cannot produce any of '${accept}'; this server answers in ${FHIR_JSON}`, { status: 406 });
}

export type BodyKind = 'resource' | 'json-patch';

/** Which body a request carries, from its Content-Type; 415 for anything else. */
export function bodyKind(contentType: string | undefined): BodyKind {
  if (contentType === undefined) {
    throw new FhirError('not-supported', `Content-Type is required; send ${FHIR_JSON}`, { status: 415 });
  }
  const type = mediaType(contentType);
  if (JSON_TYPES.has(type)) return 'resource';
  if (type === JSON_PATCH) return 'json-patch';
  if (XML_TYPES.has(type)) throw new FhirError('not-supported', XML_LATER.replace('ask for', 'send'), { status: 415 });
  throw new FhirError('not-supported', `Content-Type '${type}' is not supported; send ${FHIR_JSON}`, { status: 415 });
}

export function isPretty(value: string | undefined): boolean {
  return value === 'true';
}
