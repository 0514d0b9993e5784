// The /v1/models view (openai-wire §7): OpenAI `Model` objects (id, object, created, owned_by) plus a
// `modelmesh` extension with the pool's members and their state. The SDKs read only `data[].id`.
import type { Registry } from './registry.ts';
import type { StateStore } from './state.ts';
import type { ModelEntry, PoolEntry } from './types.ts';

export interface MemberCard {
  id: string;
  provider: string;
  connector: string;
  upstream_name: string;
  capabilities: readonly string[];
  status: 'active' | 'standby';
  reason: string | null;
  /** ISO time a standby model is tried again; null when active or until probe/manual. */
  until: string | null;
  simulated: boolean;
}

export interface ModelCard {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  modelmesh: {
    kind: 'pool' | 'alias' | 'model';
    pool: string | null;
    capability: string | null;
    strategy: string | null;
    aliases: string[];
    simulated: boolean;
    members: MemberCard[];
  };
}

export function describeModels(registry: Registry, state: StateStore, created: number): ModelCard[] {
  const cards: ModelCard[] = [];
  for (const pool of registry.pools.values()) {
    // Predefined pools with no member would only mislead a client picking from the list.
    if (pool.members.length === 0 && !registry.configuredPools.has(pool.name)) continue;
    const members = pool.members.map((m) => member(m, state));
    cards.push(card(pool.name, 'pool', pool, members, created));
    for (const alias of pool.config.aliases) cards.push(card(alias, 'alias', pool, members, created));
  }
  for (const model of registry.models.values()) {
    cards.push({
      id: model.id, object: 'model', created, owned_by: model.config.provider,
      modelmesh: {
        kind: 'model', pool: null, capability: model.capabilities[0] ?? null, strategy: null, aliases: [],
        simulated: model.provider.simulated, members: [member(model, state)],
      },
    });
  }
  return cards;
}

function card(id: string, kind: 'pool' | 'alias', pool: PoolEntry, members: MemberCard[], created: number): ModelCard {
  return {
    id, object: 'model', created, owned_by: 'modelmesh',
    modelmesh: {
      kind, pool: pool.name, capability: pool.capability, strategy: pool.config.strategy, aliases: pool.config.aliases,
      simulated: members.length > 0 && members.every((m) => m.simulated), members,
    },
  };
}

function member(model: ModelEntry, state: StateStore): MemberCard {
  const provider = model.config.provider;
  const active = state.isModelActive(model.id, provider);
  const ms = state.model(model.id);
  const ps = state.provider(provider);
  const standby = !active ? (ps.status === 'standby' ? ps : ms) : null;
  return {
    id: model.id,
    provider,
    connector: model.provider.config.connector,
    upstream_name: model.config.name,
    capabilities: model.capabilities,
    status: active ? 'active' : 'standby',
    reason: standby ? (ps.status === 'standby' ? `provider: ${ps.reason ?? 'standby'}` : standby.reason) : null,
    until: standby?.until ? new Date(standby.until).toISOString() : null,
    simulated: model.provider.simulated,
  };
}
