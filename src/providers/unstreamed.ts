// A model that answers `stream: true` whole: a plain chat.completion (or legacy text_completion) JSON, as some
// OpenAI-compatible servers and gateways do. The answer itself is fine, so it goes on as the stream the client
// asked for, in the chunk shapes OpenAI streams (openai-wire §2: a chunk per choice with the role and the whole
// message, or its whole text, one with its finish_reason, a usage chunk, [DONE]), rather than failing the
// attempt with "no events" and counting it against a model that answered. The relay, the usage filter and the
// protocol translators then see an ordinary stream.
import type { SseEvent } from '../lib/sse.ts';
import type { BufferedResponse, SseResponse } from './provider.ts';
import { isRecord } from '../lib/is-record.ts';

type Json = Record<string, unknown>;

/** The stream of a whole answer (already checked to be a JSON object and no error envelope): chat or legacy. */
export function streamOfAnswer(res: BufferedResponse, endpoint: 'chat' | 'completions'): SseResponse {
  const answer = JSON.parse(res.body.toString('utf8')) as Json;
  const events = endpoint === 'chat' ? completionEvents(answer) : textCompletionEvents(answer);
  let next = 0;
  const take = (): SseEvent | undefined => (next < events.length ? events[next++] : undefined);
  const end = (): void => {
    next = events.length;
  };
  const iterator = {
    next: (): Promise<IteratorResult<SseEvent>> => {
      const event = take();
      return Promise.resolve(event === undefined ? { done: true, value: undefined } : { done: false, value: event });
    },
    takeReady: take,
    return: (): Promise<IteratorResult<SseEvent>> => {
      end();
      return Promise.resolve({ done: true, value: undefined });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return { kind: 'sse', status: res.status, headers: res.headers, contentType: 'text/event-stream', events: iterator, close: end };
}

/** The chunk events of a chat.completion: per choice its role and whole message, then its finish; usage; [DONE]. */
export function completionEvents(completion: Json): SseEvent[] {
  return answerEvents(completion, 'chat.completion.chunk', (choice, index) => [
    { index, delta: deltaOf(choice['message']), logprobs: choice['logprobs'] ?? null, finish_reason: null },
    { index, delta: {}, finish_reason: choice['finish_reason'] ?? 'stop' },
  ]);
}

/** The chunk events of a legacy text_completion: per choice its whole text, then its finish; usage; [DONE]. */
export function textCompletionEvents(completion: Json): SseEvent[] {
  return answerEvents(completion, 'text_completion', (choice, index) => [
    { text: typeof choice['text'] === 'string' ? choice['text'] : '', index, logprobs: choice['logprobs'] ?? null, finish_reason: null },
    { text: '', index, logprobs: null, finish_reason: choice['finish_reason'] ?? 'stop' },
  ]);
}

/** Two chunks per choice (`chunks` says what their choice entries hold), the usage chunk, [DONE]. */
function answerEvents(answer: Json, object: string, chunks: (choice: Json, index: number) => [Json, Json]): SseEvent[] {
  const base: Json = { id: answer['id'], object, created: answer['created'], model: answer['model'] };
  for (const key of ['service_tier', 'system_fingerprint']) if (answer[key] !== undefined) base[key] = answer[key];
  const chunk = (fields: Json): SseEvent => ({ data: JSON.stringify({ ...base, ...fields }) });
  const events: SseEvent[] = [];
  const choices = Array.isArray(answer['choices']) ? answer['choices'] : [];
  choices.forEach((choice: unknown, i) => {
    if (!isRecord(choice)) return;
    for (const entry of chunks(choice, typeof choice['index'] === 'number' ? choice['index'] : i)) events.push(chunk({ choices: [entry] }));
  });
  if (isRecord(answer['usage'])) events.push(chunk({ choices: [], usage: answer['usage'] }));
  events.push({ data: '[DONE]' });
  return events;
}

/** A message as one delta: streamed tool calls carry their position as `index`. */
function deltaOf(message: unknown): Json {
  const m = isRecord(message) ? message : {};
  const delta: Json = { role: typeof m['role'] === 'string' ? m['role'] : 'assistant', content: m['content'] ?? null };
  for (const [key, value] of Object.entries(m)) {
    if (key === 'role' || key === 'content' || value === undefined) continue;
    delta[key] = key === 'tool_calls' && Array.isArray(value) ? value.map((call: unknown, index) => (isRecord(call) ? { index, ...call } : call)) : value;
  }
  return delta;
}
