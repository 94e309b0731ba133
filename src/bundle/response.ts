import { STATUS_CODES } from 'node:http';
import { etag } from '../fhir/etag';
import { FhirError } from '../fhir/errors';
import { operationOutcome, outcomeOf } from '../fhir/operation-outcome';
import type { ReturnPreference } from '../http/preconditions';
import type { FhirResult } from '../interactions/types';

/**
 * Entries of a batch-response or transaction-response (bundle.html#transaction-response), kept
 * as JSON text: stored resources are spliced in from the text the store already holds, so a
 * large transaction's answer is not parsed and serialised once more.
 */
export function statusLine(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? ''}`.trim();
}

function resourceText(result: FhirResult): string | undefined {
  if (result.resource) return JSON.stringify(result.resource);
  const v = result.version;
  if (!v || v.deleted) return undefined;
  return v.json ?? (v.resource ? JSON.stringify(v.resource) : undefined);
}

/** One response entry. Writes honour `Prefer: return=` per entry; reads always carry what they read. */
export function resultEntry(result: FhirResult, options: { base: string; write: boolean; preference: ReturnPreference }): string {
  const v = result.version;
  const response: Record<string, unknown> = { status: statusLine(result.status) };
  if (result.withheld) {
    // Named, never shown (consent/identity.ts): its location, and the outcome saying why.
    response.location = `${result.withheld.type}/${result.withheld.id}`;
    response.outcome = outcomeOf(result);
    return `{"response":${JSON.stringify(response)}}`;
  }
  if (v && result.location) response.location = `${v.type}/${v.id}/_history/${v.versionId}`;
  if (v) {
    response.etag = etag(v.versionId);
    response.lastModified = v.lastUpdated;
  }
  const parts: string[] = [];
  if (v && !v.deleted) parts.push(`"fullUrl":${JSON.stringify(`${options.base}/${v.type}/${v.id}`)}`);
  if (result.status !== 304) {
    if (!options.write || options.preference === 'representation') {
      const text = resourceText(result);
      if (text !== undefined) parts.push(`"resource":${text}`);
    } else if (options.preference === 'OperationOutcome') {
      response.outcome = outcomeOf(result);
    }
    // Warnings travel with the entry whatever the preference (bundle.html: entry.response.outcome).
    if (result.issues?.length && response.outcome === undefined) response.outcome = outcomeOf(result);
  }
  parts.push(`"response":${JSON.stringify(response)}`);
  return `{${parts.join(',')}}`;
}

/** A failed batch entry: its status and an OperationOutcome saying why. */
export function errorEntry(err: FhirError): string {
  return JSON.stringify({ response: { status: statusLine(err.status), outcome: operationOutcome(err.issues) } });
}

export function responseBundle(type: 'batch-response' | 'transaction-response', entries: string[], id: string, timestamp: string): string {
  return `{"resourceType":"Bundle","id":${JSON.stringify(id)},"type":"${type}","timestamp":"${timestamp}","entry":[${entries.join(',')}]}`;
}

/** The refusal of a read that a batch or transaction response has no room left for (MAX_RESPONSE_BYTES). */
export function responseFull(maxBytes: number, what: 'batch' | 'transaction'): FhirError {
  const advice = what === 'batch' ? 'send it again on its own or in another batch' : 'send the reads in a batch or on their own';
  return new FhirError('too-costly', `the ${what} response reached its limit of ${maxBytes} bytes (MAX_RESPONSE_BYTES) before this read; ${advice}`);
}
