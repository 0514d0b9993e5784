// Fixed-size log-linear latency histogram (values in microseconds).
// Values < 128 µs are exact; above that each power of two is split into 64
// linear sub-buckets (≤ 1.6 % relative error). Memory is constant (1,664 slots)
// no matter how many samples are recorded.

const SUB_BUCKETS = 64;
const LINEAR_LIMIT = 128; // 2 * SUB_BUCKETS
const MAX_EXPONENT = 30; // values are clamped below 2^31 µs (~35 min)
const SLOT_COUNT = LINEAR_LIMIT + (MAX_EXPONENT - 6) * SUB_BUCKETS;
const MAX_VALUE = 2 ** 31 - 1;

export interface LatencySummary {
  count: number;
  minMs: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

function slotOf(us: number): number {
  if (us < LINEAR_LIMIT) return us;
  const exponent = 31 - Math.clz32(us); // >= 7
  const shift = exponent - 6;
  const mantissa = us >>> shift; // in [64, 128)
  return LINEAR_LIMIT + (exponent - 7) * SUB_BUCKETS + (mantissa - SUB_BUCKETS);
}

/** Midpoint (µs) of the values that map to `slot`. */
function valueOf(slot: number): number {
  if (slot < LINEAR_LIMIT) return slot;
  const rel = slot - LINEAR_LIMIT;
  const exponent = Math.floor(rel / SUB_BUCKETS) + 7;
  const mantissa = (rel % SUB_BUCKETS) + SUB_BUCKETS;
  const shift = exponent - 6;
  const low = mantissa * 2 ** shift;
  return low + (2 ** shift - 1) / 2;
}

export class Histogram {
  readonly #slots = new Float64Array(SLOT_COUNT);
  #total = 0;
  #sumUs = 0;
  #minUs = Number.POSITIVE_INFINITY;
  #maxUs = 0;

  /** Record one latency given in milliseconds (e.g. a performance.now() delta). */
  recordMs(ms: number): void {
    let us = Math.round(ms * 1000);
    if (!(us >= 0)) us = 0;
    if (us > MAX_VALUE) us = MAX_VALUE;
    const slot = slotOf(us);
    this.#slots[slot] = (this.#slots[slot] ?? 0) + 1;
    this.#total += 1;
    this.#sumUs += us;
    if (us < this.#minUs) this.#minUs = us;
    if (us > this.#maxUs) this.#maxUs = us;
  }

  get count(): number {
    return this.#total;
  }

  /** Value in ms at quantile q (0..1); exact min/max at the ends. */
  quantileMs(q: number): number {
    if (this.#total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.#total));
    let seen = 0;
    for (let i = 0; i < SLOT_COUNT; i++) {
      seen += this.#slots[i] ?? 0;
      if (seen >= rank) {
        const v = Math.min(Math.max(valueOf(i), this.#minUs), this.#maxUs);
        return v / 1000;
      }
    }
    return this.#maxUs / 1000;
  }

  summary(): LatencySummary {
    const empty = this.#total === 0;
    return {
      count: this.#total,
      minMs: empty ? Number.NaN : this.#minUs / 1000,
      meanMs: empty ? Number.NaN : this.#sumUs / this.#total / 1000,
      p50Ms: this.quantileMs(0.5),
      p90Ms: this.quantileMs(0.9),
      p99Ms: this.quantileMs(0.99),
      p999Ms: this.quantileMs(0.999),
      maxMs: empty ? Number.NaN : this.#maxUs / 1000,
    };
  }
}
