// Steps 1 and 2 of a route (DESIGN §4.1-§4.3): resolve the name the client sent to a pool or a model, then
// plan the attempts: which members are eligible for this request (and why the others are not) and in which
// order the pool's strategy wants them tried. Nothing here waits or changes state.
import type { PoolConfig } from '../../config/types.ts';
import type { MeshError } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { eligibleMembers } from '../eligibility.ts';
import type { AttemptRecord } from '../events.ts';
import { noCandidatesError } from '../failure.ts';
import { sharedLimitRefusal } from '../policy.ts';
import { CLIENT_ERROR_STATUSES } from '../retry.ts';
import type { Registry } from '../registry.ts';
import type { StateStore } from '../state.ts';
import type { ModelEntry, PoolEntry, StrategyContext } from '../types.ts';
import { isNative } from './attempt-call.ts';
import type { RouteRequest } from './request.ts';

/** Where a name leads: the pool asked for (null for a model id), the pool whose policy applies, its members. */
export interface Target {
  readonly pool: PoolEntry | null;
  /** The pool asked for, or the home pool of the model asked for: its retry, deactivation and quota rules apply. */
  readonly home: PoolEntry;
  readonly members: readonly ModelEntry[];
}

/** Everything known about a request before its first attempt; `attempts` is filled by the attempts step. */
export interface Plan {
  readonly req: RouteRequest;
  /** performance.now() at arrival: latency and time to first byte share this origin. */
  readonly started: number;
  readonly pool: PoolEntry | null;
  readonly poolName: string | null;
  readonly policy: PoolConfig;
  readonly members: readonly ModelEntry[];
  /** Why members were left out, for the request event and the no-candidates error. */
  readonly excluded: string[];
  /** The eligible members in the order to try them (empty when refused). */
  readonly order: readonly ModelEntry[];
  readonly candidates: string[];
  readonly ctx: StrategyContext;
  readonly attempts: AttemptRecord[];
  /** Why the request cannot be tried at all (shared limits unreadable, nothing eligible); null: go on. */
  readonly refusal: MeshError | null;
}

/** Step 1, resolve: the client's name to its pool (or model) and the policy that governs it. */
export function resolveTarget(registry: Registry, name: string): Target {
  const target = registry.resolve(name);
  if (target.kind === 'model') return { pool: null, home: registry.homePool(target.model), members: [target.model] };
  return { pool: target.pool, home: target.pool, members: target.pool.members };
}

/** Step 2, plan: eligibility, then the strategy's order (DESIGN §4.2, §6). */
export function planAttempts(req: RouteRequest, target: Target, state: StateStore, clock: Clock, started: number): Plan {
  const { pool, home, members } = target;
  const untranslatable = req.translated !== undefined && 'error' in req.translated ? req.translated.error : null;
  const nativeOnly = untranslatable === null ? undefined : (m: ModelEntry): string | null => (isNative(req, m) ? null : untranslatable.message);
  const { eligible, excluded, standby } = eligibleMembers(members, req.endpoint, req.needs, state, nativeOnly);
  const poolName = pool?.name ?? null;
  const policy = home.config;
  const ctx: StrategyContext = { pool: home, state, clock, sessionId: req.sessionId, requestId: req.requestId };
  // Refused before any attempt: shared limits that cannot be checked, or nothing eligible (then, when what the
  // client asked cannot be expressed in chat and no model speaks its protocol, the translation's own 400).
  const refusal = sharedLimitRefusal(policy, members, state)
    ?? (eligible.length === 0 ? (untranslatable ?? noCandidatesError(req.model, poolName, members, excluded, standby, state)) : null);
  const order = refusal !== null ? [] : pool ? orderCandidates(pool, eligible, ctx) : eligible;
  return { req, started, pool, poolName, policy, members, excluded, order, candidates: order.map((m) => m.id), ctx, attempts: [], refusal };
}

/**
 * Whether the pool's strategy hears how an attempt went (`status` of the answer or failure). Not for a model
 * asked for by name: the pool did not choose it (its order would follow one client's direct request). Not for
 * a client error: a bad request says nothing about the model (stick-until-failure would drop its pick).
 */
export function strategyHears(plan: Plan, status: number): boolean {
  return plan.pool !== null && !CLIENT_ERROR_STATUSES.has(status);
}

/** The pool's strategy order, or its fallback strategy's when the primary yields nothing. */
function orderCandidates(pool: PoolEntry, eligible: ModelEntry[], ctx: StrategyContext): ModelEntry[] {
  const order = pool.strategy.order(eligible, ctx);
  if (order.length > 0 || !pool.fallback) return order;
  return pool.fallback.order(eligible, ctx);
}
