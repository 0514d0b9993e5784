import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError } from '../../../src/errors.ts';
import { countTokens, MEDIA_TOKENS } from '../../../src/protocols/messages/count-tokens.ts';
import { jsonChars } from '../../../src/protocols/messages/common.ts';

describe('countTokens', () => {
  it('counts system, message text, tool use and results, tools, and media', () => {
    assert.deepEqual(countTokens({ model: 'm', messages: [{ role: 'user', content: 'abcdefgh' }] }), { input_tokens: 2 });
    const tool = { name: 'get_weather', description: 'Weather', input_schema: { type: 'object' } };
    const body = {
      model: 'm',
      system: [{ type: 'text', text: 'x'.repeat(40) }],
      tools: [tool],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'y'.repeat(40) }, { type: 'image', source: { type: 'url', url: 'u' } }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'get_weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'z'.repeat(8) }] }] },
        { role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBE' } }] },
      ],
    };
    const chars = 40 + 40 + 'get_weather'.length + jsonChars({ city: 'Paris' }) + 8 + jsonChars(tool);
    assert.deepEqual(countTokens(body), { input_tokens: Math.ceil(chars / 4) + 2 * MEDIA_TOKENS });
  });

  it('jsonChars approximates JSON.stringify length', () => {
    const value = { type: 'object', properties: { city: { type: 'string', enum: ['a', 'b'] }, n: { type: 'integer', minimum: 1 } }, required: ['city'] };
    const exact = JSON.stringify(value).length;
    assert.ok(Math.abs(jsonChars(value) - exact) / exact < 0.25, `${jsonChars(value)} vs ${exact}`);
  });

  it('validates model and messages with Anthropic wording (max_tokens not required)', () => {
    const bad = (body: unknown, message: string): void => {
      assert.throws(() => countTokens(body), (err: unknown) => err instanceof MeshError && err.status === 400 && err.message === message);
    };
    bad(null, 'body: Input should be a valid dictionary');
    bad({ messages: [] }, 'model: Field required');
    bad({ model: 1, messages: [] }, 'model: Input should be a valid string');
    bad({ model: 'm' }, 'messages: Field required');
    bad({ model: 'm', messages: 'x' }, 'messages: Input should be a valid list');
    bad({ model: 'm', messages: [] }, 'messages: List should have at least 1 item after validation, not 0');
  });
});

describe('countTokens message shape', () => {
  const bad = (body: unknown, message: string): void => {
    assert.throws(() => countTokens(body), (err: unknown) => err instanceof MeshError && err.status === 400 && err.message === message);
  };

  it('refuses a malformed message, content block or system with the Messages route wording', () => {
    bad({ model: 'm', messages: [null] }, 'messages.0: Input should be a valid dictionary');
    bad({ model: 'm', messages: [{ role: 'user', content: 'a' }, { content: 'b' }] }, 'messages.1.role: Field required');
    bad({ model: 'm', messages: [{ role: 'tool', content: 'a' }] }, "messages.0.role: Input should be 'user', 'assistant' or 'system'");
    bad({ model: 'm', messages: [{ role: 'user' }] }, 'messages.0.content: Field required');
    bad({ model: 'm', messages: [{ role: 'user', content: { type: 'text' } }] }, 'messages.0.content: Input should be a valid string or list');
    bad({ model: 'm', messages: [{ role: 'user', content: ['x'] }] }, 'messages.0.content.0: Input should be a valid dictionary');
    bad({ model: 'm', messages: [{ role: 'user', content: [{ type: 3 }] }] }, 'messages.0.content.0.type: Field required');
    bad({ model: 'm', messages: [{ role: 'user', content: 'a' }], system: [{ type: 'image' }] }, "system.0: Input tag 'image' found using 'type' does not match any of the expected tags: 'text'");
  });

  it('counts block types only an Anthropic upstream takes (not refused, not counted)', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'abcdefgh' }, { type: 'search_result', source: 's' }] }] };
    assert.deepEqual(countTokens(body), { input_tokens: 2 });
  });
});
