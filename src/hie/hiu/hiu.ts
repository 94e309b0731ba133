import { createHash, randomUUID } from 'node:crypto';
import type { Bundle, Consent, Provenance } from 'fhir/r4';
import { checkDocument, isDocument, storeDocumentEntries, storedDocument } from '../../bundle/document';
import { FhirError } from '../../fhir/errors';
import { validResource } from '../../interactions/write-support';
import { parseJson } from '../../json/safe-json';
import { decryptor, generateKeyMaterial, type KeyMaterial } from '../fidelius';
import { integer, isObject, list, object, objects, text, uuid } from '../json';
import { entityOf, exchangeEvent, INTERNAL_BASE, writeAudited } from '../records';
import { applyConsentNotice, consentIdentifier } from '../hip/consents';
import { findConsent } from '../hip/transfer';
import type { RoleContext } from '../hip/hip';

/**
 * The health information user (HIU) role: consents granted to us are fetched from the consent
 * manager and kept as FHIR Consents (the HIU copy, which the existing enforcement reads: a
 * practitioner or organisation it names sees what it allows, nothing more); a request for data
 * makes fresh key material, kept in memory only (a private key never reaches disk; a restart
 * during a transfer means asking again); pushed pages are decrypted, each document validated and
 * stored with a Provenance naming the HIP, the consent and the transaction.
 */
export const TRANSACTION = 'https://abdm-fhir-gateway.github.io/fhir/NamingSystem/abdm-transaction';
const MAX_PENDING = 1000;
const MAX_ENTRIES_PER_PAGE = 100;
const KEY_LIFETIME_MS = 24 * 3600_000;

interface Pending {
  requestId: string;
  consentId: string;
  localConsentId: string;
  hipId?: string;
  keys: KeyMaterial;
  expiresAtMs: number;
  transactionId?: string;
  pageCount?: number;
  pages: Set<number>;
  statuses: Map<string, { careContextReference: string; hiStatus: 'OK' | 'ERRORED'; description: string }>;
}

export interface ReceivedEntry { careContextReference: string; stored?: string; duplicate?: boolean; problem?: string }

export class HiuRole {
  private readonly byRequest = new Map<string, Pending>();
  private readonly byTransaction = new Map<string, Pending>();
  /** Finished transactions, so a page pushed again after the last one was stored is still answered (with nothing new). */
  private readonly finished = new Set<string>();

  constructor(private readonly ctx: RoleContext, private readonly hiuId: string, private readonly dataPushUrl: string) {}

  private stamp(): { requestId: string; timestamp: string } {
    return { requestId: randomUUID(), timestamp: this.ctx.deps.clock.now().toISOString() };
  }

  /** `consents/hiu/notify`: granted artefacts are fetched (on-fetch stores them); ended ones are ended here. */
  async consentNotify(body: unknown): Promise<void> {
    if (!isObject(body)) throw new FhirError('invalid', 'The body must be a JSON object');
    const requestId = uuid(body, 'requestId', '$');
    const notification = object(body, 'notification', '$');
    const status = text(notification, 'status', 'notification', 20);
    const artefacts = objects(notification, 'consentArtefacts', 'notification', 100).map((a, i) => uuid(a, 'id', `notification.consentArtefacts[${i}]`));
    if (status !== 'GRANTED') {
      for (const consentId of artefacts) await applyConsentNotice(this.ctx.deps, { requestId, consentId, status, notification: { status, consentId } }, 'hiu');
    }
    this.ctx.later('consent on-notify', async () => {
      if (status === 'GRANTED') for (const consentId of artefacts) await this.ctx.out.call('/v0.5/consents/fetch', { ...this.stamp(), consentId });
      await this.ctx.out.call('/v0.5/consents/hiu/on-notify', {
        ...this.stamp(), acknowledgement: artefacts.map((consentId) => ({ status: 'OK', consentId })), resp: { requestId },
      });
    });
  }

  /** `consents/on-fetch`: the artefact itself, stored as our HIU copy. */
  async consentOnFetch(body: unknown): Promise<void> {
    if (!isObject(body)) throw new FhirError('invalid', 'The body must be a JSON object');
    if (isObject(body.error)) return; // the consent manager could not give it: nothing to store
    const requestId = uuid(body, 'requestId', '$');
    const consent = object(body, 'consent', '$');
    const detail = object(consent, 'consentDetail', 'consent');
    const status = text(consent, 'status', 'consent', 20);
    await applyConsentNotice(this.ctx.deps, { requestId, consentId: uuid(detail, 'consentId', 'consent.consentDetail'), status, notification: consent }, 'hiu');
  }

  /** Asks the consent manager for the data a stored (HIU copy) consent allows; returns the gateway request id. */
  async requestData(consent: Consent & { id: string }, range?: { from: string; to: string }): Promise<string> {
    const artefact = consent.identifier?.find((i) => i.system === 'urn:ietf:rfc:3986' && i.value?.startsWith('urn:uuid:'))?.value?.slice('urn:uuid:'.length);
    if (!artefact) throw new FhirError('invalid', `Consent/${consent.id} is not an ABDM consent artefact (no urn:uuid identifier)`);
    if (consent.status !== 'active') throw new FhirError('processing', `Consent/${consent.id} is ${consent.status}, not active`);
    const dateRange = range ?? { from: consent.provision?.dataPeriod?.start ?? '', to: consent.provision?.dataPeriod?.end ?? '' };
    if (this.byRequest.size >= MAX_PENDING) this.forgetExpired();
    if (this.byRequest.size >= MAX_PENDING) throw new FhirError('transient', `${MAX_PENDING} data requests are already waiting`);
    const keys = generateKeyMaterial();
    const stamp = this.stamp();
    const nowMs = this.ctx.deps.clock.now().getTime();
    const hipId = consent.provision?.actor?.[0]?.reference.identifier?.value;
    this.byRequest.set(stamp.requestId, {
      requestId: stamp.requestId, consentId: artefact, localConsentId: consent.id, hipId, keys, expiresAtMs: nowMs + KEY_LIFETIME_MS, pages: new Set(), statuses: new Map(),
    });
    await this.ctx.out.call('/v0.5/health-information/cm/request', {
      ...stamp,
      hiRequest: {
        consent: { id: artefact }, dateRange, dataPushUrl: this.dataPushUrl,
        keyMaterial: {
          cryptoAlg: 'ECDH', curve: 'Curve25519',
          dhPublicKey: { expiry: new Date(nowMs + KEY_LIFETIME_MS).toISOString(), parameters: 'Curve25519/32byte random key', keyValue: keys.publicKey },
          nonce: keys.nonce,
        },
      },
    }, { 'X-HIU-ID': this.hiuId });
    return stamp.requestId;
  }

  private forgetExpired(): void {
    const nowMs = this.ctx.deps.clock.now().getTime();
    for (const [id, p] of this.byRequest) {
      if (p.expiresAtMs > nowMs) continue;
      this.byRequest.delete(id);
      if (p.transactionId) this.byTransaction.delete(p.transactionId);
    }
  }

  /** `health-information/hiu/on-request`: the consent manager's transaction id for our request. */
  async onRequest(body: unknown): Promise<void> {
    if (!isObject(body)) throw new FhirError('invalid', 'The body must be a JSON object');
    const resp = object(body, 'resp', '$');
    const pending = this.byRequest.get(uuid(resp, 'requestId', 'resp'));
    if (!pending) throw new FhirError('not-found', 'No data request of ours has this request id');
    if (isObject(body.error)) {
      this.byRequest.delete(pending.requestId);
      this.ctx.deps.logger.warn('health-information request refused', { requestId: pending.requestId, code: String(body.error.code).slice(0, 40) });
      return;
    }
    const hiRequest = object(body, 'hiRequest', '$');
    pending.transactionId = uuid(hiRequest, 'transactionId', 'hiRequest');
    this.byTransaction.set(pending.transactionId, pending);
  }

  /** The data push: one page of encrypted documents. Answered once stored, so a failed page is pushed again. */
  async receive(body: unknown): Promise<ReceivedEntry[]> {
    if (!isObject(body)) throw new FhirError('invalid', 'The body must be a JSON object');
    const transactionId = uuid(body, 'transactionId', '$');
    if (this.finished.has(transactionId)) return [];
    const pending = this.byTransaction.get(transactionId);
    if (!pending || pending.expiresAtMs <= this.ctx.deps.clock.now().getTime()) throw new FhirError('not-found', `No data request is waiting for transaction ${transactionId}`);
    const pageCount = integer(body, 'pageCount', '$', 1, 1_000_000);
    const pageNumber = integer(body, 'pageNumber', '$', 1, pageCount);
    const keyMaterial = object(body, 'keyMaterial', '$');
    const hip = { publicKey: text(object(keyMaterial, 'dhPublicKey', 'keyMaterial'), 'keyValue', 'keyMaterial.dhPublicKey', 4096), nonce: text(keyMaterial, 'nonce', 'keyMaterial', 64) };
    list(body, 'entries', '$', MAX_ENTRIES_PER_PAGE);
    const entries = objects(body, 'entries', '$', MAX_ENTRIES_PER_PAGE);
    pending.pageCount = pageCount;
    if (pending.pages.has(pageNumber)) return []; // delivered before: the HIP retried a page we had answered
    const out: ReceivedEntry[] = [];
    let open: ((content: string) => Buffer) | Error;
    try {
      open = decryptor({ requesterPrivateKey: pending.keys.privateKey, requesterNonce: pending.keys.nonce, senderPublicKey: hip.publicKey, senderNonce: hip.nonce });
    } catch (err) {
      open = err as Error; // a key we cannot use: every entry of the page is ERRORED, saying why
    }
    for (const [i, entry] of entries.entries()) out.push(await this.receiveEntry(entry, `entries[${i}]`, pending, open));
    pending.pages.add(pageNumber);
    for (const e of out) {
      const prev = pending.statuses.get(e.careContextReference);
      if (prev?.hiStatus === 'ERRORED') continue;
      pending.statuses.set(e.careContextReference, { careContextReference: e.careContextReference, hiStatus: e.problem ? 'ERRORED' : 'OK', description: e.problem ?? 'Received' });
    }
    if (pending.pages.size === pageCount) this.ctx.later('health-information notify', () => this.complete(pending));
    return out;
  }

  private async receiveEntry(entry: Record<string, unknown>, at: string, pending: Pending, open: ((content: string) => Buffer) | Error): Promise<ReceivedEntry> {
    const careContextReference = text(entry, 'careContextReference', at, 200);
    let json: string;
    try {
      if (open instanceof Error) throw open;
      json = open(text(entry, 'content', at, 64 * 1024 * 1024)).toString('utf8');
    } catch (err) {
      return { careContextReference, problem: `Could not decrypt: ${(err as Error).message}`.slice(0, 300) };
    }
    const checksum = typeof entry.checksum === 'string' ? entry.checksum : '';
    if (/^[0-9a-f]{32}$/i.test(checksum) && createHash('md5').update(json).digest('hex') !== checksum.toLowerCase()) {
      return { careContextReference, problem: 'The checksum does not match the decrypted document' };
    }
    try {
      const stored = await this.store(pending, parseJson(json, this.ctx.deps.config.maxJsonDepth));
      return { careContextReference, ...stored };
    } catch (err) {
      if (!(err instanceof FhirError)) throw err;
      return { careContextReference, problem: `Refused: ${err.issues.map((i) => `${i.diagnostics ?? i.code}${i.expression ? ` at ${i.expression.join(', ')}` : ''}`).join('; ')}`.slice(0, 500) };
    }
  }

  /** Validates and stores one document with its Provenance, atomically; the same document again is a duplicate, not a copy. */
  private async store(pending: Pending, body: unknown): Promise<{ stored: string; duplicate?: boolean }> {
    const { deps } = this.ctx;
    const bundle = validResource(deps, body, { expectedType: 'Bundle' }) as Bundle;
    if (!isDocument(bundle)) throw new FhirError('invalid', 'A pushed entry must be a FHIR document (Bundle of type document)', { expression: ['Bundle.type'] });
    checkDocument(bundle);
    const base = deps.config.baseUrl ?? INTERNAL_BASE;
    return writeAudited<{ stored: string; duplicate?: boolean }>(deps, async (uow) => {
      const found = await storedDocument(deps, uow, bundle, base);
      if (found.kind === 'one') return { result: { stored: `Bundle/${found.match.id}`, duplicate: true }, events: [] };
      if (found.kind !== 'none') throw new FhirError('conflict', 'A document with this identifier is stored and cannot be shown');
      const version = await uow.create(bundle);
      await storeDocumentEntries(deps, uow, version, base);
      const provenance = await uow.create(this.provenance(pending, version.id));
      const event = exchangeEvent(deps, {
        interaction: 'abdm-receive', action: 'C', status: 201, requestId: pending.transactionId ?? pending.requestId, subject: 'abdm-gateway',
        purpose: 'CAREMGT', consents: [pending.localConsentId], entities: [entityOf(version, []), entityOf(provenance, [])],
      });
      return { result: { stored: `Bundle/${version.id}` }, events: [event] };
    });
  }

  private provenance(pending: Pending, bundleId: string): Provenance {
    return {
      resourceType: 'Provenance',
      target: [{ reference: `Bundle/${bundleId}` }],
      recorded: this.ctx.deps.clock.now().toISOString(),
      policy: [consentIdentifier(pending.consentId)],
      reason: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'CAREMGT' }], text: 'Received through the ABDM health-information exchange' }],
      agent: [{
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'custodian' }] },
        who: pending.hipId ? { identifier: { system: 'https://facility.abdm.gov.in', value: pending.hipId } } : { display: 'ABDM health information provider' },
      }],
      entity: [{ role: 'source', what: { identifier: { system: TRANSACTION, value: pending.transactionId ?? pending.requestId } } }],
    };
  }

  private async complete(pending: Pending): Promise<void> {
    this.byRequest.delete(pending.requestId);
    if (pending.transactionId) {
      this.byTransaction.delete(pending.transactionId); // and with it the private key
      if (this.finished.size >= MAX_PENDING * 10) this.finished.delete(this.finished.values().next().value as string);
      this.finished.add(pending.transactionId);
    }
    const errored = [...pending.statuses.values()].some((s) => s.hiStatus === 'ERRORED');
    await this.ctx.out.call('/v0.5/health-information/notify', {
      ...this.stamp(),
      notification: {
        consentId: pending.consentId, transactionId: pending.transactionId, doneAt: this.ctx.deps.clock.now().toISOString(),
        notifier: { type: 'HIU', id: this.hiuId },
        statusNotification: { sessionStatus: errored ? 'FAILED' : 'TRANSFERRED', hipId: pending.hipId, statusResponses: [...pending.statuses.values()] },
      },
    }, { 'X-HIU-ID': this.hiuId });
  }

  /** The stored HIU copy of a consent, by its artefact id. */
  findConsent(artefactId: string): Promise<(Consent & { id: string }) | undefined> {
    return findConsent(this.ctx.deps, artefactId);
  }
}
