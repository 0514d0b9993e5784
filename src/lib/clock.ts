import type { CancelSignal } from './cancel.ts';

// Time is injected (issue: rotation policies §5) so cooldowns, windows, quota resets and probes are
// tested without sleeping. Production code takes a Clock; tests pass a ManualClock and advance it.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Run `fn` after `ms`; the timer never keeps the process alive. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

/** Node's timers hold at most 2^31-1 ms (24.8 days); a longer one fires after 1 ms with a warning. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    if (ms > MAX_TIMER_MS) return longTimeout(fn, ms);
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/** A timer past MAX_TIMER_MS, as a chain of the longest ones Node holds (a config may ask for 30 days). */
export function longTimeout(fn: () => void, ms: number): TimerHandle {
  let t: NodeJS.Timeout;
  const arm = (left: number): void => {
    t = setTimeout(() => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : fn()), Math.min(left, MAX_TIMER_MS));
    t.unref();
  };
  arm(ms);
  return { cancel: () => clearTimeout(t) };
}

/** A clock that moves only when told to; timers fire in due order during advance(). */
export class ManualClock implements Clock {
  #current: number;
  #seq = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#current = start;
  }

  now(): number {
    return this.#current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#current + Math.max(0, ms), fn });
    return { cancel: () => void this.#timers.delete(id) };
  }

  /** Move time forward, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.#current + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#current = next[1].at;
      next[1].fn();
    }
    this.#current = target;
  }

  /** Jump to an absolute time (e.g. just past midnight UTC). */
  set(epochMs: number): void {
    this.advance(Math.max(0, epochMs - this.#current));
  }

  get pending(): number {
    return this.#timers.size;
  }
}

/** Promise-returning sleep on a clock, rejected with `reason` when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: CancelSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
