import type { Consent, Reference } from 'fhir/r4';
import { FhirError } from '../fhir/errors';

/**
 * An ABDM consent artefact (the consent manager's JSON: a notification with `status` and
 * `consentDetail`, or the detail with a status beside it) as a FHIR Consent conforming to our
 * ABDMConsent profile (profiles/StructureDefinition-ABDMConsent.json). Pure. What FHIR R4's Consent
 * has no place for is left out and listed here: access mode, fetch frequency, the HIP-local care
 * contexts, and the consent manager's signature (which this function does not verify).
 */
export const ABDM_CONSENT_PROFILE = 'https://abdm-fhir-gateway.github.io/fhir/StructureDefinition/ABDMConsent';
const HI_TYPES = 'https://abdm-fhir-gateway.github.io/fhir/CodeSystem/abdm-hi-types';

const STATUS: Record<string, Consent['status']> = {
  GRANTED: 'active', REVOKED: 'inactive', EXPIRED: 'inactive', DENIED: 'rejected', REQUESTED: 'proposed',
};

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function text(obj: Json, key: string, at: string): string {
  const v = obj[key];
  if (typeof v !== 'string' || v.trim() === '') throw new FhirError('required', `The artefact needs ${at}.${key}`, { expression: [`${at}.${key}`] });
  return v;
}

function object(obj: Json, key: string, at: string): Json {
  const v = obj[key];
  if (!isObject(v)) throw new FhirError('required', `The artefact needs ${at}.${key}`, { expression: [`${at}.${key}`] });
  return v;
}

function party(value: Json, system: string): Reference {
  const ref: Reference = { identifier: { system, value: text(value, 'id', 'party') } };
  if (typeof value.name === 'string') ref.display = value.name;
  return ref;
}

/**
 * `hiu` (the default): the copy a health information user holds; its HIU and requester are the
 * parties the consent names, so the existing enforcement lets them read what it allows.
 * `hip`: the copy the consent manager sends the provider, without HIU and requester
 * (gateway v0.5 HIPConsentArtefact). It grants no one here anything: the patient is its consentor
 * (performer), the consent manager its managing organisation, and the care contexts it covers are
 * kept as `provision.data` (Encounter references: our care contexts, see hie/hip/care-contexts.ts)
 * for the disclosures it allows.
 */
export type ArtefactCopy = 'hiu' | 'hip';

const ABHA_ADDRESS = 'https://healthid.abdm.gov.in/abha-address';
const CONSENT_MANAGER = 'https://abdm.gov.in/consent-manager';
/** A care context's identifier (patient reference and care context reference, as the HIP gave them). */
export const CARE_CONTEXT = 'https://abdm-fhir-gateway.github.io/fhir/NamingSystem/abdm-care-context';

interface Parties {
  performer: Reference;
  organization: Reference;
  patient?: Reference;
  data?: NonNullable<Consent['provision']>['data'];
}

function hiuParties(detail: Json, at: string): Parties {
  const hiu = object(detail, 'hiu', at);
  const requester = object(detail, 'requester', at);
  const performer: Reference = { display: text(requester, 'name', `${at}.requester`) };
  if (isObject(requester.identifier) && typeof requester.identifier.value === 'string') {
    performer.identifier = { system: typeof requester.identifier.system === 'string' ? requester.identifier.system : undefined, value: requester.identifier.value };
  }
  return { performer, organization: party(hiu, 'https://facility.abdm.gov.in') };
}

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

function hipParties(detail: Json, at: string, abhaAddress: string): Parties {
  const manager = object(detail, 'consentManager', at);
  const contexts = detail.careContexts;
  if (!Array.isArray(contexts) || contexts.length === 0 || contexts.length > 1000) {
    throw new FhirError('required', 'The artefact needs consentDetail.careContexts (1 to 1000)', { expression: [`${at}.careContexts`] });
  }
  const data = contexts.map((c: unknown, i) => {
    const where = `${at}.careContexts[${i}]`;
    if (!isObject(c)) throw new FhirError('invalid', `${where} must be an object`, { expression: [where] });
    const patientRef = text(c, 'patientReference', where);
    const contextRef = text(c, 'careContextReference', where);
    return {
      meaning: 'related' as const,
      reference: {
        ...(FHIR_ID.test(contextRef) ? { reference: `Encounter/${contextRef}` } : {}),
        identifier: { system: CARE_CONTEXT, value: `${patientRef}|${contextRef}` },
      },
    };
  });
  return {
    performer: { identifier: { system: ABHA_ADDRESS, value: abhaAddress }, display: 'The patient (consentor)' },
    organization: { identifier: { system: CONSENT_MANAGER, value: text(manager, 'id', `${at}.consentManager`) }, display: 'Consent manager' },
    data,
  };
}

export function consentFromArtefact(body: unknown, copy: ArtefactCopy = 'hiu'): Consent {
  if (!isObject(body)) throw new FhirError('invalid', 'The body must be an ABDM consent artefact (JSON object)');
  const source = isObject(body.notification) ? body.notification : body;
  const detail = isObject(source.consentDetail) ? source.consentDetail : source;
  const statusText = typeof source.status === 'string' ? source.status : undefined;
  if (!statusText || !(statusText in STATUS)) {
    throw new FhirError('required', `The artefact needs status, one of ${Object.keys(STATUS).join(', ')}`, { expression: ['status'] });
  }
  const at = 'consentDetail';
  const consentId = text(detail, 'consentId', at);
  const createdAt = text(detail, 'createdAt', at);
  const patient = object(detail, 'patient', at);
  const purpose = object(detail, 'purpose', at);
  const permission = object(detail, 'permission', at);
  const dateRange = object(permission, 'dateRange', `${at}.permission`);
  const hiTypes = detail.hiTypes;
  if (!Array.isArray(hiTypes) || hiTypes.length === 0 || !hiTypes.every((t) => typeof t === 'string')) {
    throw new FhirError('required', 'The artefact needs consentDetail.hiTypes, a list of health information types', { expression: [`${at}.hiTypes`] });
  }
  const abhaAddress = text(patient, 'id', `${at}.patient`);
  const parties = copy === 'hiu' ? hiuParties(detail, at) : hipParties(detail, at, abhaAddress);
  const consent: Consent = {
    resourceType: 'Consent',
    meta: { profile: [ABDM_CONSENT_PROFILE] },
    status: STATUS[statusText],
    identifier: [{ system: 'urn:ietf:rfc:3986', value: `urn:uuid:${consentId}` }],
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
    patient: { ...parties.patient, identifier: { system: ABHA_ADDRESS, value: abhaAddress } },
    dateTime: createdAt,
    performer: [parties.performer],
    organization: [parties.organization],
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      period: { start: createdAt, end: typeof permission.dataEraseAt === 'string' ? permission.dataEraseAt : undefined },
      dataPeriod: { start: text(dateRange, 'from', `${at}.permission.dateRange`), end: text(dateRange, 'to', `${at}.permission.dateRange`) },
      purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: text(purpose, 'code', `${at}.purpose`), display: typeof purpose.text === 'string' ? purpose.text : undefined }],
      class: (hiTypes as string[]).map((code) => ({ system: HI_TYPES, code })),
      data: parties.data,
    },
  };
  if (copy === 'hiu' && isObject(detail.hip)) {
    // The HIP holds the data: it is recorded as the custodian actor.
    (consent.provision as NonNullable<Consent['provision']>).actor = [{
      role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'CST', display: 'custodian' }] },
      reference: party(detail.hip, 'https://facility.abdm.gov.in'),
    }];
  }
  return JSON.parse(JSON.stringify(consent)) as Consent; // drops the undefined optional fields
}
