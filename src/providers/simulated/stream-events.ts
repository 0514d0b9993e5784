// The simulated provider's media streams (wire §4-§6), so a fresh checkout answers the streaming forms too:
// `stream_format: "sse"` speech as speech.audio.delta events (base64 audio) and one speech.audio.done with
// usage; `stream=true` transcriptions as transcript.text.delta events (a word each) and one
// transcript.text.done with the whole text and usage; `stream: true` images (generations and edits) as one
// partial_image and one completed event per image. Like OpenAI's, these streams end without [DONE].
import type { SseEvent } from '../../lib/sse.ts';
import { estimateTokens } from '../../lib/tokens.ts';

/** Audio bytes per speech.audio.delta event (base64 in the event is a third larger). */
const AUDIO_EVENT_BYTES = 16 * 1024;

const event = (data: Record<string, unknown>): SseEvent => ({ data: JSON.stringify(data) });

export function speechEvents(audio: Buffer, input: string): SseEvent[] {
  const out: SseEvent[] = [];
  for (let i = 0; i < audio.length; i += AUDIO_EVENT_BYTES) {
    out.push(event({ type: 'speech.audio.delta', audio: audio.subarray(i, i + AUDIO_EVENT_BYTES).toString('base64') }));
  }
  const input_tokens = estimateTokens(input);
  const output_tokens = Math.ceil(audio.length / 1024);
  out.push(event({ type: 'speech.audio.done', usage: { input_tokens, output_tokens, total_tokens: input_tokens + output_tokens } }));
  return out;
}

export function transcriptEvents(text: string, audioBytes: number): SseEvent[] {
  const words = text.split(/(?<= )/);
  const out = words.map((delta) => event({ type: 'transcript.text.delta', delta, logprobs: [] }));
  const input_tokens = Math.max(1, Math.ceil(audioBytes / 1024));
  const output_tokens = estimateTokens(text);
  out.push(event({ type: 'transcript.text.done', text, logprobs: [], usage: { type: 'tokens', input_tokens, output_tokens, total_tokens: input_tokens + output_tokens } }));
  return out;
}

/**
 * gpt-image's stream for `images` (base64 PNGs, as a b64_json answer holds them): per image an
 * `<prefix>.partial_image` (the same picture: a partial of a synthetic image is the image) and a
 * `<prefix>.completed` with usage; the prefix is `image_generation` or `image_edit`.
 */
export function imageEvents(prefix: 'image_generation' | 'image_edit', images: readonly string[], prompt: string): SseEvent[] {
  const created_at = Math.floor(Date.now() / 1000);
  const input_tokens = estimateTokens(prompt);
  const out: SseEvent[] = [];
  images.forEach((b64_json) => {
    out.push(event({ type: `${prefix}.partial_image`, b64_json, partial_image_index: 0, created_at, output_format: 'png' }));
    const output_tokens = Math.ceil(b64_json.length / 1024);
    out.push(event({ type: `${prefix}.completed`, b64_json, created_at, output_format: 'png', usage: { input_tokens, output_tokens, total_tokens: input_tokens + output_tokens } }));
  });
  return out;
}
