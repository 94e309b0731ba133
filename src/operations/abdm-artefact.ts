import { consentFromArtefact, ABDM_CONSENT_PROFILE } from '../consent/artefact';
import { FhirError } from '../fhir/errors';
import type { Handler } from '../interactions/types';

/**
 * `POST [base]/Consent/$abdm-artefact`: an ABDM consent artefact (the consent manager's JSON) in,
 * the equivalent FHIR Consent out, checked against our ABDMConsent profile. Nothing is stored:
 * the caller creates (or updates) the Consent, so its scopes and the audit trail see that write.
 */
export const OPERATION = {
  name: 'abdm-artefact',
  definition: 'https://abdm-fhir-gateway.github.io/fhir/OperationDefinition/Consent-abdm-artefact',
  types: ['Consent'],
} as const;

export const consentArtefact: Handler = async (deps, request) => {
  if (request.type !== 'Consent') throw new FhirError('not-found', `$abdm-artefact is an operation on Consent, not ${request.type}`);
  const consent = consentFromArtefact(request.body);
  const errors = deps.validator.validateProfiles(consent, [ABDM_CONSENT_PROFILE]).filter((i) => i.severity === 'error' || i.severity === 'fatal');
  if (errors.length > 0) throw FhirError.of(errors, 422);
  return { status: 200, resource: consent };
};
