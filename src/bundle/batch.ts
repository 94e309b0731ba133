import type { Principal } from '../auth/verifier';
import type { Deps } from '../deps';
import { FhirError } from '../fhir/errors';
import type { ReturnPreference } from '../http/preconditions';
import type { StoreReader } from '../storage/store';
import { authorizeEntry, dispatch, entryRequest, isWrite } from './dispatch';
import { atEntry, entryPath, patchDocument, type EntryRequest, type ParsedEntry } from './entries';
import { conditionalReferences, rewriteReferences } from './references';
import { conditionalTargets } from './transaction';
import { errorEntry, responseFull, resultEntry } from './response';

/**
 * A batch (bundle.html#batch): every entry is its own interaction, run in order through the
 * same handler as over HTTP, and answered with its own status; one entry failing never touches
 * another. Entries may not point at each other (that needs a transaction), but conditional
 * references (`Patient?identifier=…`) are resolved per entry.
 */
async function entryBody(deps: Deps, reader: StoreReader, entry: EntryRequest, base: string, principal: Principal): Promise<unknown> {
  if (entry.method === 'PATCH') return patchDocument(entry, deps.config.maxJsonDepth);
  const resource = entry.resource;
  if (resource === undefined || typeof resource !== 'object' || resource === null) return resource;
  const targets = new Map<string, string>();
  if (conditionalReferences(resource).size > 0) await conditionalTargets(reader, deps, base, [{ entry, resource }], targets, principal);
  try {
    rewriteReferences(resource, `${entryPath(entry.index)}.resource`, targets);
  } catch (err) {
    if (err instanceof FhirError) err.issues[0].diagnostics += ' (entries of a batch cannot refer to each other; use a transaction)';
    throw err;
  }
  return resource;
}

export async function runBatch(
  deps: Deps, parsed: ParsedEntry[], base: string, principal: Principal, prefer: string | undefined, preference: ReturnPreference,
): Promise<string[]> {
  const out: string[] = [];
  // The response's size so far: reads past MAX_RESPONSE_BYTES are refused one by one (413) and
  // writes still run but answer without their resource, so the response stays within it.
  let bytes = 0;
  const push = (text: string): void => { out.push(text); bytes += text.length; };
  const max = deps.config.maxResponseBytes;
  for (const p of parsed) {
    if (!p.ok) { push(errorEntry(p.error)); continue; }
    const entry = p.entry;
    try {
      authorizeEntry(entry, principal);
      const write = isWrite(entry);
      if (!write && bytes >= max) throw responseFull(max, 'batch');
      const body = await entryBody(deps, deps.store, entry, base, principal);
      const result = await dispatch(deps, entry, entryRequest(entry, base, body, principal, prefer));
      const text = resultEntry(result, { base, write, preference });
      if (bytes + text.length <= max) push(text);
      else if (write) push(resultEntry(result, { base, write, preference: 'minimal' }));
      else throw responseFull(max, 'batch');
    } catch (err) {
      if (err instanceof FhirError) {
        push(errorEntry(atEntry(err, entry.index, entry.method, entry.url)));
      } else if (deps.store.isTransient?.(err)) {
        // As for a request alone (http/express-app.ts serve): the database's passing state, 503, not a fault.
        push(errorEntry(new FhirError('transient', `${entryPath(entry.index)}: the database is briefly unreachable; send this entry again`)));
      } else {
        deps.logger.error('batch entry failed unexpectedly', { entry: entry.index, error: err instanceof Error ? err.stack : String(err) });
        push(errorEntry(new FhirError('exception', `${entryPath(entry.index)}: internal error while processing this entry`)));
      }
    }
  }
  return out;
}
