// The admin view of the mesh (DESIGN §2.1 `/mesh/...`, §6): status of pools, models and providers, and
// the manual activate / deactivate actions. Plain data out; the HTTP side is proxy/endpoints/admin.ts.
// Never reads credentials: provider api_key and header values are not part of any view (and the endpoint
// also runs the JSON text through mesh.redact()).
import { MeshError } from '../errors.ts';
import type { MeshRuntime } from './runtime.ts';
import { quotaWindow, rollModelWindow, rollProviderSpend } from './quota.ts';
import type { Hold as StoreHold, ModelView, ProviderView, StandbyCause } from './state.ts';
import type { ModelEntry } from './types.ts';

export interface Hold {
  status: 'active' | 'standby';
  reason: string | null;
  cause: StandbyCause | null;
  manual: boolean;
  since: string;
  /** When it is tried again; null when active or waiting for a probe, quota reset or operator. */
  until: string | null;
}

export interface ModelStatus extends Hold {
  id: string;
  provider: string;
  upstream_name: string;
  pools: string[];
  /** Active and its provider active too: requests may go to it now. */
  available: boolean;
  consecutive_failures: number;
  /** Failure ratio over the recent-outcome window; null before the first request. */
  error_rate: number | null;
  window: { kind: 'daily' | 'monthly'; start: string; requests: number; tokens: number; cost: number };
  latency_ewma_ms: number | null;
  requests_last_minute: number;
  rate_limit: {
    limit_requests: number | null; remaining_requests: number | null; reset_requests_at: string | null;
    limit_tokens: number | null; remaining_tokens: number | null; reset_tokens_at: string | null; observed_at: string;
  } | null;
  pricing: { input_per_1m: number; output_per_1m: number };
}

export interface ProviderStatus extends Partial<Hold> {
  id: string;
  connector: string;
  enabled: boolean;
  /** Why a provider was skipped at load (missing secret): its name, never its value. */
  skipped: string | null;
  simulated: boolean;
  /** Scheme, host and path only: userinfo and query strings can carry keys. */
  base_url: string | null;
  models: string[];
  spend: { day: string; daily: number; daily_limit: number | null; month: string; monthly: number; monthly_limit: number | null } | null;
}

export interface PoolStatus {
  name: string;
  capability: string | null;
  aliases: string[];
  strategy: string;
  fallback_strategy: string | null;
  members: string[];
  available: number;
  standby: number;
}

export interface MeshStatus {
  object: 'mesh.status';
  time: string;
  pools: PoolStatus[];
  models: ModelStatus[];
  providers: ProviderStatus[];
}

/** An operator's standby: nothing but an activation ends it. */
const MANUAL_HOLD: StoreHold = { reason: 'manual', until: null, cause: 'manual', pool: null, manual: true };

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function hold(s: ModelView | ProviderView): Hold {
  return {
    status: s.status, reason: s.reason, cause: s.status === 'standby' ? (s.cause ?? (s.manual ? 'manual' : 'failure')) : null,
    manual: s.manual, since: new Date(s.since).toISOString(), until: iso(s.until),
  };
}

function safeUrl(url: string | null): string | null {
  if (url === null) return null;
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return null;
  }
}

function modelStatus(mesh: MeshRuntime, model: ModelEntry): ModelStatus {
  const state = mesh.state;
  const registry = mesh.registry;
  const available = state.isModelActive(model.id, model.config.provider); // ends an expired hold first
  const kind = quotaWindow(registry.homePool(model).config);
  rollModelWindow(state, model.id, kind);
  const s = state.model(model.id);
  const totals = state.windowTotals(model.id);
  let failures = 0;
  for (const outcome of s.recent) failures += outcome;
  const r = s.rate;
  return {
    id: model.id,
    provider: model.config.provider,
    upstream_name: model.config.name,
    pools: [...registry.pools.values()].filter((p) => p.members.includes(model)).map((p) => p.name),
    ...hold(s),
    available,
    consecutive_failures: s.consecutive_failures,
    error_rate: s.recent.length === 0 ? null : failures / s.recent.length,
    window: { kind, start: new Date(s.window_start).toISOString(), requests: totals.requests, tokens: totals.tokens, cost: totals.cost },
    latency_ewma_ms: s.latency_ewma === null ? null : Math.round(s.latency_ewma * 10) / 10,
    requests_last_minute: state.requestsLastMinute(model.id),
    rate_limit: r === null ? null : {
      limit_requests: r.limit_requests, remaining_requests: r.remaining_requests, reset_requests_at: iso(r.reset_requests_at),
      limit_tokens: r.limit_tokens, remaining_tokens: r.remaining_tokens, reset_tokens_at: iso(r.reset_tokens_at),
      observed_at: new Date(r.observed_at).toISOString(),
    },
    pricing: { ...model.config.pricing },
  };
}

function providerStatus(mesh: MeshRuntime, id: string): ProviderStatus {
  const config = mesh.config.providers.get(id);
  const provider = mesh.registry.providers.get(id);
  const models = [...mesh.registry.models.values()].filter((m) => m.config.provider === id).map((m) => m.id);
  const base = {
    id, connector: config?.connector ?? provider?.config.connector ?? id, enabled: provider !== undefined,
    skipped: config?.skipped ?? null, simulated: provider?.simulated ?? false,
    base_url: safeUrl(provider?.config.base_url ?? config?.base_url ?? null), models,
  };
  if (provider === undefined) return { ...base, spend: null };
  rollProviderSpend(mesh.state, id);
  const p = mesh.state.provider(id);
  const spend = mesh.state.spendTotals(id);
  const budget = provider.config.budget;
  return {
    ...base,
    ...hold(p),
    spend: { day: p.day, daily: spend.daily, daily_limit: budget.daily_limit, month: p.month, monthly: spend.monthly, monthly_limit: budget.monthly_limit },
  };
}

/** GET /mesh/status: every pool with members (or named in the config), model and provider. */
export function meshStatus(mesh: MeshRuntime): MeshStatus {
  const registry = mesh.registry;
  const models = [...registry.models.values()].map((m) => modelStatus(mesh, m));
  const byId = new Map(models.map((m) => [m.id, m]));
  const pools: PoolStatus[] = [];
  for (const pool of registry.pools.values()) {
    if (pool.members.length === 0 && !registry.configuredPools.has(pool.name)) continue;
    const available = pool.members.filter((m) => byId.get(m.id)?.available === true).length;
    pools.push({
      name: pool.name, capability: pool.capability, aliases: [...pool.config.aliases], strategy: pool.strategy.id,
      fallback_strategy: pool.fallback?.id ?? null, members: pool.members.map((m) => m.id), available, standby: pool.members.length - available,
    });
  }
  const providerIds = new Set([...mesh.config.providers.keys(), ...registry.providers.keys()]);
  return {
    object: 'mesh.status',
    time: new Date(mesh.clock.now()).toISOString(),
    pools,
    models,
    providers: [...providerIds].map((id) => providerStatus(mesh, id)),
  };
}

/** GET /mesh/models/{id} */
export function oneModel(mesh: MeshRuntime, id: string): ModelStatus {
  return modelStatus(mesh, findModel(mesh, id));
}

/** GET /mesh/providers/{id} */
export function oneProvider(mesh: MeshRuntime, id: string): ProviderStatus {
  if (!mesh.config.providers.has(id)) findProvider(mesh, id);
  return providerStatus(mesh, id);
}

function findModel(mesh: MeshRuntime, id: string): ModelEntry {
  const model = mesh.registry.models.get(id);
  if (model === undefined) {
    throw new MeshError('model_not_found', `The model \`${id}\` does not exist. See GET /mesh/status for the configured models.`, {
      param: 'id', headers: { 'x-should-retry': 'false' },
    });
  }
  return model;
}

function findProvider(mesh: MeshRuntime, id: string): void {
  if (!mesh.registry.providers.has(id)) {
    throw new MeshError('not_found', `The provider \`${id}\` is not configured or not enabled. See GET /mesh/status.`, {
      param: 'id', headers: { 'x-should-retry': 'false' },
    });
  }
}

/**
 * Manual standby / activation of a model. Deactivate: standby with reason `manual`, until null; nothing
 * but an activation ends it. Activate ends any hold; a model held by its quota also gets fresh quota
 * counters (the operator grants a new window; otherwise the next request would end it again at once).
 */
export function setModel(mesh: MeshRuntime, id: string, action: 'activate' | 'deactivate'): ModelStatus {
  const model = findModel(mesh, id);
  const state = mesh.state;
  const s = state.model(id);
  if (action === 'deactivate') {
    if (!(s.status === 'standby' && s.manual)) state.holdModel(id, model.config.provider, MANUAL_HOLD);
  } else if (s.status === 'standby') {
    if (s.cause === 'quota') state.resetWindow(id, quotaWindow(mesh.registry.homePool(model).config));
    state.releaseModel(id, model.config.provider, 'manual');
  }
  return modelStatus(mesh, model);
}

/** Manual standby / activation of a provider (every model of it, in every pool). */
export function setProvider(mesh: MeshRuntime, id: string, action: 'activate' | 'deactivate'): ProviderStatus {
  findProvider(mesh, id);
  const state = mesh.state;
  const p = state.provider(id);
  if (action === 'deactivate') {
    if (!(p.status === 'standby' && p.manual)) state.holdProvider(id, MANUAL_HOLD);
  } else {
    state.releaseProvider(id, 'manual');
  }
  return providerStatus(mesh, id);
}
