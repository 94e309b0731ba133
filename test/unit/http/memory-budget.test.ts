import { strict as assert } from 'node:assert';
import { MemoryBudget, worstCaseBytes } from '../../../src/http/memory-budget';

const LIMITS = { maxBodyBytes: 1000, maxPageBytes: 100, maxResponseBytes: 5000 };

describe('MemoryBudget: bodies in flight share one budget', () => {
  it('grants at once while there is room, and gives back exactly once', () => {
    const budget = new MemoryBudget(100);
    const a = budget.reserve(60);
    assert.equal(typeof a, 'function');
    assert.equal(budget.inUse(), 60);
    (a as () => void)();
    (a as () => void)();
    assert.equal(budget.inUse(), 0, 'a second release gives nothing back twice');
  });

  it('a request that does not fit waits, first come first served, and a small one does not overtake a large one', async () => {
    const budget = new MemoryBudget(100);
    const first = budget.reserve(80) as () => void;
    const order: string[] = [];
    const large = Promise.resolve(budget.reserve(90)).then((release) => { order.push('large'); return release; });
    const small = Promise.resolve(budget.reserve(10)).then((release) => { order.push('small'); return release; });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, [], 'the small one fits the free 20 bytes but waits behind the large one');
    assert.equal(budget.queued(), 2);
    first();
    (await large)();
    (await small)();
    assert.deepEqual(order, ['large', 'small']);
    assert.equal(budget.inUse(), 0);
  });

  it('a reservation larger than the whole budget takes all of it and still runs, alone', async () => {
    const budget = new MemoryBudget(100);
    const huge = budget.reserve(10_000) as () => void;
    assert.equal(budget.inUse(), 100);
    const next = budget.reserve(1);
    assert.notEqual(typeof next, 'function');
    huge();
    (await next)();
    assert.equal(budget.inUse(), 0);
  });

  it('worst cases: reads of one resource need nothing; searches, history, batches and transactions a page; bodies three times their length', () => {
    assert.equal(worstCaseBytes('read', 'GET', undefined, LIMITS), 0);
    assert.equal(worstCaseBytes('delete', 'DELETE', undefined, LIMITS), 0);
    assert.equal(worstCaseBytes('search-type', 'GET', undefined, LIMITS), 100);
    assert.equal(worstCaseBytes('history-system', 'GET', undefined, LIMITS), 100);
    assert.equal(worstCaseBytes('create', 'POST', '200', LIMITS), 600);
    assert.equal(worstCaseBytes('create', 'POST', undefined, LIMITS), 3000, 'a chunked body may be as large as the limit');
    assert.equal(worstCaseBytes('create', 'POST', '99999999', LIMITS), 3000, 'never more than the body limit');
    assert.equal(worstCaseBytes('create', 'POST', 'x', LIMITS), 3000);
    assert.equal(worstCaseBytes('transaction', 'POST', '100', LIMITS), 400, 'a batch or transaction: three times its body, and a page for its reads');
    assert.equal(worstCaseBytes('search-type', 'POST', '10', LIMITS), 130);
    assert.equal(worstCaseBytes('document-instance', 'GET', undefined, LIMITS), 100, 'a $document answers one document: a page, like a transaction\'s reads');
  });
});
