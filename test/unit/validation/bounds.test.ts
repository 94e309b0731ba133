import { strict as assert } from 'node:assert';
import { compareToBound } from '../../../src/validation/profiles/bounds';

describe('validation: minValue/maxValue comparisons (ElementDefinition.minValue[x])', () => {
  it('numbers of every numeric type', () => {
    assert.equal(compareToBound('Integer', 3, 5), -1);
    assert.equal(compareToBound('PositiveInt', 5, 5), 0);
    assert.equal(compareToBound('Decimal', 0.25, 0.2), 1);
    assert.equal(compareToBound('Integer', '3', 5), undefined, 'a string is not compared with a number');
  });

  it('dates at the precision both share; instants with zones as points in time', () => {
    assert.equal(compareToBound('Date', '2026-03-14', '2026-03-15'), -1);
    assert.equal(compareToBound('Date', '2026-03', '2026-03-15'), 0, 'a month that contains the bound is not below it');
    assert.equal(compareToBound('DateTime', '2026-03-14T23:30:00+05:30', '2026-03-14T18:00:00Z'), 0, 'the same instant in two zones');
    assert.equal(compareToBound('Instant', '2026-03-14T23:31:00+05:30', '2026-03-14T18:00:00Z'), 1);
    assert.equal(compareToBound('Time', '09:30:00', '10:00:00'), -1);
  });

  it('Quantities only in the same unit', () => {
    const mg = (value: number) => ({ value, system: 'http://unitsofmeasure.org', code: 'mg' });
    assert.equal(compareToBound('Quantity', mg(400), mg(500)), -1);
    assert.equal(compareToBound('Quantity', { value: 1, system: 'http://unitsofmeasure.org', code: 'g' }, mg(500)), undefined);
  });
});
