import type { Composition, Encounter, HumanName, Patient } from 'fhir/r4';
import type { Deps } from '../../deps';
import { HI_TYPE_RECORDS, HI_TYPES, type Coverage, type HiType } from '../../consent/tables';
import type { LiveVersion, StoreReader } from '../../storage/store';
import { searchAll } from '../records';

/**
 * Care contexts: how ABDM's unit of linking and consent maps to what this server stores.
 *
 * - A **care context is an Encounter** (a visit, an admission, a lab episode): its
 *   `careContextReference` is the Encounter's id, and its `patientReference` the id of the Patient
 *   the Encounter's `subject` names. A consent's care context that names an Encounter of another
 *   patient, or none, is refused for that care context (ERRORED), never sent.
 * - The **records of a care context** are the health documents about it: the Compositions whose
 *   `encounter` is that Encounter (stored from a posted document, or created on their own), each
 *   sent as one document Bundle (documents.ts). Records without a Composition (an Observation
 *   posted alone) are not documents and are not sent: ABDM exchanges documents.
 * - A Composition's **HI type** is the record profile it declares (HI_TYPE_RECORDS), or else the
 *   type the loaded profiles give its SNOMED CT code (coverage.ts); one with neither is sent under
 *   no consent.
 */
export interface CareContext {
  patientReference: string;
  careContextReference: string;
}

export function hiTypeOf(composition: Composition, coverage: Coverage): HiType | undefined {
  const profiles = composition.meta?.profile ?? [];
  for (const t of HI_TYPES) if (profiles.includes(HI_TYPE_RECORDS[t])) return t;
  const codes = (composition.type?.coding ?? []).filter((c) => c.system === 'http://snomed.info/sct').map((c) => c.code);
  for (const t of HI_TYPES) if (codes.some((c) => c !== undefined && coverage[t].compositions.includes(c))) return t;
  return undefined;
}

/** The Encounter a care context names, when it exists and is about that patient. */
export async function encounterOf(reader: StoreReader, context: CareContext): Promise<Encounter | undefined> {
  const v = await reader.read('Encounter', context.careContextReference);
  const enc = v?.resource as Encounter | undefined;
  if (!enc || v?.deleted) return undefined;
  return enc.subject?.reference === `Patient/${context.patientReference}` ? enc : undefined;
}

/** The Compositions of a care context, whatever their type. */
export function compositionsOf(deps: Deps, reader: StoreReader, encounterId: string): Promise<LiveVersion[]> {
  return searchAll(deps, reader, 'Composition', { encounter: `Encounter/${encounterId}` });
}

/** Display text of a care context for the consent manager's screens (no clinical detail). */
export function careContextDisplay(enc: Encounter): string {
  const kind = enc.type?.[0]?.text ?? enc.type?.[0]?.coding?.[0]?.display ?? enc.class?.display ?? enc.class?.code ?? 'Encounter';
  const when = enc.period?.start?.slice(0, 10);
  return when ? `${kind} on ${when}` : kind;
}

export interface DiscoveryQuery {
  /** ABHA address and, when given, ABHA number (verified identifiers): a match by either is certain. */
  identifiers: string[];
  mobile?: string;
  name?: string;
  gender?: string;
  yearOfBirth?: number;
}

const ABHA_SYSTEMS = ['https://healthid.abdm.gov.in', 'https://healthid.ndhm.gov.in', 'https://healthid.abdm.gov.in/abha-address'];

const normalName = (s: string): string => s.toLowerCase().replace(/[^a-z]/g, '');
const nameText = (names: HumanName[] | undefined): string =>
  (names ?? []).map((n) => n.text ?? [...(n.given ?? []), n.family ?? ''].join(' ')).join(' ');

/** How the consent manager shows a discovered patient: their first name as recorded. */
export const patientDisplay = (p: Patient): string => nameText(p.name?.slice(0, 1)).trim() || 'Patient';

/**
 * Patient discovery (gateway v0.5 care-contexts/discover): an ABHA number or address the Patient
 * carries decides alone; otherwise the mobile number must match together with gender, a year of
 * birth within five years and the name (letters only, case-insensitive): a weaker match would link
 * a stranger's records. Exactly one patient must match; several are reported as none.
 */
export async function discoverPatient(deps: Deps, reader: StoreReader, q: DiscoveryQuery): Promise<{ patient: LiveVersion; matchedBy: string[] } | undefined> {
  for (const value of q.identifiers) {
    const hits = await searchAll(deps, reader, 'Patient', { identifier: value }, 10);
    const sure = hits.filter((h) => ((h.resource as Patient).identifier ?? []).some((i) => i.value === value && (i.system === undefined || ABHA_SYSTEMS.some((s) => i.system?.startsWith(s)))));
    if (sure.length === 1) return { patient: sure[0], matchedBy: ['HEALTH_ID'] };
  }
  if (!q.mobile || !q.name || !q.gender || q.yearOfBirth === undefined) return undefined;
  const digits = q.mobile.replace(/\D/g, '').slice(-10);
  if (digits.length !== 10) return undefined;
  const hits = await searchAll(deps, reader, 'Patient', { phone: digits }, 50);
  const fit = hits.filter((h) => {
    const p = h.resource as Patient;
    const born = Number(p.birthDate?.slice(0, 4));
    return p.gender?.[0] === q.gender?.toLowerCase()[0] && Number.isFinite(born) && Math.abs(born - (q.yearOfBirth as number)) <= 5
      && normalName(nameText(p.name)) === normalName(q.name as string);
  });
  return fit.length === 1 ? { patient: fit[0], matchedBy: ['MOBILE'] } : undefined;
}

/** The care contexts (Encounters) of a patient, newest first by period start. */
export async function careContextsOf(deps: Deps, reader: StoreReader, patientId: string): Promise<{ referenceNumber: string; display: string }[]> {
  const encounters = await searchAll(deps, reader, 'Encounter', { subject: `Patient/${patientId}` }, 5000);
  return encounters
    .map((v) => ({ enc: v.resource as Encounter, id: v.id }))
    .sort((a, b) => (b.enc.period?.start ?? '').localeCompare(a.enc.period?.start ?? ''))
    .map(({ enc, id }) => ({ referenceNumber: id, display: careContextDisplay(enc) }));
}
