// The timeouts of one h1 exchange on a single timer (issue 16: three setTimeout/clearTimeout pairs and a
// refresh() per chunk were ~1.8% of a sync request). Each timeout is a deadline; the one timer is armed at
// the nearest and, when it fires before anything is due (the idle deadline moved on with the data, or was
// stopped), re-armed at the nearest again. A deadline is due once Date.now() reaches it, so no timeout
// fires before its configured time. The first arming uses `tickMs` (the shortest configured timeout) when
// that is sooner: every later deadline is at least that far from the start, so a request that ends in
// milliseconds costs one setTimeout and one clearTimeout.

import type { ProviderTimeouts } from '../../../config/types.ts';
import { MAX_TIMER_MS } from '../../../lib/clock.ts';

export type Deadline = 'connect' | 'first byte' | 'idle' | 'total' | 'release';

/** A timeout of 0 (or not finite) is disabled. */
export const timeoutOn = (ms: number): boolean => ms > 0 && Number.isFinite(ms);

/** The configured timeout behind `what`. */
export const timeoutOf = (t: ProviderTimeouts, what: 'connect' | 'first byte' | 'idle' | 'total'): number =>
  t[what === 'first byte' ? 'first_byte' : what];

/** The shortest timeout that is on (the first arming's tick); Infinity when none is. */
export function shortestTimeout(t: ProviderTimeouts): number {
  let min = Infinity;
  for (const ms of [t.connect, t.first_byte, t.idle, t.total]) if (timeoutOn(ms) && ms < min) min = ms;
  return min;
}

const KINDS: readonly Deadline[] = ['connect', 'first byte', 'idle', 'total', 'release'];
/** setTimeout's largest delay; a longer one would fire after 1ms. The handler re-arms for the rest. */
const MAX_DELAY = MAX_TIMER_MS;

export class Deadlines {
  readonly #onDue: (what: Deadline) => void;
  readonly #tickMs: number;
  /** Epoch ms at which each timeout is due; 0 = not running. */
  readonly #at: Record<Deadline, number> = { connect: 0, 'first byte': 0, idle: 0, total: 0, release: 0 };
  #idleMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = 0;
  readonly #fire = (): void => this.#check();

  constructor(onDue: (what: Deadline) => void, tickMs: number) {
    this.#onDue = onDue;
    this.#tickMs = tickMs;
  }

  /** Starts (or restarts) `what` to be due `ms` from now. */
  arm(what: Deadline, ms: number): void {
    const now = Date.now();
    const at = now + ms;
    this.#at[what] = at;
    if (what === 'idle') this.#idleMs = ms;
    if (this.#timer === undefined) this.#schedule(Math.min(at, now + this.#tickMs), now);
    else if (at < this.#timerAt) this.#schedule(at, now);
  }

  /** Stops `what` (the timer is left to fire and find nothing due: cheaper than re-arming it). */
  clear(what: Deadline): void {
    this.#at[what] = 0;
  }

  /** Data arrived: a running idle timeout starts over (what timer.refresh() did). */
  touch(): void {
    if (this.#at.idle !== 0) this.#at.idle = Date.now() + this.#idleMs;
  }

  /** No timeout matters any more. */
  stop(): void {
    for (const k of KINDS) this.#at[k] = 0;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(at: number, now: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(this.#fire, Math.min(Math.max(at - now, 1), MAX_DELAY));
  }

  #check(): void {
    this.#timer = undefined;
    const now = Date.now();
    let due: Deadline | undefined;
    let next = Infinity;
    for (const k of KINDS) {
      const at = this.#at[k];
      if (at === 0) continue;
      // The earliest of the ones due fires, as the separate timers would have.
      if (at <= now && (due === undefined || at < this.#at[due])) due = k;
      else if (at > now && at < next) next = at;
    }
    if (due !== undefined) {
      this.#at[due] = 0;
      this.#onDue(due); // normally ends the exchange (stop()); if not, the others still run
      next = Infinity;
      for (const k of KINDS) if (this.#at[k] !== 0 && this.#at[k] < next) next = this.#at[k];
    }
    if (next !== Infinity && this.#timer === undefined) this.#schedule(next, Date.now());
  }
}
