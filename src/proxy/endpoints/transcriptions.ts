// POST /v1/audio/transcriptions and /v1/audio/translations (openai-wire §5): multipart/form-data in, bounded
// by `proxy.limits.max_upload` (25 MiB by default, the real API's limit). The form is routed as parsed: the
// provider re-encodes it with only `model` swapped, so every other field (repeated `timestamp_granularities[]`
// in order) and the file's name, type and bytes reach the upstream unchanged.
import { MeshError } from '../../errors.ts';
import { formField, parseMultipart, type FormData } from '../../lib/multipart.ts';
import { NO_NEEDS } from '../../mesh/eligibility.ts';
import type { Usage } from '../../mesh/types.ts';
import type { BufferedResponse, Endpoint } from '../../providers/provider.ts';
import { readRaw } from '../body.ts';
import type { RequestContext } from '../context.ts';
import { relayBuffered, relaySse } from '../relay.ts';
import { bodyUsage, doneEventFilter, mediaUsage, withResponse } from './usage-scan.ts';
import { isRecord } from './validate.ts';
import { routeFrom } from './route-from.ts';

const MULTIPART = /^\s*multipart\/form-data\s*(?:;|$)/i;
const RESPONSE_FORMATS = ['json', 'text', 'srt', 'verbose_json', 'vtt', 'diarized_json'];
/** Formats answered as a plain body (wire §5): the SDKs return it as a string and JSON.parse anything labelled JSON. */
const TEXT_FORMATS = new Set(['text', 'srt', 'vtt']);
const JSON_TYPE = /^\s*application\/(?:[\w.+-]*\+)?json\s*(?:;|$)/i;
const TEXT_PLAIN = 'text/plain; charset=utf-8';

export function transcriptions(ctx: RequestContext): Promise<void> {
  return audioToText(ctx, 'transcriptions');
}

export function translations(ctx: RequestContext): Promise<void> {
  return audioToText(ctx, 'translations');
}

async function audioToText(ctx: RequestContext, endpoint: Endpoint): Promise<void> {
  const form = await readForm(ctx);
  const file = form.parts.find((p) => p.name === 'file');
  if (file === undefined) throw new MeshError('missing_param', "Missing required parameter: 'file'.", { param: 'file' });
  if (file.filename === undefined) {
    throw new MeshError('invalid_param', "Invalid 'file': expected a file upload (a form part with a filename), got a text field.", { param: 'file' });
  }
  const model = textField(form, 'model', true) as string;
  const format = textField(form, 'response_format', false) ?? 'json';
  if (!RESPONSE_FORMATS.includes(format)) {
    throw new MeshError('invalid_param', `Invalid value for 'response_format': expected one of ${RESPONSE_FORMATS.join(', ')}.`, { param: 'response_format' });
  }
  const streamField = textField(form, 'stream', false);
  if (streamField !== undefined && streamField !== 'true' && streamField !== 'false') {
    throw new MeshError('invalid_param', "Invalid value for 'stream': expected 'true' or 'false'.", { param: 'stream' });
  }
  const temperature = textField(form, 'temperature', false);
  if (temperature !== undefined && !(temperature.trim() !== '' && Number(temperature) >= 0 && Number(temperature) <= 1)) {
    // Sent as a string by the SDKs (wire §5); an empty or non-numeric value would be read as 0 by Number().
    throw new MeshError('invalid_param', "Invalid value for 'temperature': expected a number from 0 to 1.", { param: 'temperature' });
  }
  const stream = streamField === 'true';
  const fields = textFields(form);

  const routed = await routeFrom(ctx, fields, {
    endpoint,
    model,
    // `fields` (the text fields) serve the request log and session stickiness; the form is what goes upstream.
    form,
    mode: stream ? 'sse' : 'buffer',
    needs: { ...NO_NEEDS, stream, file_bytes: file.data.length, ...languageNeed(fields) },
  });
  const { response } = routed;
  // An upstream that answered whole (whisper-1 ignores stream=true) is relayed whole, as OpenAI does.
  if (stream && response.kind === 'sse') return relaySse(ctx, routed, doneEventFilter('transcript.text.done'));
  if (response.kind === 'buffer' && TEXT_FORMATS.has(format)) {
    // text/srt/vtt carry no usage. An upstream that labels such an answer as JSON would make the SDK's
    // JSON.parse throw, so the label is corrected (and a JSON-wrapped `text` answer unwrapped).
    const fixed = JSON_TYPE.test(response.contentType) ? asPlainText(response, format) : response;
    return relayBuffered(ctx, fixed === response ? routed : withResponse(routed, fixed), () => null);
  }
  if (response.kind === 'buffer' && !JSON_TYPE.test(response.contentType) && isJsonObject(response.body)) {
    // A JSON format labelled text/plain (some servers do): the SDKs would hand the client a string.
    return relayBuffered(ctx, withResponse(routed, { ...response, contentType: 'application/json' }), transcriptionUsage);
  }
  relayBuffered(ctx, routed, transcriptionUsage);
}

function isJsonObject(body: Buffer): boolean {
  try {
    return isRecord(JSON.parse(body.toString('utf8')));
  } catch {
    return false;
  }
}

/** The request body as a parsed form: 415 unless multipart, 413 past max_upload (nothing is forwarded). */
export function readForm(ctx: RequestContext, example = '-F file=@audio.mp3 -F model=...'): Promise<FormData> {
  const type = ctx.req.headers['content-type'];
  if (type === undefined || !MULTIPART.test(type)) {
    const got = type === undefined ? 'no Content-Type header' : `Content-Type '${type.slice(0, 100)}'`;
    throw new MeshError(
      'unsupported_media_type',
      `Unsupported request body: got ${got}. This endpoint expects a file upload sent as multipart/form-data ` +
        `(with curl: ${example}).`,
      { headers: { 'x-should-retry': 'false' } },
    );
  }
  const limit = ctx.mesh.config.proxy.limits.max_upload;
  // readRaw refuses a declared Content-Length over the limit before reading, and a chunked body the moment it
  // passes it, leaving the rest unread (the 413 goes out with Connection: close).
  return parseMultipart(readRaw(ctx, limit), type, { maxBytes: limit });
}

/**
 * The one text field `name`; a required one that is missing or empty is a 400 naming it, and so is one given
 * twice: we would read the first and an upstream (FastAPI, vLLM) the last, and judge its answer by the wrong one.
 */
export function textField(form: FormData, name: string, required: boolean): string | undefined {
  let seen = 0;
  for (const part of form.parts) if (part.name === name && ++seen > 1) {
    throw new MeshError('invalid_param', `Invalid form: '${name}' is given more than once; send it once.`, { param: name });
  }
  const value = formField(form, name);
  if (value === undefined && required) throw new MeshError('missing_param', `Missing required parameter: '${name}'.`, { param: name });
  if (value !== undefined && value.length === 0 && required) {
    throw new MeshError('invalid_param', `Invalid value for '${name}': expected a non-empty string.`, { param: name });
  }
  return value;
}

/** Text fields as an object (a repeated field becomes an array, in order). */
export function textFields(form: FormData): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const part of form.parts) {
    if (part.filename !== undefined) continue;
    const value = part.data.toString('utf8');
    const seen = fields[part.name];
    if (seen === undefined) fields[part.name] = value;
    else fields[part.name] = Array.isArray(seen) ? [...(seen as unknown[]), value] : [seen, value];
  }
  return fields;
}

/** A text-format answer labelled JSON, as text/plain; `{"text": …}` for format `text` becomes that text. */
function asPlainText(response: BufferedResponse, format: string): BufferedResponse {
  let body = response.body;
  if (format === 'text') {
    try {
      const parsed: unknown = JSON.parse(body.toString('utf8'));
      if (isRecord(parsed) && typeof parsed['text'] === 'string') body = Buffer.from(parsed['text'], 'utf8');
    } catch {
      // a plain text body mislabelled as JSON: relabelled only
    }
  }
  return { ...response, contentType: TEXT_PLAIN, body };
}

/**
 * Usage of a JSON transcription: `usage` tokens, or whisper's `{type:"duration", seconds}` recorded as seconds
 * (answers.ts mediaUsage); an answer without `usage` but with verbose_json's `duration` counts its seconds.
 */
function transcriptionUsage(body: Buffer): Usage | null {
  const usage = bodyUsage(body);
  if (usage !== null) return usage;
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (isRecord(parsed) && typeof parsed['duration'] === 'number') return mediaUsage({ type: 'duration', seconds: parsed['duration'] });
  } catch {
    // not JSON: no usage
  }
  return null;
}

/** The `language` field, for models that declare constraints.supported_languages. */
function languageNeed(fields: Record<string, unknown>): { language?: string } {
  const language = fields['language'];
  return typeof language === 'string' && language !== '' ? { language } : {};
}
