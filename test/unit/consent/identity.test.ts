import { strict as assert } from 'node:assert';
import { namesDocument, namesNationalIdentity } from '../../../src/consent/identity';
import { conditionalQuery, queryFromHeader } from '../../../src/storage/conditional';
import { testSearchParameters } from '../../helpers/search';

/** The criteria of `If-None-Exist: <header>` on `type`, as the create handler parses them. */
const criteria = (type: string, header: string) => conditionalQuery(testSearchParameters(), type, queryFromHeader(header, type), 'http://gw.example.in/fhir');

describe('consent: which conditional criteria name a national identity (consent/identity.ts)', () => {
  const rows: [string, string, boolean][] = [
    ['Patient', 'identifier=https://healthid.abdm.gov.in|91-1111-2222-3333', true],
    ['Patient', 'Patient?identifier=https://healthid.ndhm.gov.in|91111122223333', true],
    ['Patient', 'identifier=https://healthid.abdm.gov.in/abha-address|asha.devi@abdm', true],
    ['Practitioner', 'identifier=https://doctor.ndhm.gov.in|71-2665-5777-1234', true],
    ['Organization', 'identifier=https://facility.abdm.gov.in|IN2710000001', true],
    // Anything else is matched within the caller's view: it could probe for records.
    ['Patient', 'identifier=91-1111-2222-3333', false],
    ['Patient', 'identifier=urn:hospital-a:mrn|MRN-77', false],
    ['Patient', 'identifier=https://healthid.abdm.gov.in|', false],
    ['Patient', 'identifier=https://healthid.abdm.gov.in|91-1111-2222-3333,https://healthid.abdm.gov.in|91-4444-5555-6666', false],
    ['Patient', 'identifier=https://healthid.abdm.gov.in|91-1111-2222-3333&birthdate=1961-02-03', false],
    ['Patient', 'identifier:not=https://healthid.abdm.gov.in|91-1111-2222-3333', false],
    ['Patient', 'family=Venkataraman', false],
    ['Patient', 'identifier=https://doctor.ndhm.gov.in|71-2665-5777-1234', false],
    ['Practitioner', 'identifier=https://healthid.abdm.gov.in|91-1111-2222-3333', false],
    ['Observation', 'identifier=https://healthid.abdm.gov.in|91-1111-2222-3333', false],
  ];
  for (const [type, header, expected] of rows) {
    it(`${type}?${header.replace(/^\w+\?/, '')}: ${expected ? 'the whole store' : 'the caller\'s view'}`, () => {
      assert.equal(namesNationalIdentity(testSearchParameters(), criteria(type, header)), expected);
    });
  }

  it('a document is looked up by its Bundle.identifier alone', () => {
    assert.equal(namesDocument(testSearchParameters(), criteria('Bundle', 'identifier=http://hip.example.in|doc-1')), true);
    assert.equal(namesDocument(testSearchParameters(), criteria('Bundle', 'identifier=doc-1')), false);
    assert.equal(namesDocument(testSearchParameters(), criteria('Bundle', 'identifier=http://hip.example.in|doc-1&type=document')), false);
    assert.equal(namesDocument(testSearchParameters(), criteria('Patient', 'identifier=http://hip.example.in|doc-1')), false);
  });
});
