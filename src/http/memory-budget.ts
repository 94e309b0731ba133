/**
 * A budget of bytes shared by all requests in flight (MEMORY_BUDGET). A request reserves what its
 * bodies could take at most (the declared request body; a search or history page's byte budget; a
 * batch response's) before it reads or builds them, and gives it back when its response is done.
 * A request that does not fit waits, first come first served, so the process's memory follows the
 * budget rather than the number of connections. A reservation larger than the whole budget takes
 * the whole budget, so it still runs, alone.
 */
export class MemoryBudget {
  private free: number;
  private readonly waiting: { bytes: number; grant: () => void }[] = [];

  constructor(readonly total: number) {
    this.free = total;
  }

  /** Resolves, once `bytes` are reserved, to the function that gives them back (safe to call twice). */
  reserve(bytes: number): Promise<() => void> | (() => void) {
    const want = Math.min(Math.max(0, Math.ceil(bytes)), this.total);
    // Waiters keep their order: a large reservation is not starved by a stream of small ones.
    if (this.waiting.length === 0 && want <= this.free) {
      this.free -= want;
      return this.releaser(want);
    }
    return new Promise((resolve) => {
      this.waiting.push({ bytes: want, grant: () => resolve(this.releaser(want)) });
    });
  }

  /** Bytes reserved now; for metrics and tests. */
  inUse(): number {
    return this.total - this.free;
  }

  /** Requests waiting for room now. */
  queued(): number {
    return this.waiting.length;
  }

  private releaser(bytes: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.free += bytes;
      this.admit();
    };
  }

  private admit(): void {
    while (this.waiting.length > 0 && this.waiting[0].bytes <= this.free) {
      const next = this.waiting.shift() as { bytes: number; grant: () => void };
      this.free -= next.bytes;
      next.grant();
    }
  }
}

/** One budget per app (per Deps), made on first use. */
const budgets = new WeakMap<object, MemoryBudget>();

export function memoryBudgetOf(owner: object, total: number): MemoryBudget {
  let budget = budgets.get(owner);
  if (!budget) {
    budget = new MemoryBudget(total);
    budgets.set(owner, budget);
  }
  return budget;
}

/**
 * A request body is held as text, parsed (measured on Synthea bundles: about 0.7 times the text)
 * and written back as each resource's stored JSON: about three times its length in all.
 */
const BODY_FACTOR = 3;

/** The most a request's bodies can take: its request body, and the response its interaction can build. */
export function worstCaseBytes(
  interaction: string, method: string, declaredLength: string | undefined,
  limits: { maxBodyBytes: number; maxPageBytes: number; maxResponseBytes: number },
): number {
  let bytes = 0;
  if (method !== 'GET' && method !== 'HEAD' && method !== 'DELETE') {
    const declared = declaredLength === undefined ? NaN : Number(declaredLength);
    bytes += BODY_FACTOR * (Number.isFinite(declared) && declared >= 0 ? Math.min(declared, limits.maxBodyBytes) : limits.maxBodyBytes);
  }
  // A batch or transaction answers its writes in about the size of its body (counted above) and
  // its reads like searches: it reserves a page for them, as a search does. Reserving all of
  // MAX_RESPONSE_BYTES up front let only three patient Bundles in at once (measured: ingest by
  // four clients fell by a fifth); that limit still caps the response itself (batch.ts).
  // $document answers one document, bounded by MAX_RESPONSE_BYTES like a transaction's reads, and reserves a page the same way.
  if (interaction.startsWith('search-') || interaction.startsWith('history-') || interaction === 'transaction' || interaction.startsWith('document-')) {
    bytes += limits.maxPageBytes;
  }
  return bytes;
}
