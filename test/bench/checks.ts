// The targets of issues 16, 13 §4, 14 §5, 12 §7 and 17 §3, computed from one run (informational, never
// asserted), and the summary table with every ratio of the run.

import type { ScenarioName } from './config.ts';
import {
  FAILOVER_FIRST, FAILOVER_STEADY, FLOOR, MESSAGES, MODELMESH, MODELMESH_NOAUTH, REDIS, RESPONSES, TRACED,
  cpuPerReq, meanOf, p50, p99, reqPerSec, rowOf, ttfbP50, ttfbP99, versus,
} from './report.ts';
import type { Row, ScenarioResult } from './report.ts';
import { int, num, ratio, renderTable, signedMs, times } from './table.ts';
import type { TableRow } from './table.ts';

export interface Check {
  name: string;
  /** What is required, e.g. "<= 1.20x". */
  target: string;
  /** What this run measured. */
  figure: string;
  status: 'met' | 'NOT MET' | 'skip' | 'info';
}

const hasErrors = (r: Row): boolean => r.load !== undefined && r.load.errors + r.load.non2xx + r.load.incomplete > 0;

/** Builds the checks of one scenario: `ratioCheck` compares a target's mean with the baseline's. */
class Checker {
  readonly checks: Check[] = [];
  readonly #results: ScenarioResult[];
  readonly #skips: Partial<Record<ScenarioName, string>>;
  constructor(results: ScenarioResult[], skips: Partial<Record<ScenarioName, string>>) {
    this.#results = results;
    this.#skips = skips;
  }

  /** The scenario if it ran; adds nothing when it was not selected. */
  scenario(name: ScenarioName): ScenarioResult | undefined {
    return this.#results.find((s) => s.name === name);
  }

  /**
   * One check of `target` against `baseline` in `s`: `measure` returns [ok, figure] from the means. SKIP when a
   * row is missing; NOT MET when the measured row had errors (its numbers exclude them).
   */
  add(s: ScenarioResult, name: string, target: string, rows: [string, string | null], measure: () => [boolean | null, string]): void {
    const [subject, baseline] = rows;
    const runs = s.rows.filter((r) => r.target === subject);
    const measured = runs.filter((r) => r.load || r.hold || r.startup);
    const baseOk = baseline === null || s.rows.some((r) => r.target === baseline && r.load);
    if (measured.length === 0 || !baseOk) {
      const why = this.#skips[s.name] ?? (measured.length === 0 ? (runs[0]?.unavailable ?? 'not run') : `${baseline ?? ''} missing`);
      return void this.checks.push({ name, target, figure: why, status: 'skip' });
    }
    const [ok, figure] = measure();
    const dirty = measured.some(hasErrors) ? ' [row had errors]' : '';
    const status = ok === null ? 'info' : ok && dirty === '' ? 'met' : 'NOT MET';
    this.checks.push({ name, target, figure: figure + dirty, status });
  }

  /** `subject`'s mean of `of` over `baseline`'s, against a maximum (or minimum when `atLeast`). */
  ratio(s: ScenarioResult, name: string, subject: string, baseline: string, of: (r: Row) => number, limit: number | null, atLeast = false): void {
    const target = limit === null ? 'reported' : `${atLeast ? '>=' : '<='} ${limit.toFixed(2)}x`;
    this.add(s, name, target, [subject, baseline], () => {
      const a = meanOf(s, subject, of);
      const b = meanOf(s, baseline, of);
      const r = ratio(a, b);
      const ok = limit === null ? null : atLeast ? r >= limit : r <= limit;
      return [ok, `${times(r)} (${num(a, 1)} vs ${num(b, 1)})`];
    });
  }

  /** `subject`'s mean of `of` minus `baseline`'s, in ms, at most `limitMs`. */
  delta(s: ScenarioResult, name: string, subject: string, baseline: string, of: (r: Row) => number, limitMs: number): void {
    this.add(s, name, `within ${limitMs} ms`, [subject, baseline], () => {
      const a = meanOf(s, subject, of);
      const b = meanOf(s, baseline, of);
      return [a - b <= limitMs, `${signedMs(a - b)} (${num(a)} vs ${num(b)} ms)`];
    });
  }
}

/** Every target, in the order of the issues; `skips` says why a scenario could not run (redis-server missing). */
export function computeChecks(results: ScenarioResult[], skips: Partial<Record<ScenarioName, string>> = {}): Check[] {
  const c = new Checker(results, skips);
  for (const n of ['sync32', 'sync256'] as const) {
    const s = c.scenario(n);
    if (!s) continue;
    c.ratio(s, `${n}: cpu us/req vs floor`, MODELMESH, FLOOR, cpuPerReq, 1.2);
    c.ratio(s, `${n}: req/s vs floor`, MODELMESH, FLOOR, reqPerSec, 0.85, true);
  }
  const st = c.scenario('stream');
  if (st) {
    c.ratio(st, 'stream: cpu us/req vs floor', MODELMESH, FLOOR, cpuPerReq, 1.2);
    c.delta(st, 'stream: TTFB p50 vs floor', MODELMESH, FLOOR, ttfbP50, 1);
    c.ratio(st, 'stream: TTFB p99 vs floor', MODELMESH, FLOOR, ttfbP99, 1.3);
  }
  const fo = c.scenario('failover');
  if (fo) {
    c.ratio(fo, 'failover, first second: p99 vs direct pool', FAILOVER_FIRST, MODELMESH, p99, null);
    c.ratio(fo, 'failover, steady state: p99 vs direct pool', FAILOVER_STEADY, MODELMESH, p99, 1.2);
  }
  const cl = c.scenario('clients');
  if (cl) {
    c.ratio(cl, 'client key with limits: cpu us/req vs auth off', MODELMESH, MODELMESH_NOAUTH, cpuPerReq, null);
    c.ratio(cl, 'client key with limits: req/s vs auth off (issue 12: within 3%)', MODELMESH, MODELMESH_NOAUTH, reqPerSec, 0.97, true);
  }
  const pr = c.scenario('protocols');
  if (pr) {
    c.ratio(pr, 'Responses translated: cpu us/req vs chat (issue 14)', RESPONSES, MODELMESH, cpuPerReq, 1.3);
    c.ratio(pr, 'Messages translated: cpu us/req vs chat', MESSAGES, MODELMESH, cpuPerReq, null);
  }
  const rd = c.scenario('redis');
  if (rd) {
    c.delta(rd, 'shared state on Redis: p50 vs local file (issue 13)', REDIS, MODELMESH, p50, 0.2);
    c.ratio(rd, 'shared state on Redis: cpu us/req vs local file', REDIS, MODELMESH, cpuPerReq, null);
  }
  const tr = c.scenario('tracing');
  if (tr) c.ratio(tr, 'tracing at ratio 1.0: cpu us/req vs off (issue 17)', TRACED, MODELMESH, cpuPerReq, 1.1);
  const up = c.scenario('startup');
  if (up) {
    c.add(up, 'startup: spawn -> /ready 200 (max of runs)', '< 300 ms', [MODELMESH, null], () => {
      const s = rowOf(up, MODELMESH)?.startup;
      return [s !== undefined && s.failures.length === 0 && s.maxMs < 300, `max ${num(s?.maxMs, 1)} ms, p50 ${num(s?.p50Ms, 1)} ms`];
    });
  }
  const mem = c.scenario('memory');
  if (mem) {
    c.add(mem, `RSS with ${rowOf(mem, MODELMESH)?.hold?.requested ?? 0} streams open`, '< 150 MB', [MODELMESH, null], () => {
      const r = rowOf(mem, MODELMESH);
      const h = r?.hold;
      const full = h !== undefined && h.firstBytes === h.requested;
      return [full && (r?.heldRssMb ?? NaN) < 150, `${num(r?.heldRssMb, 1)} MB with ${h?.firstBytes ?? 0}/${h?.requested ?? 0} open`];
    });
  }
  return c.checks;
}

export function renderChecks(checks: Check[]): string {
  const rows: TableRow[] = checks.map((k) => [k.name, k.figure, k.target, k.status]);
  const met = checks.filter((k) => k.status === 'met').length;
  const missed = checks.filter((k) => k.status === 'NOT MET').length;
  return [
    '== checks (computed from this run, not asserted)',
    renderTable(['check', 'this run', 'target', 'status'], rows),
    `(${met} met, ${missed} not met, ${checks.length - met - missed} skipped or reported only)`,
  ].join('\n');
}

/** One line per measured non-baseline row: every ratio of the run in one table. */
export function renderSummary(results: ScenarioResult[]): string {
  const rows: TableRow[] = [];
  for (const s of results) {
    if (s.kind === 'hold' || s.kind === 'startup') continue;
    for (const r of s.rows) {
      if (r.target === s.baseline || rows.some((x) => Array.isArray(x) && x[0] === s.name && x[1] === r.target)) continue;
      if (!r.load) {
        rows.push([s.name, r.target, s.baseline, '-', '-', '-', r.unavailable ?? 'not run']);
        continue;
      }
      const base = (of: (row: Row) => number): number => meanOf(s, s.baseline, of);
      const mine = (of: (row: Row) => number): number => meanOf(s, r.target, of);
      const latOf = s.kind === 'stream' ? [ttfbP50, ttfbP99] : [p50, p99];
      const [l50, l99] = latOf as [(row: Row) => number, (row: Row) => number];
      rows.push([
        s.name, r.target, s.baseline, times(ratio(mine(cpuPerReq), base(cpuPerReq))), times(ratio(mine(reqPerSec), base(reqPerSec))),
        `${signedMs(mine(l50) - base(l50))} / ${times(ratio(mine(l99), base(l99)))}`, versus(s, r) === '' ? '' : `${int(mine(cpuPerReq))} vs ${int(base(cpuPerReq))} us/req`,
      ]);
    }
  }
  return ['== summary: every ratio of this run (means over repeated rows; stream latencies are TTFB)',
    renderTable(['scenario', 'target', 'vs', 'cpu/req', 'req/s', 'p50 diff / p99', 'cpu'], rows)].join('\n');
}
