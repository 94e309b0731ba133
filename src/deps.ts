import type { Authenticator } from './auth/access';
import type { Resource } from 'fhir/r4';
import type { Config } from './config';
import type { Coverage } from './consent/tables';
import type { Issue } from './fhir/errors';
import type { Logger } from './logger';
import type { SearchParameters } from './search/parameters';
import type { IndexRows } from './search/index-rows';
import type { ResourceStore } from './storage/store';
import type { AuditTrail } from './audit/trail';
import type { CheckpointLog } from './audit/checkpoint-log';
import type { Hie } from './hie/service';

export interface ValidationContext {
  expectedType?: string;
  expectedId?: string;
  /** Where a write's warnings go: they do not stop it, and are returned with it (http.html#ops). */
  warnings?: Issue[];
}

/** Validation of a resource about to be written: all problems found, none thrown. */
export interface ResourceValidator {
  /** R4's own rules (JSON schema and the JSON rules). */
  validate(body: unknown, context: ValidationContext): Issue[];
  /** Every profile in meta.profile, plus `extra`; a profile the server does not know is an error. */
  validateProfiles(resource: Resource, extra?: string[]): Issue[];
  /** Compiles whatever is compiled lazily, so the first request does not pay for it. */
  warmUp?(): void;
}

/** Everything an interaction may use, injected (never module singletons) so tests control it. */
export interface Deps {
  config: Config;
  store: ResourceStore;
  /** The search parameters known per resource type (official R4 plus ours). */
  search: SearchParameters;
  validator: ResourceValidator;
  /** Who is calling: a verified bearer token, or the open loopback mode. */
  auth: Authenticator;
  clock: { now(): Date };
  ids: { newId(): string };
  logger: Logger;
  /** What a resource is findable by (the same rows the store writes): consent decisions read them. */
  index(resource: Resource, codes?: ReadonlySet<string>): IndexRows;
  /** What each ABDM health-information type lets a consent holder see: derived from the loaded record profiles at start-up. */
  coverage: Coverage;
  /** The audit trail; absent when AUDIT=off. */
  audit?: AuditTrail;
  /** Signed checkpoints of the audit chain's head, outside the database (absent for an in-memory one). */
  auditCheckpoints?: CheckpointLog;
  /** The ABDM health-information exchange, when ABDM_GATEWAY_URL is set. */
  hie?: Hie;
  /** When the server started: the CapabilityStatement's date. */
  startedAt: Date;
}
