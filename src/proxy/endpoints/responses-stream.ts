// The two ways a Responses stream reaches the client (issue 14): translated from chat chunks
// (ChatToResponsesStream), or an upstream's own Responses stream relayed as is until its terminal event.
import type { MeshError } from '../../errors.ts';
import { formatSseEvent, type SseEvent } from '../../lib/sse.ts';
import type { Usage } from '../../mesh/types.ts';
import { ChatToResponsesStream, encodeEvents } from '../../protocols/responses/index.ts';
import type { ResponseObject } from '../../protocols/responses/index.ts';
import { chunkFailure, cutShort, parseEvent, type StreamTranslator } from './protocol-relay.ts';
import { isRecord } from './validate.ts';

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/** Chat chunks → Responses events; `onEnd` receives the final Response (for the store) after a clean end. */
export function translatedResponses(stream: ChatToResponsesStream, onEnd: (response: ResponseObject) => void): StreamTranslator {
  return {
    event(event: SseEvent): string {
      const chunk = parseEvent(event);
      const failure = chunkFailure(chunk);
      if (failure !== null) throw failure;
      return encodeEvents(stream.push(chunk));
    },
    done: () => stream.ended,
    end(sawDone: boolean): string {
      if (!sawDone && !stream.finished) throw cutShort('[DONE]');
      const text = encodeEvents(stream.end());
      onEnd(stream.response);
      return text;
    },
    fail: (message: string) => encodeEvents(stream.fail(message)),
    usage(): Usage | null {
      const u = stream.response.usage;
      return u === null ? null : { prompt_tokens: u.input_tokens, completion_tokens: u.output_tokens };
    },
  };
}

/**
 * A native Responses stream passed through (event lines kept); complete at response.completed / .incomplete /
 * .failed, whose `response.usage` is the accounting. A failure after that is an `error` event (ResponseErrorEvent).
 */
export function nativeResponses(): StreamTranslator {
  let usage: Usage | null = null;
  let terminal = false;
  let seq = -1;
  return {
    event(event: SseEvent): string {
      const type = event.event;
      // Only the terminal event is parsed (its usage); the rest is relayed untouched. Hot path: no JSON per delta.
      if (type === undefined ? /"type":"response\.(completed|incomplete|failed)"/.test(event.data) : TERMINAL.has(type)) {
        const parsed = parseEvent(event);
        if (isRecord(parsed)) {
          terminal = true;
          if (typeof parsed['sequence_number'] === 'number') seq = parsed['sequence_number'];
          const response = parsed['response'];
          const u = isRecord(response) && isRecord(response['usage']) ? response['usage'] : null;
          if (u !== null) usage = { prompt_tokens: num(u['input_tokens']), completion_tokens: num(u['output_tokens']) };
        }
      } else {
        const m = /"sequence_number":(\d+)/.exec(event.data.slice(-40));
        if (m !== null) seq = Number(m[1]);
      }
      return formatSseEvent(event);
    },
    done: () => terminal,
    end(): string {
      if (!terminal) throw cutShort('response.completed');
      return '';
    },
    fail(message: string, err: MeshError): string {
      const event = { type: 'error', code: err.code === 'timeout' ? 'timeout' : 'server_error', message, param: null, sequence_number: seq + 1 };
      return `event: error\ndata: ${JSON.stringify(event)}\n\n`;
    },
    usage: () => usage,
  };
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
}
