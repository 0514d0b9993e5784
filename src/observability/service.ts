// The observability service (DESIGN §7): statistics (always on: /metrics reads them) and the three streams,
// routing decisions, the request log and statistics snapshots, each to a console, JSONL file or webhook sink.
//
// The event listener is on the request path: it updates counters and queues a small record per configured
// stream (O(1)). Serialising, redacting and writing happen in the sinks, off the request path. Every line
// is redacted twice: redactDeep blanks credential-named keys (api_key, authorization…) and replaces secret
// values inside strings, then mesh.redact() runs over the serialised line (a secret split across fields or
// escaped differently is caught there).
import { redactDeep } from '../config/redact.ts';
import type { MeshConfig, SinkConfig } from '../config/types.ts';
import type { TimerHandle } from '../lib/clock.ts';
import type { MeshEvent, RequestEvent } from '../mesh/events.ts';
import type { MeshRuntime, MeshService } from '../mesh/runtime.ts';
import { hasOwnKeysOnly, requestRecord, routingRecord, statisticsRecords, type LogRecord, type StreamName } from './records.ts';
import type { Sink, SinkDeps } from './sinks/sink.ts';
import { ClientStats } from './client-stats.ts';
import { HttpResponseCounts } from './http-responses.ts';
import { ConsoleSink } from './sinks/console.ts';
import { FileSink } from './sinks/file.ts';
import { Stats } from './stats.ts';
import { WebhookSink } from './sinks/webhook.ts';
import { DecisionLog, PoolTimeseries } from './timeseries.ts';
import { TraceExport } from './tracing/export.ts';

export const OBSERVABILITY_SERVICE = 'observability';
/** How long stop() waits for a webhook to take the last records before dropping them. */
const WEBHOOK_CLOSE_GRACE_MS = 3_000;

export interface ObservabilityService extends MeshService {
  start(): void;
  stop(): Promise<void>;
  reload(config: MeshConfig): void;
  /**
   * Reopens the file sinks (SIGHUP after log rotation) without a new config: a reload that fails (the file
   * being edited) must not leave records going to the rotated-away file.
   */
  reopenFiles(): void;
  readonly stats: Stats;
  /** Records not delivered, per stream (full queue, dead webhook, unwritable file). */
  readonly dropped: Readonly<Record<StreamName, number>>;
  /** Every answered HTTP request by route and status class (kept across reloads). */
  readonly httpResponses: HttpResponseCounts;
  /** OTLP trace export (observability.tracing): the exporter, rebuilt on reload, and its counters. */
  readonly tracing: TraceExport;
  /** Per pool request count, errors and p95 over the last minutes, for the status page (kept across reloads). */
  readonly timeseries: PoolTimeseries;
  /** The last routing decisions, for the status page. */
  readonly decisions: DecisionLog;
  /** Per-client requests, tokens, cost and rejections (kept across reloads). */
  readonly clients: ClientStats;
  /** Drains every sink and the trace exporter now (tests; also done on timers and at stop). */
  flush(): Promise<void>;
}

export interface ObservabilityOptions {
  /** Console sink output; default process.stdout. */
  write?: (text: string) => void;
  /** Bytes the console output holds unwritten (default: process.stdout.writableLength). */
  pending?: () => number;
  /** Webhook transport; default global fetch. */
  fetch?: typeof fetch;
}

export function createObservabilityService(mesh: MeshRuntime, options: ObservabilityOptions = {}): ObservabilityService {
  return new Observability(mesh, options);
}

interface Streams {
  routing: Sink | null;
  logging: Sink | null;
  statistics: Sink | null;
}

const NO_STREAMS: Streams = { routing: null, logging: null, statistics: null };

class Observability implements ObservabilityService {
  readonly name = OBSERVABILITY_SERVICE;
  readonly stats: Stats;
  readonly dropped: Record<StreamName, number> = { routing: 0, logging: 0, statistics: 0 };
  readonly httpResponses = new HttpResponseCounts();
  readonly tracing: TraceExport;
  readonly timeseries: PoolTimeseries;
  readonly decisions = new DecisionLog(100);
  readonly clients = new ClientStats();
  readonly #mesh: MeshRuntime;
  readonly #options: ObservabilityOptions;
  #streams: Streams = NO_STREAMS;
  #sinks: Sink[] = [];
  #level: MeshConfig['observability']['logging']['level'] = 'metadata';
  #statsTimer: TimerHandle | null = null;
  #running = false;
  /** The observability section the current sinks were built from (mesh.config is already the new one in reload). */
  #built = '';
  /** Sinks of a replaced config still closing (awaited by stop). */
  #retiring: Promise<void>[] = [];

  constructor(mesh: MeshRuntime, options: ObservabilityOptions) {
    this.#mesh = mesh;
    this.#options = options;
    this.stats = new Stats(mesh);
    this.timeseries = new PoolTimeseries({ clock: mesh.clock });
    this.tracing = new TraceExport({
      connectorOf: (id) => mesh.config.providers.get(id)?.connector, clientOf: clientOfEvent, redact: (text) => mesh.redact(text),
      warn: (msg, fields) => mesh.logger.warn(msg, fields), clock: mesh.clock,
    });
    // Statistics count from construction, so /metrics is right even for a mesh that was never started.
    mesh.events.on(this.#onEvent);
  }

  readonly #onEvent = (event: MeshEvent): void => {
    this.stats.record(event);
    if (event.type === 'request') {
      this.timeseries.record(event);
      this.decisions.record(event, clientOfEvent(event));
      this.tracing.record(event);
      this.clients.request(event);
    }
    const { routing, logging } = this.#streams;
    if (routing !== null) routing.push({ stream: 'routing', record: routingRecord(event) });
    if (logging !== null && event.type === 'request') logging.push({ stream: 'logging', record: requestRecord(event, this.#level) });
  };

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.stats.seed(); // storage (attached first) has loaded state by now
    this.#open(this.#mesh.config);
    this.tracing.configure(this.#mesh.config.observability.tracing);
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#statsTimer?.cancel();
    this.#statsTimer = null;
    this.#emitStatistics(); // the last snapshot, so a stop never loses the tail of the statistics
    const closing = this.#close(this.#sinks);
    this.#streams = NO_STREAMS;
    this.#sinks = [];
    this.#mesh.events.wantsBodies = false;
    await Promise.all([closing, ...this.#retiring, this.tracing.stop()]);
    this.#retiring = [];
  }

  reload(config: MeshConfig): void {
    if (!this.#running) return;
    this.tracing.configure(config.observability.tracing); // no-op when the section did not change
    if (sinksKey(config) === this.#built) {
      // Same sinks: reopen files (SIGHUP after log rotation) and carry on.
      this.reopenFiles();
      this.#wantBodies(config);
      return;
    }
    this.#statsTimer?.cancel();
    this.#statsTimer = null;
    this.#retiring.push(this.#close(this.#sinks));
    this.#sinks = [];
    this.#open(config);
  }

  reopenFiles(): void {
    if (!this.#running) return;
    for (const sink of this.#sinks) if (sink instanceof FileSink) void sink.reopen();
  }

  async flush(): Promise<void> {
    await Promise.all([...this.#sinks.map((sink) => sink.flush()), this.tracing.flush()]);
  }

  /** Builds the sinks of `config` (streams with the same destination share one sink). */
  #open(config: MeshConfig): void {
    const o = config.observability;
    this.#built = sinksKey(config);
    const shared = new Map<string, Sink>();
    const sinkFor = (c: SinkConfig): Sink | null => {
      const key = sinkKey(c);
      if (key === null) return null;
      let sink = shared.get(key);
      if (sink === undefined) {
        sink = this.#makeSink(c);
        shared.set(key, sink);
      }
      return sink;
    };
    this.#streams = { routing: sinkFor(o.routing), logging: sinkFor(o.logging), statistics: sinkFor(o.statistics) };
    this.#level = o.logging.level;
    this.#sinks = [...shared.values()];
    for (const sink of this.#sinks) sink.start();
    this.#wantBodies(config);
    if (this.#streams.statistics !== null) this.#scheduleStatistics(o.statistics.flush_interval);
  }

  /** The router attaches bodies to request events only for a `full` request log or captured trace content. */
  #wantBodies(config: MeshConfig): void {
    const o = config.observability;
    const fullLog = this.#streams.logging !== null && o.logging.level === 'full';
    this.#mesh.events.wantsBodies = fullLog || (o.tracing.enabled && o.tracing.capture_content);
  }

  #makeSink(c: SinkConfig): Sink {
    const mesh = this.#mesh;
    const redact = (text: string): string => mesh.redact(text);
    const deps: SinkDeps = {
      clock: mesh.clock,
      logger: mesh.logger,
      serialize: (record: LogRecord) => redact(JSON.stringify(hasOwnKeysOnly(record) ? record : redactDeep(record, redact))),
      onDrop: (stream, n) => {
        this.dropped[stream] += n;
      },
    };
    const base = { flushInterval: c.flush_interval };
    if (c.connector === 'modelmesh.webhook.v1') {
      return new WebhookSink(deps, {
        url: c.url ?? '', headers: c.headers, batchSize: c.batch_size, flushInterval: c.flush_interval,
        ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
      });
    }
    if (c.connector === 'modelmesh.local-file.v1') return new FileSink(deps, base, c.path ?? 'modelmesh.jsonl');
    return new ConsoleSink(deps, base, this.#options.write, this.#options.pending);
  }

  #scheduleStatistics(interval: number): void {
    this.#statsTimer = this.#mesh.clock.setTimeout(() => {
      this.#emitStatistics();
      void this.#streams.statistics?.flush();
      this.#scheduleStatistics(interval);
    }, Math.max(1, interval));
  }

  #emitStatistics(): void {
    const sink = this.#streams.statistics;
    if (sink === null) return;
    const uptime = this.#mesh.clock.now() - this.stats.startedAt;
    const snapshot = this.stats.snapshot();
    for (const record of statisticsRecords(snapshot, uptime)) sink.push({ stream: 'statistics', record });
    for (const record of this.clients.records(new Date(snapshot.at).toISOString(), uptime)) sink.push({ stream: 'statistics', record });
  }

  async #close(sinks: Sink[]): Promise<void> {
    await Promise.all(sinks.map((sink) => (sink instanceof WebhookSink ? sink.closeWithin(WEBHOOK_CLOSE_GRACE_MS) : sink.close())));
  }
}

/** What the sinks are built from: the section without `tracing` (its exporter is rebuilt on its own). */
function sinksKey(config: MeshConfig): string {
  const { routing, logging, statistics } = config.observability;
  return JSON.stringify({ routing, logging, statistics });
}

/**
 * The client (application) of a request. Hook for the client-keys wiring (src/clients/): when the request
 * event carries a `client` name it is used for spans and the decision log; until then, null.
 */
export function clientOfEvent(event: RequestEvent): string | null {
  const client = (event as { client?: unknown }).client;
  return typeof client === 'string' ? client : null;
}

/** Destinations that are the same sink: one console, one handle per file, one queue per webhook. */
function sinkKey(c: SinkConfig): string | null {
  switch (c.connector) {
    case null:
      return null;
    case 'modelmesh.console.v1':
      return 'console';
    case 'modelmesh.local-file.v1':
      return `file:${c.path ?? ''}`;
    case 'modelmesh.webhook.v1':
      return `webhook:${c.url ?? ''}:${c.batch_size}:${JSON.stringify(c.headers)}`;
  }
}
