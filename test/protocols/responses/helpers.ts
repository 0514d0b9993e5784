// Shared by the Responses translation tests: a fixed context, id placeholders for exact-shape assertions, and
// an accumulator that applies the stream rules openai-node's ResponseStream enforces (response.created first,
// output items appended at output_index = length, item_id matching the item, content appended in order, deltas to
// a part of their own kind), and checks besides that each .done text is what its deltas added up to.
import assert from 'node:assert/strict';
import type { ResponseContext, ResponseObject, ResponsesEvent } from '../../../src/protocols/responses/types.ts';
import { toChatRequest } from '../../../src/protocols/responses/request.ts';

export const CREATED_AT = 1767225600;

export function ctxFor(body: Record<string, unknown>, id = 'resp_test'): ResponseContext {
  const { echo } = toChatRequest(body, null);
  return { id, model: String(body['model']), createdAt: CREATED_AT, echo, now: () => (CREATED_AT + 2) * 1000 };
}

/** Replace every generated id (`msg_<48 hex>`, `fc_…`, `call_…`) by `<prefix>_*`, after checking its form. */
export function ids<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'string' && /^(msg|fc|call|resp)_/.test(v) && v !== 'resp_test') {
        const m = /^(msg|fc|call|resp)_([0-9a-f]{48})$/.exec(v);
        if (m !== null) return `${m[1]}_*`;
      }
      return v;
    }),
  ) as T;
}

/** Accumulate events as the SDK does, throwing where it would; returns the final Response. */
export function accumulate(events: readonly ResponsesEvent[]): ResponseObject {
  let snapshot: ResponseObject | undefined;
  events.forEach((event, i) => {
    assert.equal(event.sequence_number, i, `sequence_number of event ${i}`);
    if (snapshot === undefined) {
      assert.equal(event.type, 'response.created', 'first event');
      snapshot = structuredClone((event as { response: ResponseObject }).response);
      return;
    }
    apply(snapshot, event);
    if ('response' in event) snapshot = structuredClone(event.response);
  });
  assert.ok(snapshot !== undefined, 'no events');
  return snapshot;
}

function apply(s: ResponseObject, e: ResponsesEvent): void {
  if (e.type === 'response.output_item.added') {
    assert.equal(e.output_index, s.output.length, 'output item appended');
    assert.ok(!s.output.some((o) => o.id === e.item.id), 'unique item id');
    s.output.push(structuredClone(e.item));
    return;
  }
  if (!('output_index' in e)) return;
  const item = s.output[e.output_index];
  assert.ok(item !== undefined, `missing output at index ${e.output_index}`);
  if ('item_id' in e) assert.equal(e.item_id, item.id, 'item_id matches the output item');
  switch (e.type) {
    case 'response.output_item.done':
      assert.equal(e.item.id, item.id);
      assert.equal(e.item.type, item.type);
      s.output[e.output_index] = structuredClone(e.item);
      return;
    case 'response.content_part.added':
      assert.equal(item.type, 'message');
      if (item.type === 'message') {
        assert.equal(e.content_index, item.content.length, 'content part appended');
        item.content.push(structuredClone(e.part));
      }
      return;
    case 'response.output_text.delta': {
      assert.equal(item.type, 'message');
      const part = item.type === 'message' ? item.content[e.content_index] : undefined;
      assert.ok(part !== undefined && part.type === 'output_text', `missing content at index ${e.content_index}`);
      part.text += e.delta;
      return;
    }
    case 'response.refusal.delta': {
      assert.equal(item.type, 'message');
      const part = item.type === 'message' ? item.content[e.content_index] : undefined;
      assert.ok(part !== undefined && part.type === 'refusal', `missing refusal content at index ${e.content_index}`);
      part.refusal += e.delta;
      return;
    }
    case 'response.output_text.done':
    case 'response.refusal.done': {
      // The .done text is what the deltas added up to.
      const part = item.type === 'message' ? item.content[e.content_index] : undefined;
      assert.ok(part !== undefined, `missing content at index ${e.content_index}`);
      assert.deepEqual(e.type === 'response.output_text.done' ? { type: 'output_text', text: e.text } : { type: 'refusal', refusal: e.refusal }, part.type === 'output_text' ? { type: part.type, text: part.text } : part);
      return;
    }
    case 'response.function_call_arguments.delta':
      assert.equal(item.type, 'function_call');
      if (item.type === 'function_call') item.arguments += e.delta;
      return;
    default:
      return;
  }
}
