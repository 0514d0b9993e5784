import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateMessageTokens, estimateTokens } from '../../src/lib/tokens.ts';
import { messagesText } from '../../src/providers/simulated/content.ts';

test('estimateTokens: about four UTF-16 units a token, rounded up', () => {
  assert.equal(estimateTokens(''), 0);
  assert.equal(estimateTokens('abc'), 1);
  assert.equal(estimateTokens('abcd'), 1);
  assert.equal(estimateTokens('abcde'), 2);
});

test('estimateMessageTokens counts string and text-part content, ignores the rest', () => {
  const messages = [
    { role: 'system', content: 'x'.repeat(40) },
    { role: 'user', content: [{ type: 'text', text: 'y'.repeat(20) }, { type: 'image_url', image_url: { url: 'data:...' } }] },
    { role: 'assistant', content: null, tool_calls: [] },
    'not a message',
  ];
  assert.equal(estimateMessageTokens(messages), 15);
  assert.equal(estimateMessageTokens('nope'), 0);
  // Same order of magnitude as estimating the joined prompt text (which adds one separator per message).
  assert.ok(Math.abs(estimateMessageTokens(messages) - estimateTokens(messagesText(messages))) <= 1);
});
