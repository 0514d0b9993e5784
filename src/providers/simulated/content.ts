// Deterministic text content for the simulated provider: chat replies, chat.completion and
// chat.completion.chunk objects (wire §2), and transcription bodies (wire §5). Pure functions:
// the same request always yields the same reply, so tests and demos are reproducible.

import { createHash } from 'node:crypto';
import { MeshError } from '../../errors.ts';
import { CHARS_PER_TOKEN, estimateTokens } from '../../lib/tokens.ts';
import { isRecord } from '../../lib/is-record.ts';

export { estimateTokens };

const SUMMARY_CHARS = 60; // longest quote of the user's message inside a simulated reply
const ARGUMENT_PIECE = 16; // code points per streamed piece of tool-call arguments
const AUDIO_BYTES_PER_SECOND = 16_000; // ≈128 kbit/s, a typical mp3 upload, for durations

type Json = Record<string, unknown>;

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** A deterministic chat completion id, `chatcmpl-` + 24 hex digits of sha256(seed). */
export function completionId(seed: string): string {
  return `chatcmpl-${sha256Hex(seed).slice(0, 24)}`;
}

/** Text of one message `content`: a string, or the `text` of its `{type:"text"}` parts. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (isRecord(part) && part['type'] === 'text' && typeof part['text'] === 'string' ? part['text'] : ''))
    .filter((t) => t !== '')
    .join('\n');
}

/** Text of an OpenAI `messages` array, one line per message with text; other parts are ignored. */
export function messagesText(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  return messages.map((m) => (isRecord(m) ? contentText(m['content']) : '')).filter((t) => t !== '').join('\n');
}

/** `text` cut to at most `maxUnits` UTF-16 units, backing off one unit rather than split a pair. */
function cutUnits(text: string, maxUnits: number): string {
  const code = text.charCodeAt(maxUnits - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? maxUnits - 1 : maxUnits;
  return text.slice(0, end);
}

export interface SimulatedReply {
  content: string | null;
  toolCalls: { id: string; name: string; arguments: string }[];
  finishReason: 'stop' | 'length' | 'tool_calls';
  promptTokens: number;
  completionTokens: number;
}

/**
 * A plausible value for a JSON Schema, so derived tool arguments and json_schema replies
 * validate against simple schemas: const / default / first enum / first anyOf|oneOf branch, then by
 * type. `$ref` is not resolved (yields null); depth is capped against self-referencing schemas.
 */
function sampleFor(schema: unknown, text: string, depth = 0): unknown {
  if (!isRecord(schema) || depth > 8) return null;
  if ('const' in schema) return schema['const'];
  if ('default' in schema) return schema['default'];
  const options = schema['enum'] ?? schema['anyOf'] ?? schema['oneOf'];
  if (Array.isArray(options) && options.length > 0) {
    return Array.isArray(schema['enum']) ? options[0] : sampleFor(options[0], text, depth + 1);
  }
  const declared = schema['type'];
  const type = Array.isArray(declared) ? declared.find((t) => t !== 'null') : declared;
  if (type === 'object' || (type === undefined && isRecord(schema['properties']))) {
    const properties = isRecord(schema['properties']) ? schema['properties'] : {};
    const required = schema['required'];
    const keys = Array.isArray(required)
      ? required.filter((k): k is string => typeof k === 'string')
      : Object.keys(properties);
    const out: Json = {};
    for (const key of keys) out[key] = sampleFor(properties[key], text, depth + 1);
    return out;
  }
  const minimum = typeof schema['minimum'] === 'number' ? schema['minimum'] : 0;
  switch (type) {
    case 'string': return text === '' ? 'simulated' : text;
    case 'integer': return Math.ceil(minimum);
    case 'number': return minimum;
    case 'boolean': return true;
    case 'array': return [];
    default: return null;
  }
}

/** The function tool to call, or undefined when the reply should be text (wire §2 tool_choice). */
function chosenTool(body: Json): { name: string; parameters: unknown } | undefined {
  const tools = Array.isArray(body['tools']) ? body['tools'].filter(isRecord) : [];
  const choice = body['tool_choice'];
  if (tools.length === 0 || choice === 'none') return undefined;
  const functions = tools
    .map((t) => (t['type'] === 'function' && isRecord(t['function']) ? t['function'] : undefined))
    .filter((f): f is Json => f !== undefined && typeof f['name'] === 'string');
  const forced = isRecord(choice) && isRecord(choice['function']) ? choice['function']['name'] : undefined;
  if (typeof forced === 'string') {
    return { name: forced, parameters: functions.find((f) => f['name'] === forced)?.['parameters'] };
  }
  // With "auto" (or no choice), answer in text once a tool result is the latest message: a real
  // model uses the result, and calling the tool again would loop agent frameworks forever.
  const messages = Array.isArray(body['messages']) ? body['messages'] : [];
  const last: unknown = messages[messages.length - 1];
  if (choice !== 'required' && isRecord(last) && last['role'] === 'tool') return undefined;
  const first = functions[0];
  return first === undefined ? undefined : { name: first['name'] as string, parameters: first['parameters'] };
}

/** max_completion_tokens wins over the deprecated max_tokens; non-positive values are ignored. */
function tokenLimit(body: Json): number | undefined {
  for (const key of ['max_completion_tokens', 'max_tokens']) {
    const value = body[key];
    if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  }
  return undefined;
}

/**
 * Deterministic reply for a chat request. Text replies quote the last user message; with function
 * tools (and tool_choice not "none") the reply is one call to the chosen/first tool with arguments
 * derived from its parameter schema. `response_format` json_object / json_schema yields JSON text.
 * A token limit truncates text (not tool arguments) and sets finish_reason "length".
 */
export function chatReply(body: Record<string, unknown>, model: string): SimulatedReply {
  const messages = body['messages'];
  const promptTokens = estimateTokens(messagesText(messages));
  const users = Array.isArray(messages) ? messages.filter((m) => isRecord(m) && m['role'] === 'user') : [];
  const lastUser: unknown = users[users.length - 1];
  const userText = isRecord(lastUser) ? contentText(lastUser['content']).replace(/\s+/g, ' ').trim() : '';
  const points = Array.from(userText); // code points, so the quote never splits a surrogate pair
  const quoted = points.length <= SUMMARY_CHARS ? userText : `${points.slice(0, SUMMARY_CHARS).join('')}…`;

  const tool = chosenTool(body);
  if (tool !== undefined) {
    const derived = sampleFor(tool.parameters, quoted);
    const args = JSON.stringify(isRecord(derived) ? derived : {});
    const id = `call_${sha256Hex(JSON.stringify([model, messages ?? null, tool.name])).slice(0, 24)}`;
    const toolCalls = [{ id, name: tool.name, arguments: args }];
    const completionTokens = estimateTokens(tool.name + args);
    return { content: null, toolCalls, finishReason: 'tool_calls', promptTokens, completionTokens };
  }

  let content = quoted === '' ? `Simulated reply from ${model}.` : `Simulated reply from ${model}: "${quoted}"`;
  const format = body['response_format'];
  if (isRecord(format) && format['type'] === 'json_object') content = JSON.stringify({ reply: content });
  if (isRecord(format) && format['type'] === 'json_schema') {
    const spec = format['json_schema'];
    content = JSON.stringify(sampleFor(isRecord(spec) ? spec['schema'] : undefined, quoted) ?? {});
  }
  let finishReason: SimulatedReply['finishReason'] = 'stop';
  const limit = tokenLimit(body);
  if (limit !== undefined && estimateTokens(content) > limit) {
    content = cutUnits(content, limit * CHARS_PER_TOKEN);
    finishReason = 'length';
  }
  return { content, toolCalls: [], finishReason, promptTokens, completionTokens: estimateTokens(content) };
}

/** Usage block with the detail objects the real API sends (wire §2 response example). */
function usage(reply: SimulatedReply): Json {
  return {
    prompt_tokens: reply.promptTokens,
    completion_tokens: reply.completionTokens,
    total_tokens: reply.promptTokens + reply.completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0,
    },
  };
}

/** A full `chat.completion` object (wire §2 response). */
export function chatCompletion(
  reply: SimulatedReply, model: string, created: number, id: string,
): Record<string, unknown> {
  const message: Json = { role: 'assistant', content: reply.content, refusal: null, annotations: [] };
  if (reply.toolCalls.length > 0) {
    message['tool_calls'] = reply.toolCalls.map((c) => ({
      id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments },
    }));
  }
  const choice = { index: 0, message, logprobs: null, finish_reason: reply.finishReason };
  return { id, object: 'chat.completion', created, model, choices: [choice], usage: usage(reply) };
}

/** `text` in pieces of `words` words, each with its leading whitespace, so pieces.join('') === text. */
function wordPieces(text: string, words: number): string[] {
  const tokens = text.match(/\s*\S+/g) ?? [];
  const rest = text.slice(tokens.join('').length);
  const pieces: string[] = [];
  for (let i = 0; i < tokens.length; i += words) pieces.push(tokens.slice(i, i + words).join(''));
  if (rest !== '') pieces.push(rest);
  return pieces;
}

/**
 * The stream of `chat.completion.chunk` objects for a reply (wire §2 streaming), without [DONE].
 * The first delta carries role "assistant"; each tool call's first delta carries index, id, type,
 * name and empty arguments (openai-node's ChatCompletionStream requires them), the arguments follow
 * in pieces; a final empty delta carries finish_reason; with includeUsage every chunk has
 * usage:null and an extra last chunk with choices:[] holds the totals.
 */
export function chatChunks(
  reply: SimulatedReply, model: string, created: number, id: string,
  options: { includeUsage: boolean; wordsPerChunk?: number },
): Record<string, unknown>[] {
  const words = Math.max(1, Math.floor(options.wordsPerChunk ?? 1) || 1);
  const base = (): Json => ({ id, object: 'chat.completion.chunk', created, model });
  const chunks: Json[] = [];
  const push = (delta: Json, finishReason: string | null = null): void => {
    const chunk = { ...base(), choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] };
    chunks.push(options.includeUsage ? { ...chunk, usage: null } : chunk);
  };

  // Text goes first (with the role) unless the reply is only tool calls, as the real API streams it.
  const hasText = (reply.content ?? '') !== '' || reply.toolCalls.length === 0;
  if (hasText) {
    push({ role: 'assistant', content: '' });
    for (const piece of wordPieces(reply.content ?? '', words)) push({ content: piece });
  }
  reply.toolCalls.forEach((call, index) => {
    const head = { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } };
    // A tool-call-only reply opens with role + content:null in the same delta (wire §2 tool-call deltas).
    push(!hasText && index === 0 ? { role: 'assistant', content: null, tool_calls: [head] } : { tool_calls: [head] });
    const points = Array.from(call.arguments);
    for (let i = 0; i < points.length; i += ARGUMENT_PIECE) {
      push({ tool_calls: [{ index, function: { arguments: points.slice(i, i + ARGUMENT_PIECE).join('') } }] });
    }
  });
  push({}, reply.finishReason);
  if (options.includeUsage) chunks.push({ ...base(), choices: [], usage: usage(reply) });
  return chunks;
}

/** Seconds as `HH:MM:SS<sep>mmm` (SRT uses ',' and WebVTT '.' before the milliseconds). */
function timestamp(seconds: number, separator: ',' | '.'): string {
  const ms = Math.round(seconds * 1000);
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  return `${pad(h)}:${pad(m)}:${pad(s)}${separator}${pad(ms % 1000, 3)}`;
}

/**
 * A transcription body (wire §5) for `bytes` bytes of audio in one `response_format`:
 * json / verbose_json as JSON; text, srt (SubRip: index, `start --> end`, text, blank line) and
 * vtt (W3C WebVTT: `WEBVTT` header, blank line, cue timing, text) as text/plain.
 */
/** The text the simulated provider "hears" in `bytes` of audio. */
export function transcriptText(bytes: number, filename: string | undefined): string {
  return `Simulated transcription of ${bytes} bytes of audio${filename ? ` from ${filename}` : ''}.`;
}

export function transcription(
  bytes: number, filename: string | undefined, responseFormat: string,
): { contentType: string; body: string } {
  const text = transcriptText(bytes, filename);
  const duration = Math.max(0.1, Math.round((bytes / AUDIO_BYTES_PER_SECOND) * 100) / 100);
  const durationUsage = { type: 'duration', seconds: Math.ceil(duration) };
  const json = 'application/json';
  const plain = 'text/plain; charset=utf-8';
  const cue = (separator: ',' | '.'): string => `${timestamp(0, separator)} --> ${timestamp(duration, separator)}`;
  switch (responseFormat) {
    case 'json':
      return { contentType: json, body: JSON.stringify({ text, usage: durationUsage }) };
    case 'verbose_json': {
      const segment = {
        id: 0, seek: 0, start: 0, end: duration, text: ` ${text}`, tokens: [], temperature: 0,
        avg_logprob: -0.25, compression_ratio: 1, no_speech_prob: 0,
      };
      const body = { task: 'transcribe', language: 'english', duration, text, segments: [segment] };
      return { contentType: json, body: JSON.stringify({ ...body, usage: durationUsage }) };
    }
    case 'diarized_json': {
      // gpt-4o-transcribe-diarize's shape: segments with a speaker label each.
      const segment = { type: 'transcript.text.segment', id: 'seg_0', start: 0, end: duration, text, speaker: 'A' };
      return { contentType: json, body: JSON.stringify({ task: 'transcribe', duration, text, segments: [segment], usage: durationUsage }) };
    }
    case 'text':
      return { contentType: plain, body: `${text}\n` };
    case 'srt':
      return { contentType: plain, body: `1\n${cue(',')}\n${text}\n\n` };
    case 'vtt':
      return { contentType: plain, body: `WEBVTT\n\n${cue('.')}\n${text}\n\n` };
    default:
      throw new MeshError(
        'invalid_param',
        `response_format must be one of json, text, srt, verbose_json, vtt, diarized_json; got ${JSON.stringify(responseFormat)}.`,
        { param: 'response_format' },
      );
  }
}
