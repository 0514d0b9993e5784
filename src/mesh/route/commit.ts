// Step 4 of a route (DESIGN §4.6, §4.7, §7): the answer is committed to the client. The caller relays it and
// calls `finish` once; finish feeds how it ended back into state (a mid-stream failure counts against the
// model), the strategy, the quota and budget counters, the client's limits and the request event.
import type { MeshError } from '../../errors.ts';
import { afterFailure, afterUsage } from '../policy.ts';
import { isNative } from './attempt-call.ts';
import type { Won } from './attempts.ts';
import { costOf, emitRequest, type Ending } from './outcome.ts';
import { strategyHears, type Plan } from './plan.ts';
import type { RequestScope } from './request-scope.ts';
import type { FinishInfo, RouteDeps, Routed } from './request.ts';

/** The answer is committed: headers for the client and the `finish` that records how it ended. */
export function commit(plan: Plan, won: Won, scope: RequestScope, deps: RouteDeps): Routed {
  const { response, model } = won;
  let done = false;
  const finish = (info: FinishInfo): void => {
    if (done) return;
    done = true;
    scope.release();
    settle(plan, won, info, deps);
  };
  return {
    response,
    pool: plan.poolName,
    model,
    native: isNative(plan.req, model),
    headers: {
      'x-modelmesh-pool': plan.poolName ?? '',
      'x-modelmesh-model': model.id,
      'x-modelmesh-provider': model.config.provider,
      'x-modelmesh-attempts': String(plan.attempts.length),
    },
    finish,
  };
}

/** How a committed request ended, told to state, strategy, counters, the caller and the request event. */
function settle(plan: Plan, won: Won, info: FinishInfo, deps: RouteDeps): void {
  const { model } = won;
  const usage = info.usage;
  const tokensIn = usage?.prompt_tokens ?? 0;
  const tokensOut = usage?.completion_tokens ?? 0;
  const cost = costOf(model.config.pricing, usage);
  const ending = info.cancelled ? cancelledEnding(plan) : info.error ? failedEnding(plan, won, info.error, deps) : null;
  afterUsage(plan.policy, plan.poolName, model, tokensIn + tokensOut, cost, deps.state);
  plan.req.onSettled?.({ usage, tokensIn, tokensOut, cost });
  // A literal, not `{ ...ending, … }`: a spread in a literal is V8's slow path (2.8% self time here, issue 16).
  const end: Ending = {
    outcome: ending?.outcome ?? 'success', status: ending?.status ?? won.response.status, error: ending?.error ?? null,
    model, ttfbMs: info.ttfbMs, tokensIn, tokensOut, cost, body: info.body,
  };
  emitRequest(deps, plan, end);
}

type Outcome = Pick<Ending, 'outcome' | 'status' | 'error'>;

function cancelledEnding(plan: Plan): Outcome {
  const last = plan.attempts[plan.attempts.length - 1];
  if (last) last.outcome = 'cancelled';
  return { outcome: 'cancelled', status: 499, error: null };
}

/** A failure after the answer was committed (mid-stream): counts against the model when it came from upstream. */
function failedEnding(plan: Plan, won: Won, failure: MeshError, deps: RouteDeps): Outcome {
  const { model } = won;
  const error = deps.redact(failure.upstream?.reason ?? failure.message);
  const last = plan.attempts[plan.attempts.length - 1];
  if (last) Object.assign(last, { outcome: 'failure', reason: error });
  if (failure.upstream !== undefined) {
    // Only an upstream failure counts (a relay bug is not the model's, issue 11.1).
    const status = failure.upstream.status;
    afterFailure(plan.policy, plan.poolName, model, { status, reason: error }, deps.state);
    // The strategy hears of it too: stick-until-failure must not stay on a model that fails mid-stream.
    const { ctx } = plan;
    if (strategyHears(plan, status)) ctx.pool.strategy.observe?.(model, { ok: false, status, latencyMs: performance.now() - plan.started, headers: null }, ctx);
  }
  // The status the client got: its headers went out with the upstream's, and the failure went in band (an
  // error event, or the body cut short). The request log and the routing record say what was answered, as a
  // load balancer in front logs it; outcome and error say it failed.
  return { outcome: 'failure', status: won.response.status, error };
}
