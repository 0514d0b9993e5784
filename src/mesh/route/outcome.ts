// How a request ended, in the two shapes the rest of the mesh consumes (DESIGN §7): the request event
// (built here and nowhere else, for every ending: refused, failed, cancelled, answered) and the cost of
// the usage an answer reported (priced here and nowhere else).
import type { ModelConfig } from '../../config/types.ts';
import type { RequestEvent } from '../events.ts';
import type { ModelEntry, Usage } from '../types.ts';
import type { Plan } from './plan.ts';
import type { RouteDeps, RouteRequest } from './request.ts';

/** USD for `usage` at the model's configured pricing (per million prompt and completion tokens). */
export function costOf(pricing: ModelConfig['pricing'], usage: Usage | null): number {
  const tokensIn = usage?.prompt_tokens ?? 0;
  const tokensOut = usage?.completion_tokens ?? 0;
  return (tokensIn * pricing.input_per_1m + tokensOut * pricing.output_per_1m) / 1e6;
}

/**
 * The least `tokens` (prompt plus max_tokens) can cost on any of `models`: each token at the cheaper of the
 * cheapest model's two rates. A client budget admits a request only if this still fits (issue 12), so a
 * lower bound never refuses a request that some model could have answered within the budget.
 */
export function leastCostOf(models: readonly ModelEntry[], tokens: number): number {
  if (models.length === 0 || !(tokens > 0)) return 0;
  let rate = Infinity;
  for (const m of models) rate = Math.min(rate, m.config.pricing.input_per_1m, m.config.pricing.output_per_1m);
  return Number.isFinite(rate) ? (tokens * rate) / 1e6 : 0;
}

/** The parts of the request event that depend on how the request ended. */
export interface Ending {
  outcome: RequestEvent['outcome'];
  status: number;
  error: string | null;
  /** The model that answered or was being tried; null when none was (refused, every attempt failed). */
  model: ModelEntry | null;
  /** Time to the first byte sent to the client; the latency when absent. */
  ttfbMs?: number | undefined;
  tokensIn?: number;
  tokensOut?: number;
  cost?: number;
  /** The buffered answer (request log level `full`). */
  body?: Buffer | undefined;
}

/** Emits the one request event of `plan` (DESIGN §7); builds nothing when no one listens. */
export function emitRequest(deps: RouteDeps, plan: Plan, end: Ending): void {
  const { events, clock } = deps;
  if (!events.active) return;
  const { req } = plan;
  const { model } = end;
  const latency = performance.now() - plan.started;
  const event: RequestEvent = {
    type: 'request', at: clock.now(), requestId: req.requestId, endpoint: req.endpoint, requested: req.model,
    pool: plan.poolName, candidates: plan.candidates, excluded: plan.excluded, attempts: plan.attempts,
    model: model?.id ?? null, provider: model?.config.provider ?? null,
    outcome: end.outcome, status: end.status, error: end.error, stream: req.needs.stream,
    latency_ms: latency, ttfb_ms: end.ttfbMs ?? latency, tokens_in: end.tokensIn ?? 0, tokens_out: end.tokensOut ?? 0, cost: end.cost ?? 0,
    client: req.client ?? null,
  };
  // Set after the literal rather than spread into it (V8's slow path for every request, issue 16).
  if (events.wantsBodies) {
    const b = bodies(req, end.body);
    event.request_body = b.request_body;
    if ('response_body' in b) event.response_body = b.response_body;
  }
  if (req.trace !== undefined) {
    event.trace = req.trace;
    req.trace.recorded = true;
  }
  events.emit(event);
}

/** The bodies for the `full` request log: the client's JSON, and the answer's JSON (or text) when buffered. */
function bodies(req: RouteRequest, body: Buffer | undefined): { request_body: Record<string, unknown>; response_body?: unknown } {
  if (body === undefined) return { request_body: req.body };
  const text = body.toString('utf8');
  try {
    return { request_body: req.body, response_body: JSON.parse(text) as unknown };
  } catch {
    return { request_body: req.body, response_body: text };
  }
}
