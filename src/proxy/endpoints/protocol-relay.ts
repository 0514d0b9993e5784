// Relaying a committed stream in another protocol (Responses, Anthropic Messages; issues 14, 15): each upstream
// event becomes zero or more client events through a StreamTranslator (a translation from chat, or a native
// pass-through that watches for the terminal event). Same rules as relay.ts: backpressure, time to first byte,
// exactly one finish; a failure after the first byte is the protocol's own in-band failure event, never a clean end.
import { MeshError, toMeshError } from '../../errors.ts';
import type { SseEvent } from '../../lib/sse.ts';
import type { Routed } from '../../mesh/router.ts';
import type { Usage } from '../../mesh/types.ts';
import type { RequestContext } from '../context.ts';
import { headerList } from '../header-list.ts';
import { drained } from '../relay.ts';

export interface StreamTranslator {
  /** Client text for one upstream event ('' for none). Throws a MeshError when the event is a failure. */
  event(event: SseEvent): string;
  /** True once the client's stream is complete (native terminal event seen): the relay stops reading. */
  done(): boolean;
  /** The upstream ended (`sawDone`: chat's [DONE] came): closing text; throws when the answer is incomplete. */
  end(sawDone: boolean): string;
  /** The in-band failure event(s) for `message` ('' when the stream already carries one). */
  fail(message: string, err: MeshError): string;
  usage(): Usage | null;
}

const SSE_HEADER_LIST: readonly string[] = [
  'content-type', 'text/event-stream; charset=utf-8',
  'cache-control', 'no-cache',
  'x-accel-buffering', 'no',
];

export async function relayTranslated(ctx: RequestContext, routed: Routed, t: StreamTranslator): Promise<void> {
  const { response } = routed;
  if (response.kind !== 'sse') throw new MeshError('internal_error', 'expected an SSE upstream answer');
  const res = ctx.res;
  res.writeHead(response.status, headerList(ctx.baseHeaders, routed.headers, SSE_HEADER_LIST));
  let ttfbMs: number | undefined;
  const write = async (text: string): Promise<void> => {
    if (text === '') return;
    const ok = res.write(text);
    ttfbMs ??= performance.now() - ctx.startedAt;
    if (!ok) await drained(res, ctx.signal);
  };
  try {
    let sawDone = false;
    while (!t.done()) {
      const next = await response.events.next();
      if (next.done === true) break;
      if (next.value.data === '[DONE]') {
        sawDone = true;
        break;
      }
      await write(t.event(next.value));
    }
    const closing = t.end(sawDone);
    if (response.release) response.release();
    else response.close();
    await write(closing);
    res.end();
    routed.finish({ usage: t.usage(), ...(ttfbMs === undefined ? {} : { ttfbMs }) });
  } catch (thrown) {
    response.close();
    const timing = ttfbMs === undefined ? {} : { ttfbMs };
    if (ctx.signal.aborted || res.destroyed) {
      routed.finish({ usage: t.usage(), cancelled: true, ...timing });
      res.destroy();
      return;
    }
    const err = toMeshError(thrown);
    routed.finish({ usage: t.usage(), error: err, ...timing });
    ctx.logger.warn('upstream failed after the response was committed', { request_id: ctx.requestId, model: routed.model.id, error: err.message });
    const message = ctx.mesh.redact(`The upstream model ${routed.model.id} failed mid-stream: ${err.upstream?.reason ?? err.message}`);
    res.end(t.fail(message, err));
  }
}

/** The stream ended before its answer was whole: a failure of the upstream (counts against the model). */
export function cutShort(what: string): MeshError {
  return new MeshError('upstream_error', `upstream ended the stream before ${what}`, { upstream: { status: 0, reason: `stream ended before ${what}` } });
}

/** `{"error":{"message"}}` in a chat chunk (in-band failure) as a MeshError; null when the chunk is not one. */
export function chunkFailure(chunk: unknown): MeshError | null {
  if (typeof chunk !== 'object' || chunk === null) return null;
  const error = (chunk as Record<string, unknown>)['error'];
  if (typeof error !== 'object' || error === null) return null;
  const m = (error as Record<string, unknown>)['message'];
  const reason = typeof m === 'string' ? m.slice(0, 200) : 'error event';
  return new MeshError('upstream_error', `upstream stream failed: ${reason}`, { upstream: { status: 0, reason } });
}

/** JSON.parse of an upstream event; a MeshError (upstream's fault) when it is not JSON. */
export function parseEvent(event: SseEvent): unknown {
  try {
    return JSON.parse(event.data);
  } catch {
    throw new MeshError('upstream_error', 'upstream sent a stream event that is not JSON', { upstream: { status: 0, reason: 'stream event not JSON' } });
  }
}

/**
 * A buffered answer that cannot be translated back (not JSON, no choice) as the upstream's failure: a 502 that
 * counts against the model, like any other broken upstream answer (issue 11.3).
 */
export function answerFailure(thrown: unknown): MeshError {
  const err = thrown instanceof MeshError ? thrown : new MeshError('upstream_error', 'The upstream answer is not JSON.');
  if (err.upstream !== undefined || err.code !== 'upstream_error') return err;
  return new MeshError('upstream_error', err.message, { upstream: { status: 0, reason: 'malformed chat completion' } });
}
