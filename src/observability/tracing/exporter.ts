// The batching OTLP/HTTP JSON exporter. Never on the request path: the caller (TraceExport) queues spans a
// turn after the request, written as OTLP JSON into the bytes of the body they go out in (BatchQueue); a
// bounded queue that never throws or blocks. POSTing runs from a timer (or the next turn once a batch is
// full), one batch in flight at a time, on a keep-alive socket of its own. A full queue drops the new spans
// (counted); a failed POST (collector down, timeout, non-2xx) drops that batch (counted) without retries:
// traces are sampled telemetry, and a retry backlog would only grow while the collector is away.
//
// The POSTs go through the proxy's own HTTP/1.1 client (providers/http/h1), the one every upstream call
// uses: node:http's ClientRequest cost about 200 µs of CPU per POST, whose code, run some 50 times a
// second, never got as hot as the client the requests themselves keep hot (paired bench: 2–4% less CPU per
// request with tracing on at ratio 1.0, issue 17 point 3).
import { MeshError } from '../../errors.ts';
import { CancelToken } from '../../lib/cancel.ts';
import { systemClock, type Clock, type TimerHandle } from '../../lib/clock.ts';
import { H1Transport } from '../../providers/http/h1/transport.ts';
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
  /** Path and query of the export URL, what each POST asks for. */
  readonly #path: string;
  readonly #timeout: number;
  readonly #batchSize: number;
  readonly #interval: number;
  readonly #clock: Clock;
  readonly #transport: H1Transport;
  readonly #queue: BatchQueue;
  readonly #writer = new SpanJsonWriter();
  readonly #onFailure: ((error: string, spans: number) => void) | undefined;
  readonly #onDrop: ((spans: number) => void) | undefined;
  #timer: TimerHandle | null = null;
  #soon: NodeJS.Immediate | null = null;
  #inFlight: Promise<void> | null = null;
  /** The POST in flight, cancelled when stop() runs out of time. */
  #requests = new Set<CancelToken>();
  #stopped = false;
  readonly #counters: Omit<ExporterCounters, 'queued'> = { exported: 0, dropped: 0, failed: 0, failedBatches: 0, lastError: null };

  constructor(options: ExporterOptions) {
    const url = new URL(options.url);
    this.#path = url.pathname + url.search;
    this.#timeout = options.timeout ?? 10_000;
    this.#batchSize = Math.max(1, options.batchSize ?? 512);
    this.#queue = new BatchQueue(resourcePrefix(options.resource), this.#batchSize, Math.max(this.#batchSize, options.queueSize ?? 2048));
    this.#interval = Math.max(1, options.flushInterval ?? 1_000);
    this.#clock = options.clock ?? systemClock;
    this.#onFailure = options.onFailure;
    this.#onDrop = options.onDrop;
    // One timeout for the whole POST, on the wall clock (total): a collector trickling its answer would
    // otherwise hold the one export in flight, and with it every later batch, for ever.
    const t = this.#timeout;
    this.#transport = new H1Transport({
      id: 'otlp', baseUrl: url.origin, headers: postHeaders(url, options.headers ?? {}),
      timeouts: { connect: t, first_byte: t, idle: t, total: t }, maxSockets: 1,
    });
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
      for (const cancel of this.#requests) cancel.abort();
    }, graceMs);
    try {
      await this.#drain(() => expired);
    } finally {
      deadline.cancel();
      this.#counters.dropped += this.#queue.clear();
      this.#transport.close();
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
    const { error, written } = await this.#post(next.body);
    if (error === null) {
      this.#counters.exported += next.spans;
      this.#counters.lastError = null;
      // The body Buffer is reused for a later batch only once the OS has all of it: a collector may answer
      // before it read the whole body, and the socket would then still be sending from it.
      if (written) this.#queue.recycle(next.batch);
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

  /** error: null on a 2xx answer, else why not; written: the body was handed to the OS in full. Never rejects. */
  async #post(body: Buffer): Promise<{ error: string | null; written: boolean }> {
    const cancel = new CancelToken();
    this.#requests.add(cancel);
    let written = false;
    try {
      await this.#transport.request({ path: this.#path, body, mode: 'buffer', signal: cancel, written: () => (written = true) });
      return { error: null, written };
    } catch (err) {
      return { error: failureOf(err, this.#timeout), written };
    } finally {
      this.#requests.delete(cancel);
    }
  }
}

/**
 * The headers of every POST, names lower-cased so that one given twice in different case is sent once (the
 * HTTP/1.1 client writes what it is given): credentials written in the endpoint URL (`https://user:pass@host/…`)
 * as Basic auth, then the configured `headers` (they win), then the JSON Content-Type. Host and Content-Length
 * are the client's own.
 */
function postHeaders(url: URL, configured: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  if (url.username !== '' || url.password !== '') {
    const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    out['authorization'] = `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
  }
  for (const [name, value] of Object.entries(configured)) {
    const lower = name.toLowerCase();
    if (lower !== 'host' && lower !== 'content-length') out[lower] = value;
  }
  out['content-type'] = 'application/json';
  return out;
}

/** What the operator reads of a failed POST (lastError, the log line): `HTTP 503`, `timed out after 10000 ms`, `connection refused`. */
function failureOf(err: unknown, timeoutMs: number): string {
  if (!(err instanceof MeshError)) return err instanceof Error ? err.message : String(err);
  if (err.code === 'cancelled') return 'exporter shutdown deadline';
  const upstream = err.upstream;
  if (upstream === undefined) return err.message;
  if (upstream.timeout === true) return `timed out after ${timeoutMs} ms`;
  return upstream.status > 0 ? `HTTP ${upstream.status}` : upstream.reason;
}
