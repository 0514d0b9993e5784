// The batching OTLP/HTTP JSON exporter. Never on the request path: enqueue() only appends to a bounded
// queue (O(1) per span, never throws, never blocks); encoding and POSTing run from a timer, one batch in
// flight at a time, on a keep-alive agent of its own. A full queue drops the new spans (counted); a
// failed POST (collector down, timeout, non-2xx) drops that batch (counted) without retries: traces are
// sampled telemetry, and a retry backlog would only grow while the collector is away.
import http from 'node:http';
import https from 'node:https';
import { systemClock, type Clock, type TimerHandle } from '../../lib/clock.ts';
import { encodeTraces, type OtlpResource } from './otlp.ts';
import type { Span } from './spans.ts';

export interface ExporterOptions {
  /** The full export URL (`http://collector:4318/v1/traces`, see tracesUrl()). */
  url: string;
  headers?: Readonly<Record<string, string>>;
  resource: OtlpResource;
  /** Per-POST timeout, ms. @default 10_000 */
  timeout?: number;
  /** Spans per POST; a full batch is sent without waiting for the interval. @default 512 */
  batchSize?: number;
  /** Spans waiting at most; more are dropped and counted. @default 2048 */
  queueSize?: number;
  /** ms between exports of a partial batch. @default 1_000 */
  flushInterval?: number;
  /** @default systemClock (timers unref'd) */
  clock?: Clock;
}

export interface ExporterCounters {
  /** Spans the collector accepted (2xx). */
  exported: number;
  /** Spans dropped because the queue was full (or still waiting when stop() ran out of time). */
  dropped: number;
  /** Spans in batches whose POST failed. */
  failed: number;
  failedBatches: number;
  /** Spans waiting now. */
  queued: number;
  /** The last failure (`connect ECONNREFUSED 127.0.0.1:4318`, `HTTP 400`), null after a success. */
  lastError: string | null;
}

export class OtlpExporter {
  readonly #url: URL;
  readonly #headers: Record<string, string>;
  readonly #resource: OtlpResource;
  readonly #timeout: number;
  readonly #batchSize: number;
  readonly #queueSize: number;
  readonly #interval: number;
  readonly #clock: Clock;
  readonly #agent: http.Agent;
  #queue: Span[] = [];
  #timer: TimerHandle | null = null;
  #soon: NodeJS.Immediate | null = null;
  #inFlight: Promise<void> | null = null;
  #requests = new Set<http.ClientRequest>();
  #stopped = false;
  readonly #counters: Omit<ExporterCounters, 'queued'> = { exported: 0, dropped: 0, failed: 0, failedBatches: 0, lastError: null };

  constructor(options: ExporterOptions) {
    this.#url = new URL(options.url);
    this.#headers = { ...options.headers, 'content-type': 'application/json' };
    this.#resource = options.resource;
    this.#timeout = options.timeout ?? 10_000;
    this.#batchSize = Math.max(1, options.batchSize ?? 512);
    this.#queueSize = Math.max(this.#batchSize, options.queueSize ?? 2048);
    this.#interval = Math.max(1, options.flushInterval ?? 1_000);
    this.#clock = options.clock ?? systemClock;
    const agentOptions = { keepAlive: true, maxSockets: 1 };
    this.#agent = this.#url.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.#schedule();
  }

  get counters(): ExporterCounters {
    return { ...this.#counters, queued: this.#queue.length };
  }

  /** Queues finished spans. O(spans); drops (and counts) what does not fit; never throws. */
  enqueue(spans: readonly Span[]): void {
    if (this.#stopped) {
      this.#counters.dropped += spans.length;
      return;
    }
    const room = this.#queueSize - this.#queue.length;
    const take = Math.min(room, spans.length);
    for (let i = 0; i < take; i++) this.#queue.push(spans[i] as Span);
    this.#counters.dropped += spans.length - take;
    // A full batch goes out on the next turn of the event loop, never inside the caller's stack.
    if (this.#queue.length >= this.#batchSize && this.#soon === null && this.#inFlight === null) {
      this.#soon = setImmediate(() => {
        this.#soon = null;
        void this.#drain(undefined, this.#batchSize);
      });
      this.#soon.unref();
    }
  }

  /** Sends everything queued now (tests; stop()). Resolves when the queue is empty or a POST failed. */
  async flush(): Promise<void> {
    await this.#drain();
  }

  /** Stops the timer and sends what is queued, within `graceMs`; what is left then is dropped and counted. */
  async stop(graceMs = 3_000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
    if (this.#soon !== null) clearImmediate(this.#soon);
    this.#soon = null;
    let expired = false;
    const deadline = this.#clock.setTimeout(() => {
      expired = true;
      for (const req of this.#requests) req.destroy(new Error('exporter shutdown deadline'));
    }, graceMs);
    try {
      await this.#drain(() => expired);
    } finally {
      deadline.cancel();
      this.#counters.dropped += this.#queue.length;
      this.#queue = [];
      this.#agent.destroy();
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimeout(() => {
      void this.#drain().finally(() => this.#schedule());
    }, this.#interval);
  }

  /**
   * One drain at a time; batches until fewer than `minimum` spans wait, a POST fails, or `expired()`.
   * A full-batch drain (minimum = batchSize) leaves the partial tail to the timer: fewer, fuller POSTs.
   */
  async #drain(expired: () => boolean = () => false, minimum = 1): Promise<void> {
    while (this.#inFlight !== null) await this.#inFlight;
    const run = async (): Promise<void> => {
      while (this.#queue.length >= minimum && !expired()) {
        const batch = this.#queue.splice(0, this.#batchSize);
        if (!(await this.#send(batch))) break;
      }
    };
    this.#inFlight = run().finally(() => {
      this.#inFlight = null;
    });
    await this.#inFlight;
  }

  async #send(batch: Span[]): Promise<boolean> {
    let body: string;
    try {
      body = encodeTraces(batch, this.#resource);
    } catch (err) {
      return this.#failed(batch.length, `encoding: ${(err as Error).message}`);
    }
    const error = await this.#post(body);
    if (error === null) {
      this.#counters.exported += batch.length;
      this.#counters.lastError = null;
      return true;
    }
    return this.#failed(batch.length, error);
  }

  #failed(n: number, error: string): false {
    this.#counters.failed += n;
    this.#counters.failedBatches++;
    this.#counters.lastError = error;
    return false;
  }

  /** null on a 2xx answer, else why not. Never rejects. */
  #post(body: string): Promise<string | null> {
    const client = this.#url.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      let done = false;
      const finish = (error: string | null): void => {
        if (done) return;
        done = true;
        this.#requests.delete(req);
        resolve(error);
      };
      const req = client.request(this.#url, {
        method: 'POST', agent: this.#agent, timeout: this.#timeout,
        headers: { ...this.#headers, 'content-length': String(Buffer.byteLength(body)) },
      }, (res) => {
        res.resume(); // the answer (an ExportTraceServiceResponse) is not needed; free the socket
        const status = res.statusCode ?? 0;
        res.on('end', () => finish(status >= 200 && status < 300 ? null : `HTTP ${status}`));
        res.on('error', (err) => finish(err.message));
      });
      this.#requests.add(req);
      req.on('timeout', () => req.destroy(new Error(`timed out after ${this.#timeout} ms`)));
      req.on('error', (err) => finish(err.message));
      req.end(body);
    });
  }
}
