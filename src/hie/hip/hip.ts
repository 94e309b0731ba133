import { randomUUID } from 'node:crypto';
import type { Consent, Patient } from 'fhir/r4';
import type { Deps } from '../../deps';
import { FhirError } from '../../fhir/errors';
import type { LiveVersion } from '../../storage/store';
import { isObject, object, optionalText, text, uuid, type Json } from '../json';
import { entityOf, exchangeEvent, recordAudit } from '../records';
import { careContextsOf, discoverPatient, patientDisplay } from './care-contexts';
import { Linking, maskMobile, parseLinkInit } from './linking';
import { applyConsentNotice, parseConsentNotice } from './consents';
import {
  checkRequest, encryptEntry, findConsent, pageKeys, parseHiRequest, planTransfer,
  type ContextStatus, type HiRequest, type PlannedDocument,
} from './transfer';

/** Calls out of this server: to the gateway (with its session), and to an HIU's dataPushUrl. */
export interface Outbound {
  call(path: string, body: unknown, headers?: Record<string, string>): Promise<void>;
  push(url: string, body: unknown): Promise<void>;
  /** Delivers a one-time password to a patient's mobile (ABDM_OTP_WEBHOOK_URL); absent when none is configured. */
  sendOtp?(mobile: string, message: string): Promise<void>;
}

/** The JSON text of the document Bundle a Composition is sent as (the stored one, or one assembled by $document). */
export type DocumentSource = (composition: LiveVersion) => Promise<string>;

export interface RoleContext {
  deps: Deps;
  out: Outbound;
  /** Runs work after the callback has been answered 202, as every ABDM callback is asynchronous. */
  later(name: string, work: () => Promise<void>): void;
}

const MAX_TRANSACTIONS_REMEMBERED = 10_000;

/**
 * The health information provider (HIP) role: consent notifications, health-information requests
 * (check, acknowledge, assemble, encrypt, push in pages, notify) and patient discovery. Every
 * request is answered 202 at once and worked on afterwards; the result goes back to the gateway's
 * `on-…` endpoint. A transaction is worked on once: the gateway repeating a request (same
 * transactionId) is acknowledged and not sent again.
 */
export class HipRole {
  private readonly seen = new Set<string>();
  private readonly linking: Linking;

  constructor(private readonly ctx: RoleContext, private readonly hipId: string, private readonly pageSize: number, private readonly documentOf: DocumentSource) {
    this.linking = new Linking(ctx.deps);
  }

  /** `links/link/init`: checks the care contexts are the patient's, sends the OTP, answers on-init. */
  async linkInit(body: unknown): Promise<void> {
    const req = parseLinkInit(body);
    this.ctx.later('link init', async () => {
      const made = await this.linking.init(req);
      let error = 'error' in made ? made.error : undefined;
      if (!('error' in made)) {
        if (!this.ctx.out.sendOtp) error = 'This HIP has no way to send a one-time password (ABDM_OTP_WEBHOOK_URL is not set)';
        else await this.ctx.out.sendOtp(made.link.mobile, `${made.otp} is your one-time password to link your health records at ${this.hipId}. It is valid for 10 minutes.`);
      }
      const link = 'error' in made || error ? undefined : made.link;
      await this.ctx.out.call('/v0.5/links/link/on-init', {
        ...this.stamp(), transactionId: req.transactionId,
        ...(link ? {
          link: {
            referenceNumber: link.linkRef, authenticationType: 'MEDIATE',
            meta: { communicationMedium: 'MOBILE', communicationHint: maskMobile(link.mobile), communicationExpiry: new Date(link.expiresAtMs).toISOString() },
          },
        } : { error: { code: 1000, message: error } }),
        resp: { requestId: req.requestId },
      });
    });
  }

  /** `links/link/confirm`: the OTP, checked in constant time; on-confirm names the linked care contexts. */
  async linkConfirm(body: unknown): Promise<void> {
    if (!isObject(body)) throw new FhirError('invalid', 'The body must be a JSON object');
    const requestId = uuid(body, 'requestId', '$');
    const confirmation = object(body, 'confirmation', '$');
    const linkRef = uuid(confirmation, 'linkRefNumber', 'confirmation');
    const token = text(confirmation, 'token', 'confirmation', 20);
    this.ctx.later('link confirm', async () => {
      const pending = this.linking.linkOf(linkRef);
      const result = await this.linking.confirm(linkRef, token);
      if (!('error' in result) && pending) {
        const patients = [pending.request.patientId];
        await recordAudit(this.ctx.deps, [exchangeEvent(this.ctx.deps, {
          interaction: 'abdm-link', action: 'E', status: 200, requestId, subject: 'abdm-gateway', purpose: 'PATRQT', consents: [],
          entities: [{ type: 'Patient', id: pending.request.patientId, patients }, ...pending.request.careContexts.map((id) => ({ type: 'Encounter', id, patients }))],
        })]);
      }
      await this.ctx.out.call('/v0.5/links/link/on-confirm', {
        ...this.stamp(), ...('error' in result ? { error: { code: 1000, message: result.error } } : result), resp: { requestId },
      });
    });
  }

  private stamp(): { requestId: string; timestamp: string } {
    return { requestId: randomUUID(), timestamp: this.ctx.deps.clock.now().toISOString() };
  }

  async consentNotify(body: unknown): Promise<void> {
    const notice = parseConsentNotice(body);
    await applyConsentNotice(this.ctx.deps, notice);
    this.ctx.later('consent on-notify', () => this.ctx.out.call('/v0.5/consents/hip/on-notify', {
      ...this.stamp(), acknowledgement: { status: 'OK', consentId: notice.consentId }, resp: { requestId: notice.requestId },
    }));
  }

  async healthInformationRequest(body: unknown): Promise<void> {
    const req = parseHiRequest(body);
    if (this.seen.has(req.transactionId)) return; // a repeat: already being worked on, or done
    if (this.seen.size >= MAX_TRANSACTIONS_REMEMBERED) this.seen.delete(this.seen.values().next().value as string);
    this.seen.add(req.transactionId);
    this.ctx.later('health-information transfer', () => this.transfer(req));
  }

  private async onRequest(req: HiRequest, error?: { code: string; message: string }): Promise<void> {
    await this.ctx.out.call('/v0.5/health-information/hip/on-request', {
      ...this.stamp(),
      hiRequest: { transactionId: req.transactionId, sessionStatus: error ? 'ERRORED' : 'ACKNOWLEDGED' },
      ...(error ? { error } : {}),
      resp: { requestId: req.requestId },
    });
  }

  private async transfer(req: HiRequest): Promise<void> {
    const { deps } = this.ctx;
    const consent = await findConsent(deps, req.consentId);
    const refusal = checkRequest(consent, req, deps.clock.now().getTime());
    if (refusal || !consent) {
      await this.audit(req, consent, [], 403);
      await this.onRequest(req, refusal);
      return;
    }
    await this.onRequest(req);
    const plan = await planTransfer(deps, consent, req);
    const { sent, statuses, failed } = await this.pushAll(req, plan.documents);
    await this.audit(req, consent, sent, failed ? 500 : 200);
    const all = [...plan.problems, ...statuses];
    await this.ctx.out.call('/v0.5/health-information/notify', {
      ...this.stamp(),
      notification: {
        consentId: req.consentId, transactionId: req.transactionId, doneAt: deps.clock.now().toISOString(),
        notifier: { type: 'HIP', id: this.hipId },
        statusNotification: { sessionStatus: failed ? 'FAILED' : 'TRANSFERRED', hipId: this.hipId, statusResponses: all },
      },
    });
  }

  /** Pushes the documents page by page; a page that cannot be delivered (after the client's retries) ends the transfer. */
  private async pushAll(req: HiRequest, documents: PlannedDocument[]): Promise<{ sent: PlannedDocument[]; statuses: ContextStatus[]; failed: boolean }> {
    const status = new Map<string, ContextStatus>();
    const mark = (ref: string, hiStatus: ContextStatus['hiStatus'], description: string): void => {
      const prev = status.get(ref);
      if (prev?.hiStatus === 'ERRORED') return;
      status.set(ref, { careContextReference: ref, hiStatus, description });
    };
    for (const d of documents) mark(d.context.careContextReference, 'OK', 'Nothing to send');
    const sent: PlannedDocument[] = [];
    const pageCount = Math.max(1, Math.ceil(documents.length / this.pageSize));
    for (let page = 0; page < pageCount; page++) {
      const slice = documents.slice(page * this.pageSize, (page + 1) * this.pageSize);
      const entries: object[] = [];
      const keys = pageKeys(req); // fresh for every page, never stored
      for (const d of slice) {
        try {
          entries.push(encryptEntry(await this.documentOf(d.composition), d.context.careContextReference, keys.seal));
        } catch (err) {
          mark(d.context.careContextReference, 'ERRORED', `A document could not be assembled: ${(err as Error).message}`.slice(0, 300));
        }
      }
      try {
        await this.ctx.out.push(req.dataPushUrl, {
          pageNumber: page + 1, pageCount, transactionId: req.transactionId, entries,
          keyMaterial: {
            cryptoAlg: 'ECDH', curve: 'Curve25519',
            dhPublicKey: { expiry: new Date(this.ctx.deps.clock.now().getTime() + 3600_000).toISOString(), parameters: 'Curve25519/32byte random key', keyValue: keys.publicKey },
            nonce: keys.nonce,
          },
        });
      } catch (err) {
        for (const d of documents.slice(page * this.pageSize)) mark(d.context.careContextReference, 'ERRORED', `Push failed: ${(err as Error).message}`.slice(0, 300));
        return { sent, statuses: [...status.values()], failed: true };
      }
      for (const d of slice) {
        sent.push(d);
        mark(d.context.careContextReference, 'DELIVERED', 'Delivered');
      }
    }
    return { sent, statuses: [...status.values()], failed: false };
  }

  /** One AuditEvent per transfer: the consent, and every care context and document disclosed. */
  private async audit(req: HiRequest, consent: (Consent & { id: string }) | undefined, sent: PlannedDocument[], status: number): Promise<void> {
    const purpose = consent?.provision?.purpose?.[0]?.code ?? 'CAREMGT';
    const entities = sent.map((d) => entityOf(d.composition, [d.context.patientReference]));
    const contexts = new Set(sent.map((d) => `${d.context.patientReference}|${d.context.careContextReference}`));
    for (const c of contexts) {
      const [patient, encounter] = c.split('|');
      entities.push({ type: 'Encounter', id: encounter, patients: [patient] });
    }
    await recordAudit(this.ctx.deps, [exchangeEvent(this.ctx.deps, {
      interaction: 'abdm-disclose', action: 'R', status, requestId: req.transactionId, subject: 'abdm-gateway',
      purpose, consents: consent ? [consent.id] : [], entities,
    })]);
  }

  /** Patient discovery: answers on-discover with the matched patient's care contexts, or an error. */
  async discover(body: unknown): Promise<void> {
    if (!isObject(body)) throw new FhirError('invalid', 'The body must be a JSON object');
    const requestId = uuid(body, 'requestId', '$');
    const transactionId = uuid(body, 'transactionId', '$');
    const patient = object(body, 'patient', '$');
    const ids = [text(patient, 'id', 'patient', 200)];
    const verified = Array.isArray(patient.verifiedIdentifiers) ? patient.verifiedIdentifiers : [];
    const unverified = Array.isArray(patient.unverifiedIdentifiers) ? patient.unverifiedIdentifiers : [];
    const value = (list: unknown[], type: string): string | undefined => {
      const hit = list.find((i): i is Json => isObject(i) && i.type === type && typeof i.value === 'string');
      return hit?.value as string | undefined;
    };
    const abhaNumber = value(verified, 'NDHM_HEALTH_NUMBER') ?? value(verified, 'HEALTH_NUMBER');
    if (abhaNumber) ids.push(abhaNumber);
    const query = {
      identifiers: ids,
      mobile: value(verified, 'MOBILE') ?? value(unverified, 'MOBILE'),
      name: optionalText(patient, 'name', 'patient', 200),
      gender: optionalText(patient, 'gender', 'patient', 10),
      yearOfBirth: typeof patient.yearOfBirth === 'number' ? patient.yearOfBirth : undefined,
    };
    this.ctx.later('care-context discovery', async () => {
      const { deps } = this.ctx;
      const found = await discoverPatient(deps, deps.store, query);
      const answer = found
        ? { patient: { referenceNumber: found.patient.id, display: patientDisplay(found.patient.resource as Patient), careContexts: await careContextsOf(deps, deps.store, found.patient.id), matchedBy: found.matchedBy } }
        : { error: { code: 1000, message: 'No patient found' } };
      await this.ctx.out.call('/v0.5/care-contexts/on-discover', { ...this.stamp(), transactionId, ...answer, resp: { requestId } });
    });
  }
}
