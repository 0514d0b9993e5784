// The base preference order every strategy starts from: `model_priority`, then `provider_priority`,
// then pool member order (config-attributes.md, pools: membership).
import type { PoolConfig } from '../../config/types.ts';
import type { ModelEntry } from '../types.ts';

export function priorityOrder(candidates: readonly ModelEntry[], pool: PoolConfig): ModelEntry[] {
  if (pool.model_priority.length === 0 && pool.provider_priority.length === 0) return [...candidates];
  const rank = (list: readonly string[], key: string): number => {
    const i = list.indexOf(key);
    return i === -1 ? list.length : i;
  };
  return candidates
    .map((model, index) => ({ model, index }))
    .sort((a, b) =>
      rank(pool.model_priority, a.model.id) - rank(pool.model_priority, b.model.id) ||
      rank(pool.provider_priority, a.model.config.provider) - rank(pool.provider_priority, b.model.config.provider) ||
      a.index - b.index)
    .map((x) => x.model);
}
