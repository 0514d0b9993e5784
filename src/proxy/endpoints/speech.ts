// POST /v1/audio/speech (openai-wire §4): JSON in, audio out. The audio is relayed chunk by chunk as it
// arrives (mode `bytes`: the provider resolves only once the first chunk is in, so every failure before it
// rotates); `stream_format: "sse"` relays the `speech.audio.delta` / `speech.audio.done` events instead.
import { MeshError } from '../../errors.ts';
import { NO_NEEDS } from '../../mesh/eligibility.ts';
import type { Usage } from '../../mesh/types.ts';
import { readJson } from '../body.ts';
import type { RequestContext } from '../context.ts';
import { relayBuffered, relayBytes, relaySse } from '../relay.ts';
import { doneEventFilter, withResponse } from './usage-scan.ts';
import { isRecord, optionalEnum, optionalNumber, requireString } from './validate.ts';
import { routeFrom } from './route-from.ts';

/** Longest `input`, in characters (wire §4). */
const MAX_INPUT_CHARS = 4096;
const FORMATS = ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'] as const;
type Format = (typeof FORMATS)[number];
/** Conventional media types (wire §4), used only when an upstream sends audio without a Content-Type. */
const MEDIA_TYPES: Record<Format, string> = {
  mp3: 'audio/mpeg', opus: 'audio/opus', aac: 'audio/aac', flac: 'audio/flac', wav: 'audio/wav', pcm: 'audio/pcm',
};

export async function speech(ctx: RequestContext): Promise<void> {
  const body = await readJson(ctx, ctx.mesh.config.proxy.limits.max_body);
  const model = requireString(body, 'model');
  const input = requireString(body, 'input');
  // Characters are code points; counting them is only needed when the UTF-16 length could exceed the limit.
  const chars = input.length > MAX_INPUT_CHARS ? [...input].length : input.length;
  if (chars > MAX_INPUT_CHARS) {
    throw new MeshError('invalid_param', `'input' is ${chars} characters long; at most ${MAX_INPUT_CHARS} are allowed.`, { param: 'input' });
  }
  checkVoice(body['voice']);
  const format = optionalEnum(body, 'response_format', FORMATS) ?? 'mp3';
  optionalNumber(body, 'speed', 0.25, 4);
  const instructions = body['instructions'];
  if (instructions !== undefined && instructions !== null && typeof instructions !== 'string') {
    throw new MeshError('invalid_param', "Invalid type for 'instructions': expected a string.", { param: 'instructions' });
  }
  const sse = optionalEnum(body, 'stream_format', ['audio', 'sse'] as const) === 'sse';

  const routed = await routeFrom(ctx, body, {
    endpoint: 'speech',
    model,
    mode: sse ? 'sse' : 'bytes',
    // Raw audio is a plain response body, not event streaming: only the SSE form needs streaming delivery.
    needs: { ...NO_NEEDS, stream: sse },
  });
  // Speech is billed per input character (tts-1) unless the upstream reports tokens (the SSE done event of
  // gpt-4o-mini-tts): characters are recorded as prompt tokens, so `input_per_1m` is the per-1M-character price.
  const estimate: Usage = { prompt_tokens: chars, completion_tokens: 0 };
  const { response } = routed;
  if (sse && response.kind === 'sse') return relaySse(ctx, routed, doneEventFilter('speech.audio.done', estimate));
  // Audio answered whole to an SSE request (tts-1 has no SSE): relayed as the audio it is.
  if (response.kind === 'buffer') return relayBuffered(ctx, routed, () => estimate);
  // The upstream's own Content-Type is relayed as is; only a missing one is filled in from the format asked for.
  if (response.kind === 'bytes' && response.headers['content-type'] === undefined) {
    return relayBytes(ctx, withResponse(routed, { ...response, contentType: MEDIA_TYPES[format] }), estimate);
  }
  await relayBytes(ctx, routed, estimate);
}

/** `voice` is a built-in voice name or `{"id": "voice_…"}` for a custom voice (wire §4). */
function checkVoice(voice: unknown): void {
  if (voice === undefined || voice === null) throw new MeshError('missing_param', "Missing required parameter: 'voice'.", { param: 'voice' });
  if (typeof voice === 'string' && voice.length > 0) return;
  if (isRecord(voice) && typeof voice['id'] === 'string' && voice['id'].length > 0) return;
  throw new MeshError('invalid_param', "Invalid value for 'voice': expected a voice name or an object {\"id\": \"voice_…\"}.", { param: 'voice' });
}
