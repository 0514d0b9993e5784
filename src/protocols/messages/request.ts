// POST /v1/messages request → OpenAI chat completions request, for upstreams that speak only chat.
// Source shape: https://docs.anthropic.com/en/api/messages (SDK `MessageCreateParamsBase`);
// target shape: reference/openai-wire.md §2. Pure: no I/O, no router; validation errors are 400 MeshErrors
// with Anthropic's wording (`max_tokens: Field required`), which errors.ts renders as Anthropic's body.
import { chatMessages, systemText } from './content.ts';
import { invalid, isRecord, type Json } from './common.ts';
import { countImages, estimateInputTokens } from './count-tokens.ts';
import { MAX_OUTPUT_TOKENS, type ProtocolNeeds } from '../needs.ts';

export interface ChatTranslation {
  /** The chat completions body; `model` is the client's, for the router to resolve and the connector to rewrite. */
  chat: Json;
  stream: boolean;
}

/** What a Messages request needs from a model (it always says whether it asks for log probabilities). */
export type MessagesNeeds = ProtocolNeeds & { logprobs: boolean };

function optionalNumber(body: Json, key: string, min: number, max: number, integer = false): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(key, `Input should be a valid ${integer ? 'integer' : 'number'}`);
  if (integer && !Number.isInteger(v)) throw invalid(key, 'Input should be a valid integer');
  if (v < min) throw invalid(key, `Input should be greater than or equal to ${min}`);
  if (v > max) throw invalid(key, `Input should be less than or equal to ${max}`);
  return v;
}

/** Anthropic requires max_tokens (chat does not). 0 (cache pre-warming) has no chat meaning, so ≥ 1. */
function maxTokens(body: Json): number {
  if (body['max_tokens'] === undefined || body['max_tokens'] === null) throw invalid('max_tokens', 'Field required');
  return optionalNumber(body, 'max_tokens', 1, MAX_OUTPUT_TOKENS, true) as number;
}

function model(body: Json): string {
  const v = body['model'];
  if (v === undefined || v === null) throw invalid('model', 'Field required');
  if (typeof v !== 'string' || v === '') throw invalid('model', 'Input should be a valid string');
  return v;
}

function stopSequences(body: Json): string[] | undefined {
  const v = body['stop_sequences'];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw invalid('stop_sequences', 'Input should be a valid list');
  v.forEach((s, i) => {
    if (typeof s !== 'string') throw invalid(`stop_sequences.${i}`, 'Input should be a valid string');
  });
  return v.length > 0 ? (v as string[]) : undefined;
}

/** Custom tools (no `type`, or `type: "custom"`) → chat function tools. Server tools have no chat equivalent. */
function chatTools(body: Json): Json[] | undefined {
  const v = body['tools'];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw invalid('tools', 'Input should be a valid list');
  const tools = v.map((t, i) => {
    const path = `tools.${i}`;
    if (!isRecord(t)) throw invalid(path, 'Input should be a valid dictionary');
    if (t['type'] !== undefined && t['type'] !== null && t['type'] !== 'custom') {
      throw invalid(`${path}.type`, `Server tool '${String(t['type'])}' is not supported by a chat-completions upstream`);
    }
    if (typeof t['name'] !== 'string' || t['name'] === '') {
      throw invalid(`${path}.name`, t['name'] === undefined ? 'Field required' : 'Input should be a valid string');
    }
    if (!isRecord(t['input_schema'])) {
      throw invalid(`${path}.input_schema`, t['input_schema'] === undefined ? 'Field required' : 'Input should be a valid dictionary');
    }
    const fn: Json = { name: t['name'] };
    if (typeof t['description'] === 'string') fn['description'] = t['description'];
    fn['parameters'] = t['input_schema'];
    return { type: 'function', function: fn };
  });
  return tools.length > 0 ? tools : undefined;
}

/**
 * tool_choice: auto→auto, any→required, tool→{type:function,function:{name}}, none→none;
 * disable_parallel_tool_use→parallel_tool_calls:false.
 */
function toolChoice(body: Json, out: Json, hasTools: boolean): void {
  const v = body['tool_choice'];
  if (v === undefined || v === null) return;
  if (!isRecord(v)) throw invalid('tool_choice', 'Input should be a valid dictionary');
  const type = v['type'];
  let choice: unknown;
  if (type === 'auto') choice = 'auto';
  else if (type === 'any') choice = 'required';
  else if (type === 'none') choice = 'none';
  else if (type === 'tool') {
    if (typeof v['name'] !== 'string') throw invalid('tool_choice.tool.name', 'Field required');
    choice = { type: 'function', function: { name: v['name'] } };
  } else {
    const expected = "'auto', 'any', 'tool', 'none'";
    throw invalid('tool_choice', `Input tag '${String(type)}' found using 'type' does not match any of the expected tags: ${expected}`);
  }
  // Chat upstreams reject tool_choice and parallel_tool_calls without tools; Anthropic ignores them.
  if (!hasTools) return;
  out['tool_choice'] = choice;
  if (v['disable_parallel_tool_use'] === true && type !== 'none') out['parallel_tool_calls'] = false;
}

/** The fields chat has no place for are dropped: top_k, thinking, service_tier, container, cache_control. */
function samplingAndExtras(body: Json, out: Json): void {
  const temperature = optionalNumber(body, 'temperature', 0, 1);
  if (temperature !== undefined) out['temperature'] = temperature;
  const topP = optionalNumber(body, 'top_p', 0, 1);
  if (topP !== undefined) out['top_p'] = topP;
  optionalNumber(body, 'top_k', 0, Number.MAX_SAFE_INTEGER, true); // validated, then dropped: chat has no top_k
  const stop = stopSequences(body);
  if (stop !== undefined) out['stop'] = stop;
  const metadata = body['metadata'];
  if (metadata !== undefined && metadata !== null) {
    if (!isRecord(metadata)) throw invalid('metadata', 'Input should be a valid dictionary');
    const user = metadata['user_id'];
    if (user !== undefined && user !== null && typeof user !== 'string') {
      throw invalid('metadata.user_id', 'Input should be a valid string');
    }
    if (typeof user === 'string' && user !== '') out['user'] = user;
  }
  const config = body['output_config'];
  const format = isRecord(config) ? config['format'] : undefined;
  if (isRecord(format) && format['type'] === 'json_schema' && isRecord(format['schema'])) {
    out['response_format'] = { type: 'json_schema', json_schema: { name: 'output', schema: format['schema'], strict: true } };
  }
}

function streamFlag(body: Json): boolean {
  const v = body['stream'];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw invalid('stream', 'Input should be a valid boolean');
  return v;
}

/** Validate an Anthropic Messages body and translate it to a chat completions body. Throws 400 MeshErrors. */
export function toChatRequest(body: unknown): ChatTranslation {
  if (!isRecord(body)) throw invalid('body', 'Input should be a valid dictionary');
  const chat: Json = { model: model(body) };
  const maxOut = maxTokens(body);
  const messages: Json[] = [];
  const system = systemText(body['system']);
  if (system !== undefined) messages.push({ role: 'system', content: system });
  chatMessages(body['messages'], messages);
  chat['messages'] = messages;
  // max_tokens rather than max_completion_tokens: every chat upstream reads it; our connectors read both.
  chat['max_tokens'] = maxOut;
  samplingAndExtras(body, chat);
  const tools = chatTools(body);
  if (tools !== undefined) chat['tools'] = tools;
  toolChoice(body, chat, tools !== undefined);
  const stream = streamFlag(body);
  if (stream) {
    chat['stream'] = true;
    // Usage arrives only with include_usage; Anthropic's message_delta always reports output_tokens.
    chat['stream_options'] = { include_usage: true };
  }
  return { chat, stream };
}

/** The router's eligibility input for a (validated) Messages body. */
export function needsOf(body: Json): MessagesNeeds {
  const messages = Array.isArray(body['messages']) ? body['messages'] : [];
  const maxOut = typeof body['max_tokens'] === 'number' ? body['max_tokens'] : 0;
  const config = body['output_config'];
  const format = isRecord(config) ? config['format'] : undefined;
  const system = body['system'];
  return {
    stream: body['stream'] === true,
    tools: Array.isArray(body['tools']) && body['tools'].length > 0,
    structured_output: isRecord(format) && format['type'] === 'json_schema',
    json_mode: false,
    tokens: estimateInputTokens(body) + maxOut,
    system_prompt: (typeof system === 'string' ? system !== '' : Array.isArray(system) && system.length > 0) ||
      messages.some((m) => isRecord(m) && m['role'] === 'system'),
    logprobs: false,
    images: countImages(messages),
  };
}
