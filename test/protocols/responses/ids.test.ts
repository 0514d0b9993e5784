import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../../src/protocols/responses/ids.ts';

test('ids: prefix and 48 hex digits, unique across pool refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 600; i++) {
    const id = newId(i % 2 === 0 ? 'resp' : 'fc');
    assert.match(id, /^(resp|fc)_[0-9a-f]{48}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 600);
  assert.match(newId('msg'), /^msg_/);
  assert.match(newId('call'), /^call_/);
});
