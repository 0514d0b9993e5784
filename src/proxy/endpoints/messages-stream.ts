// The two ways an Anthropic Messages stream reaches the client (issue 15): translated from chat chunks
// (ChatToMessagesStream), or an Anthropic upstream's own stream relayed as is until message_stop. After a
// failure there is one `event: error` and never a message_stop. Also the accounting of a native answer,
// streamed or buffered: one formula for its prompt tokens (promptTokens).
import type { MeshError } from '../../errors.ts';
import { formatSseEvent, type SseEvent } from '../../lib/sse.ts';
import type { Usage } from '../../mesh/types.ts';
import { streamFailure } from '../../protocols/messages/errors.ts';
import { encodeEvents, type ChatToMessagesStream } from '../../protocols/messages/stream.ts';
import { parsedUsageOf } from '../../providers/json-answer.ts';
import { cutShort, parseEvent, type StreamTranslator } from './protocol-relay.ts';
import { scanUsage } from './usage-scan.ts';
import { isRecord } from './validate.ts';

function errorEvent(message: string, err: MeshError): string {
  const { type } = streamFailure(err);
  return encodeEvents([{ type: 'error', error: { type, message } }]);
}

export function translatedMessages(stream: ChatToMessagesStream): StreamTranslator {
  return {
    event: (event: SseEvent): string => encodeEvents(stream.push(event)),
    done: () => stream.done,
    end(sawDone: boolean): string {
      // Complete without [DONE] once a finish_reason came: the stream parsed every chunk already, so it knows
      // (a substring test missed spaced JSON, `"finish_reason": "stop"`, and called the answer cut short).
      if (!sawDone && !stream.finished) throw cutShort('[DONE]');
      return encodeEvents(stream.end());
    },
    fail: (message: string, err: MeshError) => encodeEvents(stream.fail(message, streamFailure(err).type)),
    usage: () => stream.usage(),
  };
}

/** Anthropic's own stream: input tokens from message_start, output tokens from message_delta (cumulative). */
export function nativeMessages(): StreamTranslator {
  let input = 0;
  let output = 0;
  let seen = false;
  let stopped = false;
  let upstreamError = false;
  return {
    event(event: SseEvent): string {
      const type = event.event;
      if (type === 'message_start' || type === 'message_delta') {
        const parsed = parseEvent(event);
        const usage = isRecord(parsed) ? (type === 'message_start' && isRecord(parsed['message']) ? parsed['message']['usage'] : parsed['usage']) : null;
        if (isRecord(usage)) {
          seen = true;
          if (typeof usage['input_tokens'] === 'number') input = promptTokens(usage);
          if (typeof usage['output_tokens'] === 'number') output = usage['output_tokens'];
        }
      } else if (type === 'message_stop') stopped = true;
      else if (type === 'error') upstreamError = true;
      return formatSseEvent(event);
    },
    done: () => stopped || upstreamError,
    end(): string {
      if (upstreamError) throw cutShort('message_stop (the upstream sent an error event)');
      if (!stopped) throw cutShort('message_stop');
      return '';
    },
    // The upstream's own error event already told the client: one error event, not two.
    fail: (message: string, err: MeshError) => (upstreamError ? '' : errorEvent(message, err)),
    usage: () => (seen ? { prompt_tokens: input, completion_tokens: output } : null) satisfies Usage | null,
  };
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
}

/**
 * Prompt tokens of an Anthropic usage object: input_tokens excludes the cache reads and writes, which are
 * billed input all the same, so all three count (the stream above and the buffered answer, usageOfMessage).
 */
export function promptTokens(usage: Record<string, unknown>): number {
  return num(usage['input_tokens']) + num(usage['cache_read_input_tokens']) + num(usage['cache_creation_input_tokens']);
}

/** Usage of a native buffered answer (Anthropic's `message`), read as bodyUsage reads a chat answer. */
export function usageOfMessage(body: Buffer): Usage | null {
  // The 2xx check parsed a small answer's top-level usage already (providers/json-answer.ts); else a scan.
  const usage = parsedUsageOf(body) ?? scanUsage(body);
  return isRecord(usage) ? { prompt_tokens: promptTokens(usage), completion_tokens: num(usage['output_tokens']) } : null;
}
