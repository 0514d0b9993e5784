// GET /metrics: the statistics in the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format):
//   - each family is introduced by `# HELP name text` and `# TYPE name counter|gauge|histogram`, and all its
//     samples follow together;
//   - counters end in `_total` (https://prometheus.io/docs/practices/naming/), base units (seconds);
//   - a histogram `x` has `x_bucket{le="…"}` samples, cumulative, ending with `le="+Inf"` (= `x_count`),
//     then `x_sum` and `x_count`;
//   - label values escape `\` as `\\`, `"` as `\"` and a newline as `\n`; HELP text escapes `\` and newline.
// Series are bounded by the configured pools, models and providers (never by client input).
import type { MeshRuntime } from '../mesh/runtime.ts';
import { CLIENT_REJECTIONS, type ClientCounts, type ClientStats } from './client-stats.ts';
import { PROM_BOUNDS } from './histogram.ts';
import type { HttpResponseCounts } from './http-responses.ts';
import type { StreamName } from './records.ts';
import type { EntityStats, Stats } from './stats.ts';
import type { TracingCounters } from './tracing/export.ts';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = Readonly<Record<string, string>>;

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Go's ParseFloat spellings: `+Inf`, `-Inf`, `NaN`; otherwise JS number text (`1e-7` parses too). */
export function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

class Exposition {
  readonly #lines: string[] = [];

  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void {
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
  }

  sample(name: string, labels: Labels, value: number): void {
    this.#lines.push(`${name}${labelText(labels)} ${formatValue(value)}`);
  }

  text(): string {
    return `${this.#lines.join('\n')}\n`;
  }
}

export interface MetricsInput {
  mesh: MeshRuntime;
  /** Absent when the observability service is not attached: the gauges from state are still exposed. */
  stats: Stats | undefined;
  dropped: Readonly<Record<StreamName, number>> | undefined;
  /** Answered HTTP requests by route and status class (absent: none counted). */
  httpResponses?: HttpResponseCounts;
  /** The OTLP trace export's counters (absent: zeros). */
  tracing?: TracingCounters;
  /** Per-client counts (absent: no client families). */
  clients?: ClientStats;
}

export function renderMetrics({ mesh, stats, dropped, httpResponses, tracing, clients }: MetricsInput): string {
  const out = new Exposition();
  const registry = mesh.registry;
  const now = mesh.clock.now();
  stats?.refresh();

  out.family('modelmesh_uptime_seconds', 'gauge', 'Seconds since the statistics began (process start).');
  out.sample('modelmesh_uptime_seconds', {}, stats ? (now - stats.startedAt) / 1000 : process.uptime());

  // State gauges: every configured model and provider, whether or not it has seen traffic.
  out.family('modelmesh_model_up', 'gauge', 'Whether the model is active (1) or in standby (0).');
  for (const model of registry.models.values()) {
    const up = mesh.state.isModelActive(model.id, model.config.provider);
    out.sample('modelmesh_model_up', { model: model.id, provider: model.config.provider }, up ? 1 : 0);
  }
  out.family('modelmesh_provider_up', 'gauge', 'Whether the provider is active (1) or in standby (0).');
  for (const id of registry.providers.keys()) {
    const p = mesh.state.provider(id);
    const up = p.status === 'active' || (p.until !== null && now >= p.until);
    out.sample('modelmesh_provider_up', { provider: id }, up ? 1 : 0);
  }

  if (mesh.sharedState) {
    out.family('modelmesh_shared_state_up', 'gauge', 'Whether the shared state store (Redis) is reachable (1) or not (0).');
    out.sample('modelmesh_shared_state_up', {}, mesh.sharedState.up ? 1 : 0);
  }

  if (stats !== undefined) {
    requestFamilies(out, stats);
    modelFamilies(out, mesh, stats, now);
    out.family('modelmesh_rotations_total', 'counter', 'Rotations to the next model of a pool after a failure.');
    for (const [pool, s] of stats.pools) out.sample('modelmesh_rotations_total', { pool }, s.rotation_events);
  }

  if (clients !== undefined) clientFamilies(out, mesh, clients);

  out.family('modelmesh_http_responses_total', 'counter', 'Answered HTTP requests by route pattern ("unmatched": no route) and status class.');
  for (const e of httpResponses?.entries() ?? []) out.sample('modelmesh_http_responses_total', { route: e.route, class: e.class }, e.count);

  out.family('modelmesh_observability_dropped_total', 'counter', 'Observability records not delivered (sink down, slow or full).');
  for (const stream of ['routing', 'logging', 'statistics'] as const) {
    out.sample('modelmesh_observability_dropped_total', { stream }, dropped?.[stream] ?? 0);
  }
  tracingFamilies(out, tracing);
  return out.text();
}

/** observability.tracing: spans accepted by the collector, dropped (full queue, shutdown), failed (POST failed). */
function tracingFamilies(out: Exposition, tracing: TracingCounters | undefined): void {
  const families = [
    ['modelmesh_tracing_spans_exported_total', 'Spans the OTLP collector accepted.', tracing?.exported ?? 0],
    ['modelmesh_tracing_spans_dropped_total', 'Spans dropped before export (queue full, or still queued at shutdown).', tracing?.dropped ?? 0],
    ['modelmesh_tracing_spans_failed_total', 'Spans in OTLP export requests that failed (collector down, timeout, non-2xx).', tracing?.failed ?? 0],
  ] as const;
  for (const [name, help, value] of families) {
    out.family(name, 'counter', help);
    out.sample(name, {}, value);
  }
}

function requestFamilies(out: Exposition, stats: Stats): void {
  out.family('modelmesh_requests_total', 'counter', 'Client requests by pool, the model and provider that answered, and outcome.');
  for (const r of stats.routes.values()) {
    for (const outcome of ['success', 'failure', 'cancelled'] as const) {
      if (r.outcomes[outcome] === 0 && outcome !== 'success') continue;
      out.sample('modelmesh_requests_total', { pool: r.pool, model: r.model, provider: r.provider, outcome }, r.outcomes[outcome]);
    }
  }
  const name = 'modelmesh_request_duration_seconds';
  out.family(name, 'histogram', 'Client request duration, failover included.');
  for (const r of stats.routes.values()) {
    const labels = { pool: r.pool, model: r.model, provider: r.provider };
    const cumulative = r.duration.cumulative();
    PROM_BOUNDS.forEach((bound, i) => out.sample(`${name}_bucket`, { ...labels, le: formatValue(bound) }, cumulative[i] ?? 0));
    out.sample(`${name}_bucket`, { ...labels, le: '+Inf' }, r.duration.count);
    out.sample(`${name}_sum`, labels, r.duration.sum);
    out.sample(`${name}_count`, labels, r.duration.count);
  }
}

/** Per-client counters: every configured client (zeros before traffic), plus any with history from before a reload. */
function clientFamilies(out: Exposition, mesh: MeshRuntime, clients: ClientStats): void {
  const rows = new Map<string, ClientCounts | undefined>();
  for (const name of mesh.config.clients.keys()) rows.set(name, clients.get(name));
  for (const [name, counts] of clients.entries()) rows.set(name, counts);
  if (rows.size === 0) return;
  const served = [...rows].filter(([name]) => name !== '');
  out.family('modelmesh_client_requests_total', 'counter', 'Routed requests of a configured client (clients:), by outcome.');
  for (const [client, c] of served) {
    for (const outcome of ['success', 'failure', 'cancelled'] as const) out.sample('modelmesh_client_requests_total', { client, outcome }, c?.requests[outcome] ?? 0);
  }
  out.family('modelmesh_client_tokens_total', 'counter', 'Tokens of a client\'s answered requests, by direction (input: prompt, output: completion).');
  for (const [client, c] of served) {
    out.sample('modelmesh_client_tokens_total', { client, direction: 'input' }, c?.tokens_in ?? 0);
    out.sample('modelmesh_client_tokens_total', { client, direction: 'output' }, c?.tokens_out ?? 0);
  }
  out.family('modelmesh_client_cost_usd_total', 'counter', 'Cost in USD of a client\'s answered requests (configured pricing).');
  for (const [client, c] of served) out.sample('modelmesh_client_cost_usd_total', { client }, c?.cost ?? 0);
  out.family('modelmesh_client_rejections_total', 'counter', 'Requests refused before routing, by client ("" for a key nobody has) and reason.');
  for (const [client, c] of rows) {
    for (const reason of CLIENT_REJECTIONS) {
      const n = c?.rejections[reason] ?? 0;
      if (n > 0 || (client !== '' && reason !== 'unknown_key')) out.sample('modelmesh_client_rejections_total', { client, reason }, n);
    }
  }
}

/** Per-model counters, for every configured model plus any with history from before a reload. */
function modelFamilies(out: Exposition, mesh: MeshRuntime, stats: Stats, now: number): void {
  const rows: { model: string; provider: string; s: EntityStats | undefined }[] = [];
  for (const model of mesh.registry.models.values()) rows.push({ model: model.id, provider: model.config.provider, s: stats.models.get(model.id) });
  for (const [id, s] of stats.models) {
    if (!mesh.registry.models.has(id)) rows.push({ model: id, provider: mesh.config.models.get(id)?.provider ?? '', s });
  }
  const family = (name: string, type: 'counter', help: string, each: (row: (typeof rows)[number]) => [Labels, number][]): void => {
    out.family(name, type, help);
    for (const row of rows) for (const [labels, value] of each(row)) out.sample(name, labels, value);
  };
  const key = (row: (typeof rows)[number]): Labels => ({ model: row.model, provider: row.provider });

  family('modelmesh_attempts_total', 'counter', 'Upstream attempts per model (retries and failovers included), by outcome.', (row) => {
    const s = row.s;
    const success = s?.requests_success ?? 0;
    const failure = s?.requests_failed ?? 0;
    const cancelled = (s?.requests_total ?? 0) - success - failure;
    return [
      [{ ...key(row), outcome: 'success' }, success],
      [{ ...key(row), outcome: 'failure' }, failure],
      [{ ...key(row), outcome: 'cancelled' }, cancelled],
    ];
  });
  family('modelmesh_tokens_total', 'counter', 'Tokens processed by the model, by direction (input: prompt, output: completion).', (row) => [
    [{ ...key(row), direction: 'input' }, row.s?.tokens_in ?? 0],
    [{ ...key(row), direction: 'output' }, row.s?.tokens_out ?? 0],
  ]);
  family('modelmesh_cost_usd_total', 'counter', 'Cost in USD from the configured pricing.', (row) => [[key(row), row.s?.cost_total ?? 0]]);
  family('modelmesh_standby_events_total', 'counter', 'Times the model went to standby.', (row) => [[key(row), row.s?.standby_events ?? 0]]);
  family('modelmesh_downtime_seconds_total', 'counter', 'Seconds the model spent in standby, the current standby included.', (row) => [
    [key(row), (row.s?.downtime(now) ?? 0) / 1000],
  ]);
  family('modelmesh_quota_resets_total', 'counter', 'Quota window resets of the model.', (row) => [[key(row), row.s?.quota_resets ?? 0]]);
}
