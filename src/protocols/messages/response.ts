// OpenAI `chat.completion` (reference/openai-wire.md §2) → Anthropic Messages response
// (https://docs.anthropic.com/en/api/messages, SDK `Message`): text and tool_use blocks, stop_reason, usage.
import { MeshError } from '../../errors.ts';
import { isRecord, newId, type Json } from './common.ts';

export interface ResponseOptions {
  /** The message id; a fresh `msg_…` when absent. */
  id?: string;
  /** The `model` the client sees (the endpoint decides: the name it asked for, or the model that served). */
  model: string;
  /** The request's stop_sequences, to recognise the one an upstream names in a non-standard `stop_reason`. */
  stopSequences?: readonly string[];
}

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';

export interface StopInfo {
  stop_reason: StopReason;
  stop_sequence: string | null;
}

/**
 * finish_reason → stop_reason. Chat's `stop` means both "ended" and "hit a stop sequence" without saying
 * which, so it is `end_turn` unless the upstream names the sequence: vLLM and SGLang put the matched string
 * in a non-standard `choices[].stop_reason` (also `matched_stop`); only one of the request's own sequences
 * counts. Tool calls win over `stop` (Ollama and others finish tool calls with `stop`), not over `length`:
 * cut-off arguments are what max_tokens means.
 */
export function stopInfo(choice: Json, hasTools: boolean, stopSequences: readonly string[] = []): StopInfo {
  const finish = choice['finish_reason'];
  if (finish === 'length') return { stop_reason: 'max_tokens', stop_sequence: null };
  if (finish === 'content_filter') return { stop_reason: 'refusal', stop_sequence: null };
  if (finish === 'tool_calls' || finish === 'function_call' || hasTools) return { stop_reason: 'tool_use', stop_sequence: null };
  for (const key of ['stop_reason', 'matched_stop']) {
    const named = choice[key];
    if (typeof named === 'string' && stopSequences.includes(named)) return { stop_reason: 'stop_sequence', stop_sequence: named };
  }
  return { stop_reason: 'end_turn', stop_sequence: null };
}

/**
 * Tool call id as a tool_use id. Anthropic ids match `^[a-zA-Z0-9_-]+$` and read `toolu_…`; the client echoes
 * the id back in tool_use/tool_result, which request.ts passes through unchanged to both sides, so any
 * deterministic rewrite round-trips. Missing ids (some upstreams omit them) get a fresh one.
 */
export function toolUseId(id: unknown): string {
  if (typeof id !== 'string' || id === '') return newId('toolu_');
  const clean = id.replace(/[^a-zA-Z0-9_-]/g, '_');
  return clean.startsWith('toolu_') ? clean : `toolu_${clean}`;
}

/**
 * Tool arguments (a JSON string) as tool_use `input` (an object). Unparseable or non-object arguments (mostly
 * cut off by max_tokens) become `{}`: the raw text is not kept, because any extra field on the block would be
 * rejected when the client replays this turn to a native Anthropic upstream.
 */
export function toolInput(args: unknown): Json {
  if (isRecord(args)) return args;
  if (typeof args !== 'string' || args.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(args);
    return isRecord(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

/**
 * Chat usage → Anthropic usage. Anthropic's input_tokens exclude cache reads (reported apart), chat's
 * prompt_tokens include them (`prompt_tokens_details.cached_tokens`), so the cached part is moved over.
 */
export function anthropicUsage(usage: unknown): Json {
  const u = isRecord(usage) ? usage : {};
  const details = isRecord(u['prompt_tokens_details']) ? u['prompt_tokens_details'] : {};
  const prompt = count(u['prompt_tokens']);
  const cached = Math.min(prompt, count(details['cached_tokens']));
  return {
    input_tokens: prompt - cached,
    output_tokens: count(u['completion_tokens']),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
  };
}

function malformed(what: string): MeshError {
  return new MeshError('upstream_error', `Upstream answered with a malformed chat completion: ${what}.`);
}

/** Text of a chat message `content`: a string, or (some upstreams) a list of text parts. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const p of content) if (isRecord(p) && typeof p['text'] === 'string') text += p['text'];
  return text;
}

/**
 * A chat.completion body (parsed JSON) → an Anthropic `message`. Throws MeshError('upstream_error') for an
 * answer that is not a chat completion: the endpoint treats it as the upstream's failure (502 api_error).
 */
export function fromChatCompletion(chat: unknown, options: ResponseOptions): Json {
  if (!isRecord(chat)) throw malformed('not a JSON object');
  if (isRecord(chat['error'])) {
    const message = chat['error']['message'];
    throw new MeshError('upstream_error', `Upstream answered with an error: ${typeof message === 'string' ? message : 'unknown'}.`);
  }
  const choices = chat['choices'];
  if (!Array.isArray(choices) || choices.length === 0) throw malformed('no choices');
  const choice = choices[0];
  if (!isRecord(choice) || !isRecord(choice['message'])) throw malformed('choices[0].message missing');
  const message = choice['message'];
  const content: Json[] = [];
  let text = textOf(message['content']);
  if (text === '' && typeof message['refusal'] === 'string') text = message['refusal'];
  if (text !== '') content.push({ type: 'text', text });
  const calls = Array.isArray(message['tool_calls']) ? message['tool_calls'] : [];
  for (const call of calls) {
    if (!isRecord(call)) throw malformed('tool_calls item is not an object');
    const fn = isRecord(call['function']) ? call['function'] : {};
    if (typeof fn['name'] !== 'string') throw malformed('tool call without a function name');
    content.push({ type: 'tool_use', id: toolUseId(call['id']), name: fn['name'], input: toolInput(fn['arguments']) });
  }
  return {
    id: options.id ?? newId('msg_'),
    type: 'message',
    role: 'assistant',
    model: options.model,
    content,
    ...stopInfo(choice, calls.length > 0, options.stopSequences),
    usage: anthropicUsage(chat['usage']),
  };
}
