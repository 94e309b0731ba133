import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { latestPerChain, readCheckpoint, signCheckpoint } from '../../../src/audit/checkpoint';

describe('audit/checkpoint: signed heads of the audit chain (pure)', () => {
  const key = randomBytes(32);
  const head = { chain: 'c1', sequence: 42, hash: 'ab'.repeat(32), at: '2026-12-03T10:00:00.000Z' };

  it('a signed head reads back as it was, with our key only', () => {
    const token = signCheckpoint(head, key);
    assert.deepEqual(readCheckpoint(token, key), head);
    assert.equal(readCheckpoint(token, randomBytes(32)), undefined, 'another key');
  });

  it('any change to a checkpoint, or a foreign shape, is refused', () => {
    const [h, p, mac] = signCheckpoint(head, key).split('.');
    const raise = Buffer.from(JSON.stringify({ ...head, sequence: 99 })).toString('base64url');
    assert.equal(readCheckpoint(`${h}.${raise}.${mac}`, key), undefined);
    assert.equal(readCheckpoint(`${h}.${p}`, key), undefined);
    assert.equal(readCheckpoint(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`, key), undefined);
    assert.equal(readCheckpoint('', key), undefined);
  });

  it('the newest checkpoint of each chain covers the earlier ones', () => {
    const latest = latestPerChain([head, { ...head, sequence: 50 }, { ...head, chain: 'c2', sequence: 3 }, { ...head, sequence: 7 }]);
    assert.deepEqual([...latest.values()].map((x) => [x.chain, x.sequence]), [['c1', 50], ['c2', 3]]);
  });
});
