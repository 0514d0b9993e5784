// Window counters shared by every instance through Redis (issue 13 §3-§5), with no Redis round trip on the
// request path: add() only accumulates locally; a flush every `flushIntervalMs` sends, per batch of keys, ONE
// script call (EVALSHA, pipelined with the other batches) that adds each key's pending delta with INCRBYFLOAT,
// sets it to expire at its window end with PEXPIREAT, and returns the totals of all instances, which are
// kept. get() is the last known total plus what this instance counted since. Keys this instance holds are in
// every flush (delta 0 when idle), so its totals stay fresh while it has no traffic of its own for them.
//
// Redis down: add() keeps counting locally and get() keeps answering (last known total + local counts), so
// traffic never stops; the first flush after reconnection adds what was counted meanwhile (reconciliation).
// Redis restarted without persistence (or evicted our keys): the script keeps an epoch key, created when
// missing; a new epoch means earlier counts are gone, so each instance adds back what it had contributed to
// every live window, and the shared totals are rebuilt within a flush or two.
// A flush whose reply is lost (timeout, connection reset) is counted again at the next one: it may have run,
// so an outage can count a little more than was accepted, never less.
//
// Overshoot bound. Each instance decides on the totals it read at its last flush plus its own unflushed
// counts; what it cannot see is what the other instances accepted since their last flush before that read.
// So per flush interval, up to (N−1) × (what one other instance accepts in one interval) can pass a limit
// when the instances flush in step; when their flushes are out of phase, the unseen part spans up to two
// intervals (the other's unflushed interval plus our stale one), so the worst case is (N−1) × (what one
// other instance accepts in two intervals), plus what is accepted during one round trip. With Redis down,
// each instance enforces the limit on its own counts alone: up to N × the limit in total.
import { systemClock, type Clock, type TimerHandle } from '../../lib/clock.ts';
import type { WindowCounters } from '../../lib/window-counters.ts';
import type { RedisClient } from './client.ts';
import { RedisScript } from './script.ts';
import { randomUUID } from 'node:crypto';

/**
 * KEYS[1] is the epoch key, set to ARGV[1] when missing; KEYS[i] (i > 1) gets ARGV[2i-2] added and expires at
 * ARGV[2i-1] (epoch ms). Returns the epoch, then every new total in KEYS order.
 */
export const FLUSH_SCRIPT = new RedisScript(`local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
end
local out = { epoch }
for i = 2, #KEYS do
  out[i] = redis.call('INCRBYFLOAT', KEYS[i], ARGV[2 * i - 2])
  redis.call('PEXPIREAT', KEYS[i], ARGV[2 * i - 1])
end
return out`);

export interface RedisWindowCountersOptions {
  client: RedisClient;
  /** Prepended to every counter key, e.g. `modelmesh:counters:`. */
  keyPrefix: string;
  /** Default 100 ms. */
  flushIntervalMs?: number;
  /** Keys per script call (one EVALSHA each, all pipelined). Default 256. */
  batchSize?: number;
  clock?: Clock;
  /** A flush failed (Redis down is not reported here: flushes simply wait for 'up'). */
  onFlushError?: (error: Error) => void;
}

interface Counter {
  /** Total of all instances as of the last flush that answered (our flushed counts included). */
  remote: number;
  /** Counted here since, not sent yet. */
  pending: number;
  /** Sent in the flush in flight, not confirmed yet. */
  sending: number;
  /** This instance's confirmed counts in Redis (added back if Redis loses them). */
  contributed: number;
  expiresAt: number;
}

export class RedisWindowCounters implements WindowCounters {
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #interval: number;
  readonly #batchSize: number;
  readonly #clock: Clock;
  readonly #onFlushError: (error: Error) => void;
  readonly #counters = new Map<string, Counter>();
  #timer: TimerHandle | null = null;
  #flushing: Promise<void> | null = null;
  #next: Promise<void> | null = null;
  #closed = false;
  /** The epoch Redis reported last (null before the first flush). */
  #epoch: string | null = null;
  readonly #offUp: () => void;

  constructor(options: RedisWindowCountersOptions) {
    this.#client = options.client;
    this.#prefix = options.keyPrefix;
    this.#interval = options.flushIntervalMs ?? 100;
    this.#batchSize = options.batchSize ?? 256;
    this.#clock = options.clock ?? systemClock;
    this.#onFlushError = options.onFlushError ?? (() => {});
    // Reconciliation: what was counted during an outage goes out as soon as Redis is back.
    this.#offUp = this.#client.on('up', () => void this.flush());
    this.#schedule();
  }

  add(key: string, amount: number, expiresAt: number, now = this.#clock.now()): void {
    const counter = this.#counters.get(key);
    if (counter === undefined || counter.expiresAt <= now) this.#counters.set(key, { remote: 0, pending: amount, sending: 0, contributed: 0, expiresAt });
    else counter.pending += amount;
  }

  get(key: string, now?: number): number {
    const counter = this.#counters.get(key);
    if (counter === undefined || counter.expiresAt <= (now ?? this.#clock.now())) return 0;
    return counter.remote + counter.sending + counter.pending;
  }

  /** Sends pending counts and reads totals back now (also runs every flush interval). Never rejects. */
  flush(): Promise<void> {
    // A flush in flight may have snapshotted before the caller's counts: run one more after it (at most one).
    if (this.#next !== null) return this.#next;
    if (this.#flushing !== null) {
      this.#next = this.#flushing.then(() => {
        this.#next = null;
        return this.flush();
      });
      return this.#next;
    }
    if (!this.#client.up) return Promise.resolve();
    this.#flushing = this.#flushNow().finally(() => (this.#flushing = null));
    return this.#flushing;
  }

  /** Stops the timer and makes a last flush (shutdown). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer?.cancel();
    this.#offUp();
    await this.flush();
  }

  async #flushNow(): Promise<void> {
    const now = this.#clock.now();
    const batch: [string, Counter][] = [];
    for (const [key, counter] of this.#counters) {
      if (counter.expiresAt <= now) this.#counters.delete(key); // the window ended: nothing to share any more
      else batch.push([key, counter]);
    }
    const calls: Promise<void>[] = [];
    for (let i = 0; i < batch.length; i += this.#batchSize) calls.push(this.#send(batch.slice(i, i + this.#batchSize)));
    await Promise.all(calls);
  }

  async #send(batch: [string, Counter][]): Promise<void> {
    const keys: string[] = [`${this.#prefix}epoch`];
    // A fresh proposal each call: a fixed one per instance would recreate the same epoch after a restart
    // whenever the instance that created it first flushes first again, and the loss would go unseen.
    const args: (string | number)[] = [randomUUID()];
    for (const [key, counter] of batch) {
      counter.sending = counter.pending;
      counter.pending = 0;
      keys.push(this.#prefix + key);
      args.push(String(counter.sending), counter.expiresAt);
    }
    try {
      const reply = await this.#client.evalScript(FLUSH_SCRIPT, keys, args);
      if (!Array.isArray(reply) || reply.length !== batch.length + 1 || typeof reply[0] !== 'string') {
        throw new Error('the flush script returned an unexpected reply');
      }
      this.#checkEpoch(reply[0]);
      for (const [i, [, counter]] of batch.entries()) {
        const total = Number(reply[i + 1]);
        counter.remote = Number.isFinite(total) ? total : counter.remote + counter.sending;
        counter.contributed += counter.sending;
        counter.sending = 0;
      }
    } catch (error) {
      // Not confirmed: count it again next time (it may have run; see the header on double counting).
      for (const [, counter] of batch) {
        counter.pending += counter.sending;
        counter.sending = 0;
      }
      this.#onFlushError(error as Error);
    }
  }

  /** A new epoch: Redis lost what we had contributed; add it back (get() stays the same meanwhile). */
  #checkEpoch(epoch: string): void {
    const previous = this.#epoch;
    this.#epoch = epoch;
    if (previous === null || previous === epoch) return;
    for (const counter of this.#counters.values()) {
      counter.pending += counter.contributed;
      counter.remote -= counter.contributed;
      counter.contributed = 0;
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#clock.setTimeout(() => {
      void this.flush().finally(() => this.#schedule());
    }, this.#interval);
  }
}
