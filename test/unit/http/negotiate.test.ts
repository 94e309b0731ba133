import { strict as assert } from 'node:assert';
import { FhirError } from '../../../src/fhir/errors';
import { bodyKind, checkAcceptable } from '../../../src/http/negotiate';
import { returnPreference } from '../../../src/http/preconditions';
import { noneMatchHits, notModifiedSince, parseETagVersion } from '../../../src/fhir/etag';

const status = (fn: () => unknown): number | undefined => {
  try { fn(); return undefined; } catch (e) { return (e as FhirError).status; }
};

describe('http negotiation and preconditions', () => {
  it('Accept and _format', () => {
    assert.equal(status(() => checkAcceptable(undefined, undefined)), undefined);
    assert.equal(status(() => checkAcceptable('application/fhir+json', undefined)), undefined);
    assert.equal(status(() => checkAcceptable('application/*', undefined)), undefined);
    assert.equal(status(() => checkAcceptable('application/fhir+xml', undefined)), 406);
    assert.equal(status(() => checkAcceptable('application/fhir+xml', 'json')), undefined);
    assert.equal(status(() => checkAcceptable(undefined, 'html')), 406);
  });

  it('Content-Type → body kind or 415', () => {
    assert.equal(bodyKind('application/fhir+json; charset=utf-8'), 'resource');
    assert.equal(bodyKind('application/json-patch+json'), 'json-patch');
    assert.equal(status(() => bodyKind(undefined)), 415);
    assert.equal(status(() => bodyKind('multipart/form-data')), 415);
  });

  it('ETags and conditional-read headers', () => {
    assert.equal(parseETagVersion('W/"12"', 'If-Match'), 12);
    assert.equal(parseETagVersion('"3"', 'If-Match'), 3);
    assert.equal(status(() => parseETagVersion('W/"0"', 'If-Match')), 400);
    assert.equal(status(() => parseETagVersion('12', 'If-Match')), 400);
    assert.equal(noneMatchHits('W/"1", W/"2"', 2), true);
    assert.equal(noneMatchHits('*', 5), true);
    assert.equal(noneMatchHits('W/"1"', 2), false);
    assert.equal(notModifiedSince('Thu, 15 Jan 2026 10:00:00 GMT', '2026-01-15T10:00:00.900Z'), true);
    assert.equal(notModifiedSince('not a date', '2026-01-15T10:00:00.000Z'), false);
  });

  it('Prefer: return=', () => {
    assert.equal(returnPreference(undefined), 'representation');
    assert.equal(returnPreference('return=minimal'), 'minimal');
    assert.equal(returnPreference('respond-async, return=OperationOutcome'), 'OperationOutcome');
    assert.equal(returnPreference('return=banana'), 'representation');
  });
});
