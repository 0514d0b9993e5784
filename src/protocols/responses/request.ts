// POST /v1/responses body -> chat completions body, for upstreams that speak only chat (issue 14). Request
// fields: openai-node ResponseCreateParams; the chat side: openai-wire §2. Everything the chat API cannot
// express is a 400 naming the parameter, so no request is silently served differently from what it asked for.
import { MeshError } from '../../errors.ts';
import { CHARS_PER_TOKEN, estimateMessageTokens } from '../../lib/tokens.ts';
import { invalidType, isRecord, missing, optionalBoolean, optionalInteger, optionalNumber, optionalString, unsupported } from './check.ts';
import { inputMessages } from './input.ts';
import { chatToolChoice, chatTools, responseFormat, textFormat, toolChoice, tools } from './tools.ts';
import type { ChatMessage, ResponseEcho } from './types.ts';
import { MAX_OUTPUT_TOKENS, type ProtocolNeeds } from '../needs.ts';

/** Parameters only the Responses API itself can serve (state kept upstream, reusable prompts, background runs). */
const UPSTREAM_ONLY = ['conversation', 'prompt'] as const;

export interface ChatTranslation {
  /** The chat completions body to send upstream. */
  chat: Record<string, unknown>;
  stream: boolean;
  /** This turn's own messages (input only, no instructions): the store appends them to the conversation. */
  turn: ChatMessage[];
  /** Request fields the Response object repeats. */
  echo: ResponseEcho;
}

export interface TranslateOptions {
  /**
   * Field that carries `max_output_tokens`. `max_tokens` is what every chat server knows; OpenAI's reasoning
   * models want `max_completion_tokens`.
   * @default 'max_tokens'
   */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
}

/**
 * Translate a Responses request. `history` is the conversation stored for `previous_response_id` (null when
 * the request has none, or when the store does not know it: then this throws OpenAI's
 * 400 `previous_response_not_found`).
 */
export function toChatRequest(
  body: Record<string, unknown>,
  history: readonly ChatMessage[] | null,
  options: TranslateOptions = {},
): ChatTranslation {
  rejectUpstreamOnly(body);
  const previous = optionalString(body, 'previous_response_id');
  if (previous !== null && history === null) throw previousNotFound(previous);
  const model = body['model'];
  if (model === undefined || model === null) throw missing('model');
  if (typeof model !== 'string') throw invalidType('model', 'a string', model);
  if (body['input'] === undefined || body['input'] === null) throw missing('input');
  const turn = inputMessages(body['input']);
  const instructions = optionalString(body, 'instructions');
  const echo = echoOf(body, instructions, previous);

  const messages: ChatMessage[] = [];
  // Instructions are not carried over from a previous response (OpenAI: "the instructions from a previous
  // response will not be carried over"), so they lead this request's messages only.
  if (instructions !== null) messages.push({ role: 'system', content: instructions });
  if (history !== null) for (const m of history) messages.push(m);
  for (const m of turn) messages.push(m);

  const chat: Record<string, unknown> = { model, messages };
  if (echo.tools.length > 0) {
    chat['tools'] = chatTools(echo.tools, body['tools']);
    if (body['tool_choice'] !== undefined && body['tool_choice'] !== null) chat['tool_choice'] = chatToolChoice(echo.tool_choice);
    // Chat accepts parallel_tool_calls only together with tools.
    if (typeof body['parallel_tool_calls'] === 'boolean') chat['parallel_tool_calls'] = body['parallel_tool_calls'];
  }
  const format = responseFormat(echo.text.format);
  if (format !== null) chat['response_format'] = format;
  if (echo.max_output_tokens !== null) chat[options.maxTokensField ?? 'max_tokens'] = echo.max_output_tokens;
  if (echo.temperature !== null) chat['temperature'] = echo.temperature;
  if (echo.top_p !== null) chat['top_p'] = echo.top_p;
  // `metadata` stays out: OpenAI chat accepts it only with store:true, and other servers reject it.
  if (echo.user !== null) chat['user'] = echo.user;
  const stream = optionalBoolean(body, 'stream') === true;
  if (stream) {
    chat['stream'] = true;
    chat['stream_options'] = { include_usage: true };
  }
  return { chat, stream, turn, echo };
}

function rejectUpstreamOnly(body: Record<string, unknown>): void {
  if (body['background'] === true) {
    throw unsupported('background', "Background responses ('background': true) need a model that serves the Responses API natively.");
  }
  for (const key of UPSTREAM_ONLY) {
    if (body[key] !== undefined && body[key] !== null) {
      throw unsupported(key, `'${key}' needs a model that serves the Responses API natively.`);
    }
  }
}

/** OpenAI's answer to an unknown, expired or unstored previous_response_id (400, not 404). */
export function previousNotFound(id: string): MeshError {
  return new MeshError('previous_response_not_found', `Previous response with id '${id}' not found.`, { param: 'previous_response_id' });
}

function echoOf(body: Record<string, unknown>, instructions: string | null, previous: string | null): ResponseEcho {
  const text = body['text'];
  if (text !== undefined && text !== null && !isRecord(text)) throw invalidType('text', 'an object', text);
  return {
    instructions,
    max_output_tokens: optionalInteger(body, 'max_output_tokens', 1, MAX_OUTPUT_TOKENS),
    parallel_tool_calls: optionalBoolean(body, 'parallel_tool_calls') ?? true,
    previous_response_id: previous,
    store: optionalBoolean(body, 'store') ?? true,
    temperature: optionalNumber(body, 'temperature', 0, 2),
    text: { format: textFormat(isRecord(text) ? text['format'] : undefined) },
    tool_choice: toolChoice(body['tool_choice']),
    tools: tools(body['tools']),
    top_p: optionalNumber(body, 'top_p', 0, 1),
    user: optionalString(body, 'user'),
    metadata: metadata(body['metadata']),
  };
}

function metadata(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw invalidType('metadata', 'an object', value);
  const keys = Object.keys(value);
  if (keys.length > 16) throw unsupported('metadata', `Invalid 'metadata': too many properties. Expected at most 16, but got ${keys.length} instead.`);
  for (const key of keys) {
    const v = value[key];
    if (typeof v !== 'string') throw invalidType(`metadata.${key}`, 'a string', v);
    if (v.length > 512) throw unsupported(`metadata.${key}`, `Invalid 'metadata.${key}': string too long. Expected a string with maximum length 512, but got a string with length ${v.length} instead.`);
  }
  return value as Record<string, string>;
}

/** The fields of the router's `Needs` a Responses body determines. */
export type ResponsesNeeds = ProtocolNeeds;

/**
 * What the router's eligibility check needs (src/mesh/eligibility.ts), read off the Responses body without
 * translating it (a native upstream gets the body as is). `history` is the stored conversation, if any.
 */
export function needsOf(body: Record<string, unknown>, history: readonly ChatMessage[] | null = null): ResponsesNeeds {
  const text = body['text'];
  const format = isRecord(text) && isRecord(text['format']) ? text['format']['type'] : undefined;
  const instructions = body['instructions'];
  const input = body['input'];
  const maxOut = body['max_output_tokens'];
  let chars = typeof instructions === 'string' ? instructions.length : 0;
  let system = typeof instructions === 'string' && instructions.length > 0;
  let images = 0;
  if (typeof input === 'string') chars += input.length;
  else if (Array.isArray(input)) {
    for (const item of input) {
      if (!isRecord(item)) continue;
      if (item['role'] === 'system' || item['role'] === 'developer') system = true;
      const content = item['content'] ?? item['output'];
      if (typeof content === 'string') chars += content.length;
      else if (Array.isArray(content)) {
        for (const part of content) {
          if (!isRecord(part)) continue;
          if (part['type'] === 'input_image') images++;
          else if (typeof part['text'] === 'string') chars += part['text'].length;
        }
      }
      if (typeof item['arguments'] === 'string') chars += item['arguments'].length;
    }
  }
  const tokens = Math.ceil(chars / CHARS_PER_TOKEN) + estimateMessageTokens(history ?? []);
  return {
    stream: body['stream'] === true,
    tools: Array.isArray(body['tools']) && body['tools'].length > 0,
    structured_output: format === 'json_schema',
    json_mode: format === 'json_object',
    tokens: tokens + (typeof maxOut === 'number' ? maxOut : 0),
    system_prompt: system || (history ?? []).some((m) => m.role === 'system'),
    images,
  };
}
