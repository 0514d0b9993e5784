// nestingBeyond's bound (issue 16): when the text holds no more `{`/`[` than the limit it answers -1 without
// the character scan; at one bracket more the scan runs and finds the offset.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nestingBeyond } from '../../src/lib/json-syntax.ts';

test('nestingBeyond: at most `max` brackets is never too deep; one more nested bracket is found at its offset', () => {
  assert.equal(nestingBeyond('[[1]]', 2), -1);
  assert.equal(nestingBeyond('{"a":[1]}', 2), -1);
  assert.equal(nestingBeyond('[[[1]]]', 2), 2);
  assert.equal(nestingBeyond('{"a":{"b":[0]}}', 2), 10);
  // Brackets in strings count towards the bound but not the depth: the scan decides.
  assert.equal(nestingBeyond('{"a":"[[[["}', 2), -1);
  const prompt = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(100_000) }] });
  assert.equal(nestingBeyond(prompt, 3), -1);
  assert.equal(nestingBeyond(prompt, 2), 25);
});
