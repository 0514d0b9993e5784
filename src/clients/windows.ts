// The windows client limits count in: fixed UTC minutes (rpm, tpm), UTC days and UTC months (budgets).
// Fixed windows, not sliding ones: one counter per window is what a shared backend (Redis INCRBY with an
// expiry) does in one round trip, and the reset time it announces is exact. The cost: a client may send up to
// twice its rpm across a minute boundary (the end of one window and the start of the next).

export const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

export interface Window {
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive: the window's counters are forgotten then. */
  end: number;
}

export function minuteWindow(now: number): Window {
  const start = now - (now % MINUTE_MS);
  return { start, end: start + MINUTE_MS };
}

/** Epoch ms count no leap seconds, so every UTC day is exactly DAY_MS long. */
export function dayWindow(now: number): Window {
  const start = now - (now % DAY_MS);
  return { start, end: start + DAY_MS };
}

// The month holding the last time asked about: admit and release ask on every request.
let month: Window = { start: 0, end: 0 };

export function monthWindow(now: number): Window {
  if (now < month.start || now >= month.end) {
    const d = new Date(now);
    month = { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
  }
  return month;
}

// The fraction of a second in formatReset, by milliseconds: '' for 0, '.5' for 500, '.05' for 50, '.574'.
// Read from a table, not printed from a float ((ms % 60000) / 1000 went through V8's double-to-string on
// every answer to a rate-limited client, issue 12 §7).
const FRACTIONS: readonly string[] = Array.from({ length: 1000 }, (_, ms) =>
  ms === 0 ? '' : `.${String(ms).padStart(3, '0').replace(/0+$/, '')}`);

/**
 * A time until reset as OpenAI writes it in `x-ratelimit-reset-*` (Go's duration format): `12ms`, `1s`,
 * `1.574s`, `6m0s`, `1h2m3s`.
 */
export function formatReset(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const inMinute = total % 60_000;
  const seconds = `${Math.floor(inMinute / 1000)}${FRACTIONS[inMinute % 1000] as string}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  return minutes > 0 ? `${minutes}m${seconds}` : seconds;
}
