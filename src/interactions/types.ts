import type { CapabilityStatementRestResourceInteraction, CapabilityStatementRestInteraction, Resource } from 'fhir/r4';
import type { Principal } from '../auth/verifier';
import type { Deps } from '../deps';
import type { Issue } from '../fhir/errors';
import type { ResourceKey, StoredVersion } from '../storage/store';

/** A FHIR request, free of any HTTP framework. */
export interface FhirRequest {
  type?: string;
  id?: string;
  versionId?: string;
  /** The resource type of a compartment search, `Patient/1/[compartmentType]`. */
  compartmentType?: string;
  query: URLSearchParams;
  /** Parsed JSON body (a resource, or a JSON Patch document). */
  body?: unknown;
  headers: {
    ifMatch?: string;
    ifNoneExist?: string;
    ifNoneMatch?: string;
    ifModifiedSince?: string;
    prefer?: string;
  };
  /** Base URL of the FHIR endpoint, e.g. http://127.0.0.1:8080/fhir. */
  base: string;
  /** The request's own URL relative to the base, e.g. /Patient/1/_history?_count=2 (for self links). */
  path: string;
  /** Who is asking, already authenticated and allowed this interaction. */
  principal: Principal;
}

/** What an interaction returns; the HTTP layer turns it into a response. Handlers never touch `res`. */
export interface FhirResult {
  status: number;
  /** The body: a resource or a Bundle. For writes the HTTP layer may swap it per `Prefer`. */
  resource?: Resource;
  /** The version the response is about: sets ETag and Last-Modified, and the body when `resource` is absent. */
  version?: StoredVersion;
  /** Set Location to this version's `_history` URL (create, update-as-create). */
  location?: boolean;
  /**
   * A record the answer names but may not show (consent/identity.ts: a conditional create that
   * matched a record outside the caller's view). Location names it; there is no ETag, no
   * Last-Modified and no resource, only `message` as an informational OperationOutcome.
   */
  withheld?: ResourceKey;
  /** A human-readable outcome for `Prefer: return=OperationOutcome`. */
  message?: string;
  /** Warnings the write produced (validation, national identifiers): returned with `Prefer: return=OperationOutcome`. */
  issues?: Issue[];
  /** The body already serialised (a batch or transaction response assembled from stored JSON). */
  body?: string;
  /** Records the answer shows besides `version` (the entries of a document just stored), for the audit record. */
  shows?: Resource[];
}

export type Handler = (deps: Deps, request: FhirRequest) => Promise<FhirResult>;

type TypeCode = CapabilityStatementRestResourceInteraction['code'];
type SystemCode = CapabilityStatementRestInteraction['code'];

/** One interaction the server really supports: the CapabilityStatement is generated from these. */
/** `operation` names a FHIR operation (`$validate`) the row implements, for the CapabilityStatement. */
export type Interaction =
  | { name: string; level: 'type' | 'instance'; capability: TypeCode | null; operation?: string; handler: Handler; write: boolean }
  | { name: string; level: 'system'; capability: SystemCode | null; operation?: string; handler: Handler; write: boolean };
