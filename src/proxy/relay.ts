// Relaying a committed upstream answer to the client (DESIGN §4, streaming rule). Before this point any
// failure rotated; from here on the response is committed: a mid-stream failure becomes one in-band
// error event and the stream closes without [DONE] (openai-wire §2 "Errors").
import type { ServerResponse } from 'node:http';
import { MeshError, toMeshError } from '../errors.ts';
import { formatSseError, formatSseEvent, inBandError, type SseEvent } from '../lib/sse.ts';
import type { Routed } from '../mesh/router.ts';
import type { Usage } from '../mesh/types.ts';
import type { CancelSignal } from '../lib/cancel.ts';
import { decimal } from '../lib/decimal.ts';
import type { RequestContext } from './context.ts';
import { headerList } from './header-list.ts';

/** Send a buffered (synchronous) answer as received; `usageOf` reads token usage from its body. */
export function relayBuffered(ctx: RequestContext, routed: Routed, usageOf: (body: Buffer) => Usage | null): void {
  const { response } = routed;
  if (response.kind !== 'buffer') throw new MeshError('internal_error', 'expected a buffered upstream answer');
  ctx.res.writeHead(response.status, headerList(ctx.baseHeaders, routed.headers, ['content-type', response.contentType, 'content-length', decimal(response.body.length)]));
  ctx.res.end(response.body);
  routed.finish({ usage: safeUsage(usageOf, response.body), ttfbMs: performance.now() - ctx.startedAt, body: response.body });
}

function safeUsage(usageOf: (body: Buffer) => Usage | null, body: Buffer): Usage | null {
  try {
    return usageOf(body);
  } catch {
    return null;
  }
}

/** What to do with one upstream event: pass it on, drop it, and/or read usage from it. */
export interface SseFilter {
  /** Return false to drop the event (e.g. a usage chunk the client did not ask for). */
  keep(event: SseEvent): boolean;
  /** Usage seen so far. */
  usage(): Usage | null;
  /**
   * True once the stream is complete without `data: [DONE]`: the audio streams end with a typed terminal
   * event (`speech.audio.done`, `transcript.text.done`; wire §4, §5) that not every upstream follows with [DONE].
   */
  complete?(): boolean;
}

const SSE_HEADER_LIST: readonly string[] = [
  'content-type', 'text/event-stream; charset=utf-8',
  'cache-control', 'no-cache',
  'x-accel-buffering', 'no',
];


/** Relay an SSE answer event by event with backpressure; ends with the upstream's [DONE] or an in-band error. */
export async function relaySse(ctx: RequestContext, routed: Routed, filter: SseFilter): Promise<void> {
  const { response } = routed;
  if (response.kind !== 'sse') throw new MeshError('internal_error', 'expected an SSE upstream answer');
  const res = ctx.res;
  res.writeHead(response.status, headerList(ctx.baseHeaders, routed.headers, SSE_HEADER_LIST));
  let ttfbMs: number | undefined;
  let sawDone = false;
  const take = response.events.takeReady;
  try {
    for (;;) {
      const next = await response.events.next();
      if (next.done) break;
      // Every event already received (one upstream chunk often holds several) goes out in one write.
      let out = '';
      let event: SseEvent | undefined = next.value;
      let ok = true;
      try {
        for (; event !== undefined; event = sawDone || take === undefined ? undefined : take.call(response.events)) {
          if (event.data === '[DONE]') sawDone = true;
          else {
            // The upstream's own failure event is not relayed as it came (unredacted, not in our error
            // shape): it ends the stream as a failure of that model, with our one in-band error.
            const failure = inBandError(event.data);
            if (failure !== undefined) throw new MeshError('upstream_error', `upstream stream failed: ${failure.reason}`, { upstream: failure });
            if (!filter.keep(event)) continue;
          }
          out += event.event === undefined && event.id === undefined && !event.data.includes('\n') ? `data: ${event.data}\n\n` : formatSseEvent(event);
        }
      } finally {
        // Also on a throw: what was taken is written before the in-band error, as one write per event did.
        if (out !== '') {
          ok = res.write(out);
          ttfbMs ??= performance.now() - ctx.startedAt;
        }
      }
      if (!ok) await drained(res, ctx.signal);
      if (sawDone) break;
    }
    if (!sawDone && filter.complete?.() !== true) throw new MeshError('upstream_error', 'upstream ended the stream before [DONE]', { upstream: { status: 0, reason: 'stream ended before [DONE]' } });
    // The answer is complete: keep the upstream socket for the next request rather than destroying it.
    if (response.release) response.release();
    else response.close();
    res.end();
    routed.finish({ usage: filter.usage(), ...(ttfbMs === undefined ? {} : { ttfbMs }) });
  } catch (thrown) {
    response.close();
    endAfterFailure(ctx, routed, thrown, filter.usage(), ttfbMs, (message, code) => formatSseError(message, code));
  }
}

/** Relay a binary stream (speech audio) chunk by chunk with backpressure. */
export async function relayBytes(ctx: RequestContext, routed: Routed, usage: Usage | null): Promise<void> {
  const { response } = routed;
  if (response.kind !== 'bytes') throw new MeshError('internal_error', 'expected a byte-stream upstream answer');
  const res = ctx.res;
  const length = response.headers['content-length'];
  res.writeHead(response.status, {
    ...ctx.baseHeaders,
    ...routed.headers,
    'content-type': response.contentType,
    ...(typeof length === 'string' ? { 'content-length': length } : {}),
  });
  let ttfbMs: number | undefined;
  try {
    for (;;) {
      const next = await response.chunks.next();
      if (next.done) break;
      const ok = res.write(next.value);
      ttfbMs ??= performance.now() - ctx.startedAt;
      if (!ok) await drained(res, ctx.signal);
    }
    res.end();
    routed.finish({ usage, ...(ttfbMs === undefined ? {} : { ttfbMs }) });
  } catch (thrown) {
    response.close();
    // Audio has no in-band error channel: cut the connection so the client sees a truncated body.
    endAfterFailure(ctx, routed, thrown, usage, ttfbMs, null);
  }
}

function endAfterFailure(
  ctx: RequestContext, routed: Routed, thrown: unknown, usage: Usage | null, ttfbMs: number | undefined,
  inBand: ((message: string, code: string | null) => string) | null,
): void {
  const timing = ttfbMs === undefined ? {} : { ttfbMs };
  if (ctx.signal.aborted) {
    routed.finish({ usage, cancelled: true, ...timing });
    ctx.res.destroy();
    return;
  }
  const err = toMeshError(thrown);
  routed.finish({ usage, error: err, ...timing });
  ctx.logger.warn('upstream failed after the response was committed', { request_id: ctx.requestId, model: routed.model.id, error: err.message });
  if (inBand && !ctx.res.destroyed) {
    const message = `The upstream model ${routed.model.id} failed mid-stream: ${err.upstream?.reason ?? err.message}`;
    ctx.res.end(inBand(ctx.mesh.redact(message), err.code));
  } else {
    ctx.res.destroy();
  }
}

/** Wait for 'drain', or fail when the client goes away (so a stalled reader never pins memory). */
export function drained(res: ServerResponse, signal: CancelSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted || res.destroyed) return reject(new MeshError('cancelled', 'client closed the request'));
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      if (res.destroyed && !res.writableFinished) reject(new MeshError('cancelled', 'client closed the request'));
      else resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
