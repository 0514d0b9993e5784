// Chat completion chunks (openai-wire §2, streaming) -> the Responses event sequence openai-node's
// ResponseStream accumulates: response.created, response.in_progress, then per output item
// output_item.added / content_part.added / output_text.delta… (or function_call_arguments.delta…), the
// .done events, output_item.done, and response.completed | response.incomplete | response.failed.
// Items are appended (output_index = position) and stay open until the chat choice finishes, because chat
// tool-call deltas may interleave by index; they are closed in output order.
import { isRecord } from './check.ts';
import { newId } from './ids.ts';
import { baseResponse, finish, usageOf } from './response.ts';
import type { FunctionCallItem, OutputMessage, OutputText, ResponseContext, ResponseObject, ResponsesEvent } from './types.ts';

type Open = { kind: 'message'; item: OutputMessage; part: OutputText; index: number } | { kind: 'call'; item: FunctionCallItem; index: number };

/** Events without their sequence number, which #emit assigns. */
type Unnumbered = ResponsesEvent extends infer E ? (E extends ResponsesEvent ? Omit<E, 'sequence_number'> : never) : never;

export class ChatToResponsesStream {
  readonly #ctx: ResponseContext;
  readonly #response: ResponseObject;
  #seq = 0;
  #open: Open[] = [];
  #message: Extract<Open, { kind: 'message' }> | null = null;
  /** Chat tool-call index -> its open item. */
  #calls = new Map<number, Extract<Open, { kind: 'call' }>>();
  #finishReason: unknown = null;
  #started = false;
  #ended = false;

  constructor(ctx: ResponseContext) {
    this.#ctx = ctx;
    this.#response = baseResponse(ctx, 'in_progress');
  }

  /** The Response as it stands (final after end()/fail()): what the store keeps. */
  get response(): ResponseObject {
    return this.#response;
  }

  /** True once end() or fail() has run; later calls return no events. */
  get ended(): boolean {
    return this.#ended;
  }

  /** True once the upstream sent a finish_reason: an end() before that means the answer may be cut. */
  get finished(): boolean {
    return this.#finishReason !== null;
  }

  /** response.created and response.in_progress; push/end/fail send them first if start() was not called. */
  start(): ResponsesEvent[] {
    if (this.#started) return [];
    this.#started = true;
    return [this.#emit({ type: 'response.created', response: snapshot(this.#response) }), this.#emit({ type: 'response.in_progress', response: snapshot(this.#response) })];
  }

  /** One parsed chat chunk. An in-band upstream error (`{"error":…}`) fails the response. */
  push(chunk: unknown): ResponsesEvent[] {
    if (this.#ended || !isRecord(chunk)) return [];
    if (isRecord(chunk['error'])) {
      const message = chunk['error']['message'];
      return this.fail(typeof message === 'string' ? message : 'The upstream stream failed.');
    }
    const out = this.start();
    const usage = usageOf(chunk['usage']);
    if (usage !== null) this.#response.usage = usage;
    const choices = chunk['choices'];
    const choice = Array.isArray(choices) ? choices[0] : undefined;
    if (!isRecord(choice)) return out;
    const delta = choice['delta'];
    if (isRecord(delta)) {
      const content = delta['content'];
      if (typeof content === 'string' && content.length > 0) this.#text(content, out);
      const calls = delta['tool_calls'];
      if (Array.isArray(calls)) for (const call of calls) this.#toolCall(call, out);
    }
    const reason = choice['finish_reason'];
    if (reason !== null && reason !== undefined) this.#finishReason = reason;
    return out;
  }

  /** The upstream stream ended: close every item, then response.completed or response.incomplete. */
  end(): ResponsesEvent[] {
    if (this.#ended) return [];
    const out = this.start();
    finish(this.#response, this.#finishReason, this.#ctx);
    const status = this.#response.status === 'incomplete' ? 'incomplete' : 'completed';
    // A cut answer leaves its last item incomplete; the items before it were whole.
    const last = this.#open.length - 1;
    this.#open.forEach((open, i) => this.#close(open, i === last ? status : 'completed', out));
    this.#ended = true;
    const type = this.#response.status === 'incomplete' ? 'response.incomplete' : 'response.completed';
    // The response is final from here on: the event can share it.
    out.push(this.#emit({ type, response: this.#response }));
    return out;
  }

  /** The upstream failed mid-stream: response.failed, never a clean end (issue 14). */
  fail(message: string, code = 'server_error'): ResponsesEvent[] {
    if (this.#ended) return [];
    const out = this.start();
    this.#ended = true;
    this.#response.status = 'failed';
    this.#response.error = { code, message };
    this.#open.forEach((open) => (open.item.status = 'incomplete'));
    out.push(this.#emit({ type: 'response.failed', response: this.#response }));
    return out;
  }

  #text(delta: string, out: ResponsesEvent[]): void {
    let open = this.#message;
    if (open === null) {
      const item: OutputMessage = { id: newId('msg'), type: 'message', status: 'in_progress', role: 'assistant', content: [] };
      open = { kind: 'message', item, part: { type: 'output_text', text: '', annotations: [] }, index: this.#response.output.length };
      this.#message = open;
      this.#add(open, out);
      item.content.push(open.part);
      out.push(this.#emit({ type: 'response.content_part.added', item_id: item.id, output_index: open.index, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } }));
    }
    open.part.text += delta;
    out.push(this.#emit({ type: 'response.output_text.delta', item_id: open.item.id, output_index: open.index, content_index: 0, delta, logprobs: [] }));
  }

  #toolCall(call: unknown, out: ResponsesEvent[]): void {
    if (!isRecord(call)) return;
    const index = typeof call['index'] === 'number' ? call['index'] : 0;
    const fn = isRecord(call['function']) ? call['function'] : {};
    let open = this.#calls.get(index);
    if (open === undefined) {
      const id = call['id'];
      const name = fn['name'];
      const item: FunctionCallItem = {
        id: newId('fc'),
        type: 'function_call',
        status: 'in_progress',
        call_id: typeof id === 'string' && id.length > 0 ? id : newId('call'),
        name: typeof name === 'string' ? name : '',
        arguments: '',
      };
      open = { kind: 'call', item, index: this.#response.output.length };
      this.#calls.set(index, open);
      this.#add(open, out);
    }
    const args = fn['arguments'];
    if (typeof args === 'string' && args.length > 0) {
      open.item.arguments += args;
      out.push(this.#emit({ type: 'response.function_call_arguments.delta', item_id: open.item.id, output_index: open.index, delta: args }));
    }
  }

  #add(open: Open, out: ResponsesEvent[]): void {
    this.#open.push(open);
    this.#response.output.push(open.item);
    // A fresh copy: the item keeps changing after this event.
    const item = open.kind === 'message' ? { ...open.item, content: [] } : { ...open.item };
    out.push(this.#emit({ type: 'response.output_item.added', output_index: open.index, item }));
  }

  #close(open: Open, status: 'completed' | 'incomplete', out: ResponsesEvent[]): void {
    const { item, index: output_index } = open;
    if (open.kind === 'message') {
      const { text } = open.part;
      out.push(this.#emit({ type: 'response.output_text.done', item_id: item.id, output_index, content_index: 0, text, logprobs: [] }));
      out.push(this.#emit({ type: 'response.content_part.done', item_id: item.id, output_index, content_index: 0, part: open.part }));
    } else {
      const call = open.item;
      out.push(this.#emit({ type: 'response.function_call_arguments.done', item_id: call.id, output_index, name: call.name, arguments: call.arguments }));
    }
    item.status = status;
    out.push(this.#emit({ type: 'response.output_item.done', output_index, item }));
  }

  #emit(event: Unnumbered): ResponsesEvent {
    return { ...event, sequence_number: this.#seq++ } as ResponsesEvent;
  }
}

/**
 * A copy of the in-progress response for an event, so later changes cannot alter what was already sent. Shallow
 * is enough: what changes later is `output` (copied) and fields that are replaced, never mutated in place.
 */
function snapshot(response: ResponseObject): ResponseObject {
  return { ...response, output: [...response.output] };
}

/** One event as OpenAI writes it: `event: <type>` then `data: <json>` (JSON never contains a raw newline). */
export function encodeEvent(event: ResponsesEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export function encodeEvents(events: readonly ResponsesEvent[]): string {
  let out = '';
  for (const event of events) out += encodeEvent(event);
  return out;
}
