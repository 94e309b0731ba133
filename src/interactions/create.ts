import { authorizeSearch } from '../auth/access';
import { checkDocument, isDocument, storeDocumentEntries, storedDocument } from '../bundle/document';
import { createMatch } from '../consent/identity';
import { conditionalQuery, queryFromHeader, tooManyMatches } from '../storage/conditional';
import type { Issue } from '../fhir/errors';
import type { FhirResult, Handler } from './types';
import { matchedCriteria, matchedDocument, requireType, validResource, withWarnings } from './write-support';

/** create and conditional create (http.html#create, #ccreate). */
export const create: Handler = async (deps, request) => {
  const type = requireType(request.type);
  const warnings: Issue[] = [];
  const resource = validResource(deps, request.body, { expectedType: type, warnings });
  const document = isDocument(resource);
  if (document) checkDocument(resource);
  const condition = request.headers.ifNoneExist;
  const criteria = condition === undefined ? undefined : conditionalQuery(deps.search, type, queryFromHeader(condition, type), request.base);
  if (criteria) authorizeSearch(request.principal, type, criteria.where);
  return withWarnings(await deps.store.transact(async (uow): Promise<FhirResult> => {
    if (criteria) {
      // Matched by the identity rule (consent/identity.ts), so a restricted caller never duplicates what it cannot see.
      const found = await createMatch(uow, criteria);
      if (found.kind === 'many') throw tooManyMatches(type, 'Conditional create');
      if (found.kind !== 'none') return matchedCriteria(found);
    }
    if (document) {
      const stored = await storedDocument(deps, uow, resource, request.base);
      if (stored.kind !== 'none') return matchedDocument(stored);
    }
    const version = await uow.create(resource);
    if (document) await storeDocumentEntries(deps, uow, version, request.base);
    return { status: 201, version, location: true, message: `Created ${type}/${version.id}` };
  }), warnings);
};
