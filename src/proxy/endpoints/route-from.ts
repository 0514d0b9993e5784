// The one call from an endpoint into the router: what the endpoint decided (endpoint, model, mode, needs,
// an upload form) plus what every request carries (session, request id, arrival time, client signal).
import type { FormData } from '../../lib/multipart.ts';
import type { Needs } from '../../mesh/eligibility.ts';
import type { RouteRequest, Routed } from '../../mesh/router.ts';
import type { Endpoint, ResponseMode } from '../../providers/provider.ts';
import { attemptTraceparent } from '../../observability/tracing/traceparent.ts';
import type { RequestContext } from '../context.ts';
import { sessionOf } from './validate.ts';

export interface RouteSpec {
  readonly endpoint: Endpoint;
  /** The name the client sent (pool, alias, model id or upstream name). */
  readonly model: string;
  readonly mode: ResponseMode;
  readonly needs: Needs;
  /** A multipart upload sent upstream as is (transcriptions); `body` then holds its text fields. */
  readonly form?: FormData | null;
  /** 'responses'/'messages': the chat translation for models that do not speak the protocol (RouteRequest.translated). */
  readonly translated?: RouteRequest['translated'];
  /** Headers for native attempts only (RouteRequest.nativeHeaders). */
  readonly nativeHeaders?: Readonly<Record<string, string>>;
}

/** Route `body` through this request's router (the generation it started with). */
export function routeFrom(ctx: RequestContext, body: Record<string, unknown>, spec: RouteSpec): Promise<Routed> {
  const trace = ctx.trace;
  return ctx.mesh.router.route({
    endpoint: spec.endpoint,
    model: spec.model,
    body,
    form: spec.form ?? null,
    mode: spec.mode,
    needs: spec.needs,
    sessionId: sessionOf(ctx, body),
    requestId: ctx.requestId,
    startedAt: ctx.startedAt,
    signal: ctx.signal,
    // Each upstream attempt gets a traceparent naming its own (attempt) span as the parent.
    ...(trace != null ? { trace, upstreamHeaders: (attempt: number) => ({ traceparent: attemptTraceparent(trace, attempt) }) } : {}),
    ...(spec.translated === undefined ? {} : { translated: spec.translated }),
    ...(spec.nativeHeaders === undefined ? {} : { nativeHeaders: spec.nativeHeaders }),
  });
}
