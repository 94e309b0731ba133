import { batchOrTransaction } from './bundle';
import { capabilitiesHandler } from './capabilities';
import { create } from './create';
import { conditionalDelete, remove } from './delete';
import { historyInstance, historySystem, historyType } from './history';
import { conditionalPatch, patch } from './patch';
import { read, vread } from './read';
import { searchCompartment, searchSystem, searchType } from './search';
import { consentArtefact } from '../operations/abdm-artefact';
import { compositionDocument } from '../operations/document';
import { abdmRequestData } from '../operations/abdm-request-data';
import { validate } from '../operations/validate';
import { verifyChain } from '../operations/verify-chain';
import type { Interaction } from './types';
import { conditionalUpdate, update } from './update';

/**
 * Every interaction the server supports. The HTTP routes point at these by name and the
 * CapabilityStatement is generated from this list: adding a row here is how a feature ships.
 */
export const INTERACTIONS = [
  { name: 'capabilities', level: 'system', capability: null, handler: capabilitiesHandler((): readonly Interaction[] => INTERACTIONS), write: false },
  // One endpoint, `POST [base]`, answers both; each row is a capability the server really has.
  { name: 'transaction', level: 'system', capability: 'transaction', handler: batchOrTransaction, write: false },
  { name: 'batch', level: 'system', capability: 'batch', handler: batchOrTransaction, write: false },
  { name: 'history-system', level: 'system', capability: 'history-system', handler: historySystem, write: false },
  { name: 'search-system', level: 'system', capability: 'search-system', handler: searchSystem, write: false },
  { name: 'search-compartment', level: 'instance', capability: null, handler: searchCompartment, write: false },
  { name: 'read', level: 'instance', capability: 'read', handler: read, write: false },
  { name: 'vread', level: 'instance', capability: 'vread', handler: vread, write: false },
  { name: 'update', level: 'instance', capability: 'update', handler: update, write: true },
  { name: 'patch', level: 'instance', capability: 'patch', handler: patch, write: true },
  { name: 'delete', level: 'instance', capability: 'delete', handler: remove, write: true },
  { name: 'history-instance', level: 'instance', capability: 'history-instance', handler: historyInstance, write: false },
  { name: 'create', level: 'type', capability: 'create', handler: create, write: true },
  { name: 'search-type', level: 'type', capability: 'search-type', handler: searchType, write: false },
  { name: 'history-type', level: 'type', capability: 'history-type', handler: historyType, write: false },
  { name: 'conditional-update', level: 'type', capability: 'update', handler: conditionalUpdate, write: true },
  { name: 'conditional-patch', level: 'type', capability: 'patch', handler: conditionalPatch, write: true },
  { name: 'conditional-delete', level: 'type', capability: 'delete', handler: conditionalDelete, write: true },
  { name: 'validate-type', level: 'type', capability: null, operation: 'validate', handler: validate, write: false },
  { name: 'validate-instance', level: 'instance', capability: null, operation: 'validate', handler: validate, write: false },
  { name: 'consent-from-artefact', level: 'type', capability: null, operation: 'abdm-artefact', handler: consentArtefact, write: false },
  { name: 'abdm-request-data', level: 'instance', capability: null, operation: 'abdm-request-data', handler: abdmRequestData, write: false },
  { name: 'verify-audit', level: 'type', capability: null, operation: 'verify-chain', handler: verifyChain, write: false },
  { name: 'document-type', level: 'type', capability: null, operation: 'document', handler: compositionDocument, write: false },
  { name: 'document-instance', level: 'instance', capability: null, operation: 'document', handler: compositionDocument, write: false },
] as const satisfies readonly Interaction[];

export type InteractionName = (typeof INTERACTIONS)[number]['name'];

const BY_NAME = new Map<string, Interaction>(INTERACTIONS.map((i) => [i.name, i]));

export function interaction(name: InteractionName): Interaction {
  return BY_NAME.get(name) as Interaction;
}
