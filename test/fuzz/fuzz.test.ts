import { strict as assert } from 'node:assert';
import { api } from '../helpers/api';
import { fuzz } from './drive';
import { seedRequests, supertestSend } from './setup';

/**
 * The request fuzzer, CI-sized: hostile requests for every interaction (http.html), each answered
 * with a status below 500 and, when an error, an OperationOutcome (http.html#errors); afterwards
 * the server still reads. A failure prints its seed and index: FUZZ_SEED=… reproduces it exactly.
 * Long runs over real HTTP: scripts/fuzz.ts.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20260115);
const COUNT = Number(process.env.FUZZ_COUNT ?? 3000);

describe(`fuzz: ${COUNT} hostile requests, seed ${SEED} (http.html#errors)`, function () {
  this.timeout(300_000);
  let t: ReturnType<typeof api>;
  before(() => { t = api(); });
  after(() => t.close());

  it('no 5xx, every error an OperationOutcome, and a plain read still works afterwards', async () => {
    const send = supertestSend(t.http);
    for (const req of seedRequests()) assert.ok((await send(req)).status < 300, req.path);
    const report = await fuzz({ seed: SEED, count: COUNT, send });
    assert.equal(report.requests, COUNT);
    assert.deepEqual(report.failures, [], JSON.stringify(report.failures, null, 1));
    assert.equal(report.serverErrors, 0);
    assert.ok(report.classes['4xx'] > COUNT / 4, `mostly refusals expected: ${JSON.stringify(report.classes)}`);
    assert.ok(report.classes['2xx'] > COUNT / 20, `some successes expected: ${JSON.stringify(report.classes)}`);
    const put = await t.http.put('/fhir/Patient/after-fuzz').set('Content-Type', 'application/fhir+json')
      .send({ resourceType: 'Patient', id: 'after-fuzz', active: true });
    assert.ok(put.status === 200 || put.status === 201, String(put.status));
    const read = await t.http.get('/fhir/Patient/after-fuzz');
    assert.equal(read.status, 200);
    assert.equal(read.body.active, true);
  });
});
