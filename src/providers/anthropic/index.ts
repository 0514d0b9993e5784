// anthropic.claude.v1: native translation between OpenAI chat completions (reference/openai-wire.md §2) and
// Anthropic Messages (https://docs.anthropic.com/en/api/messages). Chat only; streaming in anthropic-stream.ts.
import type { IncomingHttpHeaders } from 'node:http';
import { MeshError } from '../../errors.ts';
import { AnthropicStream, finishReason, translateStream } from './stream.ts';
import { HttpConnector } from '../http/connector.ts';
import type { Endpoint, ProviderCall, ProviderResponse } from '../provider.ts';
import { upstreamError } from '../http/upstream-failure.ts';
import { nativeMessages } from './native.ts';
import { isRecord } from '../../lib/is-record.ts';

type Json = Record<string, unknown>;
type Block = Json;

/** Anthropic requires max_tokens; OpenAI makes it optional. */
export const DEFAULT_MAX_TOKENS = 4096;

/** Text of an OpenAI content value: a string, or its text parts joined. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.filter((p) => isRecord(p) && p['type'] === 'text' && typeof p['text'] === 'string').map((p) => (p as Json)['text']).join('\n');
}

/** An OpenAI `image_url` as an Anthropic image source: base64 for data: URLs, else a URL source. */
function image(part: Json): Block | undefined {
  const ref = part['image_url'];
  const url = isRecord(ref) ? ref['url'] : ref;
  if (typeof url !== 'string') return undefined;
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  const source = data ? { type: 'base64', media_type: data[1], data: data[2] } : { type: 'url', url };
  return { type: 'image', source };
}

/** OpenAI content (string or parts) as Anthropic blocks; empty text is dropped (Anthropic rejects it). */
function blocks(content: unknown): Block[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [];
  const out: Block[] = [];
  for (const part of content) {
    if (!isRecord(part)) continue;
    if (part['type'] === 'text' && typeof part['text'] === 'string' && part['text'] !== '') out.push({ type: 'text', text: part['text'] });
    if (part['type'] === 'image_url') {
      const img = image(part);
      if (img) out.push(img);
    }
  }
  return out;
}

/** Tool call arguments are a JSON string in OpenAI, an object (`input`) in Anthropic. */
function parseArguments(args: unknown): Json {
  if (typeof args !== 'string') return isRecord(args) ? args : {};
  try {
    const parsed: unknown = JSON.parse(args);
    return isRecord(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

function toolChoice(choice: unknown, parallel: unknown): Json | undefined {
  let out: Json | undefined;
  if (choice === 'auto') out = { type: 'auto' };
  else if (choice === 'required') out = { type: 'any' };
  else if (choice === 'none') out = { type: 'none' };
  else if (isRecord(choice) && isRecord(choice['function'])) out = { type: 'tool', name: choice['function']['name'] };
  if (parallel === false && out?.['type'] !== 'none') out = { type: 'auto', ...out, disable_parallel_tool_use: true };
  return out;
}

/** OpenAI chat request → Anthropic Messages request for upstream model `model`. */
export function toAnthropicRequest(body: Json, model: string): Json {
  const system: string[] = [];
  const messages: { role: 'user' | 'assistant'; content: Block[] }[] = [];
  // Anthropic wants alternating turns, and tool results inside the next user turn: merge same-role neighbours.
  const add = (role: 'user' | 'assistant', content: Block[]): void => {
    const last = messages[messages.length - 1];
    if (content.length === 0) return;
    if (last?.role === role) last.content.push(...content);
    else messages.push({ role, content });
  };
  for (const m of Array.isArray(body['messages']) ? body['messages'] : []) {
    if (!isRecord(m)) continue;
    switch (m['role']) {
      case 'system': case 'developer': {
        const text = textOf(m['content']);
        if (text !== '') system.push(text);
        break;
      }
      case 'assistant': {
        const calls = Array.isArray(m['tool_calls']) ? m['tool_calls'].filter(isRecord) : [];
        const uses = calls.map((c) => {
          const fn = isRecord(c['function']) ? c['function'] : {};
          return { type: 'tool_use', id: c['id'], name: fn['name'], input: parseArguments(fn['arguments']) };
        });
        add('assistant', [...blocks(m['content']), ...uses]);
        break;
      }
      case 'tool':
        add('user', [{ type: 'tool_result', tool_use_id: m['tool_call_id'], content: textOf(m['content']) }]);
        break;
      default:
        add('user', blocks(m['content']));
    }
  }
  const out: Json = { model, messages, max_tokens: pickMaxTokens(body) };
  if (system.length > 0) out['system'] = system.join('\n\n');
  // OpenAI's temperature range is 0–2, Anthropic's 0–1: clamp rather than have the upstream reject it.
  if (typeof body['temperature'] === 'number') out['temperature'] = Math.min(1, Math.max(0, body['temperature']));
  if (typeof body['top_p'] === 'number') out['top_p'] = body['top_p'];
  const stop = body['stop'];
  if (typeof stop === 'string') out['stop_sequences'] = [stop];
  else if (Array.isArray(stop) && stop.length > 0) out['stop_sequences'] = stop;
  const tools = Array.isArray(body['tools']) ? body['tools'].filter((t) => isRecord(t) && t['type'] === 'function' && isRecord(t['function'])) : [];
  if (tools.length > 0) {
    out['tools'] = tools.map((t) => {
      const fn = (t as Json)['function'] as Json;
      const tool: Json = { name: fn['name'], input_schema: isRecord(fn['parameters']) ? fn['parameters'] : { type: 'object', properties: {} } };
      if (typeof fn['description'] === 'string') tool['description'] = fn['description'];
      return tool;
    });
    const choice = toolChoice(body['tool_choice'], body['parallel_tool_calls']);
    if (choice !== undefined) out['tool_choice'] = choice;
  }
  if (typeof body['user'] === 'string') out['metadata'] = { user_id: body['user'] };
  if (body['stream'] === true) out['stream'] = true;
  return out;
}

function pickMaxTokens(body: Json): number {
  for (const key of ['max_completion_tokens', 'max_tokens']) {
    const v = body[key];
    if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return v;
  }
  return DEFAULT_MAX_TOKENS;
}

/** Anthropic Messages response → OpenAI `chat.completion`. */
export function toChatCompletion(message: Json, model: string, created = Math.floor(Date.now() / 1000)): Json {
  let text = '';
  const toolCalls: Json[] = [];
  for (const block of Array.isArray(message['content']) ? message['content'] : []) {
    if (!isRecord(block)) continue;
    if (block['type'] === 'text' && typeof block['text'] === 'string') text += block['text'];
    if (block['type'] === 'tool_use') {
      const fn = { name: block['name'], arguments: JSON.stringify(block['input'] ?? {}) };
      toolCalls.push({ id: block['id'], type: 'function', function: fn });
    }
  }
  const reply: Json = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text, refusal: null };
  if (toolCalls.length > 0) reply['tool_calls'] = toolCalls;
  const usage = isRecord(message['usage']) ? message['usage'] : {};
  const n = (k: string): number => (typeof usage[k] === 'number' ? (usage[k] as number) : 0);
  const prompt = n('input_tokens') + n('cache_read_input_tokens') + n('cache_creation_input_tokens');
  const completion = n('output_tokens');
  return {
    id: message['id'] ?? '',
    object: 'chat.completion',
    created,
    model: typeof message['model'] === 'string' ? message['model'] : model,
    choices: [{ index: 0, message: reply, logprobs: null, finish_reason: finishReason(message['stop_reason']) }],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  };
}

/** Upstream headers without those describing the untranslated body (its length, type, encoding). */
function entityFree(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = { ...headers };
  for (const name of ['content-length', 'content-type', 'content-encoding', 'transfer-encoding']) delete out[name];
  return out;
}

/** OpenAI endpoints with no Messages equivalent: models of this connector are not eligible for them. */
const NOT_SERVED: ReadonlySet<Endpoint> = new Set<Endpoint>([
  'embeddings', 'speech', 'transcriptions', 'translations', 'images', 'completions', 'moderations', 'image-edits',
]);

export class AnthropicProvider extends HttpConnector {
  serves(endpoint: Endpoint): boolean {
    return !NOT_SERVED.has(endpoint);
  }

  async call(call: ProviderCall): Promise<ProviderResponse> {
    if (call.endpoint === 'messages') return nativeMessages(this.transport, this.id, call);
    if (call.endpoint !== 'chat') {
      throw new MeshError('upstream_error', `${this.config.connector} does not support ${call.endpoint}`, {
        upstream: { status: 400, reason: 'endpoint not supported' },
      });
    }
    const stream = call.mode === 'sse';
    const body = toAnthropicRequest({ ...call.body, stream }, call.model.name);
    const res = await this.transport.request({
      path: '/messages',
      headers: { ...call.headers, 'content-type': 'application/json', 'x-request-id': call.requestId },
      body: Buffer.from(JSON.stringify(body), 'utf8'),
      mode: stream ? 'sse' : 'buffer',
      signal: call.signal,
    });
    if (res.kind === 'sse') {
      const options = call.body['stream_options'];
      const includeUsage = isRecord(options) && options['include_usage'] === true;
      const translated = await translateStream(res, new AnthropicStream(this.id, call.model.name, includeUsage), this.id);
      return { ...translated, headers: entityFree(res.headers), contentType: 'text/event-stream' };
    }
    if (res.kind !== 'buffer') throw upstreamError(this.id, 'unexpected response mode');
    let message: unknown;
    try {
      message = JSON.parse(res.body.toString('utf8'));
    } catch {
      message = undefined;
    }
    if (!isRecord(message)) throw upstreamError(this.id, `${res.status} answer is not a complete JSON object`);
    // A gateway may answer 200 with Anthropic's error envelope: a failed attempt, not an empty completion.
    if (message['type'] === 'error') {
      const error = isRecord(message['error']) ? message['error'] : {};
      throw upstreamError(this.id, `${res.status} error answer: ${typeof error['message'] === 'string' ? error['message'].slice(0, 200) : 'no message'}`);
    }
    const json = Buffer.from(JSON.stringify(toChatCompletion(message, call.model.name)), 'utf8');
    return { kind: 'buffer', status: res.status, headers: entityFree(res.headers), contentType: 'application/json', body: json };
  }

}
