// What the status page draws (issue 17): per pool, the last minutes of request count, error count and p95
// latency in fixed time buckets, and the last routing decisions. Both are fed by request records and live in
// bounded memory: pools are configured names (direct model requests share one row), each with a fixed ring of
// buckets holding a fixed-size LatencyHistogram; the decision log is a ring of fixed capacity.
import type { Clock } from '../lib/clock.ts';
import { failoversOf, type AttemptRecord, type RequestEvent } from '../mesh/events.ts';
import { LatencyHistogram } from './histogram.ts';

/** The row of requests that named a model directly (no pool). */
export const DIRECT_POOL = '(direct)';

export interface SeriesBucket {
  /** Epoch ms the bucket starts. */
  at: number;
  requests: number;
  errors: number;
  /** 0 when the bucket has no request. */
  p95_ms: number;
}

export interface TimeseriesOptions {
  clock: Clock;
  /** @default 60_000 (one-minute buckets) */
  bucketMs?: number;
  /** @default 15 */
  buckets?: number;
  /** Rows kept at most (configured pools are few; this guards against surprises). @default 256 */
  maxPools?: number;
}

interface Slot {
  /** Bucket number (floor(at / bucketMs)) this slot holds; -1 when never used. */
  index: number;
  requests: number;
  errors: number;
  latency: LatencyHistogram;
}

export class PoolTimeseries {
  readonly bucketMs: number;
  readonly size: number;
  readonly #clock: Clock;
  readonly #maxPools: number;
  readonly #rows = new Map<string, Slot[]>();

  constructor(options: TimeseriesOptions) {
    this.#clock = options.clock;
    this.bucketMs = Math.max(1, options.bucketMs ?? 60_000);
    this.size = Math.max(1, options.buckets ?? 15);
    this.#maxPools = options.maxPools ?? 256;
  }

  /** O(1): one bucket of one pool. Records older than the window are ignored. */
  record(event: RequestEvent): void {
    const index = Math.floor(event.at / this.bucketMs);
    const current = Math.floor(this.#clock.now() / this.bucketMs);
    if (index <= current - this.size) return;
    const row = this.#row(event.pool ?? DIRECT_POOL);
    if (row === null) return;
    const slot = row[index % this.size] as Slot;
    if (slot.index !== index) {
      if (slot.index > index) return; // a late record for a slot already reused
      slot.index = index;
      slot.requests = 0;
      slot.errors = 0;
      slot.latency = new LatencyHistogram();
    }
    slot.requests++;
    if (event.outcome === 'failure') slot.errors++;
    slot.latency.record(event.latency_ms);
  }

  pools(): string[] {
    return [...this.#rows.keys()];
  }

  /** The window of `pool`, oldest bucket first, ending with the current one; empty buckets are zeros. */
  series(pool: string): SeriesBucket[] {
    const row = this.#rows.get(pool);
    const current = Math.floor(this.#clock.now() / this.bucketMs);
    const out: SeriesBucket[] = [];
    for (let index = current - this.size + 1; index <= current; index++) {
      const slot = row?.[((index % this.size) + this.size) % this.size];
      const live = slot !== undefined && slot.index === index;
      out.push({
        at: index * this.bucketMs,
        requests: live ? slot.requests : 0,
        errors: live ? slot.errors : 0,
        p95_ms: live ? Math.round(slot.latency.quantile(0.95) * 10) / 10 : 0,
      });
    }
    return out;
  }

  /** Every pool's window. */
  all(): Record<string, SeriesBucket[]> {
    const out: Record<string, SeriesBucket[]> = {};
    for (const pool of this.#rows.keys()) out[pool] = this.series(pool);
    return out;
  }

  #row(pool: string): Slot[] | null {
    let row = this.#rows.get(pool);
    if (row !== undefined) return row;
    if (this.#rows.size >= this.#maxPools) return null;
    row = Array.from({ length: this.size }, (): Slot => ({ index: -1, requests: 0, errors: 0, latency: new LatencyHistogram() }));
    this.#rows.set(pool, row);
    return row;
  }
}

export interface Decision {
  request_id: string;
  /** ISO time the request ended. */
  at: string;
  endpoint: string;
  pool: string | null;
  requested: string;
  model: string | null;
  provider: string | null;
  attempts: AttemptRecord[];
  /** Failed attempts before the answer (or before giving up). */
  failovers: number;
  outcome: RequestEvent['outcome'];
  status: number;
  error: string | null;
  latency_ms: number;
  client: string | null;
}

/** A decision as kept in the ring: `at` stays a number until read (toISOString per request showed in the profile). */
type Kept = Omit<Decision, 'at'> & { atMs: number };

/** The last `capacity` routing decisions, newest first when read. */
export class DecisionLog {
  readonly capacity: number;
  readonly #ring: (Kept | undefined)[];
  #next = 0;
  #count = 0;

  constructor(capacity = 100) {
    this.capacity = Math.max(1, capacity);
    this.#ring = new Array<Kept | undefined>(this.capacity);
  }

  /** O(attempts): the attempt list is copied (the record is the router's). Literals, no spreads: hot path. */
  record(event: RequestEvent, client: string | null = null): void {
    const attempts: AttemptRecord[] = [];
    for (const a of event.attempts) {
      attempts.push({ model: a.model, provider: a.provider, status: a.status, outcome: a.outcome, reason: a.reason, latency_ms: Math.round(a.latency_ms * 10) / 10 });
    }
    const failovers = failoversOf(event.attempts);
    this.#ring[this.#next] = {
      request_id: event.requestId, atMs: event.at, endpoint: event.endpoint, pool: event.pool,
      requested: event.requested, model: event.model, provider: event.provider, attempts, failovers,
      outcome: event.outcome, status: event.status, error: event.error,
      latency_ms: Math.round(event.latency_ms * 10) / 10, client,
    };
    this.#next = (this.#next + 1) % this.capacity;
    this.#count = Math.min(this.capacity, this.#count + 1);
  }

  get size(): number {
    return this.#count;
  }

  /** Newest first. */
  list(): Decision[] {
    const out: Decision[] = [];
    for (let i = 1; i <= this.#count; i++) {
      const d = this.#ring[(this.#next - i + this.capacity) % this.capacity];
      if (d === undefined) continue;
      out.push({
        request_id: d.request_id, at: new Date(d.atMs).toISOString(), endpoint: d.endpoint, pool: d.pool,
        requested: d.requested, model: d.model, provider: d.provider, attempts: d.attempts, failovers: d.failovers,
        outcome: d.outcome, status: d.status, error: d.error, latency_ms: d.latency_ms, client: d.client,
      });
    }
    return out;
  }
}
