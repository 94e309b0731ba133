import type { Issue } from '../fhir/errors';

/**
 * India's national identifiers as named checks: ABHA number, ABHA address, HPR id and HFR
 * facility id. An identifier is recognised by its type code first (the ndhm identifier-type codes
 * HIN, ABHA, HPID/HPIN; v2-0203 MR/MD/PRN only together with a registry system) and otherwise by
 * its registry's system URI, in both the ndhm.gov.in and abdm.gov.in spellings, because the NRCeS
 * examples and NHA's own services use different URIs for the same registry.
 */
export type NationalIdKind = 'abha-number' | 'abha-address' | 'hpr-id' | 'hfr-id';

interface Identifier {
  system?: string;
  value?: string;
  type?: { coding?: { system?: string; code?: string }[] };
}

const NDHM_TYPES = 'https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-identifier-type-code';
const V2_TYPES = 'http://terminology.hl7.org/CodeSystem/v2-0203';

/** Registry hosts, by kind. */
const HOSTS: Record<Exclude<NationalIdKind, 'abha-address'>, RegExp> = {
  'abha-number': /^https?:\/\/healthid\.(abdm|ndhm)\.gov\.in\/?$/,
  'hpr-id': /^https?:\/\/(doctor\.(abdm|ndhm)\.gov\.in|hpr\.abdm\.gov\.in|hpr\.ndhm\.gov\.in)\/?$/,
  'hfr-id': /^https?:\/\/(facility\.(abdm|ndhm)\.gov\.in|hfr\.abdm\.gov\.in)\/?$/,
};
const ABHA_ADDRESS_SYSTEM = /^https?:\/\/healthid\.(abdm|ndhm)\.gov\.in\/(abha-address|phr-address)\/?$/;

/** Which national identifier this is, or undefined for any other identifier. */
export function nationalIdKind(id: Identifier): NationalIdKind | undefined {
  const codes = (id.type?.coding ?? []).map((c) => `${c.system ?? ''}|${c.code ?? ''}`);
  if (codes.includes(`${NDHM_TYPES}|HIN`)) return 'abha-number';
  if (codes.includes(`${NDHM_TYPES}|ABHA`)) return 'abha-address';
  if (codes.includes(`${NDHM_TYPES}|HPID`) || codes.includes(`${NDHM_TYPES}|HPIN`)) return 'hpr-id';
  const system = id.system ?? '';
  if (ABHA_ADDRESS_SYSTEM.test(system)) return 'abha-address';
  if (HOSTS['abha-number'].test(system)) return /@/.test(id.value ?? '') ? 'abha-address' : 'abha-number';
  if (HOSTS['hpr-id'].test(system)) return 'hpr-id';
  if (HOSTS['hfr-id'].test(system)) return 'hfr-id';
  if (codes.includes(`${V2_TYPES}|PRN`) && /^IN[A-Za-z0-9]{10}$/.test(id.value ?? '')) return 'hfr-id';
  return undefined;
}

/** Luhn over all digits: the check NHA's documentation names for ABHA numbers. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return sum % 10 === 0;
}

const FOURTEEN = /^(\d{2}-\d{4}-\d{4}-\d{4}|\d{14})$/;

/** Problems with one value of a given kind; `at` is the FHIRPath of the identifier's value. */
export function checkNationalId(kind: NationalIdKind, value: string, at: string): Issue[] {
  const error = (diagnostics: string): Issue[] => [{ severity: 'error', code: 'value', diagnostics, expression: [at] }];
  switch (kind) {
    case 'abha-number': {
      if (!FOURTEEN.test(value)) return error(`'${value.slice(0, 40)}' is not an ABHA number: 14 digits, written XX-XXXX-XXXX-XXXX or plain`);
      // NHA documents Luhn but no specification states it yet, so a failure warns instead of rejecting.
      if (!luhnValid(value.replace(/-/g, ''))) {
        return [{ severity: 'warning', code: 'value', diagnostics: `ABHA number '${value}' fails the Luhn check digit`, expression: [at] }];
      }
      return [];
    }
    case 'abha-address': {
      const m = /^([A-Za-z0-9.]+)@(abdm|sbx|ndhm)$/.exec(value);
      if (!m) return error(`'${value.slice(0, 60)}' is not an ABHA address: name@abdm (name@sbx in the sandbox)`);
      const name = m[1];
      if (/^\d{14}$/.test(name)) return [];
      if (/^\d/.test(name) || name.startsWith('.') || name.endsWith('.')) {
        return error(`ABHA address '${value}': the name may not begin with a digit or begin or end with a dot`);
      }
      return [];
    }
    case 'hpr-id':
      return FOURTEEN.test(value) || /^[A-Za-z0-9._]+@hpr\.(abdm|ndhm)$/.test(value)
        ? []
        : error(`'${value.slice(0, 60)}' is not an HPR id: 14 digits (XX-XXXX-XXXX-XXXX) or name@hpr.abdm`);
    case 'hfr-id':
      return /^IN[A-Za-z0-9]{10}$/.test(value) ? [] : error(`'${value.slice(0, 60)}' is not an HFR facility id: IN followed by 10 letters or digits`);
    default: {
      const never: never = kind;
      return never;
    }
  }
}

/** Every national identifier in a resource's top-level `identifier` list, checked. */
export function nationalIdentifierIssues(resource: { resourceType?: string; identifier?: unknown } | null | undefined): Issue[] {
  if (typeof resource !== 'object' || resource === null || !Array.isArray(resource.identifier)) return [];
  const issues: Issue[] = [];
  resource.identifier.forEach((raw: unknown, i) => {
    if (typeof raw !== 'object' || raw === null) return;
    const id = raw as Identifier;
    const kind = nationalIdKind(id);
    if (kind && typeof id.value === 'string') issues.push(...checkNationalId(kind, id.value, `${resource.resourceType}.identifier[${i}].value`));
  });
  return issues;
}
