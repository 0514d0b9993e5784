// OpenAI chat.completion.chunk events (reference/openai-wire.md §2 "Streaming", "Tool-call deltas") →
// Anthropic Messages streaming events (https://docs.anthropic.com/en/api/messages-streaming):
//   message_start, ping, then per block content_block_start / content_block_delta (text_delta,
//   input_json_delta) / content_block_stop, then message_delta {stop_reason, stop_sequence, usage}, message_stop.
// Blocks are sequential as Anthropic sends them: a new block closes the open one. After a failure there is
// one `error` event and never message_stop. The Anthropic SDKs dispatch on the `event:` line (an event without
// one is dropped), so encodeEvents writes `event: <type>` before every `data:`.
import { MeshError } from '../../errors.ts';
import { CHARS_PER_TOKEN } from '../../lib/tokens.ts';
import type { SseEvent } from '../../lib/sse.ts';
import { isRecord, newId, type Json } from './common.ts';
import { anthropicUsage, stopInfo, toolUseId } from './response.ts';

/** One Anthropic stream event (its `type` is also its SSE event name). */
export type MessagesEvent = Json & { type: string };

export interface MessagesStreamOptions {
  /** The message id; a fresh `msg_…` when absent. */
  id?: string;
  /** The `model` the client sees in message_start. */
  model: string;
  /** input_tokens for message_start, before the upstream reports usage (e.g. count-tokens.ts's estimate). */
  inputTokens?: number;
  /** The request's stop_sequences (see response.ts stopInfo). */
  stopSequences?: readonly string[];
}

/** The error types an in-stream failure may carry (Anthropic sends overloaded_error mid-stream under load). */
export type StreamErrorType = 'api_error' | 'overloaded_error';

type Open = { kind: 'text'; index: number } | { kind: 'tool'; index: number; key: number | string } | null;

export class ChatToMessagesStream {
  readonly #id: string;
  readonly #model: string;
  readonly #inputTokens: number;
  readonly #stops: readonly string[];
  #state: 'new' | 'open' | 'ended' | 'failed' = 'new';
  #blocks = 0;
  #open: Open = null;
  /** Chat tool call index (or id, for upstreams that omit the index) → content block index. */
  readonly #tools = new Map<number | string, number>();
  #lastToolKey: number | string = 0;
  #finish: Json | null = null;
  #usage: Json | null = null;
  #outputChars = 0;

  constructor(options: MessagesStreamOptions) {
    this.#id = options.id ?? newId('msg_');
    this.#model = options.model;
    this.#inputTokens = options.inputTokens ?? 0;
    this.#stops = options.stopSequences ?? [];
  }

  /** True once a chunk carried a finish_reason: the answer is whole even if the upstream omits [DONE]. */
  get finished(): boolean {
    return this.#finish !== null;
  }

  /** True once end() or fail() ran: nothing more is sent. */
  get done(): boolean {
    return this.#state === 'ended' || this.#state === 'failed';
  }

  /** Token usage as the upstream reported it (chat names), for the proxy's accounting; null if none came. */
  usage(): { prompt_tokens: number; completion_tokens: number } | null {
    if (this.#usage === null) return null;
    const u = anthropicUsage(this.#usage);
    const prompt = (u['input_tokens'] as number) + (u['cache_read_input_tokens'] as number);
    return { prompt_tokens: prompt, completion_tokens: u['output_tokens'] as number };
  }

  /** message_start with the message skeleton, then a ping (as Anthropic sends one early). Once. */
  start(): MessagesEvent[] {
    if (this.#state !== 'new') return [];
    this.#state = 'open';
    const usage = { input_tokens: this.#inputTokens, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    const message = { id: this.#id, type: 'message', role: 'assistant', model: this.#model, content: [] };
    return [{ type: 'message_start', message: { ...message, stop_reason: null, stop_sequence: null, usage } }, { type: 'ping' }];
  }

  /** A keep-alive for long silences (e.g. a reasoning model before its first token). */
  ping(): MessagesEvent[] {
    return this.#state === 'open' ? [{ type: 'ping' }] : [];
  }

  /**
   * Events for one upstream chat chunk (`[DONE]` gives none; end() finishes). Throws
   * MeshError('upstream_error') for unparseable data or an in-band `{"error":…}`: call fail() then.
   */
  push(event: SseEvent): MessagesEvent[] {
    if (this.done || event.data === '[DONE]') return [];
    let chunk: unknown;
    try {
      chunk = JSON.parse(event.data);
    } catch {
      throw new MeshError('upstream_error', 'Upstream sent a stream event that is not JSON.');
    }
    if (!isRecord(chunk)) throw new MeshError('upstream_error', 'Upstream sent a stream event that is not a JSON object.');
    if (isRecord(chunk['error'])) {
      const message = chunk['error']['message'];
      throw new MeshError('upstream_error', `Upstream stream failed: ${typeof message === 'string' ? message : 'unknown error'}.`);
    }
    const out = this.start();
    if (isRecord(chunk['usage'])) this.#usage = chunk['usage'];
    const choices = chunk['choices'];
    const choice = Array.isArray(choices) ? choices[0] : undefined;
    if (!isRecord(choice)) return out;
    const delta = isRecord(choice['delta']) ? choice['delta'] : {};
    const text = typeof delta['content'] === 'string' && delta['content'] !== '' ? delta['content'] : delta['refusal'];
    if (typeof text === 'string' && text !== '') this.#text(text, out);
    if (Array.isArray(delta['tool_calls'])) for (const call of delta['tool_calls']) if (isRecord(call)) this.#tool(call, out);
    if (choice['finish_reason'] !== null && choice['finish_reason'] !== undefined) this.#finish = choice;
    return out;
  }

  /** Close the open block, then message_delta (stop reason, usage) and message_stop. */
  end(): MessagesEvent[] {
    if (this.done) return [];
    const out = this.start();
    this.#close(out);
    this.#state = 'ended';
    const stop = stopInfo(this.#finish ?? {}, this.#tools.size > 0, this.#stops);
    let usage: Json;
    if (this.#usage === null) {
      usage = { output_tokens: Math.ceil(this.#outputChars / CHARS_PER_TOKEN) };
    } else {
      // message_delta usage counters are cumulative totals; the SDK overwrites its snapshot with them.
      const u = anthropicUsage(this.#usage);
      const [input, cacheRead, output] = [u['input_tokens'], u['cache_read_input_tokens'], u['output_tokens']];
      usage = { input_tokens: input, cache_creation_input_tokens: 0, cache_read_input_tokens: cacheRead, output_tokens: output };
    }
    out.push({ type: 'message_delta', delta: stop, usage }, { type: 'message_stop' });
    return out;
  }

  /** The in-stream failure: one `error` event, no message_stop (the client's SDK raises its APIError). */
  fail(message: string, type: StreamErrorType = 'api_error'): MessagesEvent[] {
    if (this.done) return [];
    this.#state = 'failed';
    return [{ type: 'error', error: { type, message } }];
  }

  #text(text: string, out: MessagesEvent[]): void {
    if (this.#open?.kind !== 'text') {
      this.#close(out);
      const index = this.#blocks++;
      this.#open = { kind: 'text', index };
      out.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
    }
    this.#outputChars += text.length;
    out.push({ type: 'content_block_delta', index: this.#open.index, delta: { type: 'text_delta', text } });
  }

  #tool(call: Json, out: MessagesEvent[]): void {
    const id = call['id'];
    const key = typeof call['index'] === 'number' ? call['index'] : typeof id === 'string' && id !== '' ? id : this.#lastToolKey;
    this.#lastToolKey = key;
    const fn = isRecord(call['function']) ? call['function'] : {};
    let index = this.#tools.get(key);
    if (index === undefined) {
      this.#close(out);
      index = this.#blocks++;
      this.#tools.set(key, index);
      this.#open = { kind: 'tool', index, key };
      const name = typeof fn['name'] === 'string' ? fn['name'] : '';
      out.push({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: toolUseId(id), name, input: {} } });
    }
    const args = fn['arguments'];
    if (typeof args !== 'string' || args === '') return;
    this.#outputChars += args.length;
    // A delta for a tool call whose block was already closed (interleaved parallel calls, which OpenAI does
    // not send) still goes to that block's index: the SDK accumulates by index, and nothing is lost.
    out.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: args } });
  }

  #close(out: MessagesEvent[]): void {
    if (this.#open === null) return;
    out.push({ type: 'content_block_stop', index: this.#open.index });
    this.#open = null;
  }
}

/** Anthropic's SSE framing: `event: <type>\ndata: <json>\n\n` per event (JSON.stringify never emits a line break). */
export function encodeEvents(events: readonly MessagesEvent[]): string {
  let s = '';
  for (const e of events) s += `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
  return s;
}
