// Strategy registry: config name → one instance per pool. Names are accepted with or without the
// `modelmesh.` prefix and `.v1` suffix (`round-robin` = `modelmesh.round-robin.v1`).
import type { PoolConfig } from '../../config/types.ts';
import { nearest } from '../../config/suggest.ts';
import { ConfigError } from '../../config/errors.ts';
import type { Strategy } from '../types.ts';
import { CostFirst } from './cost-first.ts';
import { LatencyFirst } from './latency-first.ts';
import { LoadBalanced } from './load-balanced.ts';
import { PrioritySelection } from './priority-selection.ts';
import { RateLimitAware } from './rate-limit-aware.ts';
import { RoundRobin } from './round-robin.ts';
import { SessionStickiness } from './session-stickiness.ts';
import type { SessionPinStore } from './session-pins.ts';
import { StickUntilFailure } from './stick-until-failure.ts';

/** What the composition root hands to strategies that keep state beyond one generation. */
export interface StrategyDeps {
  /** Session pins (modelmesh.session-stickiness.v1); absent: each strategy keeps its own in-process LRU. */
  readonly sessionPins?: SessionPinStore;
}

type StrategyFactory = (pool: PoolConfig, deps: StrategyDeps) => Strategy;

const FACTORIES = new Map<string, StrategyFactory>([
  ['modelmesh.stick-until-failure.v1', (pool) => new StickUntilFailure(pool)],
  ['modelmesh.priority-selection.v1', (pool) => new PrioritySelection(pool)],
  ['modelmesh.round-robin.v1', (pool) => new RoundRobin(pool)],
  ['modelmesh.cost-first.v1', (pool) => new CostFirst(pool)],
  ['modelmesh.latency-first.v1', (pool) => new LatencyFirst(pool)],
  ['modelmesh.session-stickiness.v1', (pool, deps) => new SessionStickiness(pool, deps.sessionPins)],
  ['modelmesh.rate-limit-aware.v1', (pool) => new RateLimitAware(pool)],
  ['modelmesh.load-balanced.v1', (pool) => new LoadBalanced(pool)],
]);

export function strategyNames(): string[] {
  return [...FACTORIES.keys()];
}

export function canonicalStrategyName(name: string): string {
  if (FACTORIES.has(name)) return name;
  return `modelmesh.${name.trim().replace(/^modelmesh\./, '').replace(/\.v1$/, '')}.v1`;
}

export function createStrategy(name: string, pool: PoolConfig, path: string, deps: StrategyDeps = {}): Strategy {
  const factory = FACTORIES.get(canonicalStrategyName(name));
  if (!factory) {
    const hint = nearest(canonicalStrategyName(name), FACTORIES.keys());
    const suggestion = hint === undefined ? ` (known: ${strategyNames().join(', ')})` : `, did you mean "${hint}"?`;
    throw new ConfigError(`${path}: unknown strategy "${name}"${suggestion}`, { path });
  }
  return factory(pool, deps);
}
