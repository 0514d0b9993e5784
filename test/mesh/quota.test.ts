// Quota window date math (src/mesh/quota.ts): UTC day and month boundaries, maintenance windows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maintenanceAt, nextBoundary, scheduleWindow, windowStart } from '../../src/mesh/quota.ts';

const at = (iso: string): number => Date.parse(iso);

test('daily window: UTC midnight to UTC midnight, whatever the local time zone', () => {
  assert.equal(windowStart(at('2024-03-10T23:59:59.999Z'), 'daily'), at('2024-03-10T00:00:00Z'));
  assert.equal(windowStart(at('2024-03-11T00:00:00Z'), 'daily'), at('2024-03-11T00:00:00Z'));
  assert.equal(nextBoundary(at('2024-03-10T23:59:59.999Z'), 'daily'), at('2024-03-11T00:00:00Z'));
  // Strictly after: at the boundary itself the next one is a day later.
  assert.equal(nextBoundary(at('2024-03-11T00:00:00Z'), 'daily'), at('2024-03-12T00:00:00Z'));
  // The US and EU DST changes (2024-03-10, 2024-03-31) do not touch UTC days: always 24 h.
  for (const day of ['2024-03-10', '2024-03-31', '2024-10-27', '2024-11-03']) {
    assert.equal(nextBoundary(at(`${day}T12:00:00Z`), 'daily') - windowStart(at(`${day}T12:00:00Z`), 'daily'), 86_400_000, day);
  }
});

test('daily window across month and year ends, and 29 February', () => {
  assert.equal(nextBoundary(at('2024-01-31T10:00:00Z'), 'daily'), at('2024-02-01T00:00:00Z'));
  assert.equal(nextBoundary(at('2024-02-28T10:00:00Z'), 'daily'), at('2024-02-29T00:00:00Z'));
  assert.equal(nextBoundary(at('2023-02-28T10:00:00Z'), 'daily'), at('2023-03-01T00:00:00Z'));
  assert.equal(nextBoundary(at('2024-12-31T23:00:00Z'), 'daily'), at('2025-01-01T00:00:00Z'));
});

test('monthly window: the 1st 00:00 UTC, months of every length, year end', () => {
  assert.equal(windowStart(at('2024-02-29T23:59:59Z'), 'monthly'), at('2024-02-01T00:00:00Z'));
  assert.equal(nextBoundary(at('2024-02-29T23:59:59Z'), 'monthly'), at('2024-03-01T00:00:00Z'));
  assert.equal(nextBoundary(at('2023-02-15T00:00:00Z'), 'monthly'), at('2023-03-01T00:00:00Z'));
  assert.equal(nextBoundary(at('2024-04-30T12:00:00Z'), 'monthly'), at('2024-05-01T00:00:00Z'));
  assert.equal(nextBoundary(at('2024-12-31T23:59:59.999Z'), 'monthly'), at('2025-01-01T00:00:00Z'));
  assert.equal(nextBoundary(at('2024-03-01T00:00:00Z'), 'monthly'), at('2024-04-01T00:00:00Z'));
  assert.equal(windowStart(at('2024-03-01T00:00:00Z'), 'monthly'), at('2024-03-01T00:00:00Z'));
});

test('quota_reset_schedule maps to its window', () => {
  assert.equal(scheduleWindow('monthly'), 'monthly');
  assert.equal(scheduleWindow('daily_utc'), 'daily');
});

test('maintenance window within a day: inside, before and after', () => {
  const w = '02:00-04:00';
  assert.deepEqual(maintenanceAt(w, at('2024-05-01T03:00:00Z')), { inside: true, end: at('2024-05-01T04:00:00Z'), nextStart: at('2024-05-02T02:00:00Z') });
  assert.deepEqual(maintenanceAt(w, at('2024-05-01T01:59:00Z')), { inside: false, end: at('2024-05-01T04:00:00Z'), nextStart: at('2024-05-01T02:00:00Z') });
  assert.deepEqual(maintenanceAt(w, at('2024-05-01T04:00:00Z')), { inside: false, end: at('2024-05-01T04:00:00Z'), nextStart: at('2024-05-02T02:00:00Z') });
  assert.equal(maintenanceAt(w, at('2024-05-01T02:00:00Z')).inside, true, 'the start is inside');
});

test('maintenance window across midnight: the evening part, the morning part (yesterday\'s occurrence), outside', () => {
  const w = '23:00-01:00';
  assert.deepEqual(maintenanceAt(w, at('2024-05-01T23:30:00Z')), { inside: true, end: at('2024-05-02T01:00:00Z'), nextStart: at('2024-05-02T23:00:00Z') });
  assert.deepEqual(maintenanceAt(w, at('2024-05-02T00:30:00Z')), { inside: true, end: at('2024-05-02T01:00:00Z'), nextStart: at('2024-05-02T23:00:00Z') });
  assert.deepEqual(maintenanceAt(w, at('2024-05-02T01:00:00Z')), { inside: false, end: at('2024-05-03T01:00:00Z'), nextStart: at('2024-05-02T23:00:00Z') });
  assert.equal(maintenanceAt(w, at('2024-05-02T12:00:00Z')).inside, false);
  // Across a month and a year end.
  assert.deepEqual(maintenanceAt(w, at('2025-01-01T00:15:00Z')), { inside: true, end: at('2025-01-01T01:00:00Z'), nextStart: at('2025-01-01T23:00:00Z') });
});

test('a window ending at 00:00 ends at the next midnight', () => {
  assert.deepEqual(maintenanceAt('22:00-00:00', at('2024-05-01T23:59:00Z')), { inside: true, end: at('2024-05-02T00:00:00Z'), nextStart: at('2024-05-02T22:00:00Z') });
  assert.equal(maintenanceAt('22:00-00:00', at('2024-05-02T00:00:00Z')).inside, false);
});
