// Every transition (to standby, back to active, a rotation) and every routing decision is an event with
// its reason (DESIGN §6, §7). Observability subscribes; emitting with no listener costs one length check.

export interface ModelStandbyEvent {
  type: 'model_standby';
  at: number;
  model: string;
  provider: string;
  pool: string | null;
  reason: string;
  /** Epoch ms when it may be tried again; null until a probe, quota reset or manual activation. */
  until: number | null;
}

export interface ModelActiveEvent {
  type: 'model_active';
  at: number;
  model: string;
  provider: string;
  reason: string;
}

export interface ProviderStandbyEvent {
  type: 'provider_standby';
  at: number;
  provider: string;
  reason: string;
  until: number | null;
}

export interface ProviderActiveEvent {
  type: 'provider_active';
  at: number;
  provider: string;
  reason: string;
}

export interface RotationEvent {
  type: 'rotation';
  at: number;
  requestId: string;
  pool: string | null;
  from: string;
  to: string;
  reason: string;
}

export interface QuotaResetEvent {
  type: 'quota_reset';
  at: number;
  model: string;
  window: 'daily' | 'monthly';
}

/** One attempt at one model within a request. */
export interface AttemptRecord {
  model: string;
  provider: string;
  /** Upstream status, 0 for transport failures, 200 for success. */
  status: number;
  outcome: 'success' | 'failure' | 'cancelled';
  /** Failure reason (`503 overloaded`, `connection refused`) or null on success. */
  reason: string | null;
  latency_ms: number;
}

/**
 * How many times a request moved on to another model: its failovers (a retry of the same model is not one).
 * The one count behind the routing record's `rotations`, the span's modelmesh.failovers and the status page.
 */
export function failoversOf(attempts: readonly AttemptRecord[]): number {
  let n = 0;
  for (let i = 1; i < attempts.length; i++) if (attempts[i]?.model !== attempts[i - 1]?.model) n++;
  return n;
}

/**
 * The W3C trace of one request (issue 17), started by the proxy and only carried by the mesh, so the spans
 * can be built from the request event afterwards. Structurally the tracing service's TraceContext (the mesh
 * does not import observability).
 */
export interface RequestTrace {
  traceId: string;
  /** The server (request) span. */
  spanId: string;
  /** The caller's span, null when this request started the trace. */
  parentSpanId: string | null;
  sampled: boolean;
  /** Span ids of the upstream attempts in attempt order, filled as their traceparents are sent. */
  attemptSpanIds: string[];
  /** Set when a request event carried this trace; a request answered without one gets its span elsewhere. */
  recorded: boolean;
}

/** The routing decision record of one request (DESIGN §7): emitted once the request is over. */
export interface RequestEvent {
  type: 'request';
  at: number;
  requestId: string;
  endpoint: string;
  /** The name the client asked for. */
  requested: string;
  pool: string | null;
  candidates: string[];
  /** Why members were left out (`openai.gpt-4o: standby (cooldown)`). */
  excluded: string[];
  attempts: AttemptRecord[];
  model: string | null;
  provider: string | null;
  outcome: 'success' | 'failure' | 'cancelled';
  status: number;
  error: string | null;
  stream: boolean;
  latency_ms: number;
  /** Time to the first byte sent to the client (streams), else the latency. */
  ttfb_ms: number;
  tokens_in: number;
  tokens_out: number;
  cost: number;
  /** The configured client that made the request (`clients:`), null for an anonymous one; never its key. */
  client: string | null;
  /** Only when a sink asked for bodies (`EventBus.wantsBodies`, request log level `full`): the client's JSON body. */
  request_body?: Record<string, unknown>;
  /** Only with `wantsBodies`, and only for buffered answers: the answer's JSON (or text). */
  response_body?: unknown;
  /** The request's trace when tracing is on (observability.tracing); attempts pair with attemptSpanIds by index. */
  trace?: RequestTrace;
}

export type MeshEvent =
  | ModelStandbyEvent
  | ModelActiveEvent
  | ProviderStandbyEvent
  | ProviderActiveEvent
  | RotationEvent
  | QuotaResetEvent
  | RequestEvent;

export type MeshListener = (event: MeshEvent) => void;

export class EventBus {
  #listeners: MeshListener[] = [];
  /** Set by a sink that logs full request/response bodies; the router then attaches them to request events. */
  wantsBodies = false;

  on(listener: MeshListener): () => void {
    this.#listeners.push(listener);
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  get active(): boolean {
    return this.#listeners.length > 0;
  }

  emit(event: MeshEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A broken sink must never break routing; sinks report their own failures.
      }
    }
  }
}
