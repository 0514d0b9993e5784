// POST /v1/messages/count_tokens (https://docs.anthropic.com/en/api/messages-count-tokens): the proxy's
// estimate, in the style of src/lib/tokens.ts (about four characters a token, no tokenizer). Counted: the
// system prompt, every text, tool_use input and tool_result in the messages, and the tool definitions.
import { CHARS_PER_TOKEN } from '../../lib/tokens.ts';
import { invalid, isRecord, jsonChars, type Json } from './common.ts';
import { systemText } from './content.ts';

/**
 * Flat estimate for an image or a PDF document, whose size in tokens depends on pixels or pages we do not
 * decode. 1,600 is Anthropic's figure for an image at its ~1.15 megapixel limit (tokens ≈ width·height/750).
 */
export const MEDIA_TOKENS = 1600;

export interface TokenCount {
  input_tokens: number;
}

/** Characters of one block (text, tool input, tool result) and its media count. */
function blockChars(block: unknown, media: { n: number }): number {
  if (!isRecord(block)) return 0;
  switch (block['type']) {
    case 'text':
      return typeof block['text'] === 'string' ? block['text'].length : 0;
    case 'thinking':
      return typeof block['thinking'] === 'string' ? block['thinking'].length : 0;
    case 'tool_use':
      return (typeof block['name'] === 'string' ? block['name'].length : 0) + jsonChars(block['input']);
    case 'tool_result':
      return contentChars(block['content'], media);
    case 'image':
      media.n++;
      return 0;
    case 'document': {
      const source = isRecord(block['source']) ? block['source'] : {};
      if (source['type'] === 'text' && typeof source['data'] === 'string') return source['data'].length;
      media.n++;
      return 0;
    }
    default:
      return 0;
  }
}

function contentChars(content: unknown, media: { n: number }): number {
  if (typeof content === 'string') return content.length;
  if (!Array.isArray(content)) return 0;
  let chars = 0;
  for (const block of content) chars += blockChars(block, media);
  return chars;
}

/** Estimated input tokens of a Messages body (also the prompt part of the router's `needs.tokens`). */
export function estimateInputTokens(body: Json): number {
  const media = { n: 0 };
  let chars = contentChars(body['system'], media);
  const messages = body['messages'];
  if (Array.isArray(messages)) for (const m of messages) if (isRecord(m)) chars += contentChars(m['content'], media);
  const tools = body['tools'];
  if (Array.isArray(tools)) for (const t of tools) chars += jsonChars(t);
  return Math.ceil(chars / CHARS_PER_TOKEN) + media.n * MEDIA_TOKENS;
}

/** `image` blocks across the messages, tool results included (constraints.max_images). */
export function countImages(messages: unknown[]): number {
  let images = 0;
  const visit = (content: unknown): void => {
    if (!Array.isArray(content)) return;
    for (const b of content) {
      if (!isRecord(b)) continue;
      if (b['type'] === 'image') images++;
      else if (b['type'] === 'tool_result') visit(b['content']);
    }
  };
  for (const m of messages) if (isRecord(m)) visit(m['content']);
  return images;
}

/**
 * The shape every Messages upstream requires of one message, with content.ts's wording: a dictionary with a role
 * and a content that is a string or a list of typed blocks. The block types are not checked: an Anthropic
 * upstream takes more of them than the chat translation does, and the estimate skips those it does not know.
 */
function checkMessage(m: unknown, path: string): void {
  if (!isRecord(m)) throw invalid(path, 'Input should be a valid dictionary');
  const role = m['role'];
  if (role === undefined) throw invalid(`${path}.role`, 'Field required');
  if (role !== 'user' && role !== 'assistant' && role !== 'system') throw invalid(`${path}.role`, "Input should be 'user', 'assistant' or 'system'");
  const content = m['content'];
  if (content === undefined) throw invalid(`${path}.content`, 'Field required');
  if (typeof content === 'string') return;
  if (!Array.isArray(content)) throw invalid(`${path}.content`, 'Input should be a valid string or list');
  content.forEach((block, j) => {
    const at = `${path}.content.${j}`;
    if (!isRecord(block)) throw invalid(at, 'Input should be a valid dictionary');
    if (typeof block['type'] !== 'string') throw invalid(`${at}.type`, 'Field required');
  });
}

/**
 * The count_tokens answer: `{input_tokens}`. Validates what Anthropic requires of this route (`model`, a
 * non-empty `messages` list of well-formed messages, a text `system`; no `max_tokens`), with the same wording
 * as the Messages route: a body /v1/messages would refuse gets no estimate either.
 */
export function countTokens(body: unknown): TokenCount {
  if (!isRecord(body)) throw invalid('body', 'Input should be a valid dictionary');
  if (typeof body['model'] !== 'string' || body['model'] === '') {
    throw invalid('model', body['model'] === undefined ? 'Field required' : 'Input should be a valid string');
  }
  const messages = body['messages'];
  if (messages === undefined) throw invalid('messages', 'Field required');
  if (!Array.isArray(messages)) throw invalid('messages', 'Input should be a valid list');
  if (messages.length === 0) throw invalid('messages', 'List should have at least 1 item after validation, not 0');
  messages.forEach((m, i) => checkMessage(m, `messages.${i}`));
  systemText(body['system']); // throws for a system that is not a string or a list of text blocks
  return { input_tokens: estimateInputTokens(body) };
}
