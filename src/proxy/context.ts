// What every endpoint handler receives: one object per request, built by the pipeline.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Admitted } from '../clients/limits.ts';
import type { Client } from '../clients/registry.ts';
import type { MeshView } from '../mesh/view.ts';
import type { Logger } from '../log.ts';
import type { CancelSignal } from '../lib/cancel.ts';
import type { RequestTrace } from '../mesh/events.ts';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The mesh as it was when the request arrived: a reload does not change it mid-request (mesh/view.ts). */
  readonly mesh: MeshView;
  readonly requestId: string;
  /** Path parameters of the matched route (`id` for /v1/models/{id}), already percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** Aborted when the client disconnects before the response has finished. */
  readonly signal: CancelSignal;
  /** process.hrtime-free start time: performance.now() at arrival. */
  readonly startedAt: number;
  readonly logger: Logger;
  /** Headers every response carries (x-request-id, CORS); endpoints merge them into their own. */
  readonly baseHeaders: Record<string, string>;
  /** baseHeaders for an admission to write its x-ratelimit-* into (routeFrom), without the ones from before it. */
  admissionHeaders(): Record<string, string>;
  /** The request's trace (observability.tracing on): continued from the client's `traceparent`, else new. */
  readonly trace?: RequestTrace | null;
  /** The configured client calling (`clients:`, found by its key), null for an anonymous caller. */
  readonly client: Client | null;
  /** The model the body named, once an endpoint read it (routeFrom): for the span of a refused request. */
  requested: string | null;
  /**
   * The client limiter's admission of this request (set by routeFrom); the pipeline releases it when the
   * request ends if the router's finish did not (release is idempotent).
   */
  admission: Admitted | null;
}

export type Handler = (ctx: RequestContext) => Promise<void>;
