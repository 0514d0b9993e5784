// POST /v1/chat/completions (openai-wire §2): synchronous and streaming, through the router.
import { MeshError } from '../../errors.ts';
import type { SseEvent } from '../../lib/sse.ts';
import type { Needs } from '../../mesh/eligibility.ts';
import type { Usage } from '../../mesh/types.ts';
import { estimateMessageTokens } from '../../lib/tokens.ts';
import { readJson } from '../body.ts';
import type { RequestContext } from '../context.ts';
import { relayBuffered, relaySse, type SseFilter } from '../relay.ts';
import { bodyUsage, mediaUsage } from './usage-scan.ts';
import { isRecord, optionalTokenCount, requireString } from './validate.ts';
import { routeFrom } from './route-from.ts';

export async function chatCompletions(ctx: RequestContext): Promise<void> {
  const body = await readJson(ctx, ctx.mesh.config.proxy.limits.max_body);
  const model = requireString(body, 'model');
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0) {
    const problem = messages === undefined ? 'Missing required parameter' : 'Invalid value (expected a non-empty array) for';
    throw new MeshError(messages === undefined ? 'missing_param' : 'invalid_param', `${problem}: 'messages'.`, { param: 'messages' });
  }
  messages.forEach((m, i) => {
    if (!isRecord(m) || typeof m['role'] !== 'string') {
      throw new MeshError('invalid_param', `Invalid message at 'messages[${i}]': expected an object with a string 'role'.`, { param: `messages[${i}]` });
    }
  });
  // A wrongly typed `stream` would be relayed as buffered while a lenient upstream streams: the SSE answer
  // would then count as that model's failure (issue 11.1), so the type is checked like the real API does.
  const streamValue = body['stream'];
  if (streamValue !== undefined && streamValue !== null && typeof streamValue !== 'boolean') {
    throw new MeshError('invalid_param', "Invalid type for 'stream': expected a boolean.", { param: 'stream' });
  }
  const options = body['stream_options'];
  if (options !== undefined && options !== null && !isRecord(options)) {
    throw new MeshError('invalid_param', "Invalid type for 'stream_options': expected an object.", { param: 'stream_options' });
  }
  const stream = streamValue === true;
  const clientWantsUsage = stream && isRecord(body['stream_options']) && body['stream_options']['include_usage'] === true;
  if (stream && !clientWantsUsage) {
    // Ask for usage anyway so every request is accounted for; the usage chunk is removed again below.
    body['stream_options'] = { ...(isRecord(body['stream_options']) ? body['stream_options'] : {}), include_usage: true };
  }

  const routed = await routeFrom(ctx, body, {
    endpoint: 'chat',
    model,
    mode: stream ? 'sse' : 'buffer',
    needs: chatNeeds(body, messages, stream),
  });
  if (!stream) return relayBuffered(ctx, routed, bodyUsage);
  await relaySse(ctx, routed, usageFilter(clientWantsUsage));
}

function chatNeeds(body: Record<string, unknown>, messages: unknown[], stream: boolean): Needs {
  const format = isRecord(body['response_format']) ? body['response_format']['type'] : undefined;
  // Both checked (upstreams read either), before any client admission; the newer name wins, as at OpenAI.
  const completion = optionalTokenCount(body, 'max_completion_tokens');
  const legacy = optionalTokenCount(body, 'max_tokens');
  const maxOut = completion ?? legacy ?? 0;
  return {
    stream,
    tools: Array.isArray(body['tools']) && body['tools'].length > 0,
    structured_output: format === 'json_schema',
    json_mode: format === 'json_object',
    tokens: estimateMessageTokens(messages) + maxOut,
    system_prompt: messages.some((m) => isRecord(m) && (m['role'] === 'system' || m['role'] === 'developer')),
    logprobs: body['logprobs'] === true,
    images: countImages(messages),
  };
}

/** `image_url` content parts across the messages (constraints.max_images). */
function countImages(messages: unknown[]): number {
  let images = 0;
  for (const m of messages) {
    const content = isRecord(m) ? m['content'] : undefined;
    if (Array.isArray(content)) for (const part of content) if (isRecord(part) && part['type'] === 'image_url') images++;
  }
  return images;
}

/**
 * Read usage from the stream's usage chunk (choices: [] with usage totals) and drop that chunk when the
 * client did not ask for it. Hot path (every event): one backward scan for `"usage"` — with include_usage on,
 * upstreams end every chunk with `"usage":null`, found at once — and JSON parsing only for a usage object.
 */
export function usageFilter(clientWantsUsage: boolean): SseFilter {
  let usage: Usage | null = null;
  return {
    keep(event: SseEvent): boolean {
      if (!hasUsageObject(event.data)) return true;
      let parsed: unknown;
      try {
        parsed = JSON.parse(event.data);
      } catch {
        return true;
      }
      if (!isRecord(parsed)) return true;
      usage = mediaUsage(parsed['usage']) ?? usage;
      const choices = parsed['choices'];
      const usageOnly = Array.isArray(choices) && choices.length === 0;
      return clientWantsUsage || !usageOnly;
    },
    usage: () => usage,
  };
}

/** True when `data` has `"usage"` followed by `:` and an object (not `null`); spaces allowed. */
export function hasUsageObject(data: string): boolean {
  const at = data.lastIndexOf('"usage"');
  if (at === -1) return false;
  let i = at + 7;
  while (data.charCodeAt(i) === 32) i++;
  if (data.charCodeAt(i) !== 58 /* : */) return false;
  i++;
  while (data.charCodeAt(i) === 32) i++;
  return data.charCodeAt(i) === 123 /* { */;
}
