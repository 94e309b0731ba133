import type { Composition } from 'fhir/r4';
import { assembleDocument, storedDocumentOf } from '../bundle/assemble-document';
import type { Deps } from '../deps';
import type { DocumentSource } from './hip/hip';
import { Hie, type HieOptions } from './service';

export { Hie } from './service';

/**
 * The FHIR base documents are assembled on: BASE_URL, or else the origin of the ABDM callback URL
 * with /fhir, so that an assembled document's fullUrls name this server as the HIU will see it.
 */
function documentBase(deps: Deps): string {
  if (deps.config.baseUrl) return deps.config.baseUrl;
  return `${new URL(deps.config.abdm.callbackUrl as string).origin}/fhir`;
}

/**
 * What a Composition is sent as: the document it was posted in, exactly as stored (a document is
 * an attested unit, never rebuilt), or else the document `Composition/$document` assembles.
 */
export function documentSource(deps: Deps): DocumentSource {
  return async (version) => {
    const composition = version.resource as Composition;
    const base = documentBase(deps);
    const stored = await storedDocumentOf(deps.store, composition, base);
    if (stored) return stored.json ?? JSON.stringify(stored.resource);
    const bundle = await assembleDocument(deps.store, composition, { baseUrl: base, now: deps.clock.now(), newId: () => deps.ids.newId() });
    return JSON.stringify(bundle);
  };
}

export function createHie(deps: Deps, options: Partial<HieOptions> = {}): Hie {
  return new Hie(deps, { documentOf: documentSource(deps), ...options });
}
