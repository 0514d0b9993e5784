// The tracing part of the observability service (issue 17): request events in, OTLP batches out.
// On the request path (the event listener) only an O(1) push of the event happens; spans are built on a
// later turn of the event loop (setImmediate), written straight as OTLP JSON (no span objects) into the
// exporter's bounded queue, which POSTs from its own timer. The exporter is rebuilt when
// `observability.tracing` changes; counters are kept across rebuilds (Prometheus counters never go down).
import { systemClock, type Clock } from '../../lib/clock.ts';
import { redactUrl } from '../../lib/redact-url.ts';
import type { RequestEvent, RequestTrace } from '../../mesh/events.ts';
import type { ByteTarget } from './bytes.ts';
import { TRACING_OFF, type TracingConfig } from './config.ts';
import { OtlpExporter } from './exporter.ts';
import { SpanJsonWriter } from './span-json.ts';
import { writeRequestSpans, type SpanBuildOptions } from './spans.ts';

/** What /metrics shows of the tracing export, summed over every exporter this process had. */
export interface TracingCounters {
  /** Spans the collector accepted. */
  exported: number;
  /** Spans dropped: a full queue, or still waiting at shutdown. */
  dropped: number;
  /** Spans in batches whose POST failed (collector down, timeout, non-2xx). */
  failed: number;
  /** Spans waiting now. */
  queued: number;
  lastError: string | null;
}

export interface TraceExportDeps {
  /** Provider id → connector id (`openai.llm.v1`), for gen_ai.provider.name. */
  connectorOf: (providerId: string) => string | undefined;
  /** The secret redactor of the current config, for captured content. */
  redact: (text: string) => string;
  /** The client (application) of a request, for modelmesh.client; null when unknown. */
  clientOf: (event: RequestEvent) => string | null;
  /** The operator's log, for spans lost to a failing or slow collector (at most one line a minute). */
  warn?: (msg: string, fields: Record<string, unknown>) => void;
  /** For the log's rate limit. @default systemClock */
  clock?: Clock;
}

type Traced = RequestEvent & { trace: RequestTrace };

/** What the pipeline knows of a request it answered itself (TraceExport.recordRefused). */
export interface RefusedRequest {
  trace: RequestTrace;
  /** Epoch ms at the answer. */
  at: number;
  latencyMs: number;
  requestId: string;
  /** The route's name (`chat`, `embeddings` …). */
  endpoint: string;
  /** The model the body named, when it was read that far. */
  requested: string | null;
  status: number;
  client: string | null;
}

/** How long stop() gives the exporter to send what is queued. */
const STOP_GRACE_MS = 3_000;
/** Spans lost (a collector down, refusing the token, untrusted, or too slow) are logged at most once a minute. */
const WARN_EVERY_MS = 60_000;

export class TraceExport {
  readonly #deps: TraceExportDeps;
  #exporter: OtlpExporter | null = null;
  #config: TracingConfig = TRACING_OFF;
  #built = JSON.stringify(TRACING_OFF);
  #pending: Traced[] = [];
  #soon: NodeJS.Immediate | null = null;
  /** Counts of exporters already stopped, and of events dropped before they reached an exporter. */
  readonly #base = { exported: 0, dropped: 0, failed: 0 };
  readonly #retiring = new Map<OtlpExporter, Promise<void>>();
  readonly #writer = new SpanJsonWriter();
  #lastWarn = -Infinity;
  /** Spans lost since the last warning: in failed POSTs, turned away by a full queue; the last export error. */
  #lost: { failed: number; queueFull: number; error: string | null } = { failed: 0, queueFull: 0, error: null };

  constructor(deps: TraceExportDeps) {
    this.#deps = deps;
  }

  get enabled(): boolean {
    return this.#exporter !== null;
  }

  /** (Re)builds the exporter when the section changed; the old one drains in the background. */
  configure(config: TracingConfig): void {
    const key = JSON.stringify(config);
    if (key === this.#built) return;
    this.#build(); // pending events belong to the old exporter
    this.#retire();
    this.#built = key;
    this.#config = config;
    if (!config.enabled || config.endpoint === null) return;
    this.#exporter = new OtlpExporter({
      url: config.endpoint, headers: config.headers, resource: { serviceName: config.service_name },
      timeout: config.timeout, batchSize: config.batch_size, queueSize: config.queue_size, flushInterval: config.flush_interval,
      // The endpoint of this exporter: one retiring after a reload still reports its own.
      onFailure: (error, spans) => this.#lose(config.endpoint, spans, 0, error),
      onDrop: (spans) => this.#lose(config.endpoint, 0, spans),
    });
  }

  /** The event listener's part: O(1). Unsampled or untraced requests cost one check. */
  record(event: RequestEvent): void {
    const trace = event.trace;
    if (this.#exporter === null || trace === undefined || !trace.sampled) return;
    if (this.#pending.length >= this.#config.queue_size) {
      this.#base.dropped += 1 + trace.attemptSpanIds.length; // about the spans it would have made
      this.#lose(this.#config.endpoint, 0, 1 + trace.attemptSpanIds.length);
      return;
    }
    this.#pending.push(event as Traced);
    if (this.#soon === null) {
      this.#soon = setImmediate(() => {
        this.#soon = null;
        this.#build();
      });
      this.#soon.unref();
    }
  }

  /**
   * The SERVER span of a request answered without reaching the router (a 401, a client's 429 or 404, a 400
   * from validation): no request event carries its trace, so the pipeline tells it here, after the answer.
   */
  recordRefused(refused: RefusedRequest): void {
    const { trace } = refused;
    if (this.#exporter === null || trace.recorded || !trace.sampled) return;
    this.record({
      type: 'request', at: refused.at, requestId: refused.requestId, endpoint: refused.endpoint, requested: refused.requested ?? '',
      pool: null, candidates: [], excluded: [], attempts: [], model: null, provider: null, outcome: 'failure', status: refused.status,
      error: null, stream: false, latency_ms: refused.latencyMs, ttfb_ms: refused.latencyMs, tokens_in: 0, tokens_out: 0, cost: 0,
      client: refused.client, trace,
    });
  }

  get counters(): TracingCounters {
    const out: TracingCounters = { ...this.#base, queued: this.#pending.length, lastError: null };
    for (const exporter of [...this.#retiring.keys(), ...(this.#exporter === null ? [] : [this.#exporter])]) {
      const c = exporter.counters;
      out.exported += c.exported;
      out.dropped += c.dropped;
      out.failed += c.failed;
      out.queued += c.queued;
      if (c.lastError !== null) out.lastError = c.lastError;
    }
    return out;
  }

  /** Builds what is pending and sends everything queued now (tests; the service's flush()). */
  async flush(): Promise<void> {
    this.#build();
    await this.#exporter?.flush();
  }

  /** Sends what is left (3 s at most), then drops the exporter. */
  async stop(): Promise<void> {
    this.#build();
    this.#retire();
    this.#built = JSON.stringify(TRACING_OFF);
    this.#config = TRACING_OFF;
    await Promise.all(this.#retiring.values());
  }

  #build(): void {
    if (this.#soon !== null) clearImmediate(this.#soon);
    this.#soon = null;
    const events = this.#pending;
    if (events.length === 0) return;
    this.#pending = [];
    const exporter = this.#exporter;
    if (exporter === null) return;
    const options: SpanBuildOptions = { client: null, captureContent: this.#config.capture_content, redact: this.#deps.redact, connectorOf: this.#deps.connectorOf };
    const w = this.#writer;
    let event: Traced;
    const fill = (t: ByteTarget): void => {
      w.begin(t);
      writeRequestSpans(event, event.trace, options, w);
      w.end();
    };
    for (event of events) {
      try {
        options.client = this.#deps.clientOf(event);
        exporter.enqueueWith(1 + event.attempts.length, fill);
      } catch {
        w.abandon(); // the queue took back what was written of it: nothing more may be written there
        // A malformed record must not stop the others (and never reaches the request); counted in spans, as
        // every other drop is (modelmesh_tracing_spans_dropped_total).
        this.#base.dropped += 1 + (Array.isArray(event.attempts) ? event.attempts.length : 0);
      }
    }
  }

  /**
   * Spans lost to a failing or slow collector: counted always (the counters), told to the operator's log at
   * most once a minute, with what was lost since the line before.
   */
  #lose(endpoint: string | null, failed: number, queueFull: number, error?: string): void {
    const lost = this.#lost;
    lost.failed += failed;
    lost.queueFull += queueFull;
    if (error !== undefined) lost.error = error;
    const now = (this.#deps.clock ?? systemClock).now();
    if (this.#deps.warn === undefined || now - this.#lastWarn < WARN_EVERY_MS) return;
    this.#lastWarn = now;
    this.#deps.warn('tracing spans dropped', {
      endpoint: endpoint === null ? null : redactUrl(endpoint), failed: lost.failed, queue_full: lost.queueFull, error: lost.error,
    });
    this.#lost = { failed: 0, queueFull: 0, error: null };
  }

  #retire(): void {
    const old = this.#exporter;
    this.#exporter = null;
    if (old === null) return;
    const done = old.stop(STOP_GRACE_MS).finally(() => {
      const c = old.counters;
      this.#base.exported += c.exported;
      this.#base.dropped += c.dropped;
      this.#base.failed += c.failed;
      this.#retiring.delete(old);
    });
    this.#retiring.set(old, done);
  }
}
