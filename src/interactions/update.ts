import { authorizeSearch } from '../auth/access';
import type { Resource } from 'fhir/r4';
import { FhirError, type Issue } from '../fhir/errors';
import { isDocument, refuseDocumentChange } from '../bundle/document';
import { createMatch } from '../consent/identity';
import { conditionalQuery, tooManyMatches } from '../storage/conditional';
import type { FhirResult, Handler } from './types';
import { expectedVersion, requireId, requireType, validResource, withWarnings } from './write-support';

function result(version: FhirResult['version'] & object, created: boolean): FhirResult {
  const what = `${version.type}/${version.id}`;
  return created
    ? { status: 201, version, location: true, message: `Created ${what}` }
    : { status: 200, version, location: true, message: `Updated ${what} to version ${version.versionId}` };
}

/** Documents enter by POST only, where they are checked and their entries made findable. */
function refuseNewDocument(resource: Resource): void {
  if (isDocument(resource)) {
    throw new FhirError('not-supported', 'A document Bundle is stored with POST [base]/Bundle, not PUT', { status: 405 });
  }
}

/**
 * `If-None-Match: *` makes a PUT create-only (http.html#concurrency, RFC 9110 §13.1.2): when the
 * resource already exists the precondition fails, 412, and nothing is written.
 */
function createOnly(ifNoneMatch: string | undefined): boolean {
  return ifNoneMatch !== undefined && ifNoneMatch.trim() === '*';
}

function refuseExisting(what: string): never {
  throw new FhirError('duplicate', `${what} already exists, and If-None-Match: * asks to create it only if absent`, { status: 412 });
}

/** update, including update-as-create with a client-chosen id (http.html#update). */
export const update: Handler = async (deps, request) => {
  const type = requireType(request.type);
  const id = requireId(request.id);
  const warnings: Issue[] = [];
  const resource = validResource(deps, request.body, { expectedType: type, expectedId: id, warnings }) as Resource & { id: string };
  const expected = expectedVersion(request.headers.ifMatch);
  refuseNewDocument(resource);
  return withWarnings(await deps.store.transact(async (uow) => {
    if (createOnly(request.headers.ifNoneMatch)) {
      const current = await uow.read(type, id);
      if (current && !current.deleted) refuseExisting(`${type}/${id}`);
    }
    await refuseDocumentChange(uow, type, id);
    const { version, created } = await uow.update(resource, { expectedVersion: expected });
    return result(version, created);
  }), warnings);
};

/** Conditional update, `PUT [type]?criteria` (http.html#cond-update), each match count as the spec lists. */
export const conditionalUpdate: Handler = async (deps, request) => {
  const type = requireType(request.type);
  const criteria = conditionalQuery(deps.search, type, request.query, request.base);
  authorizeSearch(request.principal, type, criteria.where);
  const warnings: Issue[] = [];
  const resource = validResource(deps, request.body, { expectedType: type, warnings });
  const expected = expectedVersion(request.headers.ifMatch);
  refuseNewDocument(resource);
  return withWarnings(await deps.store.transact(async (uow) => {
    // The identity rule (consent/identity.ts): a national identity the caller cannot see still
    // matches, so the update is refused as a change to a hidden record, never made a second copy.
    const found = await createMatch(uow, criteria);
    if (found.kind === 'many') throw tooManyMatches(type, 'Conditional update');
    if (found.kind === 'one' || found.kind === 'withheld') {
      if (createOnly(request.headers.ifNoneMatch)) refuseExisting(`${type}/${found.match.id}`);
      if (resource.id !== undefined && resource.id !== found.match.id) {
        throw new FhirError('invalid', `The body's id '${resource.id}' differs from the matching ${type}/${found.match.id}`,
          { expression: [`${type}.id`] });
      }
      await refuseDocumentChange(uow, type, found.match.id);
      const { version } = await uow.update({ ...resource, id: found.match.id }, { expectedVersion: expected });
      return result(version, false);
    }
    if (resource.id === undefined) return result(await uow.create(resource), true);
    const existing = await uow.read(type, resource.id);
    if (existing && !existing.deleted) {
      throw new FhirError('conflict', `${type}/${resource.id} exists but does not match the criteria`, { status: 409 });
    }
    const { version } = await uow.update(resource as Resource & { id: string }, { expectedVersion: expected });
    return result(version, true);
  }), warnings);
};
