// The router (DESIGN §4): resolve the name → pool → eligible members → strategy order → attempt loop.
// Failover happens before the client sees a byte: a provider call resolves only once the answer is 2xx
// and (for streams) its first event has arrived, so every failure up to that point rotates.
import type { PoolConfig } from '../config/types.ts';
import { MeshError, toMeshError } from '../errors.ts';
import { sleep, type Clock } from '../lib/clock.ts';
import { CancelToken, type CancelSignal } from '../lib/cancel.ts';
import type { FormData } from '../lib/multipart.ts';
import type { Endpoint, ProviderResponse, ResponseMode } from '../providers/provider.ts';
import { attemptCall, isNative, type Translated } from './attempt.ts';
import { eligibleMembers, type Needs } from './eligibility.ts';
import type { AttemptRecord, EventBus, RequestTrace } from './events.ts';
import { afterFailure, afterSuccess, afterUsage, sharedLimitRefusal } from './policy.ts';
import type { Registry } from './registry.ts';
import { retryDelay, shouldRetry } from './retry.ts';
import type { StateStore } from './state.ts';
import type { ModelEntry, PoolEntry, StrategyContext, Usage } from './types.ts';
import { finalError, noCandidatesError } from './failure.ts';

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

export class Router {
  readonly #registry: Registry;
  readonly #state: StateStore;
  readonly #events: EventBus;
  readonly #clock: Clock;
  readonly #deadline: number;

  constructor(registry: Registry, state: StateStore, events: EventBus, clock: Clock, deadlineMs: number) {
    this.#registry = registry;
    this.#state = state;
    this.#events = events;
    this.#clock = clock;
    this.#deadline = deadlineMs;
  }

  async route(req: RouteRequest): Promise<Routed> {
    const started = req.startedAt ?? performance.now();
    const target = this.#registry.resolve(req.model);
    const pool = target.kind === 'model' ? null : target.pool;
    const home = target.kind === 'model' ? this.#registry.homePool(target.model) : target.pool;
    const poolName = pool?.name ?? null;
    const policy: PoolConfig = home.config;
    const members = target.kind === 'model' ? [target.model] : target.pool.members;
    const untranslatable = req.translated !== undefined && 'error' in req.translated ? req.translated.error : null;
    const nativeOnly = untranslatable === null ? undefined : (m: ModelEntry): string | null => (isNative(req, m) ? null : untranslatable.message);
    const { eligible, excluded, standby } = eligibleMembers(members, req.endpoint, req.needs, this.#state, nativeOnly);
    const attempts: AttemptRecord[] = [];
    const report = (outcome: 'success' | 'failure' | 'cancelled', status: number, error: string | null, model: ModelEntry | null, candidates: string[]): void => {
      if (!this.#events.active) return;
      const latency = performance.now() - started;
      this.#events.emit({
        type: 'request', at: this.#clock.now(), requestId: req.requestId, endpoint: req.endpoint, requested: req.model,
        pool: poolName, candidates, excluded, attempts, model: model?.id ?? null, provider: model?.config.provider ?? null,
        outcome, status, error, stream: req.needs.stream, latency_ms: latency, ttfb_ms: latency, tokens_in: 0, tokens_out: 0, cost: 0,
        client: req.client ?? null,
        ...(this.#events.wantsBodies ? { request_body: req.body } : {}),
        ...(req.trace !== undefined ? { trace: req.trace } : {}),
      });
    };

    const refused = sharedLimitRefusal(policy, members, this.#state);
    if (refused !== null) {
      report('failure', refused.status, refused.message, null, []);
      throw refused;
    }
    if (eligible.length === 0) {
      // What the client asked cannot be expressed in chat and no model speaks its protocol: the translation's 400.
      const err = untranslatable ?? noCandidatesError(req.model, poolName, members, excluded, standby, this.#state);
      report('failure', err.status, err.message, null, []);
      throw err;
    }
    const ctx: StrategyContext = { pool: home, state: this.#state, clock: this.#clock, sessionId: req.sessionId, requestId: req.requestId };
    const order = pool ? orderCandidates(pool, eligible, ctx) : eligible;
    const candidates = order.map((m) => m.id);

    // One controller per request: aborted by the client going away or by the request deadline.
    const controller = new CancelToken();
    let deadlineHit = false;
    const onClientAbort = (): void => controller.abort(new MeshError('cancelled', 'client closed the request'));
    if (req.signal.aborted) onClientAbort();
    else req.signal.addEventListener('abort', onClientAbort, { once: true });
    const deadlineTimer = this.#clock.setTimeout(() => {
      deadlineHit = true;
      controller.abort(new MeshError('timeout', `request deadline of ${this.#deadline}ms exceeded`));
    }, this.#deadline);
    const release = (): void => {
      deadlineTimer.cancel();
      req.signal.removeEventListener('abort', onClientAbort);
    };

    let lastError: MeshError | null = null;
    let previous: ModelEntry | null = null;
    const queue = order.slice();
    candidates: while (queue.length > 0) {
      const model = queue.shift() as ModelEntry;
      if (previous !== null) {
        // A sibling failure (e.g. provider auth) may have taken this one to standby meanwhile.
        if (!this.#state.isModelActive(model.id, model.config.provider)) continue;
        this.#events.emit({ type: 'rotation', at: this.#clock.now(), requestId: req.requestId, pool: poolName, from: previous.id, to: model.id, reason: lastError?.upstream?.reason ?? lastError?.message ?? 'failed' });
      }
      previous = model;
      for (let n = 1; n <= policy.retry.max_attempts; n++) {
        const t0 = performance.now();
        try {
          const call = attemptCall(req, model, controller);
          if (req.upstreamHeaders !== undefined) call.headers = { ...call.headers, ...req.upstreamHeaders(attempts.length) };
          const response = await model.provider.call(call);
          const latency = performance.now() - t0;
          deadlineTimer.cancel();
          attempts.push({ model: model.id, provider: model.config.provider, status: response.status, outcome: 'success', reason: null, latency_ms: latency });
          this.#state.recordLatency(model.id, latency);
          afterSuccess(policy, model, this.#state);
          ctx.pool.strategy.observe?.(model, { ok: true, status: response.status, latencyMs: latency, headers: response.headers }, ctx);
          return this.#committed({ req, response, pool, model, policy, attempts, candidates, excluded, started, release, ctx });
        } catch (thrown) {
          const err = toMeshError(thrown);
          const latency = performance.now() - t0;
          if (req.signal.aborted) {
            attempts.push({ model: model.id, provider: model.config.provider, status: 0, outcome: 'cancelled', reason: 'client closed the request', latency_ms: latency });
            release();
            report('cancelled', 499, 'client closed the request', model, candidates);
            throw new MeshError('cancelled', 'client closed the request');
          }
          if (!deadlineHit && err.code === 'internal_error') {
            // Our own fault before or around the upstream exchange (issue 11.1): never the model's. No state
            // change, no strategy feedback, no retry; the client gets a 500 and sendError logs it once.
            attempts.push({ model: model.id, provider: model.config.provider, status: 500, outcome: 'failure', reason: 'internal error', latency_ms: latency });
            release();
            report('failure', 500, err.message, model, candidates);
            throw err;
          }
          const status = deadlineHit ? 0 : (err.upstream?.status ?? err.status);
          const reason = deadlineHit ? `request deadline of ${this.#deadline}ms exceeded` : (err.upstream?.reason ?? err.message);
          attempts.push({ model: model.id, provider: model.config.provider, status, outcome: 'failure', reason, latency_ms: latency });
          lastError = err;
          if (deadlineHit) break candidates;
          // Only what came back from the upstream exchange says anything about the model (issue 11.1).
          const fromUpstream = err.upstream !== undefined;
          if (fromUpstream) ctx.pool.strategy.observe?.(model, { ok: false, status, latencyMs: latency, headers: err.upstream?.headers ?? null }, ctx);
          const unavailable = fromUpstream && afterFailure(policy, poolName, model, { status, reason }, this.#state);
          if (unavailable || n === policy.retry.max_attempts || !shouldRetry(status, policy.retry)) break;
          // retry.scope: `any` retries on the next candidate at once, `same_provider` on the next candidate of
          // this provider (another model behind the same API); both fall back to this model when there is none.
          if (policy.retry.scope === 'any' && queue.length > 0) break;
          if (policy.retry.scope === 'same_provider') {
            const sibling = queue.findIndex((m) => m.config.provider === model.config.provider);
            if (sibling !== -1) {
              queue.unshift(...queue.splice(sibling, 1));
              break;
            }
          }
          const delay = retryDelay(policy.retry, n, err.upstream?.retryAfterMs);
          if (delay === 'rotate') break;
          try {
            await sleep(this.#clock, delay, controller);
          } catch {
            if (req.signal.aborted) {
              release();
              report('cancelled', 499, 'client closed the request', model, candidates);
              throw new MeshError('cancelled', 'client closed the request');
            }
            break candidates; // deadline
          }
          // Another request may have taken this model or its provider to standby during the backoff
          // (a 401, an operator): retrying it would only hit a provider known to be down.
          if (!this.#state.isModelActive(model.id, model.config.provider)) break;
        }
      }
    }
    release();
    const err = finalError(attempts, lastError, deadlineHit);
    report('failure', err.status, err.message, null, candidates);
    throw err;
  }

  /** The answer is committed: headers for the client and the `finish` that records how it ended. */
  #committed(c: Commit): Routed {
    const { req, response, pool, model, policy, attempts, candidates, excluded, started, release, ctx } = c;
    let done = false;
    const finish = (info: FinishInfo): void => {
      if (done) return;
      done = true;
      release();
      const usage = info.usage;
      const tokensIn = usage?.prompt_tokens ?? 0;
      const tokensOut = usage?.completion_tokens ?? 0;
      const pricing = model.config.pricing;
      const cost = (tokensIn * pricing.input_per_1m + tokensOut * pricing.output_per_1m) / 1e6;
      let outcome: 'success' | 'failure' | 'cancelled' = 'success';
      let error: string | null = null;
      const last = attempts[attempts.length - 1];
      if (info.cancelled) {
        outcome = 'cancelled';
        if (last) last.outcome = 'cancelled';
      } else if (info.error) {
        outcome = 'failure';
        error = info.error.upstream?.reason ?? info.error.message;
        if (last) Object.assign(last, { outcome: 'failure', reason: error });
        if (info.error.upstream !== undefined) {
          // Only an upstream failure counts (a relay bug is not the model's, issue 11.1).
          const status = info.error.upstream.status;
          afterFailure(policy, pool?.name ?? null, model, { status, reason: error }, this.#state);
          // The strategy hears of it too: stick-until-failure must not stay on a model that fails mid-stream.
          ctx.pool.strategy.observe?.(model, { ok: false, status, latencyMs: performance.now() - started, headers: null }, ctx);
        }
      }
      afterUsage(policy, pool?.name ?? null, model, tokensIn + tokensOut, cost, this.#state);
      req.onSettled?.({ usage, tokensIn, tokensOut, cost });
      if (!this.#events.active) return;
      const latency = performance.now() - started;
      this.#events.emit({
        type: 'request', at: this.#clock.now(), requestId: req.requestId, endpoint: req.endpoint, requested: req.model,
        pool: pool?.name ?? null, candidates, excluded, attempts, model: model.id, provider: model.config.provider,
        outcome, status: outcome === 'success' ? response.status : outcome === 'cancelled' ? 499 : 502, error, stream: req.needs.stream,
        latency_ms: latency, ttfb_ms: info.ttfbMs ?? latency, tokens_in: tokensIn, tokens_out: tokensOut, cost,
        client: req.client ?? null,
        ...(this.#events.wantsBodies ? bodies(req, info.body) : {}),
        ...(req.trace !== undefined ? { trace: req.trace } : {}),
      });
    };
    return {
      response,
      pool: pool?.name ?? null,
      model,
      native: isNative(req, model),
      headers: {
        'x-modelmesh-pool': pool?.name ?? '',
        'x-modelmesh-model': model.id,
        'x-modelmesh-provider': model.config.provider,
        'x-modelmesh-attempts': String(attempts.length),
      },
      finish,
    };
  }
}

function bodies(req: RouteRequest, body: Buffer | undefined): { request_body: Record<string, unknown>; response_body?: unknown } {
  if (body === undefined) return { request_body: req.body };
  const text = body.toString('utf8');
  try {
    return { request_body: req.body, response_body: JSON.parse(text) as unknown };
  } catch {
    return { request_body: req.body, response_body: text };
  }
}

/** Everything `committed` needs about the request and the attempt that won. */
interface Commit {
  req: RouteRequest;
  response: ProviderResponse;
  pool: PoolEntry | null;
  model: ModelEntry;
  policy: PoolConfig;
  attempts: AttemptRecord[];
  candidates: string[];
  excluded: string[];
  started: number;
  release: () => void;
  ctx: StrategyContext;
}

/** The pool's strategy order, or its fallback strategy's when the primary yields nothing. */
function orderCandidates(pool: PoolEntry, eligible: ModelEntry[], ctx: StrategyContext): ModelEntry[] {
  const order = pool.strategy.order(eligible, ctx);
  if (order.length > 0 || !pool.fallback) return order;
  return pool.fallback.order(eligible, ctx);
}
