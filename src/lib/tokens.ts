// Token estimates for eligibility (does the prompt fit a model's context window?) and for accounting when an
// upstream reports no usage. About four characters (UTF-16 units) a token: rough, cheap, tokenizer-free.

export const CHARS_PER_TOKEN = 4;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/**
 * Estimated prompt tokens of an OpenAI `messages` array: the text content of every message (a string, or the
 * `text` of `{type:"text"}` parts), summed without building the prompt string — prompts with large contexts
 * are common, and this runs on every chat request.
 */
export function estimateMessageTokens(messages: unknown): number {
  if (!Array.isArray(messages)) return 0;
  let chars = 0;
  for (const message of messages) {
    if (typeof message !== 'object' || message === null) continue;
    const content = (message as Record<string, unknown>)['content'];
    if (typeof content === 'string') chars += content.length;
    else if (Array.isArray(content)) {
      for (const part of content) {
        if (typeof part === 'object' && part !== null && (part as Record<string, unknown>)['type'] === 'text') {
          const text = (part as Record<string, unknown>)['text'];
          if (typeof text === 'string') chars += text.length;
        }
      }
    }
  }
  return Math.ceil(chars / CHARS_PER_TOKEN);
}
