// Responses `input` (a string, or a list of items) to chat messages (openai-wire §2). Item shapes: openai-node
// EasyInputMessage, ResponseInputItem.Message, ResponseOutputMessage (earlier assistant turns),
// ResponseFunctionToolCall and ResponseInputItem.FunctionCallOutput.
import { invalidType, invalidValue, isRecord, missing, unsupported } from './check.ts';
import type { ChatContentPart, ChatMessage, ChatToolCall } from './types.ts';

const ROLES = ['user', 'assistant', 'system', 'developer'] as const;

/** The messages of one turn's `input`, in order. */
export function inputMessages(input: unknown): ChatMessage[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  if (!Array.isArray(input)) throw invalidType('input', 'a string or an array of input items', input);
  // Not even with instructions or a previous response: the turn would have nothing to answer, and a chat
  // upstream rejects `messages: []` only after the request has been routed (and counted) there.
  if (input.length === 0) throw unsupported('input', "Invalid 'input': empty array. Expected an array with minimum length 1, but got an empty array instead.");
  const out: ChatMessage[] = [];
  input.forEach((item, i) => addItem(out, item, `input[${i}]`));
  return out;
}

function addItem(out: ChatMessage[], item: unknown, param: string): void {
  if (!isRecord(item)) throw invalidType(param, 'an object', item);
  const type = item['type'] ?? 'message';
  switch (type) {
    case 'message':
      out.push(message(item, param));
      return;
    case 'function_call':
      addFunctionCall(out, item, param);
      return;
    case 'function_call_output':
      out.push(functionCallOutput(item, param));
      return;
    case 'reasoning':
      return; // Reasoning items of an earlier native turn have no chat counterpart; the answer they led to is kept.
    default:
      throw unsupported(
        `${param}.type`,
        `Input items of type ${JSON.stringify(type)} need a model that serves the Responses API natively; this model takes messages, function_call and function_call_output items.`,
      );
  }
}

function message(item: Record<string, unknown>, param: string): ChatMessage {
  const role = item['role'];
  if (role === undefined) throw missing(`${param}.role`);
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) throw invalidValue(`${param}.role`, role, ROLES);
  const content = item['content'];
  if (content === undefined) throw missing(`${param}.content`);
  if (typeof content === 'string') {
    if (role === 'assistant') return { role, content };
    return { role: role === 'user' ? 'user' : 'system', content };
  }
  if (!Array.isArray(content)) throw invalidType(`${param}.content`, 'a string or an array of content parts', content);
  const parts = content.map((part, j) => contentPart(part, `${param}.content[${j}]`));
  if (role === 'user') return { role, content: parts };
  // Only user turns carry images in chat; system and assistant content is text (joined, as many servers want).
  const text: string[] = [];
  parts.forEach((p, j) => {
    if (p.type !== 'text') throw unsupported(`${param}.content[${j}]`, `Images are only supported in user messages ('${param}.content[${j}]').`);
    text.push(p.text);
  });
  // Developer messages are system messages to a chat upstream: not every chat server knows the developer role.
  return role === 'assistant' ? { role, content: text.join('') } : { role: 'system', content: text.join('') };
}

function contentPart(part: unknown, param: string): ChatContentPart {
  if (!isRecord(part)) throw invalidType(param, 'an object', part);
  const type = part['type'];
  if (type === 'input_text' || type === 'output_text') {
    const text = part['text'];
    if (typeof text !== 'string') throw text === undefined ? missing(`${param}.text`) : invalidType(`${param}.text`, 'a string', text);
    return { type: 'text', text };
  }
  if (type === 'refusal') {
    const refusal = part['refusal'];
    if (typeof refusal !== 'string') throw invalidType(`${param}.refusal`, 'a string', refusal);
    return { type: 'text', text: refusal };
  }
  if (type === 'input_image') return image(part, param);
  if (type === 'input_file') {
    throw unsupported(param, `File inputs ('${param}') need a model that serves the Responses API natively.`);
  }
  throw invalidValue(`${param}.type`, type, ['input_text', 'input_image', 'output_text', 'refusal']);
}

function image(part: Record<string, unknown>, param: string): ChatContentPart {
  const url = part['image_url'];
  if (url === undefined || url === null) {
    if (typeof part['file_id'] === 'string') {
      throw unsupported(`${param}.file_id`, `Images by 'file_id' need a model that serves the Responses API natively; send 'image_url' (an https or data: URL) instead.`);
    }
    throw missing(`${param}.image_url`);
  }
  if (typeof url !== 'string') throw invalidType(`${param}.image_url`, 'a string', url);
  const detail = part['detail'];
  if (detail === 'low' || detail === 'high' || detail === 'auto') return { type: 'image_url', image_url: { url, detail } };
  return { type: 'image_url', image_url: { url } };
}

/** A function_call item joins the assistant message just before it (parallel calls), else starts one. */
function addFunctionCall(out: ChatMessage[], item: Record<string, unknown>, param: string): void {
  const callId = requiredString(item, 'call_id', param);
  const name = requiredString(item, 'name', param);
  const args = item['arguments'];
  if (typeof args !== 'string') throw args === undefined ? missing(`${param}.arguments`) : invalidType(`${param}.arguments`, 'a string', args);
  const call: ChatToolCall = { id: callId, type: 'function', function: { name, arguments: args } };
  const last = out[out.length - 1];
  if (last !== undefined && last.role === 'assistant') {
    if (last.tool_calls === undefined) last.tool_calls = [call];
    else last.tool_calls.push(call);
    return;
  }
  out.push({ role: 'assistant', content: null, tool_calls: [call] });
}

function functionCallOutput(item: Record<string, unknown>, param: string): ChatMessage {
  const callId = requiredString(item, 'call_id', param);
  const output = item['output'];
  if (typeof output === 'string') return { role: 'tool', tool_call_id: callId, content: output };
  if (!Array.isArray(output)) throw output === undefined ? missing(`${param}.output`) : invalidType(`${param}.output`, 'a string or an array', output);
  // Chat tool messages carry text only.
  const text = output.map((part, j) => {
    const p = contentPart(part, `${param}.output[${j}]`);
    if (p.type !== 'text') throw unsupported(`${param}.output[${j}]`, `Images in a function_call_output ('${param}.output[${j}]') need a model that serves the Responses API natively.`);
    return p.text;
  });
  return { role: 'tool', tool_call_id: callId, content: text.join('') };
}

function requiredString(item: Record<string, unknown>, key: string, param: string): string {
  const value = item[key];
  if (value === undefined || value === null) throw missing(`${param}.${key}`);
  if (typeof value !== 'string') throw invalidType(`${param}.${key}`, 'a string', value);
  return value;
}
