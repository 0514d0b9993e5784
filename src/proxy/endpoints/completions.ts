// POST /v1/completions, the legacy text completion endpoint that IDE autocomplete uses for fill-in-the-middle
// (`suffix`). Routed like chat to models with the text-completion or code-generation capability; the body
// passes through with only `model` rewritten (vLLM, Ollama, OpenAI, DeepSeek, Mistral FIM speak it as is).
// Token-array prompts (number[] or number[][]) are passed through too: OpenAI and vLLM accept them, and the
// proxy has no tokenizer that could turn them into text for anyone else.
import { MeshError } from '../../errors.ts';
import { estimateTokens } from '../../lib/tokens.ts';
import type { Needs } from '../../mesh/eligibility.ts';
import { MAX_OUTPUT_TOKENS } from '../../protocols/needs.ts';
import { readJson } from '../body.ts';
import type { RequestContext } from '../context.ts';
import { relayBuffered, relaySse } from '../relay.ts';
import { usageFilter } from './chat.ts';
import { bodyUsage } from './usage-scan.ts';
import { isRecord, optionalNumber, requireString } from './validate.ts';
import { routeFrom } from './route-from.ts';

/** The real API allows at most 4 stop sequences. */
const MAX_STOP = 4;
/** The real API's bound of `n` and `best_of`. */
const MAX_N = 128;

export async function completions(ctx: RequestContext): Promise<void> {
  const body = await readJson(ctx, ctx.mesh.config.proxy.limits.max_body);
  const model = requireString(body, 'model');
  const promptTokens = checkPrompt(body['prompt']);
  checkOptions(body);
  const stream = body['stream'] === true;
  const clientWantsUsage = stream && isRecord(body['stream_options']) && body['stream_options']['include_usage'] === true;
  if (stream && !clientWantsUsage) {
    // As for chat: ask for usage so the request is accounted for; the usage chunk is dropped again.
    body['stream_options'] = { ...(isRecord(body['stream_options']) ? body['stream_options'] : {}), include_usage: true };
  }
  const maxTokens = typeof body['max_tokens'] === 'number' ? body['max_tokens'] : 0;
  const logprobs = body['logprobs'];
  const needs: Needs = {
    stream,
    tools: false,
    structured_output: false,
    json_mode: false,
    tokens: promptTokens + maxTokens,
    logprobs: typeof logprobs === 'number' && logprobs > 0,
  };
  const routed = await routeFrom(ctx, body, { endpoint: 'completions', model, mode: stream ? 'sse' : 'buffer', needs });
  if (!stream) return relayBuffered(ctx, routed, bodyUsage);
  await relaySse(ctx, routed, usageFilter(clientWantsUsage));
}

const isTokenArray = (value: unknown): value is number[] =>
  Array.isArray(value) && value.length > 0 && value.every((t) => Number.isSafeInteger(t) && (t as number) >= 0);

/**
 * `prompt`: a string, a non-empty list of strings, a token array, or a list of token arrays (wire: the
 * legacy completions reference). Returns the estimated tokens of the longest prompt (the context-window
 * check is per prompt: each one is completed on its own).
 */
function checkPrompt(prompt: unknown): number {
  if (prompt === undefined || prompt === null) throw new MeshError('missing_param', "Missing required parameter: 'prompt'.", { param: 'prompt' });
  if (typeof prompt === 'string') return estimateTokens(prompt);
  if (isTokenArray(prompt)) return prompt.length;
  if (Array.isArray(prompt) && prompt.length > 0) {
    let longest = 0;
    prompt.forEach((item: unknown, i) => {
      if (typeof item === 'string') longest = Math.max(longest, estimateTokens(item));
      else if (isTokenArray(item)) longest = Math.max(longest, item.length);
      else {
        throw new MeshError('invalid_param', `Invalid value at 'prompt[${i}]': expected a string or an array of token ids.`, { param: 'prompt' });
      }
    });
    return longest;
  }
  throw new MeshError(
    'invalid_param',
    "Invalid value for 'prompt': expected a string, a non-empty array of strings, or token id arrays.",
    { param: 'prompt' },
  );
}

/** Type checks of the documented options; anything else passes through for the upstream to judge. */
function checkOptions(body: Record<string, unknown>): void {
  const suffix = body['suffix'];
  if (suffix !== undefined && suffix !== null && typeof suffix !== 'string') {
    throw new MeshError('invalid_param', "Invalid type for 'suffix': expected a string.", { param: 'suffix' });
  }
  for (const param of ['stream', 'echo']) {
    const value = body[param];
    if (value !== undefined && value !== null && typeof value !== 'boolean') {
      throw new MeshError('invalid_param', `Invalid type for '${param}': expected a boolean.`, { param });
    }
  }
  integer(body, 'max_tokens', 0, MAX_OUTPUT_TOKENS);
  const n = integer(body, 'n', 1, MAX_N);
  const bestOf = integer(body, 'best_of', 1, MAX_N);
  if (bestOf !== undefined && bestOf < (n ?? 1)) {
    throw new MeshError('invalid_param', "Invalid value for 'best_of': must be at least 'n'.", { param: 'best_of' });
  }
  if (bestOf !== undefined && bestOf > 1 && body['stream'] === true) {
    throw new MeshError('invalid_param', "Invalid value for 'best_of': streaming is not supported with best_of > 1.", { param: 'best_of' });
  }
  integer(body, 'logprobs', 0, 5);
  optionalNumber(body, 'temperature', 0, 2);
  optionalNumber(body, 'top_p', 0, 1);
  optionalNumber(body, 'presence_penalty', -2, 2);
  optionalNumber(body, 'frequency_penalty', -2, 2);
  const stop = body['stop'];
  const stopOk = stop === undefined || stop === null || typeof stop === 'string' ||
    (Array.isArray(stop) && stop.length <= MAX_STOP && stop.every((s) => typeof s === 'string'));
  if (!stopOk) {
    throw new MeshError('invalid_param', `Invalid value for 'stop': expected a string or an array of at most ${MAX_STOP} strings.`, { param: 'stop' });
  }
  const options = body['stream_options'];
  if (options !== undefined && options !== null && !isRecord(options)) {
    throw new MeshError('invalid_param', "Invalid type for 'stream_options': expected an object.", { param: 'stream_options' });
  }
}

function integer(body: Record<string, unknown>, param: string, min: number, max: number): number | undefined {
  const value = body[param];
  if (value === undefined || value === null) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
    throw new MeshError('invalid_param', `Invalid value for '${param}': expected ${range}.`, { param });
  }
  return value as number;
}
