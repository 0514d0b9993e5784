// Chat completion chunks (openai-wire §2, streaming) -> the Responses event sequence openai-node's
// ResponseStream accumulates: response.created, response.in_progress, then per output item
// output_item.added / content_part.added / output_text.delta or refusal.delta… (or function_call_arguments.delta…),
// the .done events, output_item.done, and response.completed | response.incomplete | response.failed.
// Items are appended (output_index = position) and stay open until the chat choice finishes, because chat
// tool-call deltas may interleave by index; they are closed in output order. The one message item holds at most
// one output_text and one refusal part, in arrival order (the buffered translation puts both in one message too).
import { isRecord } from './check.ts';
import { newId } from './ids.ts';
import { baseResponse, finish, usageOf } from './response.ts';
import type { FunctionCallItem, OutputMessage, OutputRefusal, OutputText, ResponseContext, ResponseObject, ResponsesEvent } from './types.ts';

type Open = { kind: 'message'; item: OutputMessage; index: number } | { kind: 'call'; item: FunctionCallItem; index: number };
type OpenCall = Extract<Open, { kind: 'call' }>;

/** Events without their sequence number, which #emit assigns. */
type Unnumbered = ResponsesEvent extends infer E ? (E extends ResponsesEvent ? Omit<E, 'sequence_number'> : never) : never;

export class ChatToResponsesStream {
  readonly #ctx: ResponseContext;
  readonly #response: ResponseObject;
  #seq = 0;
  #open: Open[] = [];
  #message: Extract<Open, { kind: 'message' }> | null = null;
  /** Chat tool-call index -> its open item. */
  #calls = new Map<number, OpenCall>();
  /** Upstream tool-call id -> its open item. */
  #callIds = new Map<string, OpenCall>();
  /** The call the last tool-call delta went to: where a delta with neither `index` nor `id` belongs. */
  #lastCall: OpenCall | null = null;
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
      if (typeof content === 'string' && content.length > 0) this.#append('output_text', content, out);
      const refusal = delta['refusal'];
      if (typeof refusal === 'string' && refusal.length > 0) this.#append('refusal', refusal, out);
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

  /** Text or refusal text into the message item, opening the item and the part of that kind on first use. */
  #append(kind: 'output_text' | 'refusal', delta: string, out: ResponsesEvent[]): void {
    let open = this.#message;
    if (open === null) {
      const item: OutputMessage = { id: newId('msg'), type: 'message', status: 'in_progress', role: 'assistant', content: [] };
      open = { kind: 'message', item, index: this.#response.output.length };
      this.#message = open;
      this.#add(open, out);
    }
    const { item, index: output_index } = open;
    let content_index = item.content.findIndex((p) => p.type === kind);
    if (content_index < 0) {
      content_index = item.content.length;
      item.content.push(emptyPart(kind));
      // A fresh empty part: the kept one grows after this event.
      out.push(this.#emit({ type: 'response.content_part.added', item_id: item.id, output_index, content_index, part: emptyPart(kind) }));
    }
    const part = item.content[content_index] as OutputText | OutputRefusal;
    if (part.type === 'output_text') {
      part.text += delta;
      out.push(this.#emit({ type: 'response.output_text.delta', item_id: item.id, output_index, content_index, delta, logprobs: [] }));
    } else {
      part.refusal += delta;
      out.push(this.#emit({ type: 'response.refusal.delta', item_id: item.id, output_index, content_index, delta }));
    }
  }

  #toolCall(call: unknown, out: ResponsesEvent[]): void {
    if (!isRecord(call)) return;
    const index = typeof call['index'] === 'number' ? call['index'] : null;
    const fn = isRecord(call['function']) ? call['function'] : {};
    const id = typeof call['id'] === 'string' && call['id'].length > 0 ? call['id'] : null;
    // Some upstreams omit `index` (a delta then continues the last call) or give every call the same one, so a
    // call's id, when the delta has one, decides: a known id is that call, an unknown one a new call. Chat sends
    // the id with a call's first delta, so a delta naming another id never continues the call before it.
    let open = (id !== null ? this.#callIds.get(id) : index === null ? this.#lastCall : this.#calls.get(index)) ?? null;
    if (open === null) {
      const name = fn['name'];
      const item: FunctionCallItem = {
        id: newId('fc'),
        type: 'function_call',
        status: 'in_progress',
        call_id: id ?? newId('call'),
        name: typeof name === 'string' ? name : '',
        arguments: '',
      };
      open = { kind: 'call', item, index: this.#response.output.length };
      if (index !== null) this.#calls.set(index, open);
      if (id !== null) this.#callIds.set(id, open);
      this.#add(open, out);
    }
    this.#lastCall = open;
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
      open.item.content.forEach((part, content_index) => {
        const ids = { item_id: item.id, output_index, content_index };
        if (part.type === 'output_text') out.push(this.#emit({ type: 'response.output_text.done', ...ids, text: part.text, logprobs: [] }));
        else out.push(this.#emit({ type: 'response.refusal.done', ...ids, refusal: part.refusal }));
        out.push(this.#emit({ type: 'response.content_part.done', ...ids, part }));
      });
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

function emptyPart(kind: 'output_text' | 'refusal'): OutputText | OutputRefusal {
  return kind === 'output_text' ? { type: 'output_text', text: '', annotations: [] } : { type: 'refusal', refusal: '' };
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
