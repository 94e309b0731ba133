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

  it('Quantities: the same unit, or UCUM units of one dimension after conversion; otherwise not comparable', () => {
    const ucum = (value: number, code: string) => ({ value, system: 'http://unitsofmeasure.org', code });
    assert.equal(compareToBound('Quantity', ucum(400, 'mg'), ucum(500, 'mg')), -1);
    assert.equal(compareToBound('Quantity', ucum(1, 'g'), ucum(500, 'mg')), 1);
    assert.equal(compareToBound('Quantity', ucum(11000, 'g'), ucum(10, 'kg')), 1);
    assert.equal(compareToBound('Quantity', ucum(0.5, 'kg'), ucum(500, 'g')), 0);
    assert.equal(compareToBound('Quantity', ucum(1, 'g'), ucum(500, 'mL')), undefined, 'mass and volume do not compare');
    assert.equal(compareToBound('Quantity', { value: 1, code: 'g' }, ucum(500, 'mg')), undefined, 'not UCUM: no conversion');
  });

  it('a Duration bound on a date counts from today: min is that long ago, max that far ahead', () => {
    const years = (value: number) => ({ value, system: 'http://unitsofmeasure.org', code: 'a' });
    const today = new Date('2026-12-03T10:00:00Z');
    assert.equal(compareToBound('Duration', '1850-01-01', years(100), 'min', today), -1);
    assert.equal(compareToBound('Duration', '1950-01-01', years(100), 'min', today), 1);
    assert.equal(compareToBound('Duration', '2100-01-01', years(10), 'max', today), 1);
    assert.equal(compareToBound('Duration', '2020-01-01', years(10), 'max', today), -1);
    assert.equal(compareToBound('Duration', '2020-01-01', { value: 3, code: 'lightyears' }, 'max', today), undefined);
  });
});
