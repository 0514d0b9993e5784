// The RequestContext the pipeline (pipeline.ts) hands to every endpoint: one per request, holding what the
// pipeline learnt (client, admission, trace) and what it builds lazily (the client-gone signal, the client's
// x-ratelimit-* headers).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Admitted } from '../clients/limits.ts';
import type { Client } from '../clients/registry.ts';
import { CancelToken, type CancelSignal } from '../lib/cancel.ts';
import type { Logger } from '../log.ts';
import type { RequestTrace } from '../mesh/events.ts';
import type { MeshView } from '../mesh/view.ts';
import type { RequestContext } from './context.ts';

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

/** The RequestContext of one request. `signal` is created on first use: most routes never need it. */
export class Context implements RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly mesh: MeshView;
  readonly requestId: string;
  params: Readonly<Record<string, string>> = NO_PARAMS;
  readonly startedAt: number;
  readonly logger: Logger;
  readonly #baseHeaders: Record<string, string>;
  trace: RequestTrace | null = null;
  client: Client | null = null;
  requested: string | null = null;
  admission: Admitted | null = null;
  /** Set for a rate-limited client: its x-ratelimit-* join the base headers when first read (see baseHeaders). */
  #limitHeaders = false;
  #controller: CancelToken | undefined;

  constructor(req: IncomingMessage, res: ServerResponse, mesh: MeshView, requestId: string, baseHeaders: Record<string, string>, startedAt: number) {
    this.req = req;
    this.res = res;
    this.mesh = mesh;
    this.requestId = requestId;
    this.#baseHeaders = baseHeaders;
    this.startedAt = startedAt;
    this.logger = mesh.logger;
  }

  /**
   * Headers every answer carries. A rate-limited client's x-ratelimit-* are added on first read unless an
   * admission came first (routeFrom adds the admission's own): a routed request computes them once.
   */
  get baseHeaders(): Record<string, string> {
    if (this.#limitHeaders) {
      this.#limitHeaders = false;
      if (this.admission === null && this.client !== null) Object.assign(this.#baseHeaders, this.mesh.limiter.headersFor(this.client));
    }
    return this.#baseHeaders;
  }

  /**
   * The headers every answer carries, for an admission to write its own x-ratelimit-* into (routeFrom): the
   * ones as of before the admission are then not added on top.
   */
  admissionHeaders(): Record<string, string> {
    this.#limitHeaders = false;
    return this.#baseHeaders;
  }

  /** The client's x-ratelimit-* headers go on every answer to it (issue 12 §2). */
  limitHeaders(): void {
    this.#limitHeaders = this.client?.rateLimited === true;
  }

  /** Aborted when the client goes away before the response has finished (res 'close' before finish). */
  get signal(): CancelSignal {
    if (this.#controller === undefined) {
      const controller = (this.#controller = new CancelToken());
      const res = this.res;
      if (res.closed && !res.writableFinished) controller.abort();
      else res.once('close', () => { if (!res.writableFinished) controller.abort(); });
    }
    return this.#controller;
  }
}
