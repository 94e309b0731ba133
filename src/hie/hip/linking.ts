import { createHash, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Encounter, Patient } from 'fhir/r4';
import type { Deps } from '../../deps';
import { FhirError } from '../../fhir/errors';
import { isObject, object, objects, text, uuid } from '../json';
import { careContextDisplay, patientDisplay } from './care-contexts';

/**
 * Linking care contexts (gateway v0.5 `links/link/init` and `links/link/confirm`): after discovery,
 * the patient picks care contexts in their PHR app and proves, with a one-time password this HIP
 * sends to the mobile number on the patient's record (authentication MEDIATE), that they are that
 * patient. Pure decisions here, over what the store holds; I/O (the OTP's delivery, the gateway
 * callbacks) is the caller's. A pending link lives in memory for ten minutes and allows three
 * attempts; the OTP is kept only as a hash and compared in constant time.
 */
export const OTP_LIFETIME_MS = 10 * 60_000;
export const OTP_ATTEMPTS = 3;
const MAX_PENDING_LINKS = 10_000;

export interface LinkRequest {
  requestId: string;
  transactionId: string;
  abhaAddress: string;
  patientId: string;
  careContexts: string[];
}

export function parseLinkInit(body: unknown): LinkRequest {
  if (!isObject(body)) throw new FhirError('invalid', 'The body must be a JSON object');
  const patient = object(body, 'patient', '$');
  return {
    requestId: uuid(body, 'requestId', '$'),
    transactionId: uuid(body, 'transactionId', '$'),
    abhaAddress: text(patient, 'id', 'patient', 200),
    patientId: text(patient, 'referenceNumber', 'patient', 64),
    careContexts: objects(patient, 'careContexts', 'patient', 200).map((c, i) => text(c, 'referenceNumber', `patient.careContexts[${i}]`, 64)),
  };
}

export interface PendingLink { linkRef: string; request: LinkRequest; otpHash: Buffer; expiresAtMs: number; attemptsLeft: number; mobile: string }

const hashOtp = (linkRef: string, otp: string): Buffer => createHash('sha256').update(`${linkRef}:${otp}`).digest();

/** The patient's mobile number on record: the first `phone` telecom marked mobile, else the first phone. */
export function mobileOf(patient: Patient): string | undefined {
  const phones = (patient.telecom ?? []).filter((t) => t.system === 'phone' && typeof t.value === 'string');
  return (phones.find((t) => t.use === 'mobile') ?? phones[0])?.value;
}

export class Linking {
  private readonly pending = new Map<string, PendingLink>();

  constructor(private readonly deps: Deps) {}

  /**
   * Checks that the patient exists and every care context is one of theirs, then makes the OTP.
   * Returns the pending link and the OTP to deliver (never logged, never stored in clear).
   */
  async init(req: LinkRequest): Promise<{ link: PendingLink; otp: string } | { error: string }> {
    const v = await this.deps.store.read('Patient', req.patientId);
    if (!v?.resource || v.deleted) return { error: 'No such patient at this HIP' };
    for (const ref of req.careContexts) {
      const enc = (await this.deps.store.read('Encounter', ref))?.resource as Encounter | undefined;
      if (enc?.subject?.reference !== `Patient/${req.patientId}`) return { error: `Care context ${ref} is not this patient's` };
    }
    const mobile = mobileOf(v.resource as Patient);
    if (!mobile) return { error: 'The patient\'s record has no mobile number to send a one-time password to' };
    this.forgetExpired();
    if (this.pending.size >= MAX_PENDING_LINKS) return { error: 'Too many links are waiting; try again later' };
    const linkRef = randomUUID();
    const otp = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const link: PendingLink = { linkRef, request: req, otpHash: hashOtp(linkRef, otp), expiresAtMs: this.deps.clock.now().getTime() + OTP_LIFETIME_MS, attemptsLeft: OTP_ATTEMPTS, mobile };
    this.pending.set(linkRef, link);
    return { link, otp };
  }

  /** The patient's answer: the linked care contexts, or why not (expired, wrong, no attempts left). */
  async confirm(linkRef: string, token: string): Promise<{ patient: object } | { error: string }> {
    const link = this.pending.get(linkRef);
    if (!link || link.expiresAtMs <= this.deps.clock.now().getTime()) {
      this.pending.delete(linkRef);
      return { error: 'The link request has expired or is unknown' };
    }
    const given = hashOtp(linkRef, token);
    if (!timingSafeEqual(given, link.otpHash)) {
      link.attemptsLeft -= 1;
      if (link.attemptsLeft <= 0) this.pending.delete(linkRef);
      return { error: link.attemptsLeft > 0 ? 'The one-time password is wrong' : 'The one-time password is wrong; no attempts are left' };
    }
    this.pending.delete(linkRef);
    const patient = (await this.deps.store.read('Patient', link.request.patientId))?.resource as Patient | undefined;
    const careContexts = [];
    for (const ref of link.request.careContexts) {
      const enc = (await this.deps.store.read('Encounter', ref))?.resource as Encounter | undefined;
      if (enc?.subject?.reference === `Patient/${link.request.patientId}`) careContexts.push({ referenceNumber: ref, display: careContextDisplay(enc) });
    }
    return { patient: { referenceNumber: link.request.patientId, display: patient ? patientDisplay(patient) : 'Patient', careContexts } };
  }

  linkOf(linkRef: string): PendingLink | undefined {
    return this.pending.get(linkRef);
  }

  private forgetExpired(): void {
    const nowMs = this.deps.clock.now().getTime();
    for (const [ref, link] of this.pending) if (link.expiresAtMs <= nowMs) this.pending.delete(ref);
  }
}

/** `******1234`: enough for the patient to recognise the number, not enough to learn it. */
export const maskMobile = (mobile: string): string => `${'*'.repeat(Math.max(0, mobile.replace(/\D/g, '').length - 4))}${mobile.replace(/\D/g, '').slice(-4)}`;
