import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from '../../../src/storage/redis/link.ts';

test('reconnect backoff doubles from the minimum, is capped at the maximum, and is jittered within [half, full]', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 10, 60].map((n) => backoffDelay(n, 50, 2000, () => 1)), [50, 100, 200, 400, 800, 2000, 2000]);
  assert.deepEqual([0, 3, 60].map((n) => backoffDelay(n, 50, 2000, () => 0)), [25, 200, 1000]);
  for (let i = 0; i < 100; i++) {
    const delay = backoffDelay(5, 50, 2000);
    assert.ok(delay >= 800 && delay <= 1600, String(delay));
  }
});
