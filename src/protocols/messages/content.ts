// Anthropic `system` and `messages` → OpenAI chat `messages` (reference/openai-wire.md §2).
// Block shapes: https://docs.anthropic.com/en/api/messages and the SDK's `ContentBlockParam` union
// (anthropic-sdk-typescript src/resources/messages/messages.ts). Each block is validated as it is translated,
// so a body is walked once; failures are 400s worded as Anthropic words them (common.ts `invalid`).
import { invalid, isRecord, type Json } from './common.ts';

const USER_TAGS = "'text', 'image', 'document', 'tool_result'";
const ASSISTANT_TAGS = "'text', 'tool_use', 'thinking', 'redacted_thinking'";

/** Read a required string field of a block, or throw the 400 naming its path. */
function str(block: Json, key: string, path: string): string {
  const v = block[key];
  if (v === undefined) throw invalid(`${path}.${key}`, 'Field required');
  if (typeof v !== 'string') throw invalid(`${path}.${key}`, 'Input should be a valid string');
  return v;
}

function blockList(content: unknown, path: string): unknown[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (content === undefined) throw invalid(path, 'Field required');
  if (!Array.isArray(content)) throw invalid(path, 'Input should be a valid string or list');
  return content;
}

function tagOf(block: unknown, path: string): string {
  if (!isRecord(block)) throw invalid(path, 'Input should be a valid dictionary');
  const type = block['type'];
  if (typeof type !== 'string') throw invalid(`${path}.type`, 'Field required');
  return type;
}

const tagError = (path: string, tag: string, expected: string): Error =>
  invalid(path, `Input tag '${tag}' found using 'type' does not match any of the expected tags: ${expected}`);

/** `system`: a string or a list of text blocks, as one chat system message (blocks joined by newlines). */
export function systemText(system: unknown, at = 'system'): string | undefined {
  if (system === undefined || system === null) return undefined;
  if (typeof system === 'string') return system === '' ? undefined : system;
  if (!Array.isArray(system)) throw invalid(at, 'Input should be a valid string or list');
  const texts = system.map((block, i) => {
    const path = `${at}.${i}`;
    const tag = tagOf(block, path);
    if (tag !== 'text') throw tagError(path, tag, "'text'");
    return str(block as Json, 'text', path);
  });
  const text = texts.join('\n');
  return text === '' ? undefined : text;
}

/** An image block as a chat `image_url` part: base64 becomes a data: URL, a URL source stays a URL. */
function imagePart(block: Json, path: string): Json {
  const source = block['source'];
  if (!isRecord(source)) throw invalid(`${path}.source`, 'Field required');
  const type = source['type'];
  if (type === 'base64') {
    const mediaType = str(source, 'media_type', `${path}.source`);
    const data = str(source, 'data', `${path}.source`);
    return { type: 'image_url', image_url: { url: `data:${mediaType};base64,${data}` } };
  }
  if (type === 'url') return { type: 'image_url', image_url: { url: str(source, 'url', `${path}.source`) } };
  throw tagError(`${path}.source`, String(type), "'base64', 'url'");
}

/** A document block: plain text becomes text; a base64 PDF becomes a chat `file` part (data: URL). */
function documentPart(block: Json, path: string): Json {
  const source = block['source'];
  if (!isRecord(source)) throw invalid(`${path}.source`, 'Field required');
  if (source['type'] === 'text') return { type: 'text', text: str(source, 'data', `${path}.source`) };
  if (source['type'] === 'base64') {
    const mediaType = str(source, 'media_type', `${path}.source`);
    const data = str(source, 'data', `${path}.source`);
    const filename = typeof block['title'] === 'string' ? block['title'] : 'document.pdf';
    return { type: 'file', file: { filename, file_data: `data:${mediaType};base64,${data}` } };
  }
  throw tagError(`${path}.source`, String(source['type']), "'text', 'base64'");
}

/**
 * A tool_result's content as the chat tool message text. Chat tool messages carry text only, so images and
 * PDFs in a result are returned separately, to go into the user message that follows the tool messages.
 */
function toolResult(block: Json, path: string): { message: Json; images: Json[] } {
  const id = str(block, 'tool_use_id', path);
  const texts: string[] = [];
  const images: Json[] = [];
  const content = block['content'];
  if (content !== undefined && content !== null) {
    blockList(content, `${path}.content`).forEach((inner, j) => {
      const innerPath = `${path}.content.${j}`;
      const tag = tagOf(inner, innerPath);
      if (tag === 'text') texts.push(str(inner as Json, 'text', innerPath));
      else if (tag === 'image') images.push(imagePart(inner as Json, innerPath));
      else if (tag === 'document') {
        const part = documentPart(inner as Json, innerPath);
        if (part['type'] === 'text') texts.push(part['text'] as string);
        else images.push(part); // a PDF travels with the images, in the next user message
      } else throw tagError(innerPath, tag, "'text', 'image', 'document'");
    });
  }
  let text = texts.join('\n');
  if (images.length > 0) text += `${text === '' ? '' : '\n'}[${images.length} attachment(s) in the next user message]`;
  // Chat has no is_error flag: say it in the text, where the model reads it.
  if (block['is_error'] === true) text = `Error: ${text}`;
  return { message: { role: 'tool', tool_call_id: id, content: text }, images };
}

/** A user turn: tool_result blocks become tool messages first (chat wants them right after the tool calls). */
function userTurn(content: unknown, path: string, out: Json[]): void {
  const parts: Json[] = [];
  const toolImages: Json[] = [];
  blockList(content, `${path}.content`).forEach((block, j) => {
    const bpath = `${path}.content.${j}`;
    const tag = tagOf(block, bpath);
    const b = block as Json;
    if (tag === 'text') parts.push({ type: 'text', text: str(b, 'text', bpath) });
    else if (tag === 'image') parts.push(imagePart(b, bpath));
    else if (tag === 'document') parts.push(documentPart(b, bpath));
    else if (tag === 'tool_result') {
      const { message, images } = toolResult(b, bpath);
      out.push(message);
      toolImages.push(...images);
    } else throw tagError(bpath, tag, USER_TAGS);
  });
  parts.push(...toolImages);
  if (parts.length === 0) return;
  const only = parts[0];
  // One text part as a plain string: the form every chat upstream accepts.
  const single = parts.length === 1 && only !== undefined && only['type'] === 'text';
  out.push({ role: 'user', content: single ? only['text'] : parts });
}

/** An assistant turn: text blocks joined into `content`, tool_use blocks as `tool_calls`; thinking dropped. */
function assistantTurn(content: unknown, path: string, out: Json[]): void {
  const texts: string[] = [];
  const calls: Json[] = [];
  blockList(content, `${path}.content`).forEach((block, j) => {
    const bpath = `${path}.content.${j}`;
    const tag = tagOf(block, bpath);
    const b = block as Json;
    if (tag === 'text') texts.push(str(b, 'text', bpath));
    else if (tag === 'tool_use') {
      const input = b['input'] ?? {};
      if (!isRecord(input)) throw invalid(`${bpath}.input`, 'Input should be a valid dictionary');
      const fn = { name: str(b, 'name', bpath), arguments: JSON.stringify(input) };
      calls.push({ id: str(b, 'id', bpath), type: 'function', function: fn });
    } else if (tag !== 'thinking' && tag !== 'redacted_thinking') throw tagError(bpath, tag, ASSISTANT_TAGS);
    // Thinking blocks are the model's own signed reasoning: a chat upstream can neither verify nor use them.
  });
  const text = texts.join('\n');
  if (text === '' && calls.length === 0) return;
  const message: Json = { role: 'assistant', content: text === '' && calls.length > 0 ? null : text };
  if (calls.length > 0) message['tool_calls'] = calls;
  out.push(message);
}

/** Anthropic `messages` (validated) → chat messages, appended to `out`. */
export function chatMessages(messages: unknown, out: Json[]): void {
  if (messages === undefined) throw invalid('messages', 'Field required');
  if (!Array.isArray(messages)) throw invalid('messages', 'Input should be a valid list');
  if (messages.length === 0) throw invalid('messages', 'List should have at least 1 item after validation, not 0');
  messages.forEach((m, i) => {
    const path = `messages.${i}`;
    if (!isRecord(m)) throw invalid(path, 'Input should be a valid dictionary');
    const role = m['role'];
    if (role === 'user') userTurn(m['content'], path, out);
    else if (role === 'assistant') assistantTurn(m['content'], path, out);
    else if (role === 'system') {
      // The SDK's MessageParam allows role 'system' with text content; chat has the same role.
      if (m['content'] === undefined) throw invalid(`${path}.content`, 'Field required');
      const text = systemText(m['content'], `${path}.content`);
      if (text !== undefined) out.push({ role: 'system', content: text });
    } else if (role === undefined) throw invalid(`${path}.role`, 'Field required');
    else throw invalid(`${path}.role`, "Input should be 'user', 'assistant' or 'system'");
  });
}
