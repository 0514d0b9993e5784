// Durations and sizes as written in mesh.yaml (DESIGN §3): `500ms`, `1m30s`, `1.5s`, `10MiB`, `25MB`.
// Bare numbers are milliseconds for durations and bytes for sizes, so a value copied from a JSON config
// keeps its meaning.

import { ConfigError } from './errors.ts';

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

// One `<number><unit>` part; a compound duration is several parts in a row (`1h30m`, `1m 30s`).
const DURATION_PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/y;
const BARE_NUMBER = /^\d+(?:\.\d+)?$/;

export const DURATION_HINT = 'a duration like 500ms, 30s, 5m, 1h or 1d';
export const SIZE_HINT = 'a size like 512KiB, 10MiB or 25MB';

/** Milliseconds, or undefined when `value` is not a duration. Never throws. */
export function durationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (BARE_NUMBER.test(text)) return Math.round(Number(text));
  let total = 0;
  let index = 0;
  while (index < text.length) {
    DURATION_PART.lastIndex = index;
    const match = DURATION_PART.exec(text);
    if (!match) return undefined;
    const [all, amount = '', unit = ''] = match;
    const factor = DURATION_UNITS[unit];
    if (factor === undefined) return undefined;
    total += Number(amount) * factor;
    index += all.length;
    while (text[index] === ' ') index++;
  }
  return Math.round(total);
}

/** Milliseconds; throws ConfigError naming `path`. */
export function parseDuration(value: unknown, path: string): number {
  const ms = durationMs(value);
  if (ms === undefined) throw invalid(path, DURATION_HINT, value);
  return ms;
}

// Binary units are powers of 1024, SI units powers of 1000, matched case-insensitively (`100kb`).
const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};
const SIZE = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

/** Bytes, or undefined when `value` is not a size. Never throws. */
export function sizeBytes(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const match = SIZE.exec(value.trim());
  if (!match) return undefined;
  const [, amount = '', unit = ''] = match;
  const factor = unit === '' ? 1 : SIZE_UNITS[unit.toLowerCase()];
  if (factor === undefined) return undefined;
  return Math.round(Number(amount) * factor);
}

/** Bytes; throws ConfigError naming `path`. */
export function parseSize(value: unknown, path: string): number {
  const bytes = sizeBytes(value);
  if (bytes === undefined) throw invalid(path, SIZE_HINT, value);
  return bytes;
}

/** How a wrong value is shown in an error: JSON for scalars, `a list` / `a mapping` for containers. */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'a mapping';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return JSON.stringify(value) ?? String(value);
}

function invalid(path: string, hint: string, value: unknown): ConfigError {
  return new ConfigError(`${path}: expected ${hint}, got ${describeValue(value)}`, { path });
}
