// A chat completion (openai-wire §2) as a Response object (openai-node `Response`): output items `message`
// (output_text parts) and `function_call`, status and incomplete_details, usage in input/output tokens.
import { MeshError } from '../../errors.ts';
import { isRecord } from './check.ts';
import { newId } from './ids.ts';
import type { ChatMessage, ChatToolCall, FunctionCallItem, OutputItem, OutputMessage, ResponseContext, ResponseObject, ResponseStatus, ResponseUsage } from './types.ts';

/** The Response object with no output yet; `status` and the rest are filled in as the answer comes. */
export function baseResponse(ctx: ResponseContext, status: ResponseStatus): ResponseObject {
  return {
    id: ctx.id,
    object: 'response',
    created_at: ctx.createdAt,
    status,
    background: false,
    completed_at: null,
    error: null,
    incomplete_details: null,
    model: ctx.model,
    output: [],
    reasoning: { effort: null, summary: null },
    truncation: 'disabled',
    usage: null,
    ...ctx.echo,
  };
}

/** Status and incomplete_details for a chat finish_reason; `length` and `content_filter` cut the answer short. */
export function finish(response: ResponseObject, reason: unknown, ctx: ResponseContext): void {
  if (reason === 'length') {
    response.status = 'incomplete';
    response.incomplete_details = { reason: 'max_output_tokens' };
  } else if (reason === 'content_filter') {
    response.status = 'incomplete';
    response.incomplete_details = { reason: 'content_filter' };
  } else {
    response.status = 'completed';
    response.completed_at = Math.floor((ctx.now?.() ?? Date.now()) / 1000);
  }
}

/** Chat usage (prompt/completion tokens and their details) in Responses terms; null when absent or malformed. */
export function usageOf(usage: unknown): ResponseUsage | null {
  if (!isRecord(usage)) return null;
  const input = count(usage['prompt_tokens']);
  const output = count(usage['completion_tokens']);
  const inDetails = usage['prompt_tokens_details'];
  const outDetails = usage['completion_tokens_details'];
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: isRecord(inDetails) ? count(inDetails['cached_tokens']) : 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: isRecord(outDetails) ? count(outDetails['reasoning_tokens']) : 0 },
    total_tokens: typeof usage['total_tokens'] === 'number' ? count(usage['total_tokens']) : input + output,
  };
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

/**
 * Translate a buffered chat completion. Throws MeshError `upstream_error` (502) when the answer has no
 * choice with a message: the caller treats that as a failed upstream attempt.
 */
export function fromChatCompletion(chat: unknown, ctx: ResponseContext): ResponseObject {
  const choice = isRecord(chat) && Array.isArray(chat['choices']) ? chat['choices'][0] : undefined;
  const message = isRecord(choice) ? choice['message'] : undefined;
  if (!isRecord(chat) || !isRecord(choice) || !isRecord(message)) {
    throw new MeshError('upstream_error', 'The upstream answered the chat completion without a choice carrying a message.');
  }
  const response = baseResponse(ctx, 'completed');
  finish(response, choice['finish_reason'], ctx);
  const content = message['content'];
  const refusal = message['refusal'];
  const text = typeof content === 'string' ? content : Array.isArray(content) ? textOfParts(content) : '';
  const refused = typeof refusal === 'string' && refusal.length > 0;
  if (text.length > 0 || refused) {
    const item: OutputMessage = { id: newId('msg'), type: 'message', status: 'completed', role: 'assistant', content: [] };
    if (text.length > 0) item.content.push({ type: 'output_text', text, annotations: [] });
    if (refused) item.content.push({ type: 'refusal', refusal });
    response.output.push(item);
  }
  const calls = message['tool_calls'];
  if (Array.isArray(calls)) {
    for (const call of calls) {
      const item = functionCall(call);
      if (item !== null) response.output.push(item);
    }
  }
  // A cut answer leaves its last item incomplete; the items before it were whole.
  const last = response.output[response.output.length - 1];
  if (response.status === 'incomplete' && last !== undefined) last.status = 'incomplete';
  response.usage = usageOf(chat['usage']);
  return response;
}

function textOfParts(parts: unknown[]): string {
  let text = '';
  for (const p of parts) if (isRecord(p) && typeof p['text'] === 'string') text += p['text'];
  return text;
}

function functionCall(call: unknown): FunctionCallItem | null {
  if (!isRecord(call) || !isRecord(call['function'])) return null;
  const fn = call['function'];
  const name = fn['name'];
  if (typeof name !== 'string') return null;
  const args = fn['arguments'];
  return {
    id: newId('fc'),
    type: 'function_call',
    status: 'completed',
    call_id: typeof call['id'] === 'string' && call['id'].length > 0 ? call['id'] : newId('call'),
    name,
    arguments: typeof args === 'string' ? args : args === undefined ? '' : JSON.stringify(args),
  };
}

/** The output items as chat messages: what the next turn's history appends after this turn's input. */
export function outputMessages(output: readonly OutputItem[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const item of output) {
    if (item.type === 'message') {
      let text = '';
      for (const part of item.content) text += part.type === 'output_text' ? part.text : part.refusal;
      out.push({ role: 'assistant', content: text });
      continue;
    }
    const call: ChatToolCall = { id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } };
    const last = out[out.length - 1];
    if (last !== undefined && last.role === 'assistant') (last.tool_calls ??= []).push(call);
    else out.push({ role: 'assistant', content: null, tool_calls: [call] });
  }
  return out;
}

/** Body of DELETE /v1/responses/{id} (openai-node ResponseDeleted... shape: id, object, deleted). */
export function deletedBody(id: string): { id: string; object: 'response'; deleted: true } {
  return { id, object: 'response', deleted: true };
}
