// Counters kept per fixed time window (a minute, a UTC day, a UTC month): client rpm/tpm/budgets, model quotas,
// provider budgets. The key names the counter and its window (`client:app1:rpm:1764660000000`); a counter is
// forgotten once its window has ended. This is the seam shared state uses (DESIGN §11): the in-process
// implementation below, and a Redis/Valkey one that batches increments and reads totals of all instances back.
import type { Clock } from './clock.ts';

export interface WindowCounters {
  /**
   * Add `amount` (may be fractional: USD) to counter `key`, whose window ends at `expiresAt` (epoch ms).
   * `now`: the caller's clock reading when it has one (a request reads the clock once, not per counter).
   */
  add(key: string, amount: number, expiresAt: number, now?: number): void;
  /** The counter's total as far as this instance knows it (0 for an unknown or ended window). */
  get(key: string, now?: number): number;
}

/** In-process counters: exact for one instance. */
export class LocalWindowCounters implements WindowCounters {
  readonly #clock: Clock;
  readonly #values = new Map<string, { value: number; expiresAt: number }>();
  #sweepAt = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  add(key: string, amount: number, expiresAt: number, now = this.#clock.now()): void {
    this.#sweep(now);
    const entry = this.#values.get(key);
    if (entry === undefined || entry.expiresAt <= now) this.#values.set(key, { value: amount, expiresAt });
    else entry.value += amount;
  }

  get(key: string, now?: number): number {
    const entry = this.#values.get(key);
    if (entry === undefined || entry.expiresAt <= (now ?? this.#clock.now())) return 0;
    return entry.value;
  }

  /** Drops ended windows at most once a minute, so the map stays bounded by the live windows. */
  #sweep(now: number): void {
    if (now < this.#sweepAt) return;
    this.#sweepAt = now + 60_000;
    for (const [key, entry] of this.#values) if (entry.expiresAt <= now) this.#values.delete(key);
  }
}
