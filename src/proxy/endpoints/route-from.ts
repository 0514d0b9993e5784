// The one call from an endpoint into the router: what the endpoint decided (endpoint, model, mode, needs,
// an upload form) plus what every request carries (session, request id, arrival time, client signal).
// For a configured client (issue 12) it first checks, before any upstream call: that the name exists and
// the allow-list allows it (404 model_not_found), then the client's limits (429). The 404 comes first for
// every client, so a name that leads nowhere never takes an rpm slot or counts as a request of the client.
import { modelNotAllowed, type Client } from '../../clients/registry.ts';
import type { FormData } from '../../lib/multipart.ts';
import type { Needs } from '../../mesh/eligibility.ts';
import type { NameTarget } from '../../mesh/registry.ts';
import { leastCostOf } from '../../mesh/route/outcome.ts';
import type { RouteRequest, Routed } from '../../mesh/router.ts';
import type { AnswerCheck, Endpoint, ResponseMode } from '../../providers/provider.ts';
import { attemptTraceparent, forwardedTracestate } from '../../observability/tracing/traceparent.ts';
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
  /** The endpoint's check of a buffered 2xx answer, before the commit (RouteRequest.check). */
  readonly check?: AnswerCheck;
}

/**
 * Route `body` through this request's router (the generation it started with). Not `async`: the router's
 * promise is handed back as it is, one promise and one microtask hop fewer per request (issue 16). Every
 * caller awaits it at once, so a refusal thrown here reaches it like a rejection would.
 */
export function routeFrom(ctx: RequestContext, body: Record<string, unknown>, spec: RouteSpec): Promise<Routed> {
  const client = ctx.client;
  const trace = ctx.trace;
  ctx.requested = spec.model;
  const request: RouteRequest = {
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
  };
  // Set after the literal, not spread into it: a spread in a literal sends what follows through V8's slow path.
  if (trace != null) {
    request.trace = trace;
    // Each upstream attempt gets a traceparent naming its own (attempt) span as the parent, and the client's
    // tracestate when its trace was continued.
    const state = forwardedTracestate(trace, ctx.req.headers['tracestate']);
    request.upstreamHeaders = state === undefined
      ? (attempt: number) => ({ traceparent: attemptTraceparent(trace, attempt) })
      : (attempt: number) => ({ traceparent: attemptTraceparent(trace, attempt), tracestate: state });
  }
  if (spec.translated !== undefined) request.translated = spec.translated;
  if (spec.nativeHeaders !== undefined) request.nativeHeaders = spec.nativeHeaders;
  if (spec.check !== undefined) request.check = spec.check;
  if (client === null) return ctx.mesh.router.route(request);

  // One lookup serves the existence check, the allow-list and the cost estimate. The router resolves the
  // name again in the same registry (this request's generation), so what passes here routes there.
  const target = allowedTarget(ctx, client, spec.model);
  // Admitted, this request counted: its answer, success or error, carries the x-ratelimit-* as of this
  // admission, written straight into the answer's headers. A refusal carries its own (on its error).
  const admission = ctx.mesh.limiter.admit(client, { estimatedTokens: spec.needs.tokens, estimatedCost: leastCost(target, spec.needs.tokens) }, ctx.admissionHeaders());
  if (!admission.ok) {
    ctx.mesh.observability.clients.reject(client.name, admission.reason);
    throw admission.error;
  }
  ctx.admission?.release(); // a second upstream call of the same request: the first one is over
  ctx.admission = admission;
  request.client = client.name;
  request.onSettled = admission.release; // the settled usage is an ActualUsage (tokensIn, tokensOut, cost)
  // When nothing is answered, the pipeline releases the admission as the request ends (ctx.admission):
  // only the request counts, no tokens, no cost.
  return ctx.mesh.router.route(request);
}

/** The least the request can cost on the models its name can reach (a budget admits it only if that fits). */
function leastCost(target: NameTarget, tokens: number): number {
  return leastCostOf(target.kind === 'model' ? [target.model] : target.pool.members, tokens);
}

/**
 * What `model` names, for a configured client that may use it; else the 404 model_not_found, counted like the
 * allow-list's (a rejection, not a request): an unknown name is one for a client with an allow-list already,
 * and a client without one must not be charged an rpm slot for it either. Also for endpoints that answer
 * without routing (count_tokens), so a client learns nothing there it could not learn by routing.
 */
export function allowedTarget(ctx: RequestContext, client: Client, model: string): NameTarget {
  const registry = ctx.mesh.runtime.registry;
  const target = registry.names.get(model);
  if (target === undefined || !ctx.mesh.clients.allows(client, model, resolvedName(target))) {
    ctx.mesh.observability.clients.reject(client.name, 'model_not_allowed');
    // A client allowed everything gets the router's own 404 (what exists, "did you mean"); one with an
    // allow-list (or revoked by a reload) the same answer whether the name exists or not.
    if (target === undefined && client.config.pools === null) registry.resolve(model); // throws that 404
    throw modelNotAllowed(model);
  }
  return target;
}

/** What an allow-list entry is matched against besides the name sent: the model id, or the pool's name. */
function resolvedName(target: NameTarget): string {
  return target.kind === 'model' ? target.model.id : target.pool.name;
}
