import { strict as assert } from 'node:assert';
import { checkNationalId, luhnValid, nationalIdentifierIssues, nationalIdKind } from '../../../src/validation/national-identifiers';

const NDHM = 'https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-identifier-type-code';
const V2 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

describe('validation: national identifiers (ABHA number and address, HPR id, HFR id)', () => {
  it('Luhn: published ABHA-like numbers pass, a changed digit fails', () => {
    for (const n of ['91-7561-4088-8857', '91-5101-6530-5101', '22-7225-4829-5255']) assert.ok(luhnValid(n.replace(/-/g, '')), n);
    assert.ok(!luhnValid('91756140888858'));
  });

  it('recognised by type code first, then by registry URI in both spellings', () => {
    assert.equal(nationalIdKind({ type: { coding: [{ system: NDHM, code: 'HIN' }] }, value: 'x' }), 'abha-number');
    assert.equal(nationalIdKind({ system: 'https://healthid.ndhm.gov.in', value: '22-7225-4829-5255' }), 'abha-number');
    assert.equal(nationalIdKind({ system: 'https://healthid.abdm.gov.in', value: 'asha@abdm' }), 'abha-address');
    assert.equal(nationalIdKind({ system: 'https://healthid.abdm.gov.in/abha-address', value: 'asha@abdm' }), 'abha-address');
    assert.equal(nationalIdKind({ type: { coding: [{ system: NDHM, code: 'ABHA' }] }, value: 'asha@sbx' }), 'abha-address');
    assert.equal(nationalIdKind({ system: 'https://doctor.ndhm.gov.in', value: '21-1521-3828-3227' }), 'hpr-id');
    assert.equal(nationalIdKind({ system: 'https://hpr.abdm.gov.in', value: 'meera@hpr.abdm' }), 'hpr-id');
    assert.equal(nationalIdKind({ system: 'https://facility.abdm.gov.in', value: 'IN2710000001' }), 'hfr-id');
    assert.equal(nationalIdKind({ type: { coding: [{ system: V2, code: 'PRN' }] }, system: 'https://example.in/hfr', value: 'IN2710000001' }), 'hfr-id');
    // A hospital's own medical record number is not an ABHA number, even with type MR.
    assert.equal(nationalIdKind({ type: { coding: [{ system: V2, code: 'MR' }] }, system: 'https://hospital.example.in/mrn', value: '12345' }), undefined);
  });

  it('formats: errors for malformed values, a warning for a failed check digit', () => {
    assert.deepEqual(checkNationalId('abha-number', '91-7561-4088-8857', 'x'), []);
    assert.deepEqual(checkNationalId('abha-number', '91756140888857', 'x'), []);
    assert.equal(checkNationalId('abha-number', '91-7561-4088-8858', 'x')[0].severity, 'warning');
    assert.equal(checkNationalId('abha-number', '91-7561-4088', 'x')[0].severity, 'error');
    assert.deepEqual(checkNationalId('abha-address', 'asha.devi@abdm', 'x'), []);
    assert.deepEqual(checkNationalId('abha-address', '91756140888857@abdm', 'x'), []);
    assert.equal(checkNationalId('abha-address', '9asha@abdm', 'x')[0].severity, 'error');
    assert.equal(checkNationalId('abha-address', '.asha@abdm', 'x')[0].severity, 'error');
    assert.equal(checkNationalId('abha-address', 'asha@gmail.com', 'x')[0].severity, 'error');
    assert.deepEqual(checkNationalId('hpr-id', '71-2665-5777-1234', 'x'), []);
    assert.deepEqual(checkNationalId('hpr-id', 'meera.rao@hpr.abdm', 'x'), []);
    assert.equal(checkNationalId('hpr-id', 'MCI-1234', 'x')[0].severity, 'error');
    assert.deepEqual(checkNationalId('hfr-id', 'IN2710000001', 'x'), []);
    assert.equal(checkNationalId('hfr-id', 'IN27100', 'x')[0].severity, 'error');
  });

  it('issues point at the identifier value with a FHIRPath expression', () => {
    const issues = nationalIdentifierIssues({
      resourceType: 'Patient',
      identifier: [{ system: 'https://hospital.example.in/mrn', value: '1' }, { system: 'https://healthid.abdm.gov.in', value: '91-1234' }],
    });
    assert.equal(issues.length, 1);
    assert.deepEqual(issues[0].expression, ['Patient.identifier[1].value']);
  });
});
