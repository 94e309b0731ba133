import { createHash } from 'node:crypto';
import type { Composition, Consent } from 'fhir/r4';
import type { Deps } from '../../deps';
import { CARE_CONTEXT } from '../../consent/artefact';
import { FhirError } from '../../fhir/errors';
import type { HiType } from '../../consent/tables';
import type { LiveVersion } from '../../storage/store';
import { encryptor, FideliusError, generateKeyMaterial, parsePublicKey } from '../fidelius';
import { instant, isObject, object, text, uuid } from '../json';
import { searchAll } from '../records';
import { consentIdentifier } from './consents';
import { compositionsOf, encounterOf, hiTypeOf, type CareContext } from './care-contexts';

/**
 * A health-information request reaching the provider (gateway v0.5 `health-information/hip/request`,
 * FACTS §4.4), checked against the stored consent (pure: checkRequest), then planned into the
 * documents to send (planTransfer). Sending them is push.ts.
 */
export interface HiRequest {
  requestId: string;
  transactionId: string;
  consentId: string;
  fromMs: number;
  toMs: number;
  dataPushUrl: string;
  /** The HIU's key material: its public key (raw or X.509, base64) and nonce. */
  hiuPublicKey: string;
  hiuNonce: string;
  keyExpiryMs: number;
}

export function parseHiRequest(body: unknown): HiRequest {
  if (!isObject(body)) throw new FhirError('invalid', 'The body must be a JSON object');
  const hiRequest = object(body, 'hiRequest', '$');
  const dateRange = object(hiRequest, 'dateRange', 'hiRequest');
  const keyMaterial = object(hiRequest, 'keyMaterial', 'hiRequest');
  const dh = object(keyMaterial, 'dhPublicKey', 'hiRequest.keyMaterial');
  const alg = text(keyMaterial, 'cryptoAlg', 'hiRequest.keyMaterial', 20);
  const curve = text(keyMaterial, 'curve', 'hiRequest.keyMaterial', 20);
  if (alg !== 'ECDH' || curve !== 'Curve25519') {
    throw new FhirError('not-supported', `Only ECDH on Curve25519 is supported, got ${alg.slice(0, 20)} on ${curve.slice(0, 20)}`, { expression: ['hiRequest.keyMaterial'] });
  }
  const dataPushUrl = text(hiRequest, 'dataPushUrl', 'hiRequest', 2048);
  let url: URL;
  try {
    url = new URL(dataPushUrl);
  } catch {
    throw new FhirError('invalid', 'hiRequest.dataPushUrl must be a URL', { expression: ['hiRequest.dataPushUrl'] });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new FhirError('invalid', 'hiRequest.dataPushUrl must be an http(s) URL', { expression: ['hiRequest.dataPushUrl'] });
  const hiuPublicKey = text(dh, 'keyValue', 'hiRequest.keyMaterial.dhPublicKey', 4096);
  const hiuNonce = text(keyMaterial, 'nonce', 'hiRequest.keyMaterial', 64);
  try {
    parsePublicKey(hiuPublicKey);
    if (Buffer.from(hiuNonce, 'base64').length !== 32) throw new FideliusError('invalid-nonce', 'the nonce is not 32 bytes');
  } catch (err) {
    if (!(err instanceof FideliusError)) throw err;
    throw new FhirError('invalid', `hiRequest.keyMaterial cannot be used: ${err.message}`, { expression: ['hiRequest.keyMaterial'] });
  }
  return {
    requestId: uuid(body, 'requestId', '$'),
    transactionId: uuid(body, 'transactionId', '$'),
    consentId: uuid(object(hiRequest, 'consent', 'hiRequest'), 'id', 'hiRequest.consent'),
    fromMs: instant(dateRange, 'from', 'hiRequest.dateRange'),
    toMs: instant(dateRange, 'to', 'hiRequest.dateRange'),
    dataPushUrl,
    hiuPublicKey,
    hiuNonce,
    keyExpiryMs: instant(dh, 'expiry', 'hiRequest.keyMaterial.dhPublicKey'),
  };
}

/** Why a request is refused, with the ABDM error code the consent manager shows (FACTS §4.3). */
export interface Refusal { code: string; message: string }

const ms = (v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) || v.length <= 10 ? v : `${v}Z`);
  return Number.isFinite(t) ? t : undefined;
};

/**
 * The provider's checks before anything is sent (nha-docs data-flow): the consent is one granted
 * to us and still active, not past its expiry, the requested date range lies inside the consented
 * one (a wider window is refused, not trimmed), and the HIU's key has not expired.
 */
export function checkRequest(consent: Consent | undefined, req: HiRequest, nowMs: number): Refusal | undefined {
  if (!consent) return { code: 'ABDM-1062', message: `Consent ${req.consentId} was not granted to this provider` };
  if (consent.status !== 'active') return { code: 'ABDM-1062', message: `Consent ${req.consentId} is ${consent.status === 'inactive' ? 'revoked or expired' : consent.status}` };
  const end = ms(consent.provision?.period?.end);
  if (end !== undefined && end <= nowMs) return { code: 'ABDM-1061', message: `Consent ${req.consentId} expired at ${consent.provision?.period?.end}` };
  const from = ms(consent.provision?.dataPeriod?.start);
  const to = ms(consent.provision?.dataPeriod?.end);
  if (req.fromMs > req.toMs) return { code: 'ABDM-1063', message: 'The requested date range ends before it starts' };
  if (from === undefined || to === undefined || req.fromMs < from || req.toMs > to) {
    return { code: 'ABDM-1063', message: `The requested date range is not inside the consented one (${consent.provision?.dataPeriod?.start} to ${consent.provision?.dataPeriod?.end})` };
  }
  if (req.keyExpiryMs <= nowMs) return { code: 'ABDM-1063', message: 'The key material of the request has expired' };
  return undefined;
}

export async function findConsent(deps: Deps, consentId: string): Promise<(Consent & { id: string }) | undefined> {
  const found = await searchAll(deps, deps.store, 'Consent', { identifier: `urn:ietf:rfc:3986|${consentIdentifier(consentId)}` }, 1);
  return found[0]?.resource as (Consent & { id: string }) | undefined;
}

/** The care contexts a HIP copy of a consent covers (consent/artefact.ts keeps them in provision.data). */
export function careContextsOfConsent(consent: Consent): CareContext[] {
  return (consent.provision?.data ?? []).flatMap((d) => {
    const id = d.reference.identifier;
    if (id?.system !== CARE_CONTEXT || !id.value) return [];
    const bar = id.value.indexOf('|');
    return bar > 0 ? [{ patientReference: id.value.slice(0, bar), careContextReference: id.value.slice(bar + 1) }] : [];
  });
}

export interface PlannedDocument { context: CareContext; composition: LiveVersion; hiType: HiType }
export interface ContextStatus { careContextReference: string; hiStatus: 'DELIVERED' | 'OK' | 'ERRORED'; description: string }

/** What the consent lets us send for this request: documents by care context × HI type × date. */
export async function planTransfer(deps: Deps, consent: Consent, req: HiRequest): Promise<{ documents: PlannedDocument[]; problems: ContextStatus[] }> {
  const allowed = new Set((consent.provision?.class ?? []).map((c) => c.code));
  const documents: PlannedDocument[] = [];
  const problems: ContextStatus[] = [];
  for (const context of careContextsOfConsent(consent)) {
    if (!(await encounterOf(deps.store, context))) {
      problems.push({ careContextReference: context.careContextReference, hiStatus: 'ERRORED', description: 'No such care context for this patient' });
      continue;
    }
    for (const v of await compositionsOf(deps, deps.store, context.careContextReference)) {
      const composition = v.resource as Composition;
      const hiType = hiTypeOf(composition, deps.coverage);
      const when = ms(composition.date);
      if (!hiType || !allowed.has(hiType) || when === undefined || when < req.fromMs || when > req.toMs) continue;
      if (composition.subject?.reference !== `Patient/${context.patientReference}`) continue;
      documents.push({ context, composition: v, hiType });
    }
  }
  return { documents, problems };
}

/** One push entry: the document encrypted for the HIU. The checksum is the MD5 of the plaintext, hex (ProjectEKA names MD5). */
export function encryptEntry(documentJson: string, careContextReference: string, seal: (plaintext: string) => string): object {
  return {
    content: seal(documentJson),
    media: 'application/fhir+json',
    checksum: createHash('md5').update(documentJson).digest('hex'),
    careContextReference,
  };
}

/** A fresh key pair and nonce for one page, and the sealing function for its entries (see fidelius.encryptor on why per page). */
export function pageKeys(req: HiRequest): { publicKey: string; nonce: string; seal: (plaintext: string) => string } {
  const keys = generateKeyMaterial();
  const seal = encryptor({ senderPrivateKey: keys.privateKey, senderNonce: keys.nonce, requesterPublicKey: req.hiuPublicKey, requesterNonce: req.hiuNonce });
  return { publicKey: keys.publicKey, nonce: keys.nonce, seal };
}
