import { strict as assert } from 'node:assert';
import { decide, mayWrite, type ConsentTerms, type Facts, type Reach } from '../../../src/consent/decide';
import { PURPOSES, type Coverage, type HiType, type Purpose } from '../../../src/consent/tables';

const ms = (iso: string): number => Date.parse(iso);
const NOW = ms('2026-06-01T00:00:00Z');

/** A consent for patient pt-1: lab reports from 2025, usable until 2027, for care management. */
function consent(extra: Partial<ConsentTerms> = {}): ConsentTerms {
  return {
    id: 'c-1', status: 'active', patients: ['pt-1'], purposes: ['CAREMGT'], hiTypes: ['DiagnosticReport'],
    dataFromMs: ms('2025-01-01T00:00:00Z'), dataToMs: ms('2026-01-01T00:00:00Z'),
    validFromMs: ms('2026-01-01T00:00:00Z'), validToMs: ms('2027-01-01T00:00:00Z'), ...extra,
  };
}

const day = (iso: string) => ({ lo: ms(`${iso}T00:00:00Z`), hi: ms(`${iso}T00:00:00Z`) + 86_400_000 });

function facts(type: string, extra: Partial<Facts> = {}): Facts {
  return { type, id: 'r-1', patients: ['pt-1'], careDates: [day('2025-06-15')], compositionTypes: [], ...extra };
}

/**
 * What each HI type covers, as decide() is handed it (the server derives it from the record
 * profiles, coverage.ts; its own test checks that). These rows test the rules over a given table.
 */
const COVERAGE: Coverage = {
  OPConsultation: { compositions: ['371530004'], types: ['Encounter', 'Condition', 'Observation', 'AllergyIntolerance', 'MedicationRequest'] },
  Prescription: { compositions: ['440545006'], types: ['MedicationRequest', 'Condition'] },
  DischargeSummary: { compositions: ['373942005'], types: ['Encounter', 'Condition', 'Observation', 'Procedure', 'DiagnosticReport'] },
  DiagnosticReport: { compositions: ['721981007', '371528001'], types: ['DiagnosticReport', 'Observation', 'Specimen', 'ImagingStudy'] },
  ImmunizationRecord: { compositions: ['41000179103'], types: ['Immunization', 'DocumentReference'] },
  HealthDocumentRecord: { compositions: ['419891008'], types: ['DocumentReference'] },
  WellnessRecord: { compositions: [], types: ['Observation', 'Condition', 'DocumentReference'] },
};

const consents = (purpose: Purpose, ...terms: ConsentTerms[]): Reach => ({ kind: 'consents', purpose, consents: terms, nowMs: NOW, coverage: COVERAGE });
const facility = (self: string): Reach => ({ kind: 'consents', purpose: 'CAREMGT', consents: [], nowMs: NOW, self, coverage: COVERAGE });

describe('consent: decide (table-driven; consent.html, ABDM consent artefact)', () => {
  describe('roles', () => {
    const rows: [string, Reach, Facts, boolean][] = [
      ['system integration sees everything', { kind: 'all' }, facts('Observation', { patients: ['someone-else'] }), true],
      ['unrestricted sees uncompartmented patient data', { kind: 'all' }, facts('Bundle', { patients: [] }), true],
      ['patient sees their own observation', { kind: 'patient', patient: 'pt-1' }, facts('Observation'), true],
      ['patient sees their own Patient resource', { kind: 'patient', patient: 'pt-1' }, facts('Patient', { id: 'pt-1' }), true],
      ['patient does not see another patient\'s observation', { kind: 'patient', patient: 'pt-2' }, facts('Observation'), false],
      ['patient does not see a stored document Bundle', { kind: 'patient', patient: 'pt-1' }, facts('Bundle'), false],
      ['patient sees data about no patient (a Practitioner)', { kind: 'patient', patient: 'pt-1' }, facts('Practitioner', { patients: [] }), true],
      ['patient sees the audit events about them', { kind: 'patient', patient: 'pt-1' }, facts('AuditEvent'), true],
      ['practitioner with a covering consent sees the report', consents('CAREMGT', consent()), facts('DiagnosticReport'), true],
      ['practitioner without consents sees nothing of the patient', consents('CAREMGT'), facts('Observation'), false],
      ['practitioner without consents sees a Practitioner', consents('CAREMGT'), facts('Practitioner', { patients: [] }), true],
      ['consent for another patient does not help', consents('CAREMGT', consent({ patients: ['pt-9'] })), facts('Observation'), false],
      ['a consent with no resolved patient covers nothing', consents('CAREMGT', consent({ patients: [] })), facts('Observation'), false],
      ['a consent holder sees the active consent that names them', consents('PUBHLTH', consent({ id: 'r-1' })), facts('Consent', { careDates: [] }), true],
      ['a consent holder does not see a revoked one', consents('CAREMGT', consent({ id: 'r-1', status: 'inactive' })), facts('Consent', { careDates: [] }), false],
      ['a consent holder does not see other consents', consents('CAREMGT', consent({ id: 'c-9' })), facts('Consent', { careDates: [] }), false],
      ['a facility sees a record it wrote, without a consent', facility('Organization/lab'), facts('Observation', { writers: ['Organization/lab'] }), true],
      ['a facility sees a document Bundle it wrote', facility('Organization/lab'), facts('Bundle', { patients: [], writers: ['Organization/lab'] }), true],
      ['a facility does not see what another wrote', facility('Organization/lab'), facts('Observation', { writers: ['Organization/other'] }), false],
      ['break-the-glass sees any patient\'s data', { kind: 'break-glass', reason: 'unconscious in ER' }, facts('Condition', { patients: ['pt-7'] }), true],
      ['break-the-glass sees a Bundle too', { kind: 'break-glass', reason: 'unconscious in ER' }, facts('Bundle', { patients: [] }), true],
    ];
    for (const [name, reach, f, permit] of rows) {
      it(`${name} → ${permit ? 'permit' : 'deny'}`, () => assert.equal(decide(reach, f).permit, permit));
    }
  });

  describe('status × validity × purpose (every status, every purpose pair)', () => {
    const statuses: [string, Partial<ConsentTerms>, boolean][] = [
      ['active', {}, true],
      ['inactive (revoked)', { status: 'inactive' }, false],
      ['rejected (denied)', { status: 'rejected' }, false],
      ['proposed (requested)', { status: 'proposed' }, false],
      ['draft', { status: 'draft' }, false],
      ['entered-in-error', { status: 'entered-in-error' }, false],
      ['not a permit provision', { status: 'not-permit' }, false],
      ['expired (validity ended)', { validToMs: NOW }, false],
      ['not yet valid', { validFromMs: NOW + 1 }, false],
    ];
    for (const [status, change, usable] of statuses) {
      for (const granted of PURPOSES) {
        for (const asked of PURPOSES) {
          const permit = usable && granted === asked;
          it(`${status}, granted ${granted}, asked ${asked} → ${permit ? 'permit' : 'deny'}`, () => {
            const d = decide(consents(asked, consent({ ...change, purposes: [granted] })), facts('DiagnosticReport'));
            assert.equal(d.permit, permit);
            if (d.permit) assert.equal(d.consent, 'c-1');
          });
        }
      }
    }
  });

  describe('health-information type × resource type', () => {
    // [hiType, type, composition code or undefined, permit]
    const rows: [HiType, string, string | undefined, boolean][] = [
      ['DiagnosticReport', 'DiagnosticReport', undefined, true],
      ['DiagnosticReport', 'Observation', undefined, true],
      ['DiagnosticReport', 'Specimen', undefined, true],
      ['DiagnosticReport', 'ImagingStudy', undefined, true],
      ['DiagnosticReport', 'MedicationRequest', undefined, false],
      ['DiagnosticReport', 'Condition', undefined, false],
      ['DiagnosticReport', 'Composition', '721981007', true],
      ['DiagnosticReport', 'Composition', '371528001', true],
      ['DiagnosticReport', 'Composition', '440545006', false],
      ['Prescription', 'MedicationRequest', undefined, true],
      ['Prescription', 'Observation', undefined, false],
      ['Prescription', 'DocumentReference', undefined, false],
      ['Prescription', 'Composition', '440545006', true],
      ['OPConsultation', 'Encounter', undefined, true],
      ['OPConsultation', 'AllergyIntolerance', undefined, true],
      ['OPConsultation', 'Composition', '371530004', true],
      ['OPConsultation', 'Immunization', undefined, false],
      ['DischargeSummary', 'Procedure', undefined, true],
      ['DischargeSummary', 'Composition', '373942005', true],
      ['ImmunizationRecord', 'Immunization', undefined, true],
      ['ImmunizationRecord', 'Composition', '41000179103', true],
      ['ImmunizationRecord', 'Observation', undefined, false],
      ['HealthDocumentRecord', 'DocumentReference', undefined, true],
      ['HealthDocumentRecord', 'Composition', '419891008', true],
      ['HealthDocumentRecord', 'Encounter', undefined, false],
      ['WellnessRecord', 'Observation', undefined, true],
      ['WellnessRecord', 'Composition', '371530004', false],
      ['WellnessRecord', 'Condition', undefined, true],
      // Types no HI type covers stay out of every consent.
      ['OPConsultation', 'Consent', undefined, false],
      ['OPConsultation', 'AuditEvent', undefined, false],
      ['OPConsultation', 'Coverage', undefined, false],
      ['OPConsultation', 'Bundle', undefined, false],
      // The subject of the records is covered by every type.
      ['WellnessRecord', 'Patient', undefined, true],
    ];
    for (const [hiType, type, code, permit] of rows) {
      it(`${hiType} consent, ${type}${code ? ` (${code})` : ''} → ${permit ? 'permit' : 'deny'}`, () => {
        const f = facts(type, { compositionTypes: code ? [code] : [], id: type === 'Patient' ? 'pt-1' : 'r-1' });
        assert.equal(decide(consents('CAREMGT', consent({ hiTypes: [hiType] })), f).permit, permit);
      });
    }
  });

  describe('date of care × data range [2025-01-01, 2026-01-01)', () => {
    const rows: [string, Facts['careDates'], boolean][] = [
      ['inside', [day('2025-06-15')], true],
      ['first day', [day('2025-01-01')], true],
      ['last day', [day('2025-12-31')], true],
      ['the day before', [day('2024-12-31')], false],
      ['the day after', [day('2026-01-01')], false],
      ['a period overlapping the start', [{ lo: ms('2024-12-01T00:00:00Z'), hi: ms('2025-01-02T00:00:00Z') }], true],
      ['a period ending exactly at the start', [{ lo: ms('2024-12-01T00:00:00Z'), hi: ms('2025-01-01T00:00:00Z') }], false],
      ['a period spanning the whole range', [{ lo: ms('2020-01-01T00:00:00Z'), hi: ms('2030-01-01T00:00:00Z') }], true],
      ['no date of care', [], false],
    ];
    for (const [name, careDates, permit] of rows) {
      it(`an Observation dated ${name} → ${permit ? 'permit' : 'deny'}`, () => {
        assert.equal(decide(consents('CAREMGT', consent()), facts('Observation', { careDates })).permit, permit);
      });
    }
    it('the Patient resource has no date of care and is never range-limited', () => {
      assert.equal(decide(consents('CAREMGT', consent()), facts('Patient', { id: 'pt-1', careDates: [] })).permit, true);
    });
  });

  it('the first consent that allows a record is named as the basis', () => {
    const d = decide(consents('CAREMGT', consent({ id: 'c-old', status: 'inactive' }), consent({ id: 'c-new' })), facts('Observation'));
    assert.deepEqual(d, { permit: true, basis: 'consent', consent: 'c-new' });
  });

  describe('writes', () => {
    it('a patient writes only into their own compartment', () => {
      assert.equal(mayWrite({ kind: 'patient', patient: 'pt-1' }, facts('Observation')).permit, true);
      assert.equal(mayWrite({ kind: 'patient', patient: 'pt-2' }, facts('Observation')).permit, false);
      assert.equal(mayWrite({ kind: 'patient', patient: 'pt-1' }, facts('Organization', { patients: [] })).permit, false);
    });
    it('a facility writes records for the patients it serves, without a consent', () => {
      assert.equal(mayWrite(consents('CAREMGT'), facts('Observation')).permit, true);
    });
  });
});
