// Step 3 of a route (DESIGN §4.4, §4.5): try the planned candidates in order until one answers. Per model:
// up to retry.max_attempts attempts with backoff, unless the failure says to move on (the model went to
// standby, the status is not retryable, retry.scope prefers another candidate, Retry-After is too long).
// Failover happens before the client sees a byte: a provider call resolves only once the answer is 2xx
// and (for streams) its first event has arrived, so every failure up to that point rotates.
import { MeshError, toMeshError } from '../../errors.ts';
import { sleep } from '../../lib/clock.ts';
import type { ProviderResponse } from '../../providers/provider.ts';
import { finalError } from '../failure.ts';
import { afterFailure, afterSuccess } from '../policy.ts';
import { retryDelay, shouldRetry } from '../retry.ts';
import type { ModelEntry } from '../types.ts';
import { attemptCall } from './attempt-call.ts';
import { strategyHears, type Plan } from './plan.ts';
import type { RequestScope } from './request-scope.ts';
import type { RouteDeps } from './request.ts';

/** The attempt that answered: its response is committed to the client. */
export interface Won {
  readonly ok: true;
  readonly response: ProviderResponse;
  readonly model: ModelEntry;
}

/** How a request ended without an answer, with what its request event reports. */
export interface Failed {
  readonly ok: false;
  readonly error: MeshError;
  readonly outcome: 'failure' | 'cancelled';
  readonly status: number;
  /** The model being tried when the request ended early (cancelled, internal error); null once all failed. */
  readonly model: ModelEntry | null;
}

/** After a failed attempt: try the same model again, move to the next candidate, stop trying, or end now. */
type Step = 'retry' | 'next' | 'final' | Failed;

/**
 * Runs the attempts of `plan` within `scope`; every attempt is appended to `plan.attempts`. Resolves with
 * what `end` makes of the outcome (the router's commit step), called inside the loop's own async frame
 * rather than after another await (issue 16: each async layer is a promise and a microtask hop a request).
 */
export function runAttempts<T>(plan: Plan, scope: RequestScope, deps: RouteDeps, end: (outcome: Won | Failed) => T): Promise<T> {
  return new AttemptLoop(plan, scope, deps, end).run();
}

const CLIENT_CLOSED = 'client closed the request';

function cancelled(model: ModelEntry): Failed {
  return { ok: false, error: new MeshError('cancelled', CLIENT_CLOSED), outcome: 'cancelled', status: 499, model };
}

class AttemptLoop<T> {
  readonly #plan: Plan;
  readonly #scope: RequestScope;
  readonly #deps: RouteDeps;
  readonly #end: (outcome: Won | Failed) => T;
  /** Candidates not tried yet; retry.scope same_provider may move a sibling to the front. */
  readonly #queue: ModelEntry[];
  #lastError: MeshError | null = null;

  constructor(plan: Plan, scope: RequestScope, deps: RouteDeps, end: (outcome: Won | Failed) => T) {
    this.#plan = plan;
    this.#scope = scope;
    this.#deps = deps;
    this.#end = end;
    this.#queue = plan.order.slice();
  }

  async run(): Promise<T> {
    const { state } = this.#deps;
    const maxAttempts = this.#plan.policy.retry.max_attempts;
    let previous: ModelEntry | null = null;
    candidates: while (this.#queue.length > 0) {
      const model = this.#queue.shift() as ModelEntry;
      if (previous !== null) {
        // A sibling failure (e.g. provider auth) may have taken this one to standby meanwhile.
        if (!state.isModelActive(model.id, model.config.provider)) continue;
        this.#rotation(previous, model);
      }
      previous = model;
      // Up to retry.max_attempts attempts at this model, inline: an async helper per model and per attempt
      // cost a promise and a microtask hop each, on every request (issue 16).
      for (let n = 1; n <= maxAttempts; n++) {
        const t0 = performance.now();
        let step: Step | Won;
        try {
          const response = await model.provider.call(this.#call(model));
          step = this.#succeeded(model, response, performance.now() - t0);
        } catch (thrown) {
          step = await this.#failed(model, n, toMeshError(thrown), performance.now() - t0);
        }
        if (step === 'next') continue candidates;
        if (step === 'final') break candidates;
        if (step !== 'retry') return this.#end(step); // outside the try: end's own errors are not the model's
      }
    }
    const error = finalError(this.#plan.attempts, this.#lastError, this.#scope.deadlineHit);
    return this.#end({ ok: false, error, outcome: 'failure', status: error.status, model: null });
  }

  #rotation(from: ModelEntry, to: ModelEntry): void {
    const { events, clock } = this.#deps;
    const reason = this.#deps.redact(this.#lastError?.upstream?.reason ?? this.#lastError?.message ?? 'failed');
    events.emit({ type: 'rotation', at: clock.now(), requestId: this.#plan.req.requestId, pool: this.#plan.poolName, from: from.id, to: to.id, reason });
  }

  /** The provider call of the next attempt at `model` (the attempt's own trace headers added). */
  #call(model: ModelEntry): ReturnType<typeof attemptCall> {
    const { req, attempts } = this.#plan;
    const call = attemptCall(req, model, this.#scope.signal);
    if (req.upstreamHeaders !== undefined) {
      // Not a spread literal (V8's slow path on every traced attempt); the attempt's own headers win.
      const extra = req.upstreamHeaders(attempts.length);
      call.headers = call.headers === undefined ? extra : Object.assign({}, call.headers, extra);
    }
    return call;
  }

  #succeeded(model: ModelEntry, response: ProviderResponse, latency: number): Won {
    const { state } = this.#deps;
    const { policy, ctx } = this.#plan;
    this.#scope.committed();
    this.#plan.attempts.push({ model: model.id, provider: model.config.provider, status: response.status, outcome: 'success', reason: null, latency_ms: latency });
    state.recordLatency(model.id, latency);
    afterSuccess(policy, model, state);
    if (strategyHears(this.#plan, response.status)) ctx.pool.strategy.observe?.(model, { ok: true, status: response.status, latencyMs: latency, headers: response.headers }, ctx);
    return { ok: true, response, model };
  }

  #failed(model: ModelEntry, n: number, err: MeshError, latency: number): Step | Promise<Step> {
    const { policy, poolName, ctx, attempts } = this.#plan;
    const record = (status: number, outcome: 'failure' | 'cancelled', reason: string): void => {
      attempts.push({ model: model.id, provider: model.config.provider, status, outcome, reason, latency_ms: latency });
    };
    if (this.#scope.clientGone) {
      record(0, 'cancelled', CLIENT_CLOSED);
      return cancelled(model);
    }
    const deadlineHit = this.#scope.deadlineHit;
    if (!deadlineHit && err.code === 'internal_error') {
      // Our own fault before or around the upstream exchange (issue 11.1): never the model's. No state
      // change, no strategy feedback, no retry; the client gets a 500 and sendError logs it once.
      record(500, 'failure', 'internal error');
      return { ok: false, error: err, outcome: 'failure', status: 500, model };
    }
    const status = deadlineHit ? 0 : (err.upstream?.status ?? err.status);
    const reason = deadlineHit ? `request deadline of ${this.#scope.deadlineMs}ms exceeded` : this.#deps.redact(err.upstream?.reason ?? err.message);
    record(status, 'failure', reason);
    this.#lastError = err;
    if (deadlineHit) return 'final';
    // Only what came back from the upstream exchange says anything about the model (issue 11.1).
    const fromUpstream = err.upstream !== undefined;
    if (fromUpstream && strategyHears(this.#plan, status)) ctx.pool.strategy.observe?.(model, { ok: false, status, latencyMs: latency, headers: err.upstream?.headers ?? null }, ctx);
    const unavailable = fromUpstream && afterFailure(policy, poolName, model, { status, reason }, this.#deps.state);
    if (unavailable || n === policy.retry.max_attempts || !shouldRetry(status, policy.retry)) return 'next';
    return this.#again(model, n, err);
  }

  /** A retryable failure: another candidate first if retry.scope says so, else the same model after backoff. */
  async #again(model: ModelEntry, n: number, err: MeshError): Promise<Step> {
    const retry = this.#plan.policy.retry;
    // retry.scope: `any` retries on the next candidate at once, `same_provider` on the next candidate of
    // this provider (another model behind the same API); both fall back to this model when there is none.
    if (retry.scope === 'any' && this.#queue.length > 0) return 'next';
    if (retry.scope === 'same_provider') {
      const sibling = this.#queue.findIndex((m) => m.config.provider === model.config.provider);
      if (sibling !== -1) {
        this.#queue.unshift(...this.#queue.splice(sibling, 1));
        return 'next';
      }
    }
    const delay = retryDelay(retry, n, err.upstream?.retryAfterMs);
    // A wait the deadline would cut short ends in a 504 while another candidate may answer now.
    if (delay === 'rotate' || delay >= this.#scope.remainingMs) return 'next';
    try {
      await sleep(this.#deps.clock, delay, this.#scope.signal);
    } catch {
      return this.#scope.clientGone ? cancelled(model) : 'final'; // else: the deadline
    }
    // Another request may have taken this model or its provider to standby during the backoff
    // (a 401, an operator): retrying it would only hit a provider known to be down.
    return this.#deps.state.isModelActive(model.id, model.config.provider) ? 'retry' : 'next';
  }
}
