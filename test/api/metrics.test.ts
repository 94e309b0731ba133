import { strict as assert } from 'node:assert';
import { api, FHIR_JSON } from '../helpers/api';

/** Prometheus metrics at /metrics: they move with requests, and a caller cannot invent label values. */
describe('operations: Prometheus metrics (/metrics)', () => {
  const value = (text: string, series: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  };

  it('counts requests by interaction, type and status, with latencies, limits and process figures', async () => {
    const t = api({ config: { audit: true } });
    try {
      const before = (await t.http.get('/metrics')).text;
      const created = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send({ resourceType: 'Patient' });
      await t.http.get(`/fhir/Patient/${created.body.id}`);
      await t.http.get(`/fhir/Patient/${created.body.id}`);
      await t.http.get('/fhir/Patient/missing');
      await t.http.get('/fhir/Bogus123/x');
      const res = await t.http.get('/metrics');
      assert.equal(res.status, 200);
      assert.match(res.headers['content-type'], /^text\/plain/);
      const after = res.text;
      const read = 'fhir_requests_total{interaction="read",type="Patient",status="200"}';
      assert.equal(value(after, read) - value(before, read), 2);
      assert.equal(value(after, 'fhir_requests_total{interaction="read",type="Patient",status="404"}'), 1);
      assert.equal(value(after, 'fhir_requests_total{interaction="create",type="Patient",status="201"}'), 1);
      assert.ok(!after.includes('Bogus123'), 'a made-up type is not a label value');
      assert.match(after, /fhir_request_duration_seconds_bucket\{le="0.005",interaction="read"\}/);
      assert.match(after, /fhir_limit\{name="max_body_bytes"\} 16777216/);
      assert.match(after, /fhir_memory_budget_in_use_bytes 0/);
      assert.ok(value(after, 'fhir_audit_chain_events') >= 4, 'the audit chain grows with requests');
      assert.match(after, /process_resident_memory_bytes \d+/);
    } finally {
      await t.close();
    }
  });

  it('METRICS=off serves none', async () => {
    const t = api({ config: { metrics: false } });
    try {
      assert.equal((await t.http.get('/metrics')).status, 404);
    } finally {
      await t.close();
    }
  });
});
