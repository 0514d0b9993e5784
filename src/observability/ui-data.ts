// The JSON behind the status page (issue 17), built from plain inputs so the endpoint is a thin wrapper:
//   GET /mesh/ui/data → uiData({ status: meshStatus(mesh), series: timeseries.all(), bucketMs, decisions: log.list(), clients })
// The status input is structural: MeshStatus (mesh/admin.ts) fits it as it is. Nothing here reads a secret;
// the endpoint still runs the JSON through mesh.redact() like every admin answer.
import type { Decision, SeriesBucket } from './timeseries.ts';

export interface UiModelInput {
  id: string;
  provider: string;
  status: 'active' | 'standby';
  reason: string | null;
  until: string | null;
  available: boolean;
  manual: boolean;
}

export interface UiProviderInput {
  id: string;
  connector: string;
  enabled: boolean;
  status?: 'active' | 'standby';
  reason?: string | null;
  until?: string | null;
  spend: { daily: number; daily_limit: number | null; monthly: number; monthly_limit: number | null } | null;
}

export interface UiPoolInput {
  name: string;
  strategy: string;
  members: string[];
  available: number;
  standby: number;
}

export interface UiStatusInput {
  time: string;
  pools: readonly UiPoolInput[];
  models: readonly UiModelInput[];
  providers: readonly UiProviderInput[];
}

/** One client (application) with its limits and what it used in the current windows; keys pair up by name. */
export interface UiClientInput {
  name: string;
  /** e.g. {rpm: 60, tpm: 100000, budget_daily: 5}; null: no limit. Keys with `budget` are USD. */
  limits: Readonly<Record<string, number | null>>;
  /** The same keys: {rpm: 12, tpm: 3400, budget_daily: 0.42}. */
  usage: Readonly<Record<string, number>>;
  /** Since start (or the last restore): requests routed, of them failed, and requests refused by a limit. */
  requests?: number;
  errors?: number;
  rejected?: number;
}

/**
 * What the page needs of GET /mesh/clients (clients/status.ts ClientStatus fits it as it is; kept
 * structural so this module does not depend on the clients layer).
 */
export interface UiClientStatusInput {
  name: string;
  limits: { rpm: number | null; tpm: number | null; max_concurrent: number | null; budget: { daily: number | null; monthly: number | null } };
  usage: { minute: { requests: number; tokens: number }; day: { spend: number }; month: { spend: number }; concurrent: number };
}

/** Failed requests of a client (observability ClientStats), undefined when it made none. */
/**
 * A client's requests, failures and refusals since this process started (ClientStats, as /metrics counts
 * them): one source for the three, so "failed" is never a share of a total that survived a restart.
 */
export type ClientTotals = (name: string) => { requests: number; failed: number; refused: number } | undefined;

/**
 * One row per configured client: requests and tokens this minute against rpm and tpm, requests in flight
 * against max_concurrent, spend today and this month against the budgets, and the totals.
 */
export function uiClients(statuses: readonly UiClientStatusInput[], totalsOf: ClientTotals = () => undefined): UiClientInput[] {
  return statuses.map((c) => {
    const totals = totalsOf(c.name);
    return {
      name: c.name,
      limits: { rpm: c.limits.rpm, tpm: c.limits.tpm, concurrent: c.limits.max_concurrent, budget_daily: c.limits.budget.daily, budget_monthly: c.limits.budget.monthly },
      usage: {
        rpm: c.usage.minute.requests, tpm: c.usage.minute.tokens, concurrent: c.usage.concurrent,
        budget_daily: round(c.usage.day.spend), budget_monthly: round(c.usage.month.spend),
      },
      requests: totals?.requests ?? 0,
      errors: totals?.failed ?? 0,
      rejected: totals?.refused ?? 0,
    };
  });
}

export interface UiInputs {
  status: UiStatusInput;
  series: Readonly<Record<string, readonly SeriesBucket[]>>;
  /** Bucket width of the series, ms. */
  bucketMs: number;
  decisions: readonly Decision[];
  clients?: readonly UiClientInput[];
}

export interface UiMember {
  id: string;
  provider: string;
  status: 'active' | 'standby';
  /** Active, and its provider active too. */
  available: boolean;
  manual: boolean;
  reason: string | null;
  until: string | null;
}

export interface UiData {
  object: 'mesh.ui';
  time: string;
  pools: { name: string; strategy: string; available: number; standby: number; members: UiMember[] }[];
  providers: {
    id: string; connector: string; enabled: boolean; status: 'active' | 'standby' | 'disabled'; reason: string | null; until: string | null;
    budget: { daily_limit: number | null; spend_daily: number; monthly_limit: number | null; spend_monthly: number } | null;
  }[];
  clients: { name: string; limits: Record<string, number | null>; usage: Record<string, number>; requests: number; errors: number; rejected: number }[];
  series: Record<string, { bucket_ms: number; buckets: SeriesBucket[] }>;
  decisions: Decision[];
}

export function uiData(input: UiInputs): UiData {
  const models = new Map(input.status.models.map((m) => [m.id, m]));
  const pools = input.status.pools.map((p) => ({
    name: p.name, strategy: p.strategy, available: p.available, standby: p.standby,
    members: p.members.map((id): UiMember => {
      const m = models.get(id);
      return m === undefined
        ? { id, provider: '', status: 'standby', available: false, manual: false, reason: 'not loaded', until: null }
        : { id, provider: m.provider, status: m.status, available: m.available, manual: m.manual, reason: m.reason, until: m.until };
    }),
  }));
  const providers = input.status.providers.map((p) => ({
    id: p.id, connector: p.connector, enabled: p.enabled,
    status: p.enabled ? (p.status ?? 'active') : ('disabled' as const),
    reason: p.reason ?? null, until: p.until ?? null,
    budget: p.spend === null ? null : {
      daily_limit: p.spend.daily_limit, spend_daily: round(p.spend.daily), monthly_limit: p.spend.monthly_limit, spend_monthly: round(p.spend.monthly),
    },
  }));
  const series: UiData['series'] = {};
  for (const [pool, buckets] of Object.entries(input.series)) series[pool] = { bucket_ms: input.bucketMs, buckets: [...buckets] };
  return {
    object: 'mesh.ui',
    time: input.status.time,
    pools,
    providers,
    clients: (input.clients ?? []).map((c) => ({
      name: c.name, limits: { ...c.limits }, usage: { ...c.usage }, requests: c.requests ?? 0, errors: c.errors ?? 0, rejected: c.rejected ?? 0,
    })),
    series,
    decisions: [...input.decisions],
  };
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
