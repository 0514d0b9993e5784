// The router (DESIGN §4), in four named steps, each in its own module under route/:
//   resolve  (plan.ts)     the name the client sent → pool or model, and the pool whose policy applies;
//   plan     (plan.ts)     eligible members and the strategy's order, or why there are none;
//   attempts (attempts.ts) retries, backoff, rotation, within one deadline and the client's cancellation
//                          (request-scope.ts); native or translated call per attempt (attempt-call.ts);
//   commit   (commit.ts)   state, strategy feedback, usage and cost, and the request event (outcome.ts).
import type { Clock } from '../lib/clock.ts';
import type { EventBus } from './events.ts';
import type { Registry } from './registry.ts';
import type { StateStore } from './state.ts';
import { runAttempts } from './route/attempts.ts';
import { commit } from './route/commit.ts';
import { emitRequest } from './route/outcome.ts';
import { planAttempts, resolveTarget } from './route/plan.ts';
import { RequestScope } from './route/request-scope.ts';
import type { RouteDeps, RouteRequest, Routed } from './route/request.ts';

export type { FinishInfo, RouteRequest, Routed, Settled } from './route/request.ts';

export class Router {
  readonly #registry: Registry;
  readonly #deps: RouteDeps;

  constructor(registry: Registry, state: StateStore, events: EventBus, clock: Clock, deadlineMs: number, redact: (text: string) => string) {
    this.#registry = registry;
    this.#deps = { state, events, clock, deadlineMs, redact };
  }

  /**
   * Routes one request to the first model that answers; rejects with the MeshError the client gets. Not
   * `async`: the attempt loop's promise is the request's (commit runs at its end, see runAttempts).
   */
  route(req: RouteRequest): Promise<Routed> {
    const started = req.startedAt ?? performance.now();
    const deps = this.#deps;
    const target = resolveTarget(this.#registry, req.model);
    const plan = planAttempts(req, target, deps.state, deps.clock, started);
    if (plan.refusal !== null) {
      emitRequest(deps, plan, { outcome: 'failure', status: plan.refusal.status, error: plan.refusal.message, model: null });
      return Promise.reject(plan.refusal);
    }
    const scope = new RequestScope(req.signal, deps.clock, deps.deadlineMs);
    return runAttempts(plan, scope, deps, (result) => {
      if (result.ok) return commit(plan, result, scope, deps);
      scope.release();
      emitRequest(deps, plan, { outcome: result.outcome, status: result.status, error: result.error.message, model: result.model });
      throw result.error;
    });
  }
}
