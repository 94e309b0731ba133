import { authorizeSearch } from '../auth/access';
import { applyPatch, validate as validatePatch, type Operation } from 'fast-json-patch';
import type { Resource } from 'fhir/r4';
import { refuseDocumentChange } from '../bundle/document';
import type { Deps } from '../deps';
import { FhirError, type Issue } from '../fhir/errors';
import { FORBIDDEN_KEYS } from '../json/safe-json';
import { conditionalQuery, findMatch, tooManyMatches } from '../storage/conditional';
import type { UnitOfWork } from '../storage/store';
import type { FhirResult, Handler } from './types';
import { expectedVersion, requireId, requireType, validResource, withWarnings } from './write-support';

/** JSON Patch (RFC 6902) documents are arrays of operations; anything else is malformed. */
export function operations(body: unknown): Operation[] {
  if (!Array.isArray(body) || body.length === 0) {
    throw new FhirError('invalid', 'A JSON Patch body must be a non-empty array of operations');
  }
  // fast-json-patch reads `op.path` before it checks that an operation is an object (a null crashed it).
  const bad = body.findIndex((op) => typeof op !== 'object' || op === null || Array.isArray(op));
  if (bad >= 0) throw new FhirError('invalid', `JSON Patch operation ${bad} must be an object with 'op' and 'path', got ${JSON.stringify(body[bad])?.slice(0, 60)}`);
  return body as Operation[];
}

/** JSON Pointer segments that could reach an object's prototype are refused before anything runs. */
function checkPointers(ops: Operation[]): void {
  ops.forEach((op, index) => {
    for (const pointer of [(op as { path?: unknown }).path, (op as { from?: unknown }).from]) {
      if (typeof pointer === 'string' && pointer.split('/').some((s) => FORBIDDEN_KEYS.has(s.replace(/~1/g, '/').replace(/~0/g, '~')))) {
        throw new FhirError('invalid', `JSON Patch operation ${index} targets a forbidden key in '${pointer}'`);
      }
    }
  });
}

/** Applies the patch to a copy; a failed `test` or an unreachable path means it cannot be applied (422). */
function patched(current: Resource, ops: Operation[]): unknown {
  checkPointers(ops);
  const doc = structuredClone(current);
  let malformed: ReturnType<typeof validatePatch>;
  try {
    malformed = validatePatch(ops, doc);
  } catch (err) {
    throw new FhirError('invalid', `JSON Patch is malformed: ${(err as Error).message.split('\n')[0]}`);
  }
  if (malformed) {
    const where = `operation ${Number(malformed.index ?? 0)}`;
    const status = malformed.name === 'TEST_OPERATION_FAILED' || malformed.name === 'OPERATION_PATH_UNRESOLVABLE'
      || malformed.name === 'OPERATION_FROM_UNRESOLVABLE' || malformed.name === 'OPERATION_PATH_CANNOT_ADD' ? 422 : undefined;
    throw new FhirError(status ? 'processing' : 'invalid', `JSON Patch ${where} failed: ${malformed.message.split('\n')[0]}`,
      status ? { status } : {});
  }
  try {
    return applyPatch(doc, ops, false, true, true).newDocument;
  } catch (err) {
    throw new FhirError('processing', `JSON Patch could not be applied: ${(err as Error).message.split('\n')[0]}`, { status: 422 });
  }
}

export async function patchOne(deps: Deps, uow: UnitOfWork, type: string, id: string, ops: Operation[], ifMatch?: string): Promise<FhirResult> {
  const current = await uow.read(type, id);
  if (!current) throw new FhirError('not-found', `${type}/${id} is not known`);
  await refuseDocumentChange(uow, type, id);
  if (current.deleted || !current.resource) throw new FhirError('deleted', `${type}/${id} was deleted`);
  const expected = expectedVersion(ifMatch);
  if (expected !== undefined && expected !== current.versionId) {
    throw new FhirError('conflict', `${type}/${id} is at version ${current.versionId}, not ${expected}`, { status: 412 });
  }
  const warnings: Issue[] = [];
  const result = validResource(deps, patched(current.resource, ops), { expectedType: type, expectedId: id, warnings });
  const { version } = await uow.update(result as Resource & { id: string }, { expectedVersion: current.versionId, method: 'PATCH' });
  return withWarnings({ status: 200, version, message: `Patched ${type}/${id} to version ${version.versionId}` }, warnings);
}

/** patch (http.html#patch) with JSON Patch. */
export const patch: Handler = async (deps, request) => {
  const type = requireType(request.type);
  const id = requireId(request.id);
  const ops = operations(request.body);
  return deps.store.transact((uow) => patchOne(deps, uow, type, id, ops, request.headers.ifMatch));
};

/** Conditional patch, `PATCH [type]?criteria`: exactly one match is patched. */
export const conditionalPatch: Handler = async (deps, request) => {
  const type = requireType(request.type);
  const criteria = conditionalQuery(deps.search, type, request.query, request.base);
  authorizeSearch(request.principal, type, criteria.where);
  const ops = operations(request.body);
  return deps.store.transact(async (uow) => {
    const found = await findMatch(uow, criteria);
    if (found.kind === 'many') throw tooManyMatches(type, 'Conditional patch');
    if (found.kind === 'none') throw new FhirError('not-found', `No ${type} matches the criteria`);
    return patchOne(deps, uow, type, found.match.id, ops, request.headers.ifMatch);
  });
};
