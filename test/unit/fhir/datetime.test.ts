import { strict as assert } from 'node:assert';
import { parsePeriod } from '../../../src/fhir/datetime';

const iso = (text: string) => {
  const p = parsePeriod(text);
  return p && [new Date(p.startMs).toISOString(), new Date(p.endMs).toISOString()];
};

describe('fhir/datetime: a value denotes the period of its precision (search.html#date)', () => {
  it('year, month, day', () => {
    assert.deepEqual(iso('2024'), ['2024-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z']);
    assert.deepEqual(iso('2024-02'), ['2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z']);
    assert.deepEqual(iso('2024-02-29'), ['2024-02-29T00:00:00.000Z', '2024-03-01T00:00:00.000Z']);
  });

  it('times with India\'s +05:30 and other zones', () => {
    assert.deepEqual(iso('2026-01-15T15:30:00+05:30'), ['2026-01-15T10:00:00.000Z', '2026-01-15T10:00:01.000Z']);
    assert.deepEqual(iso('2026-01-15T15:30+05:30'), ['2026-01-15T10:00:00.000Z', '2026-01-15T10:01:00.000Z']);
    assert.deepEqual(iso('2026-01-15T10:00:00.5Z'), ['2026-01-15T10:00:00.500Z', '2026-01-15T10:00:00.501Z']);
    assert.deepEqual(iso('2026-01-15T00:00:00-03:00'), ['2026-01-15T03:00:00.000Z', '2026-01-15T03:00:01.000Z']);
  });

  it('impossible values are rejected', () => {
    for (const bad of ['2023-02-29', '2024-13', '2024-04-31', '2024-01-01T24:00:00Z', '2024-01-01T10:60:00Z', '24', 'yesterday', '2024-1-1']) {
      assert.equal(parsePeriod(bad), undefined, bad);
    }
  });
});
