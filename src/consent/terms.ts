import type { Consent } from 'fhir/r4';
import { parsePeriod } from '../fhir/datetime';
import { MAX_MS, MIN_MS } from '../search/index-rows';
import type { ConsentTerms } from './decide';
import { HI_TYPES, isPurpose, type HiType } from './tables';

const isHiType = (code: string): code is HiType => (HI_TYPES as readonly string[]).includes(code);

/**
 * A Consent (our ABDMConsent profile) as decision terms. Pure. `patients` are the ids the
 * consent's patient reference resolves to (reach.ts resolves ABHA identifiers). A consent that
 * permits nothing usable (no permit provision, no known purpose or HI type, an unreadable date)
 * yields terms that allow nothing, never wider ones.
 */
export function consentTerms(consent: Consent & { id: string }, patients: string[]): ConsentTerms {
  const p = consent.provision;
  const validity = p?.period;
  const data = p?.dataPeriod;
  const start = (text: string | undefined, open: number): number => (text === undefined ? open : parsePeriod(text)?.startMs ?? MAX_MS);
  const end = (text: string | undefined, open: number): number => (text === undefined ? open : parsePeriod(text)?.endMs ?? MIN_MS);
  const permits = p?.type === 'permit';
  return {
    id: consent.id,
    status: permits ? consent.status : 'not-permit',
    patients,
    purposes: (p?.purpose ?? []).map((c) => c.code ?? '').filter(isPurpose),
    hiTypes: (p?.class ?? []).map((c) => c.code ?? '').filter(isHiType),
    // A consent without a data range covers no records: ABDM always states one.
    dataFromMs: data ? start(data.start, MIN_MS) : MAX_MS,
    dataToMs: data ? end(data.end, MAX_MS) : MIN_MS,
    validFromMs: start(validity?.start, MIN_MS),
    validToMs: end(validity?.end, MAX_MS),
  };
}
