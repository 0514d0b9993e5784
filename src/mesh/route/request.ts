// What a caller hands the router and gets back (DESIGN §4): the request to route, the committed answer
// (`Routed`) and how the caller reports its end (`FinishInfo`). Kept apart from router.ts so that every
// step under route/ can name these types without importing the router.
import type { Clock } from '../../lib/clock.ts';
import type { CancelSignal } from '../../lib/cancel.ts';
import type { MeshError } from '../../errors.ts';
import type { FormData } from '../../lib/multipart.ts';
import type { AnswerCheck, Endpoint, ProviderResponse, ResponseMode } from '../../providers/provider.ts';
import type { Needs } from '../eligibility.ts';
import type { EventBus, RequestTrace } from '../events.ts';
import type { StateStore } from '../state.ts';
import type { ModelEntry, Usage } from '../types.ts';
import type { Translated } from './attempt-call.ts';

export interface RouteRequest {
  endpoint: Endpoint;
  /** The name the client sent (pool, alias, model id or upstream name). */
  model: string;
  body: Record<string, unknown>;
  form: FormData | null;
  mode: ResponseMode;
  needs: Needs;
  sessionId: string | null;
  requestId: string;
  /** The client's signal: aborted when it disconnects. */
  signal: CancelSignal;
  /** performance.now() when the request arrived, so latency and time to first byte share one origin. */
  startedAt?: number;
  /** The request's trace (issue 17): carried onto the request event, for the spans built from it. */
  trace?: RequestTrace;
  /** Extra headers for upstream attempt `attempt` (0-based, counted across candidates): `traceparent`. */
  upstreamHeaders?: (attempt: number) => Record<string, string>;
  /**
   * Endpoints 'responses' and 'messages' (another protocol's body): the same request as a chat call, for every
   * model whose provider does not speak that protocol natively; `{ error }` when it cannot be translated (then
   * only native models are eligible, and with none the client gets that error). `only`: every model gets the
   * translation, native or not (the request continues state only the proxy holds: a stored previous_response_id).
   */
  translated?: Translated;
  /** Headers sent upstream on every attempt (ProviderCall.headers). */
  headers?: Readonly<Record<string, string>>;
  /** Headers added only on native attempts of 'responses'/'messages' (anthropic-version, anthropic-beta). */
  nativeHeaders?: Readonly<Record<string, string>>;
  /** The endpoint's check of a buffered 2xx answer, on native attempts (ProviderCall.check). */
  check?: AnswerCheck;
  /** The configured client making the request (attribution in the request event); null or absent: anonymous. */
  client?: string | null;
  /** Told once, in `finish`, what the answered request used and cost (client limits count it). */
  onSettled?: (settled: Settled) => void;
}

/** What a committed request used, as `finish` computed it. */
export interface Settled {
  usage: Usage | null;
  tokensIn: number;
  tokensOut: number;
  cost: number;
}

export interface FinishInfo {
  usage: Usage | null;
  /** A failure after the response was committed (mid-stream): counts against the model. */
  error?: MeshError;
  cancelled?: boolean;
  /** Time from arrival to the first byte sent to the client. */
  ttfbMs?: number;
  /** The buffered answer, for the `full` request log. */
  body?: Buffer;
}

export interface Routed {
  readonly response: ProviderResponse;
  readonly pool: string | null;
  readonly model: ModelEntry;
  /** True when the model got the client's body as is; false when it got the translated chat call (translate back). */
  readonly native: boolean;
  /** x-modelmesh-* response headers (DESIGN §4.7). */
  readonly headers: Record<string, string>;
  /** Call exactly once when the answer has been delivered, failed mid-way, or the client left. */
  finish(info: FinishInfo): void;
}

/** What the steps of a route read and write besides the request: one per router (one per generation). */
export interface RouteDeps {
  readonly state: StateStore;
  readonly events: EventBus;
  readonly clock: Clock;
  /** The request deadline (proxy.timeouts.deadline): from arrival to the committed answer. */
  readonly deadlineMs: number;
  /**
   * The secret redactor: an upstream's failure reason is redacted once, where it is recorded, since it goes
   * on to state (and Redis), events, spans and the admin API (an upstream may quote our key back).
   */
  readonly redact: (text: string) => string;
}
