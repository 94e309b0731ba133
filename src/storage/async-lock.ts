/**
 * A FIFO mutex for async work. SQLite has one writer; this keeps units of work from
 * interleaving on the writer connection while one of them awaits.
 */
export class AsyncLock {
  private tail: Promise<void> = Promise.resolve();
  private held = 0;

  get busy(): boolean {
    return this.held > 0;
  }

  run<T>(work: () => Promise<T>): Promise<T> {
    this.held++;
    const result = this.tail.then(work);
    const release = (): void => {
      this.held--;
    };
    this.tail = result.then(release, release);
    return result;
  }
}
