import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decimal } from '../../src/lib/decimal.ts';

test('decimal writes a number as String does: safe integers, and past 2^53, fractions and non-finite ones too', () => {
  const values = [0, -0, 1, 9, 10, 545, 99_999_950, 2 ** 31, 2 ** 32 + 7, 999_999_997_868, Number.MAX_SAFE_INTEGER, 2 ** 53, 2 ** 60, 1e20, 1e21, -42, 1.5, Number.NaN, Number.POSITIVE_INFINITY];
  for (let i = 0; i < 20_000; i++) values.push(i, 1e8 - i * 37, Math.floor(Math.random() * 1e15));
  for (const n of values) assert.equal(decimal(n), String(n), String(n));
});
