import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dayWindow, formatReset, minuteWindow, monthWindow } from '../../src/clients/windows.ts';

test('reset durations are written the way OpenAI writes them', () => {
  const cases: [number, string][] = [
    [0, '0ms'], [12, '12ms'], [999.2, '1s'], [1000, '1s'], [1574, '1.574s'],
    [59_999, '59.999s'], [1050, '1.05s'], [1005, '1.005s'], [2100, '2.1s'], [61_001, '1m1.001s'], [60_000, '1m0s'], [360_000, '6m0s'], [90_500, '1m30.5s'], [3_723_000, '1h2m3s'], [-5, '0ms'],
  ];
  for (const [ms, text] of cases) assert.equal(formatReset(ms), text, String(ms));
  // Every millisecond of a minute, against the arithmetic definition (seconds as a decimal, no trailing zeros).
  for (let ms = 1000; ms < 60_000; ms++) assert.equal(formatReset(ms), `${ms / 1000}s`, String(ms));
});

test('minute, UTC day and UTC month windows', () => {
  const t = Date.UTC(2026, 11, 31, 23, 59, 30, 250);
  assert.deepEqual(minuteWindow(t), { start: Date.UTC(2026, 11, 31, 23, 59), end: Date.UTC(2027, 0, 1) });
  assert.deepEqual(dayWindow(t), { start: Date.UTC(2026, 11, 31), end: Date.UTC(2027, 0, 1) });
  assert.deepEqual(monthWindow(t), { start: Date.UTC(2026, 11, 1), end: Date.UTC(2027, 0, 1) });
  // The cached month moves with time, both ways.
  assert.deepEqual(monthWindow(Date.UTC(2027, 0, 1)), { start: Date.UTC(2027, 0, 1), end: Date.UTC(2027, 1, 1) });
  assert.deepEqual(monthWindow(Date.UTC(2028, 1, 29, 12)), { start: Date.UTC(2028, 1, 1), end: Date.UTC(2028, 2, 1) });
  assert.deepEqual(monthWindow(t).start, Date.UTC(2026, 11, 1));
});
