/**
 * Time as the egress client sees it. Injected so breaker and rate-limit timing is tested with a
 * manual clock instead of sleeps (STYLE.md: no sleeping tests).
 */
export interface Clock {
  now(): number
  sleep(ms: number): Promise<void>
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
}

/** A clock that only moves when told to; `sleep` advances it at once and records the wait. */
export class ManualClock implements Clock {
  private t: number
  readonly sleeps: number[] = []
  constructor(start = 1_700_000_000_000) {
    this.t = start
  }
  now(): number {
    return this.t
  }
  advance(ms: number): void {
    this.t += ms
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms)
    this.t += ms
  }
}
