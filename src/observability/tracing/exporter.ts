// The batching OTLP/HTTP JSON exporter. Never on the request path: the caller (TraceExport) queues spans a
// turn after the request, written as OTLP JSON into the bytes of the body they go out in (BatchQueue); a
// bounded queue that never throws or blocks. POSTing runs from a timer (or the next turn once a batch is
// full), one batch in flight at a time, on a keep-alive agent of its own. A full queue drops the new spans
// (counted); a failed POST (collector down, timeout, non-2xx) drops that batch (counted) without retries:
// traces are sampled telemetry, and a retry backlog would only grow while the collector is away.
import http from 'node:http';
import https from 'node:https';
import { systemClock, type Clock, type TimerHandle } from '../../lib/clock.ts';
import { BatchQueue, type Batch } from './batches.ts';
import type { ByteTarget } from './bytes.ts';
import { resourcePrefix, SpanJsonWriter, writeSpan, type OtlpResource } from './span-json.ts';
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
  /** Told of each failed POST (why, and how many spans it dropped), for the operator's log. Must not throw. */
  onFailure?: (error: string, spans: number) => void;
  /** Told of spans a full queue turned away (the collector slower than the spans come). Must not throw. */
  onDrop?: (spans: number) => void;
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
  readonly #timeout: number;
  readonly #batchSize: number;
  readonly #interval: number;
  readonly #clock: Clock;
  readonly #agent: http.Agent;
  readonly #queue: BatchQueue;
  readonly #writer = new SpanJsonWriter();
  readonly #onFailure: ((error: string, spans: number) => void) | undefined;
  readonly #onDrop: ((spans: number) => void) | undefined;
  #timer: TimerHandle | null = null;
  #soon: NodeJS.Immediate | null = null;
  #inFlight: Promise<void> | null = null;
  #requests = new Set<http.ClientRequest>();
  #stopped = false;
  readonly #counters: Omit<ExporterCounters, 'queued'> = { exported: 0, dropped: 0, failed: 0, failedBatches: 0, lastError: null };

  constructor(options: ExporterOptions) {
    this.#url = new URL(options.url);
    this.#headers = { ...options.headers, 'content-type': 'application/json' };
    this.#timeout = options.timeout ?? 10_000;
    this.#batchSize = Math.max(1, options.batchSize ?? 512);
    this.#queue = new BatchQueue(resourcePrefix(options.resource), this.#batchSize, Math.max(this.#batchSize, options.queueSize ?? 2048));
    this.#interval = Math.max(1, options.flushInterval ?? 1_000);
    this.#clock = options.clock ?? systemClock;
    this.#onFailure = options.onFailure;
    this.#onDrop = options.onDrop;
    const agentOptions = { keepAlive: true, maxSockets: 1 };
    this.#agent = this.#url.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.#schedule();
  }

  get counters(): ExporterCounters {
    return { ...this.#counters, queued: this.#queue.queued };
  }

  /** Queues finished spans, one by one; drops (and counts) what does not fit; never throws. */
  enqueue(spans: readonly Span[]): void {
    const w = this.#writer;
    for (const span of spans) {
      this.enqueueWith(1, (t) => {
        w.begin(t);
        writeSpan(w, span);
        w.end();
      });
    }
  }

  /**
   * Queues `spans` spans that `fill` writes into the body they go out in (SpanJsonWriter.begin(target), the
   * spans, end()): all of them, or none when the queue has no room (then they are counted as dropped). An
   * error thrown by `fill` leaves nothing queued and reaches the caller.
   */
  enqueueWith(spans: number, fill: (t: ByteTarget) => void): void {
    if (this.#stopped || !this.#queue.write(spans, fill)) {
      this.#counters.dropped += spans;
      if (!this.#stopped) this.#tell(this.#onDrop, spans);
      return;
    }
    // A full batch goes out on the next turn of the event loop, never inside the caller's stack.
    if (this.#queue.full && this.#soon === null && this.#inFlight === null) {
      this.#soon = setImmediate(() => {
        this.#soon = null;
        void this.#drain(undefined, true);
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
      this.#counters.dropped += this.#queue.clear();
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
   * One drain at a time; batches until none waits, a POST fails, or `expired()`. A full-batch drain
   * (`fullOnly`) leaves the partial tail to the timer: fewer, fuller POSTs.
   */
  async #drain(expired: () => boolean = () => false, fullOnly = false): Promise<void> {
    while (this.#inFlight !== null) await this.#inFlight;
    const run = async (): Promise<void> => {
      while (this.#queue.queued > 0 && (!fullOnly || this.#queue.full) && !expired()) {
        const next = this.#queue.shift();
        if (next === null || !(await this.#send(next))) break;
      }
    };
    this.#inFlight = run().finally(() => {
      this.#inFlight = null;
    });
    await this.#inFlight;
  }

  async #send(next: { body: Buffer; spans: number; batch: Batch }): Promise<boolean> {
    const error = await this.#post(next.body);
    if (error === null) {
      this.#counters.exported += next.spans;
      this.#counters.lastError = null;
      this.#queue.recycle(next.batch); // the socket is done with it: the answer has arrived
      return true;
    }
    return this.#failed(next.spans, error);
  }

  #failed(n: number, error: string): false {
    this.#counters.failed += n;
    this.#counters.failedBatches++;
    this.#counters.lastError = error;
    this.#tell(this.#onFailure, error, n);
    return false;
  }

  /** A listener for the operator's log: a courtesy, so one that throws must not break queueing or exports. */
  #tell<A extends unknown[]>(listener: ((...args: A) => void) | undefined, ...args: A): void {
    try {
      listener?.(...args);
    } catch {
      // nothing to do: the counters already have it
    }
  }

  /** null on a 2xx answer, else why not. Never rejects. */
  #post(body: Buffer): Promise<string | null> {
    const client = this.#url.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      let done = false;
      const finish = (error: string | null): void => {
        if (done) return;
        done = true;
        clearTimeout(deadline);
        this.#requests.delete(req);
        resolve(error);
      };
      // Wall clock, not only node:http's `timeout` (an idle timer every byte resets): a collector trickling its
      // answer would hold the one export in flight, and with it every later batch, for ever.
      const deadline = setTimeout(() => req.destroy(new Error(`timed out after ${this.#timeout} ms`)), this.#timeout);
      deadline.unref();
      const req = client.request(this.#url, {
        method: 'POST', agent: this.#agent, timeout: this.#timeout,
        headers: { ...this.#headers, 'content-length': String(body.length) },
      }, (res) => {
        res.resume(); // the answer (an ExportTraceServiceResponse) is not needed; free the socket
        const status = res.statusCode ?? 0;
        const result = status >= 200 && status < 300 ? null : `HTTP ${status}`;
        // The body Buffer is reused for a later batch: settle only once it was handed to the OS in full
        // (a collector may answer before it read the whole body).
        res.on('end', () => (sent ? finish(result) : req.once('finish', () => finish(result))));
        res.on('error', (err) => finish(err.message));
      });
      let sent = false;
      req.once('finish', () => (sent = true));
      this.#requests.add(req);
      req.on('timeout', () => req.destroy(new Error(`timed out after ${this.#timeout} ms`)));
      req.on('error', (err) => finish(err.message));
      req.end(body);
    });
  }
}
