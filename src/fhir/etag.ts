import { FhirError } from './errors';

/** Weak ETag of a version (http.html#versioning). */
export function etag(versionId: number): string {
  return `W/"${versionId}"`;
}

/** `W/"3"` (or `"3"`, as some clients send) → 3; anything else is a 400. Used by If-Match and Bundle ifMatch. */
export function parseETagVersion(header: string, name: string): number {
  const m = /^(?:W\/)?"([1-9][0-9]{0,14})"$/.exec(header.trim());
  if (!m) throw new FhirError('invalid', `${name} must be a version ETag such as W/"3", got '${header}'`);
  return Number(m[1]);
}

/** If-None-Match on a read (http.html#cread): true when the client's copy is current. */
export function noneMatchHits(header: string | undefined, versionId: number): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    if (t === '*') return true;
    const m = /^(?:W\/)?"([^"]*)"$/.exec(t);
    return m !== null && m[1] === String(versionId);
  });
}

/** If-Modified-Since: true when the resource has not changed since the given HTTP-date. */
export function notModifiedSince(header: string | undefined, lastUpdated: string): boolean {
  if (header === undefined) return false;
  const since = Date.parse(header);
  if (Number.isNaN(since)) return false; // RFC 9110: an invalid date is ignored
  return Math.floor(Date.parse(lastUpdated) / 1000) * 1000 <= since;
}
