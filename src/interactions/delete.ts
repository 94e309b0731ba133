import { authorizeSearch } from '../auth/access';
import { conditionalQuery, findMatch, tooManyMatches } from '../storage/conditional';
import type { StoredVersion } from '../storage/store';
import type { FhirResult, Handler } from './types';
import { expectedVersion, requireId, requireType } from './write-support';

function deleted(what: string, tombstone: StoredVersion | undefined): FhirResult {
  return tombstone
    ? { status: 204, version: tombstone, message: `Deleted ${what} (version ${tombstone.versionId})` }
    : { status: 204, message: `${what} did not exist or was already deleted; nothing changed` };
}

/** delete (http.html#delete): a tombstone version; deleting what is absent is not an error. */
export const remove: Handler = async (deps, request) => {
  const type = requireType(request.type);
  const id = requireId(request.id);
  const expected = expectedVersion(request.headers.ifMatch);
  return deps.store.transact(async (uow) => deleted(`${type}/${id}`, await uow.delete(type, id, { expectedVersion: expected })));
};

/** Conditional delete, single match only (http.html#cdelete): several matches are a 412. */
export const conditionalDelete: Handler = async (deps, request) => {
  const type = requireType(request.type);
  const criteria = conditionalQuery(deps.search, type, request.query, request.base);
  authorizeSearch(request.principal, type, criteria.where);
  return deps.store.transact(async (uow) => {
    const found = await findMatch(uow, criteria);
    if (found.kind === 'many') throw tooManyMatches(type, 'Conditional delete');
    if (found.kind === 'none') return deleted(`No ${type} matching the criteria`, undefined);
    return deleted(`${type}/${found.match.id}`, await uow.delete(type, found.match.id));
  });
};
