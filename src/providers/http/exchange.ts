// One upstream request/response of the data-plane transport (transport.ts): timeouts, abort, priming of
// streaming answers (failover before the first byte, DESIGN §4), the pull queue with backpressure, and the
// graceful release of a finished stream's keep-alive socket.
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ProviderTimeouts } from '../../config/types.ts';
import type { CancelSignal } from '../../lib/cancel.ts';
import { MeshError } from '../../errors.ts';
import { SseParser } from '../../lib/sse.ts';
import type { SseEvent } from '../../lib/sse.ts';
import { MAX_TIMER_MS } from '../../lib/clock.ts';
import type { ProviderResponse, ResponseMode } from '../provider.ts';
import { errorAnswer, transportReason, upstreamError } from './upstream-failure.ts';
import { answerMode, DEFAULT_TYPES, ERROR_BODY_LIMIT, MAX_BODY, settleBuffered, type Settle, type TransportRequest } from './transport-request.ts';

/** Queued events/chunks before the upstream is paused (backpressure from a slow client), and when to resume. */
const HIGH_WATER = 64;
const LOW_WATER = 16;
const noop = (): void => undefined;

/** What an exchange needs from its transport: the provider id, timeouts, and how to open a request. */
export type ExchangeContext = { id: string; timeouts: ProviderTimeouts; open(r: TransportRequest, body: readonly Buffer[]): ClientRequest };

type Item = SseEvent | Buffer;

/** One request/response: timers, abort, priming, and the pull queue of a streaming answer. */
export class Exchange {
  readonly #c: ExchangeContext;
  readonly #r: TransportRequest;
  /** How this answer is read: the request's mode, or `buffer` for an unstreamed answer (answerMode). */
  #mode: ResponseMode;
  readonly #call: Settle;
  #req: ClientRequest | undefined;
  #res: IncomingMessage | undefined;
  #timers: Partial<Record<'connect' | 'first byte' | 'idle' | 'total' | 'release', NodeJS.Timeout>> = {};
  /** The consumer has all it needs: the rest of the body is read and dropped so the socket can be reused. */
  #releasing = false;
  #settled = false; // the call's promise
  #finished = false; // timers cleared, abort listener removed, no further events matter
  #chunks: Buffer[] = [];
  #bytes = 0;
  #parser: SseParser | undefined;
  #queue: Item[] = [];
  #waiter: { resolve: (r: IteratorResult<Item>) => void; reject: (e: unknown) => void } | undefined;
  #error: MeshError | undefined;
  #paused = false;
  readonly #onAbort = (): void => this.#fail(new MeshError('cancelled', 'client closed the request'));

  constructor(c: ExchangeContext, r: TransportRequest, call: Settle) {
    this.#c = c;
    this.#r = r;
    this.#mode = r.mode;
    this.#call = call;
  }

  start(): void {
    const { signal, body } = this.#r;
    if (signal.aborted) return this.#onAbort();
    signal.addEventListener('abort', this.#onAbort);
    this.#arm('total');
    const chunks = body === undefined ? [] : Buffer.isBuffer(body) ? [body] : body;
    let req: ClientRequest;
    try {
      req = this.#req = this.#c.open(this.#r, chunks);
    } catch (err) { // invalid header characters and the like, thrown synchronously by http.request
      return this.#fail(upstreamError(this.#c.id, `invalid request: ${(err as Error).message}`));
    }
    req.on('error', (err: NodeJS.ErrnoException) => this.#fail(upstreamError(this.#c.id, this.#res ? 'upstream closed the connection' : transportReason(err))));
    req.once('socket', (socket: Socket) => {
      // Reused keep-alive sockets are already connected and skip the connect phase.
      if (!socket.connecting || this.#finished) return;
      this.#arm('connect'); // until TCP is up, and for https until the TLS handshake is done too
      socket.once((socket as TLSSocket).encrypted ? 'secureConnect' : 'connect', () => clearTimeout(this.#timers.connect));
    });
    req.once('finish', () => {
      this.#r.written?.();
      if (this.#res === undefined && !this.#finished) this.#arm('first byte');
    });
    req.once('response', (res) => this.#onResponse(res));
    // end(lastChunk) lets http send headers and body in one write; write()+end() costs an extra syscall.
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) req.write(chunks[i] as Buffer);
    if (last >= 0) req.end(chunks[last]);
    else req.end();
  }

  /** Starts one of the four timeouts (0 disables it). */
  #arm(what: 'connect' | 'first byte' | 'idle' | 'total'): void {
    const ms = this.#c.timeouts[what === 'first byte' ? 'first_byte' : what];
    if (!(ms > 0) || !Number.isFinite(ms)) return;
    // Clamped: Node fires a longer timer after 1 ms, which would blame our own timer on the upstream.
    this.#timers[what] = setTimeout(() => this.#fail(upstreamError(this.#c.id, `${what} timeout after ${ms}ms`, 0, { timeout: true })), Math.min(ms, MAX_TIMER_MS));
  }

  #onResponse(res: IncomingMessage): void {
    this.#res = res;
    const status = res.statusCode ?? 0;
    const ok = status >= 200 && status < 300;
    res.on('error', noop); // a premature close is reported by 'close' below
    res.on('close', () => res.complete || (this.#releasing ? this.#done() : this.#fail(upstreamError(this.#c.id, 'upstream closed the connection'))));
    this.#mode = answerMode(this.#r, ok, res.headers['content-type']);
    // The first-byte timer keeps running in the streaming modes until the first event/chunk (priming).
    if (!ok || this.#mode === 'buffer') this.#startIdle();
    if (ok && this.#mode === 'sse') this.#parser = new SseParser();
    res.on('data', (chunk: Buffer) => (ok ? this.#onData(chunk) : this.#onErrorData(res, chunk)));
    res.on('end', () => (ok ? this.#onEnd(res) : this.#onErrorEnd(res)));
  }

  #startIdle(): void {
    clearTimeout(this.#timers['first byte']);
    this.#arm('idle');
  }

  #onErrorData(res: IncomingMessage, chunk: Buffer): void {
    this.#timers.idle?.refresh();
    if (this.#bytes < ERROR_BODY_LIMIT) this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    // Enough to explain the failure: stop reading a huge error page (the socket is not reused).
    if (this.#bytes >= ERROR_BODY_LIMIT) this.#onErrorEnd(res);
  }

  #onErrorEnd(res: IncomingMessage): void {
    if (this.#finished) return;
    this.#fail(errorAnswer(this.#c.id, res.statusCode ?? 0, res.statusMessage ?? '', res.headers, Buffer.concat(this.#chunks).subarray(0, ERROR_BODY_LIMIT)));
  }

  #onData(chunk: Buffer): void {
    if (this.#finished || this.#releasing) return;
    this.#timers.idle?.refresh();
    if (this.#mode === 'buffer') {
      this.#bytes += chunk.length;
      if (this.#bytes > MAX_BODY) return this.#fail(upstreamError(this.#c.id, `response body larger than ${MAX_BODY} bytes`));
      this.#chunks.push(chunk);
      return;
    }
    if (this.#parser === undefined) return this.#push(chunk);
    let events: SseEvent[];
    try {
      events = this.#parser.push(chunk);
    } catch (err) {
      return this.#fail(upstreamError(this.#c.id, err instanceof Error ? err.message : 'invalid event stream'));
    }
    for (const e of events) this.#push(e);
  }

  #onEnd(res: IncomingMessage): void {
    if (this.#finished) return;
    if (this.#releasing) return this.#done(); // the socket goes back to the agent's pool
    const mode = this.#mode;
    if (mode === 'buffer') {
      this.#done();
      settleBuffered(this.#call, this.#r, { kind: 'buffer', status: res.statusCode ?? 200, headers: res.headers, contentType: this.#contentType(res), body: Buffer.concat(this.#chunks, this.#bytes) });
    } else if (!this.#settled) {
      this.#fail(upstreamError(this.#c.id, mode === 'sse' ? 'upstream sent no events' : 'upstream sent an empty body'));
    } else {
      this.#done();
      this.#wake();
    }
  }

  #push(item: Item): void {
    this.#queue.push(item);
    if (!this.#settled) this.#prime();
    else this.#wake();
    if (this.#queue.length >= HIGH_WATER && !this.#paused) {
      // The client reads slower than the upstream writes: stop reading, and stop the idle clock (the silence is ours).
      this.#paused = true;
      this.#res?.pause();
      clearTimeout(this.#timers.idle);
    }
  }

  #prime(): void {
    const res = this.#res as IncomingMessage;
    this.#settled = true;
    this.#startIdle();
    const iterator = {
      next: (): Promise<IteratorResult<Item>> => this.#next(),
      return: (): Promise<IteratorResult<Item>> => {
        this.#close();
        return Promise.resolve({ done: true, value: undefined });
      },
      [Symbol.asyncIterator]() { return this; },
    };
    const base = { status: res.statusCode ?? 200, headers: res.headers, contentType: this.#contentType(res), close: () => this.#close(), release: () => this.#release() };
    if (this.#mode === 'sse') this.#call.resolve({ kind: 'sse', ...base, events: iterator as AsyncIterableIterator<SseEvent> });
    else this.#call.resolve({ kind: 'bytes', ...base, chunks: iterator as AsyncIterableIterator<Buffer> });
  }

  #next(): Promise<IteratorResult<Item>> {
    const item = this.#queue.shift();
    if (this.#paused && this.#queue.length <= LOW_WATER && !this.#finished) {
      this.#paused = false;
      this.#arm('idle'); // a cleared timer cannot be refresh()ed back to life
      this.#res?.resume();
    }
    if (item !== undefined) return Promise.resolve({ done: false, value: item });
    const error = this.#error;
    if (error !== undefined) {
      this.#error = undefined; // thrown once; afterwards the iterator is simply done
      return Promise.reject(error);
    }
    if (this.#finished) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  /** Hands the next queued item (or the end, or the error) to a pending next(). */
  #wake(): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    this.#waiter = undefined;
    this.#next().then(waiter.resolve, waiter.reject);
  }

  #contentType(res: IncomingMessage): string {
    return res.headers['content-type'] ?? DEFAULT_TYPES[this.#mode];
  }

  /**
   * The consumer has everything (an SSE stream's [DONE]): drop what is left and let the answer end, so its
   * keep-alive socket is reused instead of reconnecting for the next request. Destroyed if it has not ended
   * within a second (an upstream that keeps talking after [DONE]).
   */
  #release(): void {
    if (this.#finished || this.#releasing) return;
    this.#releasing = true;
    this.#queue = [];
    clearTimeout(this.#timers.idle);
    this.#timers.release = setTimeout(() => this.#close(), 1000);
    if (this.#paused) {
      this.#paused = false;
      this.#res?.resume();
    }
  }

  /** Consumer stopped early: destroy the request, end the iterator. Idempotent. */
  #close(): void {
    if (this.#finished) return;
    this.#done();
    this.#queue = [];
    this.#req?.destroy();
    this.#wake();
  }

  /** Ends the exchange with a failure: before priming it rejects the call, after it the iterator throws. */
  #fail(err: MeshError): void {
    if (this.#finished) return;
    this.#done();
    this.#req?.destroy();
    if (!this.#settled) {
      this.#settled = true;
      this.#call.reject(err);
      return;
    }
    this.#error = err; // thrown after the events already received, which the client may still get
    this.#wake();
  }

  #done(): void {
    this.#finished = true;
    for (const timer of Object.values(this.#timers)) clearTimeout(timer);
    this.#r.signal.removeEventListener('abort', this.#onAbort);
  }
}
