// Result shapes and the per-scenario tables. The checks (targets) and the summary are in checks.ts.

import type { ScenarioName } from './config.ts';
import type { HoldResult, LoadResult } from './protocol.ts';
import { counts, int, num, ratio, renderTable, signedMs, times } from './table.ts';
import type { TableRow } from './table.ts';

export interface StartupResult {
  how: string;
  runsMs: number[];
  failures: string[];
  p50Ms: number;
  maxMs: number;
}

/** One target's outcome in one scenario; exactly one of the payloads is set. */
export interface Row {
  target: string;
  unavailable?: string;
  load?: LoadResult;
  /** Peak proxy RSS sampled during the load run. */
  peakRssMb?: number;
  /** Proxy CPU (user+sys) over the measured window, % of one core. */
  cpuPct?: number;
  /** Same for the load generator and the fake upstream (is the client the bottleneck?). */
  loadgenCpuPct?: number;
  upstreamCpuPct?: number;
  hold?: HoldResult;
  idleRssMb?: number;
  /** Proxy RSS sampled when every held stream had its first byte. */
  heldRssMb?: number;
  startup?: StartupResult;
}

export type ScenarioKind = 'sync' | 'stream' | 'hold' | 'startup';

export interface ScenarioResult {
  name: ScenarioName;
  title: string;
  kind: ScenarioKind;
  /** The target every other row is compared with (the mean of its rows when it ran more than once). */
  baseline: string;
  rows: Row[];
}

export const FLOOR = 'floor';
export const MODELMESH = 'modelmesh';
export const FAILOVER_FIRST = 'modelmesh-failover (first 1 s)';
export const FAILOVER_STEADY = 'modelmesh-failover (steady)';
/** ModelMesh with observability.tracing on at ratio 1.0, exporting to a local OTLP sink. */
export const TRACED = 'modelmesh-tracing';
/** The same config without `clients:` (auth off): the baseline of the clients scenario. */
export const MODELMESH_NOAUTH = 'modelmesh-auth-off';
export const RESPONSES = 'modelmesh-responses';
export const MESSAGES = 'modelmesh-messages';
export const REDIS = 'modelmesh-redis';

/** Proxy CPU microseconds per completed request (the cleanest cost signal on a saturated box). */
export function cpuPerReq(r: Row | undefined): number {
  const rps = r?.load?.reqPerSec ?? NaN;
  return rps > 0 ? ((r?.cpuPct ?? NaN) / 100) * 1e6 / rps : NaN;
}

export const rowOf = (s: ScenarioResult | undefined, target: string): Row | undefined => s?.rows.find((r) => r.target === target);

/** Mean of `of` over the rows of `target` that have a load result (NaN when none). */
export function meanOf(s: ScenarioResult | undefined, target: string, of: (r: Row) => number): number {
  const runs = (s?.rows ?? []).filter((r) => r.target === target && r.load !== undefined).map(of);
  return runs.length === 0 ? NaN : runs.reduce((a, b) => a + b, 0) / runs.length;
}

export const reqPerSec = (r: Row): number => r.load?.reqPerSec ?? NaN;
export const p50 = (r: Row): number => r.load?.total.p50Ms ?? NaN;
export const p99 = (r: Row): number => r.load?.total.p99Ms ?? NaN;
export const ttfbP50 = (r: Row): number => r.load?.ttfb?.p50Ms ?? NaN;
export const ttfbP99 = (r: Row): number => r.load?.ttfb?.p99Ms ?? NaN;

/** "req/s 0.91x, p50 +0.20 ms, p99 1.10x, cpu/req 1.15x" of one row against the scenario's baseline. */
export function versus(s: ScenarioResult, r: Row): string {
  if (r.target === s.baseline || !r.load) return '';
  const base = (of: (row: Row) => number): number => meanOf(s, s.baseline, of);
  if (!Number.isFinite(base(reqPerSec))) return '';
  const stream = s.kind === 'stream';
  const lat = stream
    ? `ttfb p50 ${signedMs(ttfbP50(r) - base(ttfbP50))}, ttfb p99 ${times(ratio(ttfbP99(r), base(ttfbP99)))}`
    : `p50 ${signedMs(p50(r) - base(p50))}, p99 ${times(ratio(p99(r), base(p99)))}`;
  return `req/s ${times(ratio(reqPerSec(r), base(reqPerSec)))}, ${lat}, cpu/req ${times(ratio(cpuPerReq(r), base(cpuPerReq)))}`;
}

function loadTable(s: ScenarioResult): string {
  const stream = s.kind === 'stream';
  const vsHeader = `vs ${s.baseline}`;
  const headers = stream
    ? ['target', 'req/s', 'ttfb p50', 'ttfb p99', 'total p50', 'total p99', 'rss MB', 'cpu %', 'cpu us/req', 'ok', 'non2xx', 'errors', vsHeader]
    : ['target', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'rss MB', 'cpu %', 'cpu us/req', 'ok', 'non2xx', 'errors', vsHeader];
  const rows: TableRow[] = s.rows.map((r) => {
    const l = r.load;
    if (!l) return { target: r.target, message: `unavailable: ${r.unavailable ?? 'not run'}` };
    const lat = stream
      ? [num(l.ttfb?.p50Ms), num(l.ttfb?.p99Ms), num(l.total.p50Ms), num(l.total.p99Ms)]
      : [num(l.total.p50Ms), num(l.total.p99Ms), num(l.total.maxMs)];
    const errs = l.errors + l.incomplete;
    return [r.target, int(l.reqPerSec), ...lat, num(r.peakRssMb, 1), int(r.cpuPct), int(cpuPerReq(r)), String(l.ok), String(l.non2xx), String(errs), versus(s, r)];
  });
  const notes = ['(cpu = proxy user+sys CPU over the window, % of one core; cpu us/req = proxy CPU time per completed request)'];
  if (stream) notes.push('(ttfb = time to first response body byte; all latencies in ms)');
  return [renderTable(headers, rows), ...notes].join('\n');
}

function holdTable(s: ScenarioResult): string {
  const floor = rowOf(s, FLOOR);
  const headers = ['target', 'streams open', 'ramp ms', 'rss idle MB', 'rss open MB', 'KB/stream', 'non2xx', 'errors', 'vs floor'];
  const rows: TableRow[] = s.rows.map((r) => {
    const h = r.hold;
    if (!h) return { target: r.target, message: `unavailable: ${r.unavailable ?? 'not run'}` };
    const perStream = ((r.heldRssMb ?? NaN) - (r.idleRssMb ?? NaN)) * 1024 / Math.max(1, h.firstBytes);
    const vs = r.target !== FLOOR ? `rss ${times(ratio(r.heldRssMb, floor?.heldRssMb))}` : '';
    return [
      r.target,
      `${h.firstBytes}/${h.requested}`,
      int(h.rampMs),
      num(r.idleRssMb, 1),
      num(r.heldRssMb, 1),
      num(perStream, 1),
      String(h.non2xx),
      String(h.errors),
      vs,
    ];
  });
  return renderTable(headers, rows) + '\n(rss open = proxy VmRSS sampled once every stream had its first byte)';
}

function startupTable(s: ScenarioResult): string {
  const headers = ['target', 'p50 ms', 'max ms', 'runs (ms)', 'started as'];
  const rows: TableRow[] = s.rows.map((r) => {
    const st = r.startup;
    if (!st) return { target: r.target, message: `unavailable: ${r.unavailable ?? 'not run'}` };
    const runs = st.runsMs.map((v) => v.toFixed(0)).join(' ') + (st.failures.length > 0 ? ` (${st.failures.length} failed)` : '');
    return [r.target, num(st.p50Ms, 1), num(st.maxMs, 1), runs, st.how];
  });
  return renderTable(headers, rows) + '\n(spawn -> first 200 from GET /ready, polled every 5 ms)';
}

/** Loud lines for rows whose numbers cannot be trusted. */
function warnings(s: ScenarioResult): string[] {
  const out: string[] = [];
  for (const r of s.rows) {
    const l = r.load;
    if (l && l.errors + l.non2xx + l.incomplete > 0) {
      const parts: string[] = [];
      if (l.errors > 0) parts.push(`${l.errors} errors (${counts(l.errorCounts)})`);
      if (l.non2xx > 0) parts.push(`${l.non2xx} non-2xx (${counts(l.statusCounts)})`);
      if (l.incomplete > 0) parts.push(`${l.incomplete} streams without data: [DONE]`);
      out.push(`!!! ${s.name}/${r.target}: ${parts.join(', ')} -- latency/throughput exclude these`);
    }
    if (l && l.ok === 0) out.push(`!!! ${s.name}/${r.target}: no successful request at all`);
    if (l && (r.loadgenCpuPct ?? 0) >= 90) {
      out.push(`note: ${s.name}/${r.target}: load generator at ${int(r.loadgenCpuPct)}% CPU (upstream ${int(r.upstreamCpuPct)}%) -- client-bound, req/s is a lower bound`);
    }
    const h = r.hold;
    if (h && (h.firstBytes < h.requested || h.timedOut)) {
      const why = h.timedOut ? 'timed out waiting for first bytes' : `${h.non2xx} non-2xx, ${h.errors} errors (${counts(h.errorCounts)})`;
      out.push(`!!! ${s.name}/${r.target}: only ${h.firstBytes}/${h.requested} streams open -- ${why}`);
    }
    for (const f of r.startup?.failures ?? []) out.push(`!!! ${s.name}/${r.target}: start failed: ${f}`);
  }
  return out;
}

export function renderScenario(s: ScenarioResult): string {
  const body = s.kind === 'hold' ? holdTable(s) : s.kind === 'startup' ? startupTable(s) : loadTable(s);
  return [`== ${s.name}: ${s.title}`, body, ...warnings(s)].join('\n');
}
