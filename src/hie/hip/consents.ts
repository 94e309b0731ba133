import type { Consent } from 'fhir/r4';
import { ABDM_CONSENT_PROFILE, consentFromArtefact, type ArtefactCopy } from '../../consent/artefact';
import type { Deps } from '../../deps';
import { FhirError } from '../../fhir/errors';
import { isObject, object, text, uuid, type Json } from '../json';
import { entityOf, exchangeEvent, searchAll, writeAudited } from '../records';

/**
 * `POST {hip}/v0.5/consents/hip/notify`: the consent manager tells the provider that a consent
 * artefact was granted (with its detail), or revoked, expired or denied (the id alone). The
 * artefact is kept as a FHIR Consent (our ABDMConsent profile, the HIP copy: consent/artefact.ts),
 * found again by its identifier `urn:uuid:{consentId}`, so a repeated notification changes nothing
 * and a revocation turns the stored one inactive. Health-information requests are then checked
 * against what is stored (transfer.ts).
 */
export const consentIdentifier = (consentId: string): string => `urn:uuid:${consentId}`;

const ENDED: Record<string, Consent['status']> = { REVOKED: 'inactive', EXPIRED: 'inactive', DENIED: 'rejected' };

/** Who holds this copy: the provider (its HIP copy) or the user (its HIU copy, fetched from the consent manager). */
export interface ConsentNotice {
  requestId: string;
  consentId: string;
  status: string;
  notification: Json;
}

export function parseConsentNotice(body: unknown): ConsentNotice {
  if (!isObject(body)) throw new FhirError('invalid', 'The body must be a JSON object');
  const notification = object(body, 'notification', '$');
  const status = text(notification, 'status', 'notification', 20);
  if (status !== 'GRANTED' && !(status in ENDED)) throw new FhirError('invalid', `notification.status must be GRANTED, REVOKED, EXPIRED or DENIED, got '${status}'`, { expression: ['notification.status'] });
  return { requestId: uuid(body, 'requestId', '$'), consentId: uuid(notification, 'consentId', 'notification'), status, notification };
}

/** Stores (or ends) the consent; returns its Consent id. Throws a 4xx FhirError for an artefact that does not convert. */
export async function applyConsentNotice(deps: Deps, notice: ConsentNotice, copy: ArtefactCopy = 'hip'): Promise<string | undefined> {
  const granted = notice.status === 'GRANTED' ? consentFromArtefact(notice.notification, copy) : undefined;
  if (granted) {
    const problems = deps.validator.validateProfiles(granted, [ABDM_CONSENT_PROFILE]).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    if (problems.length > 0) throw FhirError.of(problems, 422);
  }
  return writeAudited(deps, async (uow) => {
    const found = await searchAll(deps, uow, 'Consent', { identifier: `urn:ietf:rfc:3986|${consentIdentifier(notice.consentId)}` }, 1);
    const current = found[0];
    let version;
    if (granted) {
      if (current && (current.resource as Consent).status !== 'active') {
        // A consent once revoked stays revoked: a late or replayed GRANTED does not revive it.
        return { result: current.id, events: [] };
      }
      version = current
        ? (await uow.update({ ...granted, id: current.id })).version
        : await uow.create(granted);
    } else {
      if (!current) return { result: undefined, events: [] }; // an artefact never granted here: nothing to end
      const consent = current.resource as Consent & { id: string };
      if (consent.status === ENDED[notice.status]) return { result: current.id, events: [] };
      const ended: Consent & { id: string } = { ...consent, status: ENDED[notice.status] };
      version = (await uow.update(ended)).version;
    }
    const event = exchangeEvent(deps, {
      interaction: 'abdm-consent-notify', action: current ? 'U' : 'C', status: 200, requestId: notice.requestId,
      subject: 'abdm-gateway', purpose: 'CAREMGT', consents: [version.id], entities: [entityOf(version, [])],
    });
    return { result: version.id, events: [event] };
  });
}
