// Strategy registry: config name → one instance per pool. Names are accepted with or without the
// `modelmesh.` prefix and `.v1` suffix (`round-robin` = `modelmesh.round-robin.v1`).
import type { PoolConfig } from '../../config/types.ts';
import { nearest } from '../../config/suggest.ts';
import { MeshError } from '../../errors.ts';
import type { Strategy } from '../types.ts';
import { StickUntilFailure } from './stick-until-failure.ts';

type StrategyFactory = (pool: PoolConfig) => Strategy;

const FACTORIES = new Map<string, StrategyFactory>([
  ['modelmesh.stick-until-failure.v1', (pool) => new StickUntilFailure(pool)],
]);

export function strategyNames(): string[] {
  return [...FACTORIES.keys()];
}

export function canonicalStrategyName(name: string): string {
  if (FACTORIES.has(name)) return name;
  return `modelmesh.${name.replace(/^modelmesh\./, '').replace(/\.v1$/, '')}.v1`;
}

export function createStrategy(name: string, pool: PoolConfig, path: string): Strategy {
  const factory = FACTORIES.get(canonicalStrategyName(name));
  if (!factory) {
    const hint = nearest(name, FACTORIES.keys());
    const suggestion = hint === undefined ? ` (known: ${strategyNames().join(', ')})` : `, did you mean "${hint}"?`;
    throw new MeshError('config_invalid', `${path}: unknown strategy "${name}"${suggestion}`, { path });
  }
  return factory(pool);
}
