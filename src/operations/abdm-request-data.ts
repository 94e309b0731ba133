import type { Consent, Parameters } from 'fhir/r4';
import { FhirError } from '../fhir/errors';
import type { Handler } from '../interactions/types';

/**
 * `POST [base]/Consent/[id]/$abdm-request-data`: as an ABDM health information user, ask the
 * consent manager for the data this consent (our HIU copy of an artefact) allows. Optional
 * parameters `from` and `to` (dateTime) narrow the date range; by default it is the consented one.
 * The answer is 202 with the gateway request id; the documents arrive later (hie/hiu/hiu.ts), each
 * stored with a Provenance naming the HIP, the consent and the transaction.
 * Only unrestricted callers (the facility's own systems) may start a transfer: it brings a
 * patient's records into this server.
 */
export const OPERATION = {
  name: 'abdm-request-data',
  definition: 'https://abdm-fhir-gateway.github.io/fhir/OperationDefinition/Consent-abdm-request-data',
  types: ['Consent'],
} as const;

function parameter(body: unknown, name: string): string | undefined {
  if (body === undefined) return undefined;
  const p = body as Parameters;
  if (p.resourceType !== 'Parameters') throw new FhirError('invalid', 'The body must be a Parameters resource');
  const hit = p.parameter?.find((x) => x.name === name);
  if (hit && typeof hit.valueDateTime !== 'string') throw new FhirError('invalid', `Parameter ${name} must be a valueDateTime`, { expression: [`Parameters.parameter.where(name='${name}')`] });
  return hit?.valueDateTime;
}

export const abdmRequestData: Handler = async (deps, request) => {
  if (request.type !== 'Consent') throw new FhirError('not-found', `$abdm-request-data is an operation on Consent, not ${request.type}`);
  if (request.principal.kind !== 'system' && request.principal.kind !== 'local') {
    throw new FhirError('forbidden', 'Only the facility\'s own systems (system tokens) may start an ABDM data transfer');
  }
  if (!deps.hie?.has('hiu')) throw new FhirError('not-supported', 'This server does not act as an ABDM health information user (set ABDM_GATEWAY_URL and ABDM_HIU_ID)');
  const stored = await deps.store.read('Consent', request.id ?? '');
  if (!stored?.resource || stored.deleted) throw new FhirError('not-found', `Consent/${request.id} is not known`);
  const from = parameter(request.body, 'from');
  const to = parameter(request.body, 'to');
  if ((from === undefined) !== (to === undefined)) throw new FhirError('required', 'Give both from and to, or neither');
  const requestId = await deps.hie.hiuRole().requestData(stored.resource as Consent & { id: string }, from && to ? { from, to } : undefined);
  const answer: Parameters = { resourceType: 'Parameters', parameter: [{ name: 'requestId', valueString: requestId }] };
  return { status: 202, resource: answer };
};
