// One request/response of the h1 client (transport.ts): the same contract as the node:http exchange
// (providers/exchange.ts): timeouts, abort, priming of streaming answers (failover before the first byte,
// DESIGN §4), backpressure, graceful release after [DONE]; plus the one retry a reused socket may need.
import type { ProviderTimeouts } from '../../../config/types.ts';
import { MeshError } from '../../../errors.ts';
import { SseParser, type SseEvent } from '../../../lib/sse.ts';
import { answerMode, DEFAULT_TYPES, ERROR_BODY_LIMIT, MAX_BODY, settleBuffered, type Settle, type TransportRequest } from '../transport-request.ts';
import type { ProviderResponse, ResponseMode } from '../../provider.ts';
import { errorAnswer, transportReason, upstreamError } from '../upstream-failure.ts';
import type { Connection, ConnectionUser } from './connection.ts';
import { Deadlines, shortestTimeout, timeoutOf, timeoutOn, type Deadline } from './deadlines.ts';
import type { ResponseHead } from './head.ts';
import { ParseError, type ParserSink } from './parser.ts';
import type { Pool, PoolWaiter } from './pool.ts';
import { merged, type RequestHeads } from './request.ts';
import { StreamQueue } from './stream-queue.ts';

export type H1Context = { id: string; timeouts: ProviderTimeouts; pool: Pool; heads: RequestHeads };

export class H1Exchange implements PoolWaiter, ConnectionUser, ParserSink {
  readonly #c: H1Context;
  readonly #r: TransportRequest;
  /** How this answer is read: the request's mode, or `buffer` for an unstreamed answer (answerMode). */
  #mode: ResponseMode;
  readonly #call: Settle;
  // The request as written, kept for its one replay: small ones merged (no head string held), else head + chunks.
  #wire: Buffer | null = null;
  #head = '';
  #body: readonly Buffer[] = [];
  #conn: Connection | undefined;
  #res: ResponseHead | undefined;
  #ok = false;
  readonly #timers: Deadlines;
  #retried = false;
  /** performance.now() when the request was handed to the OS in full (0: not yet): bounds the replay. */
  #writtenAt = 0;
  #waiting = false; // in the pool's queue
  /** The consumer has all it needs: the rest of the body is read and dropped so the socket can be reused. */
  #releasing = false;
  #settled = false; // the call's promise
  #finished = false; // timers cleared, abort listener removed, no further events matter
  #chunks: Buffer[] = [];
  #bytes = 0;
  #sse: SseParser | undefined;
  #queue: StreamQueue | undefined;
  readonly #onAbort = (): void => this.#fail(new MeshError('cancelled', 'client closed the request'));

  constructor(c: H1Context, r: TransportRequest, call: Settle) {
    this.#c = c;
    this.#r = r;
    this.#mode = r.mode;
    this.#call = call;
    this.#timers = new Deadlines((what) => this.#due(what), shortestTimeout(c.timeouts));
  }

  start(): void {
    const { signal, body } = this.#r;
    if (signal.aborted) return this.#onAbort();
    const chunks = body === undefined ? [] : Buffer.isBuffer(body) ? [body] : body;
    const length = body === undefined ? undefined : chunks.reduce((n, b) => n + b.length, 0);
    try {
      const head = this.#c.heads.head(this.#r.method ?? 'POST', this.#r.path, this.#r.headers, length);
      this.#wire = merged(head, chunks);
      if (this.#wire === null) {
        this.#head = head;
        this.#body = chunks;
      }
    } catch (err) {
      return this.#fail(upstreamError(this.#c.id, `invalid request: ${(err as Error).message}`));
    }
    signal.addEventListener('abort', this.#onAbort);
    this.#arm('total');
    this.#waiting = true;
    this.#c.pool.acquire(this);
  }

  /** Pool: this socket is ours. Writes the request (head and body in one writev). */
  granted(conn: Connection): void {
    this.#waiting = false;
    if (this.#finished) { // cancelled while queued: nothing was written, the socket stays as good as it was
      conn.uses--;
      return this.#c.pool.release(conn, true);
    }
    this.#conn = conn;
    conn.user = this;
    conn.parser.start(this, this.#r.method === 'HEAD');
    const socket = conn.socket;
    if (socket.connecting) this.#arm('connect'); // until TCP is up, and for https the TLS handshake too
    this.#writtenAt = 0;
    const written = (): void => {
      this.#writtenAt = performance.now();
      this.#r.written?.();
      if (this.#res === undefined && !this.#finished && this.#conn === conn) this.#arm('first byte');
    };
    if (this.#wire !== null) {
      socket.write(this.#wire, written);
      return;
    }
    socket.cork();
    socket.write(this.#head, 'latin1');
    const last = this.#body.length - 1;
    for (let i = 0; i < last; i++) socket.write(this.#body[i] as Buffer);
    socket.write(last >= 0 ? (this.#body[last] as Buffer) : '', written);
    socket.uncork();
  }

  onConnect(): void {
    this.#timers.clear('connect');
  }

  onData(chunk: Buffer): void {
    const conn = this.#conn as Connection;
    try {
      conn.parser.push(chunk);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.#fail(upstreamError(this.#c.id, this.#res ? 'upstream closed the connection' : `invalid response: ${err.message}`));
    }
  }

  onClose(error: NodeJS.ErrnoException | undefined): void {
    const conn = this.#conn;
    this.#conn = undefined;
    if (this.#finished || conn === undefined) return;
    if (conn.parser.eof()) return; // a close-delimited body is complete
    // The keep-alive race: once more on a new socket. Otherwise it fails like any reset (Connection.keepAliveRace).
    if (!this.#retried && conn.keepAliveRace(this.#writtenAt, error)) {
      this.#retried = true;
      this.#timers.clear('first byte');
      this.#waiting = true;
      return this.#c.pool.acquire(this, true);
    }
    if (this.#res !== undefined) return this.#releasing ? this.#end() : this.#fail(upstreamError(this.#c.id, 'upstream closed the connection'));
    this.#fail(upstreamError(this.#c.id, error === undefined ? 'connection reset' : transportReason(error)));
  }

  onHead(head: ResponseHead): void {
    this.#res = head;
    this.#ok = head.status >= 200 && head.status < 300;
    this.#mode = answerMode(this.#r, this.#ok, head.headers['content-type']);
    // The first-byte timer keeps running in the streaming modes until the first event/chunk (priming).
    if (!this.#ok || this.#mode === 'buffer') this.#startIdle();
    else this.#queue = new StreamQueue(this.#conn?.socket, () => this.#arm('idle'), () => this.#timers.clear('idle'));
    if (this.#ok && this.#mode === 'sse') this.#sse = new SseParser();
  }

  onBody(chunk: Buffer): void {
    if (this.#finished) return;
    if (!this.#ok) return this.#onErrorData(chunk);
    if (this.#releasing) return;
    this.#timers.touch();
    if (this.#mode === 'buffer') {
      this.#bytes += chunk.length;
      if (this.#bytes > MAX_BODY) return this.#fail(upstreamError(this.#c.id, `response body larger than ${MAX_BODY} bytes`));
      this.#chunks.push(chunk);
      return;
    }
    if (this.#sse === undefined) return this.#push(chunk);
    let events: SseEvent[];
    try {
      events = this.#sse.push(chunk);
    } catch (err) {
      return this.#fail(upstreamError(this.#c.id, err instanceof Error ? err.message : 'invalid event stream'));
    }
    for (const e of events) this.#push(e);
  }

  /** Parser: the answer is complete; the socket goes back to the pool before anyone hears of it. */
  onEnd(reusable: boolean): void {
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn !== undefined) {
      this.#queue?.detach();
      this.#c.pool.release(conn, reusable && !this.#finished);
    }
    if (this.#finished) return;
    if (!this.#ok) return this.#onErrorEnd();
    if (this.#releasing) return this.#end();
    const mode = this.#mode;
    const res = this.#res as ResponseHead;
    if (mode === 'buffer') {
      this.#done();
      settleBuffered(this.#call, this.#r, { kind: 'buffer', status: res.status, headers: res.headers, contentType: this.#contentType(), body: Buffer.concat(this.#chunks, this.#bytes) });
    } else if (!this.#settled) {
      this.#fail(upstreamError(this.#c.id, mode === 'sse' ? 'upstream sent no events' : 'upstream sent an empty body'));
    } else {
      this.#end();
    }
  }

  /** Starts one of the four timeouts (0 disables it). */
  #arm(what: 'connect' | 'first byte' | 'idle' | 'total'): void {
    const ms = timeoutOf(this.#c.timeouts, what);
    if (timeoutOn(ms)) this.#timers.arm(what, ms);
  }

  #due(what: Deadline): void {
    if (what === 'release') return this.#close();
    const ms = timeoutOf(this.#c.timeouts, what);
    this.#fail(upstreamError(this.#c.id, `${what} timeout after ${ms}ms`, 0, { timeout: true }));
  }

  #startIdle(): void {
    this.#timers.clear('first byte');
    this.#arm('idle');
  }

  #onErrorData(chunk: Buffer): void {
    this.#timers.touch();
    if (this.#bytes < ERROR_BODY_LIMIT) this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    // Enough to explain the failure: stop reading a huge error page (the socket is not reused).
    if (this.#bytes >= ERROR_BODY_LIMIT) this.#onErrorEnd();
  }

  #onErrorEnd(): void {
    if (this.#finished) return;
    const { status, reason, headers } = this.#res as ResponseHead;
    this.#fail(errorAnswer(this.#c.id, status, reason, headers, Buffer.concat(this.#chunks).subarray(0, ERROR_BODY_LIMIT)));
  }

  #push(item: SseEvent | Buffer): void {
    const queue = this.#queue as StreamQueue;
    queue.push(item);
    if (!this.#settled) this.#prime(queue);
  }

  #prime(queue: StreamQueue): void {
    const res = this.#res as ResponseHead;
    this.#settled = true;
    this.#startIdle();
    const iterator = queue.iterator(() => this.#close());
    const base = { status: res.status, headers: res.headers, contentType: this.#contentType(), close: () => this.#close(), release: () => this.#release() };
    if (this.#mode === 'sse') this.#call.resolve({ kind: 'sse', ...base, events: iterator as AsyncIterableIterator<SseEvent> & { takeReady(): SseEvent | undefined } });
    else this.#call.resolve({ kind: 'bytes', ...base, chunks: iterator as AsyncIterableIterator<Buffer> });
  }

  #contentType(): string {
    return (this.#res as ResponseHead).headers['content-type'] ?? DEFAULT_TYPES[this.#mode];
  }

  /**
   * The consumer has everything (an SSE stream's [DONE]): drop what is left and let the answer end, so its
   * keep-alive socket is reused instead of reconnecting for the next request. Destroyed if it has not ended
   * within a second (an upstream that keeps talking after [DONE]).
   */
  #release(): void {
    if (this.#finished || this.#releasing) return;
    this.#releasing = true;
    this.#timers.clear('idle');
    this.#timers.arm('release', 1000);
    this.#queue?.drop();
  }

  /** Consumer stopped early: destroy the socket, end the iterator. Idempotent. */
  #close(): void {
    if (this.#finished) return;
    this.#done();
    this.#destroy();
    this.#queue?.end(true);
  }

  /** A primed stream ended normally (or after release): the iterator reads what is queued, then is done. */
  #end(): void {
    this.#done();
    this.#queue?.end();
  }

  /** Ends the exchange with a failure: before priming it rejects the call, after it the iterator throws. */
  #fail(err: MeshError): void {
    if (this.#finished) return;
    this.#done();
    this.#destroy();
    if (!this.#settled) {
      this.#settled = true;
      this.#call.reject(err);
      return;
    }
    this.#queue?.fail(err); // thrown after the events already received, which the client may still get
  }

  #destroy(): void {
    if (this.#waiting) this.#c.pool.cancel(this);
    this.#waiting = false;
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn === undefined) return;
    conn.parser.stop();
    conn.user = undefined;
    conn.destroy();
  }

  #done(): void {
    this.#finished = true;
    this.#timers.stop();
    this.#r.signal.removeEventListener('abort', this.#onAbort);
  }
}
