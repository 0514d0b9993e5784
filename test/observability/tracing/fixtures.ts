// A failover routing record: the first member answered 503, the second one answered.
import type { RequestEvent } from '../../../src/mesh/events.ts';

export const AT = Date.UTC(2026, 0, 1, 12, 0, 0);

export function failoverEvent(overrides: Partial<RequestEvent> = {}): RequestEvent {
  return {
    type: 'request', at: AT, requestId: 'req-1', endpoint: 'chat', requested: 'text-generation', pool: 'text-generation',
    candidates: ['openai.gpt-4o', 'anthropic.claude'], excluded: [],
    attempts: [
      { model: 'openai.gpt-4o', provider: 'openai.llm.v1', status: 503, outcome: 'failure', reason: '503 overloaded', latency_ms: 40 },
      { model: 'anthropic.claude', provider: 'anthropic.claude.v1', status: 200, outcome: 'success', reason: null, latency_ms: 60 },
    ],
    model: 'anthropic.claude', provider: 'anthropic.claude.v1', outcome: 'success', status: 200, error: null, stream: false,
    latency_ms: 120, ttfb_ms: 120, tokens_in: 11, tokens_out: 7, cost: 0.00042, client: null,
    ...overrides,
  };
}
