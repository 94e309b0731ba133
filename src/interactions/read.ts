import { FhirError } from '../fhir/errors';
import { noneMatchHits, notModifiedSince } from '../fhir/etag';
import { readShape, shapeResource } from '../search/shape';
import { parseVersionId } from '../storage/versioning';
import type { StoredVersion } from '../storage/store';
import type { FhirRequest, FhirResult, Handler } from './types';
import { requireId, requireType } from './write-support';

/** A version that can be shown, or the spec's answer for why not (http.html#read: 404, 410). */
export function shown(version: StoredVersion | undefined, what: string): StoredVersion {
  if (!version) throw new FhirError('not-found', `${what} is not known`);
  if (version.deleted) throw new FhirError('deleted', `${what} was deleted (version ${version.versionId})`);
  return version;
}

/** Conditional read (http.html#cread): the client's copy is current → 304 without a body. */
function conditional(request: FhirRequest, version: StoredVersion): FhirResult {
  const { ifNoneMatch, ifModifiedSince } = request.headers;
  const shape = readShape(request.query);
  const unchanged = ifNoneMatch !== undefined
    ? noneMatchHits(ifNoneMatch, version.versionId)
    : notModifiedSince(ifModifiedSince, version.lastUpdated);
  if (unchanged) return { status: 304, version };
  // A subsetted copy is tagged SUBSETTED (shape.ts); the ETag still names the stored version.
  return shape && version.resource ? { status: 200, version, resource: shapeResource(version.resource, shape) } : { status: 200, version };
}

export const read: Handler = async (deps, request) => {
  const type = requireType(request.type);
  const id = requireId(request.id);
  const version = shown(await deps.store.read(type, id), `${type}/${id}`);
  return conditional(request, version);
};

export const vread: Handler = async (deps, request) => {
  const type = requireType(request.type);
  const id = requireId(request.id);
  const versionId = parseVersionId(request.versionId ?? '');
  if (versionId === undefined) throw new FhirError('not-found', `${type}/${id} has no version '${request.versionId}'`);
  const version = shown(await deps.store.vread(type, id, versionId), `${type}/${id}/_history/${versionId}`);
  return conditional(request, version);
};
