import type { CapabilityStatementRestSecurity } from 'fhir/r4';
import type { Config } from '../config';

/**
 * SMART App Launch discovery (`[base]/.well-known/smart-configuration`, SMART App Launch 2.x
 * conformance) and the CapabilityStatement's `rest.security`, both from the settings: this server
 * verifies tokens (JWKS, issuer, audience); the authorization server that issues them is named by
 * AUTH_ISSUER and, where set, SMART_AUTHORIZE_URL and SMART_TOKEN_URL. Pure.
 */
export const SMART_SCOPES = [
  'openid', 'fhirUser', 'launch/patient', 'offline_access',
  'patient/*.rs', 'patient/*.cruds', 'user/*.rs', 'user/*.cruds', 'system/*.rs', 'system/*.cruds',
] as const;

export function smartConfiguration(config: Config): Record<string, unknown> {
  const authOn = Boolean(config.jwksFile || config.jwksUrl);
  const capabilities = authOn
    ? ['permission-v2', 'permission-patient', 'permission-user', 'client-confidential-asymmetric', 'context-standalone-patient']
    : [];
  if (authOn && config.smartAuthorizeUrl) capabilities.push('launch-standalone', 'client-public', 'client-confidential-symmetric');
  return {
    ...(config.authIssuer ? { issuer: config.authIssuer } : {}),
    ...(config.jwksUrl ? { jwks_uri: config.jwksUrl } : {}),
    ...(config.smartAuthorizeUrl ? { authorization_endpoint: config.smartAuthorizeUrl } : {}),
    ...(config.smartTokenUrl ? { token_endpoint: config.smartTokenUrl } : {}),
    grant_types_supported: [...(config.smartAuthorizeUrl ? ['authorization_code'] : []), ...(config.smartTokenUrl ? ['client_credentials'] : [])],
    token_endpoint_auth_methods_supported: config.smartTokenUrl ? ['private_key_jwt', 'client_secret_basic'] : [],
    scopes_supported: authOn ? [...SMART_SCOPES] : [],
    response_types_supported: config.smartAuthorizeUrl ? ['code'] : [],
    code_challenge_methods_supported: config.smartAuthorizeUrl ? ['S256'] : [],
    capabilities,
  };
}

export function restSecurity(config: Config, cors: boolean): CapabilityStatementRestSecurity {
  const authOn = Boolean(config.jwksFile || config.jwksUrl);
  const uris = [
    ...(config.smartAuthorizeUrl ? [{ url: 'authorize', valueUri: config.smartAuthorizeUrl }] : []),
    ...(config.smartTokenUrl ? [{ url: 'token', valueUri: config.smartTokenUrl }] : []),
  ];
  return {
    cors,
    ...(authOn ? { service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }] } : {}),
    ...(uris.length > 0 ? { extension: [{ url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris', extension: uris }] } : {}),
    description: authOn
      ? `Bearer tokens (SMART on FHIR scopes) issued by ${config.authIssuer}; see ${'[base]'}/.well-known/smart-configuration`
      : 'No authentication: the open developer mode, on loopback only',
  };
}

/** The origins CORS allows: the configured ones, or any in the open loopback developer mode. */
export function corsOrigins(config: Config, open: boolean): string[] {
  if (config.corsOrigins.length > 0) return config.corsOrigins;
  return open ? ['*'] : [];
}
