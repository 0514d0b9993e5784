// Anthropic Messages streaming → OpenAI chat.completion.chunk events.
// Source events: https://docs.anthropic.com/en/api/messages-streaming (message_start, content_block_start,
// content_block_delta {text_delta, input_json_delta}, content_block_stop, message_delta, message_stop, ping, error).
// Target shape: reference/openai-wire.md §2 "Streaming" and "Tool-call deltas" (role in the first delta; each
// tool call's first delta carries index, id, type, name and empty arguments; a final finish_reason chunk;
// a usage chunk with choices:[] when include_usage; then [DONE]).
import type { MeshError } from '../../errors.ts';
import type { SseEvent } from '../../lib/sse.ts';
import type { SseResponse } from '../provider.ts';
import { upstreamError } from '../http/upstream-failure.ts';
import { isRecord } from '../../lib/is-record.ts';

type Json = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** stop_reason → finish_reason (https://docs.anthropic.com/en/api/handling-stop-reasons). */
export function finishReason(stopReason: unknown): string {
  switch (stopReason) {
    case 'max_tokens': return 'length';
    case 'tool_use': return 'tool_calls';
    case 'refusal': return 'content_filter';
    default: return 'stop'; // end_turn, stop_sequence, pause_turn, null
  }
}

/** Anthropic error types and the HTTP status they come with (https://docs.anthropic.com/en/api/errors). */
const ERROR_STATUS: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** `{type:"error",error:{type,message}}` as the failure of an attempt (reason `"<status> <message>"`). */
export function anthropicError(providerId: string, payload: unknown): MeshError {
  const error = isRecord(payload) && isRecord(payload['error']) ? payload['error'] : {};
  const type = typeof error['type'] === 'string' ? error['type'] : 'api_error';
  const status = ERROR_STATUS[type] ?? 500;
  const message = typeof error['message'] === 'string' && error['message'] !== '' ? error['message'].slice(0, 200) : type;
  return upstreamError(providerId, `${status} ${message}`, status);
}

/** Translates one Anthropic stream, event by event. */
export class AnthropicStream {
  #id = '';
  #model: string;
  readonly #created = Math.floor(Date.now() / 1000);
  readonly #includeUsage: boolean;
  readonly #providerId: string;
  #promptTokens = 0;
  #completionTokens = 0;
  #finished = false; // a finish_reason chunk was sent
  /** Anthropic content block index → OpenAI tool call index. */
  readonly #tools = new Map<number, number>();
  /** True once message_stop arrived: the translated stream is complete. */
  done = false;

  constructor(providerId: string, model: string, includeUsage: boolean) {
    this.#providerId = providerId;
    this.#model = model;
    this.#includeUsage = includeUsage;
  }

  /** OpenAI events for one Anthropic event (possibly none); throws MeshError for an `error` event. */
  translate(event: SseEvent): SseEvent[] {
    let e: unknown;
    try {
      e = JSON.parse(event.data);
    } catch {
      throw upstreamError(this.#providerId, 'invalid event data from upstream');
    }
    if (!isRecord(e)) return [];
    const type = typeof e['type'] === 'string' ? e['type'] : event.event;
    switch (type) {
      case 'message_start': {
        const message = isRecord(e['message']) ? e['message'] : {};
        if (typeof message['id'] === 'string') this.#id = message['id'];
        if (typeof message['model'] === 'string') this.#model = message['model'];
        this.#usage(message['usage']);
        return [this.#chunk({ role: 'assistant', content: '' })];
      }
      case 'content_block_start': {
        const block = isRecord(e['content_block']) ? e['content_block'] : {};
        if (block['type'] === 'text' && typeof block['text'] === 'string' && block['text'] !== '') return [this.#chunk({ content: block['text'] })];
        if (block['type'] !== 'tool_use') return []; // thinking and server tool blocks have no chat equivalent
        const index = this.#tools.size;
        this.#tools.set(num(e['index']), index);
        const call = { index, id: block['id'], type: 'function', function: { name: block['name'], arguments: '' } };
        return [this.#chunk({ tool_calls: [call] })];
      }
      case 'content_block_delta': {
        const delta = isRecord(e['delta']) ? e['delta'] : {};
        if (delta['type'] === 'text_delta' && typeof delta['text'] === 'string') return [this.#chunk({ content: delta['text'] })];
        const index = this.#tools.get(num(e['index']));
        const json = delta['partial_json'];
        if (delta['type'] !== 'input_json_delta' || index === undefined || typeof json !== 'string' || json === '') return [];
        return [this.#chunk({ tool_calls: [{ index, function: { arguments: json } }] })];
      }
      case 'message_delta': {
        const delta = isRecord(e['delta']) ? e['delta'] : {};
        this.#usage(e['usage']);
        this.#finished = true;
        return [this.#chunk({}, finishReason(delta['stop_reason']))];
      }
      case 'message_stop': {
        this.done = true;
        const out = this.#finished ? [] : [this.#chunk({}, 'stop')];
        if (this.#includeUsage) out.push(this.#event({ choices: [], usage: this.#totals() }));
        out.push({ data: '[DONE]' });
        return out;
      }
      case 'error':
        throw anthropicError(this.#providerId, e);
      default:
        return []; // ping, content_block_stop, future event types
    }
  }

  /** input counts come with message_start (and newer APIs repeat them in message_delta); output is cumulative. */
  #usage(usage: unknown): void {
    if (!isRecord(usage)) return;
    const input = num(usage['input_tokens']) + num(usage['cache_read_input_tokens']) + num(usage['cache_creation_input_tokens']);
    if (input > 0) this.#promptTokens = input;
    if (typeof usage['output_tokens'] === 'number') this.#completionTokens = usage['output_tokens'];
  }

  #totals(): Json {
    const total = this.#promptTokens + this.#completionTokens;
    return { prompt_tokens: this.#promptTokens, completion_tokens: this.#completionTokens, total_tokens: total };
  }

  #chunk(delta: Json, finish: string | null = null): SseEvent {
    const chunk: Json = { choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
    if (this.#includeUsage) chunk['usage'] = null;
    return this.#event(chunk);
  }

  #event(fields: Json): SseEvent {
    const chunk = { id: this.#id, object: 'chat.completion.chunk', created: this.#created, model: this.#model, ...fields };
    return { data: JSON.stringify(chunk) };
  }
}

/**
 * Wraps an Anthropic event stream as an OpenAI one, primed again on the translated side: resolves once
 * the first OpenAI event exists, so an `error` event before it is an ordinary failed attempt (rejection).
 */
export async function translateStream(res: SseResponse, stream: AnthropicStream, providerId: string): Promise<SseResponse> {
  const queue: SseEvent[] = [];
  const fill = async (): Promise<void> => {
    while (queue.length === 0 && !stream.done) {
      const r = await res.events.next();
      if (r.done === true) throw upstreamError(providerId, 'upstream ended the stream before message_stop');
      queue.push(...stream.translate(r.value));
    }
  };
  const guarded = async (): Promise<void> => {
    try {
      await fill();
    } catch (err) {
      res.close();
      throw err;
    }
  };
  await guarded();
  const events: AsyncIterableIterator<SseEvent> = {
    async next(): Promise<IteratorResult<SseEvent>> {
      if (queue.length === 0) await guarded();
      const value = queue.shift();
      if (value !== undefined) return { done: false, value };
      // Read the upstream to its end (nothing follows message_stop) so its socket returns to the keep-alive pool.
      try {
        while ((await res.events.next()).done !== true);
      } catch {
        // The translated stream is already complete; a close after message_stop changes nothing for the client.
      }
      return { done: true, value: undefined };
    },
    return(): Promise<IteratorResult<SseEvent>> {
      res.close();
      return Promise.resolve({ done: true, value: undefined });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return { ...res, events };
}
