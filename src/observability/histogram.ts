// Fixed-size latency histograms: memory stays constant whatever the traffic (no per-request array).
//
// LatencyHistogram: log-spaced buckets, each 10% wider than the previous, from 1 ms to about an hour, so a
// percentile read from it is off by at most one bucket width (<= 10% of the value), the same trade-off as
// HdrHistogram / DDSketch with a fixed relative accuracy.
//
// PromHistogram: the few fixed `le` bounds of the Prometheus histogram (exposition format 0.0.4,
// https://prometheus.io/docs/instrumenting/exposition_formats/), counts kept per bucket and made
// cumulative when rendered.

/** Bucket growth factor: relative resolution of the percentiles. */
const GROWTH = 1.1;
const LOG_GROWTH = Math.log(GROWTH);
/** Enough buckets to reach GROWTH^159 ≈ 3.9e6 ms (> 1 h); slower samples land in the last one. */
export const LATENCY_BUCKETS = 160;

export class LatencyHistogram {
  readonly counts = new Float64Array(LATENCY_BUCKETS);
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  /** Records one sample in milliseconds. O(1). */
  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const i = ms <= 1 ? 0 : Math.min(LATENCY_BUCKETS - 1, Math.ceil(Math.log(ms) / LOG_GROWTH));
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.count++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /**
   * The q-quantile (0 < q <= 1) in ms: the upper bound of the bucket holding the sample of rank ceil(q·n),
   * clamped to the observed min/max (exact when all samples are equal). 0 when empty.
   */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < LATENCY_BUCKETS; i++) {
      seen += this.counts[i] ?? 0;
      // The last bucket is open-ended: its only honest bound is the largest sample seen.
      if (seen >= rank) return i === LATENCY_BUCKETS - 1 ? this.max : Math.min(this.max, Math.max(this.min, GROWTH ** i));
    }
    return this.max;
  }
}

/** `le` bounds in seconds (a 5 ms … 5 min spread for API calls that take from a cache hit to a long generation). */
export const PROM_BOUNDS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export class PromHistogram {
  /** Per-bucket (not cumulative) counts; the last slot is the +Inf overflow. */
  readonly counts = new Float64Array(PROM_BOUNDS.length + 1);
  count = 0;
  /** Seconds. */
  sum = 0;

  observe(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) return;
    let i = 0;
    while (i < PROM_BOUNDS.length && seconds > (PROM_BOUNDS[i] as number)) i++;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.count++;
    this.sum += seconds;
  }

  /** Cumulative counts per bound, then +Inf (which equals `count`). */
  cumulative(): number[] {
    const out: number[] = [];
    let running = 0;
    for (const c of this.counts) out.push((running += c));
    return out;
  }
}
