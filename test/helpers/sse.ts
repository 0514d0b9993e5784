// Reading a byte stream (an http.IncomingMessage) as server-sent events, for tests: the production code
// feeds SseParser from its own exchange, so this loop lives here rather than in src/lib/sse.ts.
import { SseParser, type SseEvent, type SseParserOptions } from '../../src/lib/sse.ts';

/**
 * Yields events as they complete. Errors of the source propagate; an event over `maxEventBytes` throws
 * MeshError('upstream_error'). Leaving the loop early closes the source (for-await calls return()).
 */
export async function* sseEvents(source: AsyncIterable<Buffer | string>, options: SseParserOptions = {}): AsyncGenerator<SseEvent> {
  const parser = new SseParser(options);
  for await (const chunk of source) {
    const events = parser.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    for (const event of events) yield event;
  }
  yield* parser.end();
}
