import { FhirError } from '../fhir/errors';
import { noneMatchHits, notModifiedSince } from '../fhir/etag';
import { parseVersionId } from '../storage/versioning';
import type { StoredVersion } from '../storage/store';
import type { FhirRequest, FhirResult, Handler } from './types';
import { requireId, requireType } from './write-support';

/** A version that can be shown, or the spec's answer for why not (http.html#read: 404, 410). */
function shown(version: StoredVersion | undefined, what: string): StoredVersion {
  if (!version) throw new FhirError('not-found', `${what} is not known`);
  if (version.deleted) throw new FhirError('deleted', `${what} was deleted (version ${version.versionId})`);
  return version;
}

/** Conditional read (http.html#cread): the client's copy is current → 304 without a body. */
function conditional(request: FhirRequest, version: StoredVersion): FhirResult {
  const { ifNoneMatch, ifModifiedSince } = request.headers;
  const unchanged = ifNoneMatch !== undefined
    ? noneMatchHits(ifNoneMatch, version.versionId)
    : notModifiedSince(ifModifiedSince, version.lastUpdated);
  return unchanged ? { status: 304, version } : { status: 200, version };
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
