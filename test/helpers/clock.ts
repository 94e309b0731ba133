/** A clock tests can freeze and move. */
export class TestClock {
  constructor(public ms = Date.UTC(2026, 0, 15, 10, 0, 0)) {}
  now = (): Date => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Deterministic ids: test-1, test-2, … */
export function counterIds(prefix = 'id'): { newId(): string } {
  let n = 0;
  return { newId: () => `${prefix}-${++n}` };
}
