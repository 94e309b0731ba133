import { runBatch } from '../bundle/batch';
import type { Principal } from '../auth/verifier';
import { authorizeEntry, dispatch, entryRequest } from '../bundle/dispatch';
import { atEntry, checkBundle, parseEntry, type EntryRequest } from '../bundle/entries';
import { responseBundle, responseFull, resultEntry } from '../bundle/response';
import { prepare, runTransaction } from '../bundle/transaction';
import type { Deps } from '../deps';
import { FhirError } from '../fhir/errors';
import { returnPreference } from '../http/preconditions';
import type { ResourceStore, UnitOfWork } from '../storage/store';
import type { FhirResult, Handler } from './types';

/**
 * The store as seen from inside a transaction's unit of work, for its GET entries: they run
 * after its writes and see them, and a failing GET still fails the whole transaction.
 */
function storeWithin(uow: UnitOfWork): ResourceStore {
  const unavailable = (): never => {
    throw new FhirError('not-supported', 'History is not available inside a transaction; send it in a batch or on its own');
  };
  return {
    read: (t, i) => uow.read(t, i),
    vread: (t, i, v) => uow.vread(t, i, v),
    search: (q) => uow.search(q),
    referencedBy: (s, k, t) => uow.referencedBy(s, k, t),
    referencing: (t, k) => uow.referencing(t, k),
    history: unavailable,
    generation: unavailable,
    transact: unavailable,
    ping: async () => true,
    close: async () => undefined,
  };
}

async function transaction(deps: Deps, entries: EntryRequest[], base: string, principal: Principal, prefer: string | undefined): Promise<string[]> {
  const preference = returnPreference(prefer);
  // Every entry is allowed before anything runs: a transaction is refused whole, never half done.
  for (const e of entries) {
    try {
      authorizeEntry(e, principal);
    } catch (err) {
      throw err instanceof FhirError ? atEntry(err, e.index, e.method, e.url) : err;
    }
  }
  const prepared = entries.map((e) => prepare(deps, e, base, principal));
  const reads = new Map<number, string>();
  const results = await deps.store.transact(async (uow) => {
    const done = await runTransaction(deps, uow, prepared, base, principal);
    const inside = { ...deps, store: storeWithin(uow) };
    let readBytes = 0;
    for (const e of entries) {
      if (done.has(e.index)) continue;
      try {
        const text = resultEntry(await dispatch(inside, e, entryRequest(e, base, undefined, principal, prefer)), { base, write: false, preference });
        readBytes += text.length;
        // A failing GET fails the whole transaction, and so does one the response has no room for.
        if (readBytes > deps.config.maxResponseBytes) throw responseFull(deps.config.maxResponseBytes, 'transaction');
        reads.set(e.index, text);
      } catch (err) {
        throw err instanceof FhirError ? atEntry(err, e.index, e.method, e.url) : err;
      }
    }
    return done;
  });
  return entries.map((e) => reads.get(e.index) ?? resultEntry(results.get(e.index) as FhirResult, { base, write: true, preference }));
}

/** `POST [base]` with a batch or transaction Bundle (http.html#transaction). */
export const batchOrTransaction: Handler = async (deps, request) => {
  const bundle = checkBundle(request.body, deps.config.maxBundleEntries);
  const parsed = (bundle.entry ?? []).map((e, i) => parseEntry(e, i, request.base));
  const prefer = request.headers.prefer;
  let entries: string[];
  if (bundle.type === 'transaction') {
    const failed = parsed.find((p) => !p.ok);
    if (failed && !failed.ok) throw failed.error;
    entries = await transaction(deps, parsed.map((p) => (p as { entry: EntryRequest }).entry), request.base, request.principal, prefer);
  } else {
    entries = await runBatch(deps, parsed, request.base, request.principal, prefer, returnPreference(prefer));
  }
  const type = bundle.type === 'transaction' ? 'transaction-response' : 'batch-response';
  return { status: 200, body: responseBundle(type, entries, deps.ids.newId(), deps.clock.now().toISOString()) };
};
