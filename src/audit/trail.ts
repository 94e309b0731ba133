import { randomUUID } from 'node:crypto';
import type { AuditEvent } from 'fhir/r4';
import type { ChainHead } from './checkpoint';
import { AsyncLock } from '../storage/async-lock';
import type { ResourceStore, UnitOfWork } from '../storage/store';
import { GENESIS, linkEvent } from './chain';

interface Pending {
  events: AuditEvent[];
  resolve(): void;
  reject(err: unknown): void;
}

/** Events written together when reads arrive faster than one commit. */
const MAX_BATCH = 500;
/** Attempts at appending a batch when the store reports a transient failure, and the pause before the next (times the attempt). */
const FLUSH_ATTEMPTS = 4;
const RETRY_DELAY_MS = 250;

/**
 * The append-only, hash-chained audit trail of this process. Events of a write are linked and
 * stored inside the write's own unit of work (`within`), so a write and its record commit
 * together. Events of reads are group-committed (`record`): each waits for the commit that
 * holds it (a response is sent only once it is accounted for), and under load one commit
 * carries many. Linking and committing happen under one lock, so the chain's order is the
 * commit order and a failed commit takes its links back.
 */
export class AuditTrail {
  private readonly chain = randomUUID();
  private sequence = 0;
  private head = GENESIS;
  private readonly lock = new AsyncLock();
  private readonly queue: Pending[] = [];
  private committed = { sequence: 0, hash: GENESIS };
  private flushing = false;

  constructor(private readonly store: ResourceStore) {}

  /** The chain's newest committed link (for checkpoints: checkpoint.ts), or undefined before the first. */
  committedHead(now: Date): ChainHead | undefined {
    return this.committed.sequence === 0 ? undefined : { chain: this.chain, sequence: this.committed.sequence, hash: this.committed.hash, at: now.toISOString() };
  }

  /** Runs a unit of work whose events (returned by `work`) are appended in it, atomically with its writes. */
  within<T>(work: (uow: UnitOfWork) => Promise<{ result: T; events: AuditEvent[] }>): Promise<T> {
    return this.ordered(() => this.linked(async (uow, link) => {
      const { result, events } = await work(uow);
      await link(events);
      return result;
    }));
  }

  /**
   * Linking order must be commit order. A store that runs units one at a time and commits them in
   * that order (SQLite's group commit) gives it already, and units of concurrent requests may then
   * share a commit; otherwise the trail's own lock holds each unit until it has committed.
   */
  private ordered<T>(run: () => Promise<T>): Promise<T> {
    return this.store.serializesUnits ? run() : this.lock.run(run);
  }

  /** Appends events in their own unit of work, shared with whatever else is waiting. */
  record(events: AuditEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      if (this.flushing) return;
      this.flushing = true;
      // Flush on the next turn of the event loop, not now: a store whose commit never yields
      // (SQLite) would otherwise commit each event alone before other requests could join it.
      setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch: Pending[] = [];
        let n = 0;
        while (this.queue.length > 0 && n < MAX_BATCH) { const p = this.queue.shift() as Pending; batch.push(p); n += p.events.length; }
        try {
          await this.appendWithRetry(batch.flatMap((p) => p.events));
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * A store that says an error is transient (a MongoDB network blip or failover: the driver clears
   * its pool and fails what was in flight) gets the batch again, a few times, before the requests
   * waiting on it fail: a lost connection should cost latency, not answers. The chain was rewound
   * with the failed attempt, so a retry links from the same point.
   */
  private async appendWithRetry(events: AuditEvent[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.ordered(() => this.linked(async (_uow, link) => { await link(events); }));
        return;
      } catch (err) {
        if (attempt >= FLUSH_ATTEMPTS || !this.store.isTransient?.(err)) throw err;
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * attempt));
      }
    }
  }

  /** A unit of work with a `link` that chains and stores events; on failure the chain is rewound. */
  private async linked<T>(work: (uow: UnitOfWork, link: (events: AuditEvent[]) => Promise<void>) => Promise<T>): Promise<T> {
    const mark = { sequence: this.sequence, head: this.head };
    let last: { sequence: number; hash: string } | undefined;
    try {
      const result = await this.store.transact((uow) => {
        last = undefined;
        if (this.store.serializesUnits) {
          // The unit runs now, after every unit asked for before it: it links from the chain as
          // it stands, and if it is rolled back (alone, or with its whole commit) the chain is too.
          const start = { sequence: this.sequence, head: this.head };
          uow.onRollback?.(() => { this.sequence = start.sequence; this.head = start.head; });
        } else {
          // A store may run this function again (MongoDB retries a unit of work on a write
          // conflict): each run links from the same point, so a retry cannot skip sequence numbers.
          this.sequence = mark.sequence;
          this.head = mark.head;
        }
        return work(uow, async (events) => {
          for (const event of events) {
            this.sequence++;
            const linked = linkEvent(event, this.chain, this.sequence, this.head);
            this.head = linked.hash;
            // Indexed later, in batches: a search for AuditEvents still sees every one (store contract).
            await uow.create(linked.event, { deferIndex: true });
            last = { sequence: this.sequence, hash: this.head };
          }
        });
      });
      // Committed: units commit in chain order, so the newest committed link only moves forward.
      if (last && last.sequence > this.committed.sequence) this.committed = last;
      return result;
    } catch (err) {
      // With serialized units the rollback hook has already put the chain back, at the moment of
      // the rollback; doing it here, later, would undo units that ran since.
      if (!this.store.serializesUnits) {
        this.sequence = mark.sequence;
        this.head = mark.head;
      }
      throw err;
    }
  }
}
