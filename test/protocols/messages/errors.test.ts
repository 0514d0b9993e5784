import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CATALOGUE, MeshError, type ErrorCode } from '../../../src/errors.ts';
import { streamFailure, toAnthropicError, typeForStatus } from '../../../src/protocols/messages/errors.ts';

describe('toAnthropicError', () => {
  it('maps every catalogue code to an Anthropic status and type', () => {
    const expected: Record<ErrorCode, [number, string]> = {
      invalid_json: [400, 'invalid_request_error'],
      invalid_request: [400, 'invalid_request_error'],
      missing_param: [400, 'invalid_request_error'],
      invalid_param: [400, 'invalid_request_error'],
      previous_response_not_found: [400, 'invalid_request_error'],
      insufficient_quota: [429, 'rate_limit_error'],
      invalid_multipart: [400, 'invalid_request_error'],
      unsupported_media_type: [415, 'invalid_request_error'],
      body_too_large: [413, 'request_too_large'],
      invalid_api_key: [401, 'authentication_error'],
      not_found: [404, 'not_found_error'],
      method_not_allowed: [405, 'invalid_request_error'],
      model_not_found: [404, 'not_found_error'],
      no_eligible_models: [400, 'invalid_request_error'],
      no_available_models: [529, 'overloaded_error'],
      upstream_error: [502, 'api_error'],
      rate_limit_exceeded: [429, 'rate_limit_error'],
      timeout: [504, 'timeout_error'],
      cancelled: [499, 'invalid_request_error'],
      server_draining: [529, 'overloaded_error'],
      internal_error: [500, 'api_error'],
    };
    for (const code of Object.keys(CATALOGUE) as ErrorCode[]) {
      const { status, body } = toAnthropicError(new MeshError(code, `msg ${code}`));
      assert.deepEqual([status, body.error.type], expected[code], code);
      assert.deepEqual(body, { type: 'error', error: { type: expected[code][1], message: `msg ${code}` } });
    }
  });

  it('keeps headers (Retry-After on 429) for the caller, adds request_id when given', () => {
    const err = new MeshError('rate_limit_exceeded', 'Too many requests.', { headers: { 'retry-after': '3' } });
    assert.deepEqual(toAnthropicError(err, 'req_1'), {
      status: 429,
      body: { type: 'error', error: { type: 'rate_limit_error', message: 'Too many requests.' }, request_id: 'req_1' },
      headers: { 'retry-after': '3' },
    });
  });

  it('a status override on the MeshError decides the type (403 from a client key scope)', () => {
    const answer = toAnthropicError(new MeshError('invalid_request', 'Pool not allowed for this key.', { status: 403 }));
    assert.deepEqual([answer.status, answer.body.error.type], [403, 'permission_error']);
  });

  it('unknown thrown values become a detail-free 500 api_error', () => {
    const answer = toAnthropicError(new Error('secret stack detail'));
    assert.equal(answer.status, 500);
    assert.equal(answer.body.error.type, 'api_error');
    assert.equal(answer.body.error.message.includes('secret'), false);
  });

  it('typeForStatus and stream failures', () => {
    assert.deepEqual([401, 403, 404, 413, 429, 504, 529, 422, 503].map(typeForStatus), [
      'authentication_error', 'permission_error', 'not_found_error', 'request_too_large', 'rate_limit_error',
      'timeout_error', 'overloaded_error', 'invalid_request_error', 'api_error',
    ]);
    assert.deepEqual(streamFailure(new MeshError('no_available_models', 'All busy.')), { message: 'All busy.', type: 'overloaded_error' });
    assert.deepEqual(streamFailure(new MeshError('upstream_error', 'Reset.')), { message: 'Reset.', type: 'api_error' });
    assert.deepEqual(streamFailure(new MeshError('timeout', 'Slow.')), { message: 'Slow.', type: 'api_error' });
  });
});
