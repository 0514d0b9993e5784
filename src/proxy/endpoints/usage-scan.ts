// Shared by the media endpoints (embeddings, speech, transcriptions, images): cheap usage extraction from big
// JSON answers, the SSE filter for event streams that end with a typed `*.done` event, and swapping a committed
// answer's body or content type before it is relayed.
import type { SseEvent } from '../../lib/sse.ts';
import type { Routed } from '../../mesh/router.ts';
import type { Usage } from '../../mesh/types.ts';
import { parsedUsageOf } from '../../providers/json-answer.ts';
import type { ProviderResponse } from '../../providers/provider.ts';
import type { SseFilter } from '../relay.ts';
import { isRecord } from './validate.ts';

const USAGE_KEY = Buffer.from('"usage"');
const [BACKSLASH, QUOTE, OPEN, CLOSE, COLON] = [0x5c, 0x22, 0x7b, 0x7d, 0x3a] as const;

/** JSON whitespace (RFC 8259 §2): space, tab, LF, CR. */
function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/** Index of the first non-whitespace byte at or after `i`. */
export function skipSpace(body: Buffer, i: number): number {
  while (isSpace(body[i])) i++;
  return i;
}

/**
 * The `usage` object of a JSON answer without parsing the whole answer. Embedding and image answers run to
 * megabytes (floats, base64 images) while `usage` is a small object, usually last: the last `"usage"` key is
 * found by a byte search and only its object is parsed. Anything unusual falls back to a full parse.
 * Returns the raw usage value (undefined when there is none).
 */
export function scanUsage(body: Buffer): unknown {
  let at = body.lastIndexOf(USAGE_KEY);
  // `\"usage\"` inside a string (a revised prompt quoting the word) is not the key.
  while (at > 0 && body[at - 1] === BACKSLASH) at = body.lastIndexOf(USAGE_KEY, at - 1);
  if (at === -1) return undefined;
  let i = skipSpace(body, at + USAGE_KEY.length);
  if (body[i] !== COLON) return fullParse(body);
  i = skipSpace(body, i + 1);
  if (body[i] !== OPEN) return body.subarray(i, i + 4).toString('latin1') === 'null' ? undefined : fullParse(body);
  const end = objectEnd(body, i);
  if (end === -1) return fullParse(body);
  try {
    return JSON.parse(body.toString('utf8', i, end + 1)) as unknown;
  } catch {
    return fullParse(body);
  }
}

/** Index of the `}` closing the object that opens at `start` (strings skipped), or -1. */
function objectEnd(body: Buffer, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN) depth++;
    else if (c === CLOSE && --depth === 0) return i;
  }
  return -1;
}

function fullParse(body: Buffer): unknown {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return isRecord(parsed) ? parsed['usage'] : undefined;
  } catch {
    return undefined;
  }
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);

/**
 * Token usage in any of the shapes the media endpoints report (wire §3–§6): `prompt_tokens`/`completion_tokens`
 * (embeddings), `input_tokens`/`output_tokens` (images, gpt-4o transcriptions, speech SSE), or
 * `{type:"duration", seconds}` (whisper). Duration-billed audio is recorded as whole SECONDS in prompt_tokens,
 * so `pricing.input_per_1m` of such a model is its price per million seconds (whisper-1: $0.006/min → 100).
 */
export function mediaUsage(usage: unknown): Usage | null {
  if (!isRecord(usage)) return null;
  if (usage['type'] === 'duration') return { prompt_tokens: Math.ceil(num(usage['seconds'])), completion_tokens: 0 };
  return {
    prompt_tokens: num(usage['prompt_tokens'] ?? usage['input_tokens']),
    completion_tokens: num(usage['completion_tokens'] ?? usage['output_tokens']),
  };
}

/** Reads usage from a buffered JSON answer (for relayBuffered) without a full parse where possible. */
export function bodyUsage(body: Buffer): Usage | null {
  // The 2xx check already parsed a small answer (providers/json-answer.ts): its top-level usage, else a scan.
  return mediaUsage(parsedUsageOf(body) ?? scanUsage(body));
}

/**
 * Keeps every event; reads usage from the terminal typed event (`speech.audio.done`, wire §4;
 * `transcript.text.done`, wire §5) and remembers that it was seen. Upstreams differ on whether `data: [DONE]`
 * follows those events, so the stream counts as complete either way; `fallback` is the usage recorded when
 * the terminal event carries none.
 */
export function doneEventFilter(doneType: string, fallback: Usage | null = null): SseFilter {
  let usage: Usage | null = null;
  let done = false;
  return {
    keep(event: SseEvent): boolean {
      // A substring check first: only the terminal event is parsed (deltas carry large base64 audio).
      if (!done && (event.event === doneType || event.data.includes(doneType))) {
        try {
          const parsed: unknown = JSON.parse(event.data);
          if (isRecord(parsed) && (parsed['type'] === doneType || event.event === doneType)) {
            done = true;
            usage = mediaUsage(parsed['usage']);
          }
        } catch {
          // not JSON: relayed as is, not terminal
        }
      }
      return true;
    },
    usage: () => usage ?? fallback,
    complete: () => done,
  };
}

/** The same committed answer with another response (a converted body, a corrected content type). */
export function withResponse(routed: Routed, response: ProviderResponse): Routed {
  return {
    response,
    pool: routed.pool,
    model: routed.model,
    native: routed.native,
    headers: routed.headers,
    finish: (info) => routed.finish(info),
  };
}
