// Deterministic answers of the simulated provider for legacy completions (text_completion objects and
// their stream), moderations and image edits. Pure functions: the same request always yields the same answer.
//
// Moderation test keyword: an input containing `modelmesh-flag` is flagged in category `violence`, and
// `modelmesh-flag:<category>` (e.g. `modelmesh-flag:self-harm/intent`) in that category; everything else is
// not flagged, with small deterministic scores.
import { createHash } from 'node:crypto';
import type { FormData } from '../../lib/multipart.ts';
import { formField } from '../../lib/multipart.ts';
import { CHARS_PER_TOKEN, estimateTokens } from '../../lib/tokens.ts';
import { isRecord } from '../../lib/is-record.ts';

type Json = Record<string, unknown>;

const QUOTE_CHARS = 40;
const FLAG_KEYWORD = 'modelmesh-flag';
const FLAG_DEFAULT = 'violence';
/** omni-moderation-latest's categories, in the order the real API lists them. */
export const MODERATION_CATEGORIES = [
  'harassment', 'harassment/threatening', 'hate', 'hate/threatening', 'illicit', 'illicit/violent',
  'self-harm', 'self-harm/intent', 'self-harm/instructions', 'sexual', 'sexual/minors', 'violence', 'violence/graphic',
] as const;

/** The categories omni-moderation also judges images for (the others are text only). */
const IMAGE_CATEGORIES: ReadonlySet<string> = new Set(['self-harm', 'self-harm/intent', 'self-harm/instructions', 'sexual', 'violence', 'violence/graphic']);

const sha256 = (text: string | Buffer): Buffer => createHash('sha256').update(text).digest();

/** A deterministic id with the real API's prefix (`cmpl-`, `modr-`). */
export function legacyId(prefix: string, seed: string): string {
  return `${prefix}-${sha256(seed).toString('hex').slice(0, 24)}`;
}

/** The prompts of a completions request as text; a token array stands for itself as `<N tokens>`. */
function prompts(prompt: unknown): string[] {
  const asText = (p: unknown): string => (typeof p === 'string' ? p : Array.isArray(p) ? `<${p.length} tokens>` : '');
  if (Array.isArray(prompt) && prompt.length > 0 && typeof prompt[0] !== 'number') return prompt.map(asText);
  return [asText(prompt)];
}

function quote(text: string, fromEnd: boolean): string {
  const points = Array.from(text.replace(/\s+/g, ' ').trim());
  if (points.length <= QUOTE_CHARS) return points.join('');
  return fromEnd ? `…${points.slice(-QUOTE_CHARS).join('')}` : `${points.slice(0, QUOTE_CHARS).join('')}…`;
}

interface Choice { text: string; index: number; finish: 'stop' | 'length'; tokens: number }

/** The generated text for one prompt: it continues the prompt, or fills the gap up to `suffix` (FIM). */
function generated(prompt: string, suffix: string | undefined, model: string, nth: number): string {
  const copy = nth === 0 ? '' : ` #${nth + 1}`;
  if (suffix !== undefined && suffix !== '') {
    return ` /* simulated fill-in-the-middle by ${model}${copy}: after "${quote(prompt, true)}", before "${quote(suffix, false)}" */ `;
  }
  return ` Simulated completion from ${model}${copy} of "${quote(prompt, true)}".`;
}

/** `stop` cuts at the first stop sequence (finish "stop"); then `max_tokens` at its length (finish "length"). */
function limited(text: string, body: Json): { text: string; finish: 'stop' | 'length' } {
  const stop = body['stop'];
  const stops = typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop.filter((s): s is string => typeof s === 'string' && s !== '') : [];
  let cut = text;
  for (const s of stops) {
    const at = cut.indexOf(s);
    if (at !== -1) cut = cut.slice(0, at);
  }
  const max = body['max_tokens'];
  if (typeof max === 'number' && Number.isSafeInteger(max) && max >= 0 && estimateTokens(cut) > max) {
    return { text: cut.slice(0, max * CHARS_PER_TOKEN), finish: 'length' };
  }
  return { text: cut, finish: 'stop' };
}

/** Every choice: `n` per prompt, indexed prompt-major as the real API does; `echo` puts the prompt first. */
function choices(body: Json, model: string): { choices: Choice[]; promptTokens: number } {
  const n = typeof body['n'] === 'number' && Number.isSafeInteger(body['n']) ? Math.min(128, Math.max(1, body['n'])) : 1;
  const suffix = typeof body['suffix'] === 'string' ? body['suffix'] : undefined;
  const echo = body['echo'] === true;
  const out: Choice[] = [];
  let promptTokens = 0;
  prompts(body['prompt']).forEach((prompt, p) => {
    promptTokens += estimateTokens(prompt) + (suffix === undefined ? 0 : estimateTokens(suffix));
    for (let i = 0; i < n; i++) {
      const { text, finish } = limited(generated(prompt, suffix, model, i), body);
      out.push({ text: echo ? prompt + text : text, index: p * n + i, finish, tokens: estimateTokens(text) });
    }
  });
  return { choices: out, promptTokens };
}

function usage(promptTokens: number, all: Choice[]): Json {
  const completion = all.reduce((sum, c) => sum + c.tokens, 0);
  return { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion };
}

/** A `text_completion` object (the legacy completions answer). */
export function textCompletion(body: Json, model: string, created: number, id: string): Json {
  const { choices: all, promptTokens } = choices(body, model);
  const list = all.map((c) => ({ text: c.text, index: c.index, logprobs: null, finish_reason: c.finish }));
  return { id, object: 'text_completion', created, model, choices: list, usage: usage(promptTokens, all) };
}

/**
 * The stream of a completion, without [DONE]: each choice's text in word pieces, then an empty piece with
 * its finish_reason; with include_usage every chunk has `usage: null` and a last chunk `choices: []` the totals.
 */
export function textCompletionChunks(body: Json, model: string, created: number, id: string, includeUsage: boolean): Json[] {
  const { choices: all, promptTokens } = choices(body, model);
  const chunks: Json[] = [];
  const push = (text: string, index: number, finish: string | null): void => {
    const chunk: Json = { id, object: 'text_completion', created, model, choices: [{ text, index, logprobs: null, finish_reason: finish }] };
    chunks.push(includeUsage ? { ...chunk, usage: null } : chunk);
  };
  for (const c of all) {
    for (const piece of c.text.match(/\s*\S+|\s+$/g) ?? []) push(piece, c.index, null);
    push('', c.index, c.finish);
  }
  if (includeUsage) chunks.push({ id, object: 'text_completion', created, model, choices: [], usage: usage(promptTokens, all) });
  return chunks;
}

/** One moderation result for `text` (with `images` image parts): see the file comment for the keyword. */
function moderationResult(text: string, images: number): Json {
  const lower = text.toLowerCase();
  const at = lower.indexOf(FLAG_KEYWORD);
  let flaggedCategory: string | null = null;
  if (at !== -1) {
    const named = /^:([a-z/-]+)/.exec(lower.slice(at + FLAG_KEYWORD.length))?.[1];
    flaggedCategory = MODERATION_CATEGORIES.find((c) => c === named) ?? FLAG_DEFAULT;
  }
  const seed = sha256(text);
  const categories: Json = {};
  const scores: Json = {};
  const applied: Json = {};
  MODERATION_CATEGORIES.forEach((category, i) => {
    const hit = category === flaggedCategory;
    categories[category] = hit;
    // Below 0.001 unless flagged: plausible "nothing here" scores that still differ per input.
    scores[category] = hit ? 0.99 : (seed[i] ?? 0) / 256_000;
    applied[category] = images > 0 && IMAGE_CATEGORIES.has(category) ? ['text', 'image'] : ['text'];
  });
  return { flagged: flaggedCategory !== null, categories, category_scores: scores, category_applied_input_types: applied };
}

/** The moderation answer: one result per string of a string list, one for a string or a list of parts. */
export function moderation(body: Json, model: string, id: string): Json {
  const input = body['input'];
  let results: Json[];
  if (typeof input === 'string') results = [moderationResult(input, 0)];
  else if (Array.isArray(input) && input.every((i) => typeof i === 'string')) results = input.map((i) => moderationResult(i as string, 0));
  else {
    const parts = Array.isArray(input) ? input.filter(isRecord) : [];
    const text = parts.map((p) => (p['type'] === 'text' && typeof p['text'] === 'string' ? p['text'] : '')).join('\n');
    results = [moderationResult(text, parts.filter((p) => p['type'] === 'image_url').length)];
  }
  return { id, model, results };
}

/**
 * An image edit as the image-generation request the simulated images answer is built from: the prompt is
 * seeded with the uploaded images' bytes, so another image (or mask) gives another picture.
 */
export function editAsGeneration(form: FormData): Json {
  const hash = createHash('sha256');
  for (const part of form.parts) if (part.filename !== undefined) hash.update(part.data);
  const n = Number(formField(form, 'n') ?? 1);
  const body: Json = { prompt: `${formField(form, 'prompt') ?? ''}\0${hash.digest('hex')}`, n: Number.isSafeInteger(n) ? n : 1 };
  const size = formField(form, 'size');
  const format = formField(form, 'response_format');
  if (size !== undefined) body['size'] = size;
  if (format !== undefined) body['response_format'] = format;
  return body;
}
