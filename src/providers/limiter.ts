/** A concurrency limit: at most N async tasks run at once, the rest wait in arrival order. */

export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`Limiter: max must be a positive integer, got ${max}`);
  }

  /** Runs `task` when a slot is free; the slot is released however the task ends. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter (active stays the same) or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/**
 * Maps `items` through `fn` with the limiter, keeping order. All items start (queued on the limiter); the first
 * failure is rethrown once every started task has settled, so no request is left running behind the caller's back.
 */
export async function mapLimited<T, R>(
  limiter: Limiter,
  items: readonly T[],
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const settled = await Promise.allSettled(items.map((it, i) => limiter.run(() => fn(it, i))));
  const out: R[] = [];
  for (const s of settled) {
    if (s.status === "rejected") throw s.reason;
    out.push(s.value);
  }
  return out;
}
