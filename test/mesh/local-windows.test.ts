// The counter side of the quota and spend windows (src/mesh/local-windows.ts): totals read max(own record,
// counter), an operator reset subtracts what the counters held, spend counts only what cost something.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/clock.ts';
import { LocalWindowCounters, type WindowCounters } from '../../src/lib/window-counters.ts';
import { CounterWindows } from '../../src/mesh/local-windows.ts';
import type { ModelState, ProviderState } from '../../src/mesh/state.ts';

const HOUR = 3_600_000;

function record(requests: number, tokens: number, cost: number): ModelState {
  return { window_requests: requests, window_tokens: tokens, window_cost: cost } as ModelState;
}

function setup(): { clock: ManualClock; counters: WindowCounters; windows: CounterWindows; end: number } {
  const clock = new ManualClock();
  const counters = new LocalWindowCounters(clock);
  return { clock, counters, windows: new CounterWindows(counters), end: clock.now() + HOUR };
}

test('before any usage the totals are the record\'s own (a window restored from the state file)', () => {
  const { windows } = setup();
  assert.deepEqual(windows.windowTotals('a.m', record(3, 30, 0.5)), { requests: 3, tokens: 30, cost: 0.5 });
});

test('usage counts in the counters; the totals take the larger of record and counter', () => {
  const { windows, counters, end } = setup();
  const usage = { tokens: 100, cost: 0.25, windowEnd: end, dayEnd: end, monthEnd: end };
  windows.addModelUsage('a.m', usage);
  windows.addModelUsage('a.m', usage);
  assert.equal(counters.get(`model:a.m:requests:${end}`), 2);
  assert.deepEqual(windows.windowTotals('a.m', record(1, 100, 0.25)), { requests: 2, tokens: 200, cost: 0.5 });
  // Another instance counted more (a shared counter): the counter wins; a record ahead of it wins too.
  counters.add(`model:a.m:tokens:${end}`, 1000, end);
  assert.deepEqual(windows.windowTotals('a.m', record(5, 0, 0)), { requests: 5, tokens: 1200, cost: 0.5 });
});

test('an operator reset subtracts what the counters held at that moment, for the rest of the window', () => {
  const { windows, end } = setup();
  const usage = { tokens: 10, cost: 1, windowEnd: end, dayEnd: end, monthEnd: end };
  windows.addModelUsage('a.m', usage);
  windows.resetWindow('a.m');
  assert.deepEqual(windows.windowTotals('a.m', record(0, 0, 0)), { requests: 0, tokens: 0, cost: 0 });
  windows.addModelUsage('a.m', usage);
  assert.deepEqual(windows.windowTotals('a.m', record(1, 10, 1)), { requests: 1, tokens: 10, cost: 1 });
  windows.resetWindow('unknown.m'); // no window yet: nothing to subtract, no throw
});

test('spend goes to the provider\'s day and month counters only when it cost something', () => {
  const { windows, counters, end } = setup();
  const p = { day: '2026-01-01', month: '2026-01', spend_daily: 0, spend_monthly: 0 } as ProviderState;
  windows.addSpend('acme', p, { tokens: 10, cost: 0, windowEnd: end, dayEnd: end, monthEnd: end });
  assert.equal(counters.get('provider:acme:spend:2026-01-01'), 0);
  windows.addSpend('acme', p, { tokens: 10, cost: 2.5, windowEnd: end, dayEnd: end, monthEnd: end });
  assert.deepEqual(windows.spendTotals('acme', p), { daily: 2.5, monthly: 2.5 });
  assert.deepEqual(windows.spendTotals('acme', { ...p, spend_daily: 4, spend_monthly: 1 }), { daily: 4, monthly: 2.5 });
});
