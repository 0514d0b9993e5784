// The runtime view of a validated config: capability tree, provider connectors, models with resolved
// capabilities, pools with their members and strategies, and the table of names clients may send.
// Built once per config load (and per SIGHUP reload); nothing on the request path re-reads raw config.
import type { MeshConfig, PoolConfig } from '../config/types.ts';
import { nearest } from '../config/suggest.ts';
import { defaultPoolConfig } from '../config/schema/pools.ts';
import { MeshError } from '../errors.ts';
import { ConfigError } from '../config/errors.ts';
import type { Provider } from '../providers/provider.ts';
import { createProvider } from '../providers/registry.ts';
import { CapabilityTree, PREDEFINED_POOLS } from './capabilities.ts';
import { createStrategy, type StrategyDeps } from './strategies/index.ts';
import type { ModelEntry, PoolEntry } from './types.ts';
import { clipEcho } from '../lib/clip.ts';

export type NameTarget = { kind: 'pool' | 'alias'; pool: PoolEntry } | { kind: 'model'; model: ModelEntry };

export class Registry {
  readonly tree: CapabilityTree;
  readonly providers = new Map<string, Provider>();
  readonly models = new Map<string, ModelEntry>();
  readonly pools = new Map<string, PoolEntry>();
  /** Every name a client may send: pool names, aliases, model ids, unique upstream names. */
  readonly names = new Map<string, NameTarget>();
  readonly #homes = new Map<string, PoolEntry>();
  /** Pools the config file names (listed even when empty). */
  readonly configuredPools: ReadonlySet<string>;
  /** Handed to every strategy (session pins kept by the composition root, across generations). */
  readonly #deps: StrategyDeps;

  constructor(config: MeshConfig, deps: StrategyDeps = {}) {
    this.#deps = deps;
    const problems: string[] = [];
    const attempt = (fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        if (err instanceof ConfigError) problems.push(err.message);
        else throw err;
      }
    };
    this.tree = new CapabilityTree(config.capabilities);
    this.configuredPools = new Set(config.pools.keys());

    for (const provider of config.providers.values()) {
      if (provider.enabled) attempt(() => this.providers.set(provider.id, createProvider(provider)));
    }
    for (const model of config.models.values()) {
      attempt(() => {
        const capabilities = model.capabilities.map((c, i) => this.tree.resolve(c, `models.${model.id}.capabilities[${i}]`));
        const provider = this.providers.get(model.provider);
        if (provider) this.models.set(model.id, { id: model.id, config: model, capabilities, provider });
      });
    }
    const poolConfigs = new Map<string, PoolConfig>();
    for (const [name, node] of Object.entries(PREDEFINED_POOLS)) poolConfigs.set(name, defaultPool(name, node, config));
    for (const pool of config.pools.values()) poolConfigs.set(pool.name, pool);
    for (const pool of poolConfigs.values()) attempt(() => this.#addPool(pool));
    for (const pool of config.pools.values()) {
      pool.aliases.forEach((alias, i) => {
        if (Object.hasOwn(PREDEFINED_POOLS, alias)) problems.push(`pools.${pool.name}.aliases[${i}]: alias "${alias}" is already the name of the predefined pool ${alias}`);
      });
    }

    if (problems.length > 0) {
      this.close();
      throw new ConfigError(problems.join('\n'));
    }
    this.#indexNames();
  }

  #addPool(pool: PoolConfig): void {
    const path = `pools.${pool.name}`;
    let capability: string | null = null;
    if (pool.capability !== null) capability = this.tree.resolve(pool.capability, `${path}.capability`);
    else if (this.tree.has(pool.name) || Object.hasOwn(PREDEFINED_POOLS, pool.name)) {
      // Own keys only: a pool named `toString` is not Object.prototype's.
      capability = (Object.hasOwn(PREDEFINED_POOLS, pool.name) ? PREDEFINED_POOLS[pool.name] : undefined) ?? pool.name;
    }
    const members: ModelEntry[] = [];
    const seen = new Set<string>();
    const admit = (entry: ModelEntry): void => {
      if (seen.has(entry.id)) return;
      if (pool.providers !== null && !pool.providers.includes(entry.config.provider)) return;
      if (pool.excluded_providers.includes(entry.config.provider)) return;
      seen.add(entry.id);
      members.push(entry);
    };
    for (const id of pool.models) {
      const entry = this.models.get(id);
      if (entry) admit(entry); // a model of a skipped provider is simply absent (warned at load)
    }
    if (capability !== null) {
      for (const entry of this.models.values()) {
        if (entry.capabilities.some((c) => CapabilityTree.within(c, capability))) admit(entry);
      }
    }
    const strategy = createStrategy(pool.strategy, pool, `${path}.strategy`, this.#deps);
    const fallback = pool.fallback_strategy === null ? null : createStrategy(pool.fallback_strategy, pool, `${path}.fallback_strategy`, this.#deps);
    this.pools.set(pool.name, { name: pool.name, config: pool, capability, members, strategy, fallback });
  }

  #indexNames(): void {
    // Precedence: pool names, then aliases, then model ids, then upstream names that are unique.
    for (const pool of this.pools.values()) this.names.set(pool.name, { kind: 'pool', pool });
    for (const pool of this.pools.values()) {
      for (const alias of pool.config.aliases) if (!this.names.has(alias)) this.names.set(alias, { kind: 'alias', pool });
    }
    const upstream = new Map<string, ModelEntry | null>();
    for (const model of this.models.values()) {
      if (!this.names.has(model.id)) this.names.set(model.id, { kind: 'model', model });
      const name = model.config.name;
      upstream.set(name, upstream.has(name) ? null : model);
    }
    for (const [name, model] of upstream) if (model && !this.names.has(name)) this.names.set(name, { kind: 'model', model });
  }

  /** Resolve a client-sent model name; unknown → 404 model_not_found listing what exists (DESIGN §4.1). */
  resolve(name: string): NameTarget {
    const target = this.names.get(name);
    if (target) return target;
    const pools = [...this.pools.values()].filter((p) => p.members.length > 0).map((p) => p.name);
    const hint = nearest(name, this.names.keys());
    const suggestion = hint === undefined ? '' : ` Did you mean \`${hint}\`?`;
    const shown = clipEcho(name);
    throw new MeshError(
      'model_not_found',
      `The model \`${shown}\` does not exist.${suggestion} Available pools: ${pools.join(', ') || '(none)'}; see GET /v1/models.`,
      { param: 'model' },
    );
  }

  /** The pool whose policies apply when a client names a model directly: the first configured pool holding it. */
  homePool(model: ModelEntry): PoolEntry {
    let home = this.#homes.get(model.id);
    if (!home) {
      // Pools the operator configured win over the predefined ones: their policies were meant for it.
      const holding = [...this.pools.values()].filter((p) => p.members.includes(model));
      home = holding.find((p) => this.configuredPools.has(p.name)) ?? holding[0] ?? this.#directPool(model);
      this.#homes.set(model.id, home);
    }
    return home;
  }

  #directPool(model: ModelEntry): PoolEntry {
    const config = defaultPoolConfig(model.id, null);
    return { name: model.id, config, capability: null, members: [model], strategy: createStrategy(config.strategy, config, 'strategy', this.#deps), fallback: null };
  }

  close(): void {
    for (const provider of this.providers.values()) provider.close();
  }
}

/** A pool the file does not mention (predefined pools, direct model requests): every policy at its default. */
function defaultPool(name: string, node: string | null, config: MeshConfig): PoolConfig {
  return config.pools.get(name) ?? defaultPoolConfig(name, node);
}
