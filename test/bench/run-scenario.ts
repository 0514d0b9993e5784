// Which rows make which scenario, in which order, against which baseline.

import { MESSAGES_BODY, MESSAGES_PATH, RESPONSES_BODY, RESPONSES_PATH } from './config.ts';
import type { ScenarioName } from './config.ts';
import { FAILOVER_FIRST, FAILOVER_STEADY, FLOOR, MESSAGES, MODELMESH, MODELMESH_NOAUTH, REDIS, RESPONSES, TRACED } from './report.ts';
import type { Row, ScenarioKind, ScenarioResult } from './report.ts';
import { holdRow, loadRow, setUpstream, startupRow } from './scenarios.ts';
import type { BenchContext, Target } from './scenarios.ts';

const TITLES: Record<ScenarioName, [string, ScenarioKind]> = {
  sync32: ['synchronous chat, 32 concurrent connections (runs A B B A)', 'sync'],
  sync256: ['synchronous chat, 256 concurrent connections (runs A B B A)', 'sync'],
  stream: ['streaming chat, 20 chunks, pace 0 ms, 32 concurrent', 'stream'],
  failover: ['sync, 32 concurrent; pool "failover" = refused primary (default deactivation) + fake upstream: its first second, then steady state', 'sync'],
  memory: ['open streams held concurrently (20 chunks x 300 ms each)', 'hold'],
  startup: ['spawn -> GET /ready 200, fresh process each run', 'startup'],
  tracing: ['sync, 32 concurrent; tracing off vs on (ratio 1.0, OTLP/HTTP to a local sink answering 200; runs A B B A)', 'sync'],
  clients: ['sync, 32 concurrent; 1,000 clients with every limit on (the main config) vs auth off (runs A B B A)', 'sync'],
  protocols: ['sync, 32 concurrent; chat vs Responses and Anthropic Messages translated for the chat upstream (runs A B C A)', 'sync'],
  redis: ['sync, 32 concurrent; shared state on a local redis-server vs the local file (runs A B B A)', 'sync'],
};

const BASELINES: Partial<Record<ScenarioName, string>> = { failover: MODELMESH, tracing: MODELMESH, clients: MODELMESH_NOAUTH, protocols: MODELMESH, redis: MODELMESH };

/** The rows of one load scenario (sync, 32 connections unless said otherwise), in order. */
function loadPlan(ctx: BenchContext, name: ScenarioName): { target: Target; stream?: boolean; connections?: number; firstMs?: number }[] {
  const mm = ctx.modelmesh;
  const missing = (name: string, why: string): Target => ({ ...mm, name, child: null, down: () => why });
  switch (name) {
    // A B B A against the floor too: in A B order, four full runs read sync256 at 1.08x-1.32x, mostly from
    // the floor's own row moving (53-65 µs/req) with the machine's load between the two rows.
    case 'sync32':
      return [ctx.floor, mm, mm, ctx.floor].map((target) => ({ target }));
    case 'sync256':
      return [ctx.floor, mm, mm, ctx.floor].map((target) => ({ target, connections: 256 }));
    case 'stream':
      return [ctx.floor, mm, mm, ctx.floor].map((target) => ({ target, stream: true }));
    case 'failover': {
      // The pool is used for the first time here: its first second pays for finding the primary dead (issue 16 §3).
      const pool: Target = { ...mm, model: 'failover' };
      return [{ target: mm }, { target: { ...pool, name: FAILOVER_FIRST }, firstMs: 1000 }, { target: { ...pool, name: FAILOVER_STEADY } }];
    }
    case 'tracing': {
      // A B B A, as below: run in the order off, on, the second run alone read ~5% dearer with tracing disabled.
      const traced = ctx.traced ?? missing(TRACED, 'traced copy not started');
      return [mm, traced, traced, mm].map((target) => ({ target }));
    }
    case 'clients': {
      // A B B A: drift in machine load (other processes on the box) hits both targets alike.
      const off = ctx.noauth ?? missing(MODELMESH_NOAUTH, 'auth-off copy not started');
      return [off, mm, mm, off].map((target) => ({ target }));
    }
    case 'protocols': {
      const responses: Target = { ...mm, name: RESPONSES, path: RESPONSES_PATH, body: RESPONSES_BODY };
      const messages: Target = { ...mm, name: MESSAGES, path: MESSAGES_PATH, body: MESSAGES_BODY };
      return [mm, responses, messages, mm].map((target) => ({ target }));
    }
    case 'redis': {
      const shared = ctx.redis ?? missing(REDIS, ctx.redisMissing ?? 'redis copy not started');
      return [mm, shared, shared, mm].map((target) => ({ target }));
    }
    default:
      return [];
  }
}

export async function runScenario(ctx: BenchContext, name: ScenarioName): Promise<ScenarioResult> {
  const [baseTitle, kind] = TITLES[name];
  const { durationMs, warmupMs, memoryStreams } = ctx.settings;
  const timing = `${(durationMs / 1000).toFixed(1)} s per target after ${(warmupMs / 1000).toFixed(1)} s warm-up`;
  const title = kind === 'hold' ? baseTitle.replace('open streams', `${memoryStreams} open streams`) : kind === 'startup' ? baseTitle : `${baseTitle} (${timing})`;
  const rows: Row[] = [];
  // A failing row (dead loadgen, proxy crash mid-run...) is reported, not fatal.
  const guard = async (target: string, run: () => Promise<Row>): Promise<Row> => {
    try {
      return await run();
    } catch (err) {
      return { target, unavailable: `run failed: ${err instanceof Error ? err.message : String(err)}` };
    }
  };
  if (name === 'memory') {
    await setUpstream(ctx, { type: 'set', chunks: ctx.settings.streamChunks, paceMs: ctx.settings.memoryPaceMs });
    try {
      for (const t of [ctx.floor, ctx.modelmesh]) rows.push(await guard(t.name, () => holdRow(ctx, t)));
    } finally {
      await setUpstream(ctx, { type: 'set', paceMs: 0 });
    }
  } else if (name === 'startup') {
    for (const s of ctx.starters) rows.push(await guard(s.target, () => startupRow(ctx, s)));
  } else {
    for (const step of loadPlan(ctx, name)) {
      const run = step.firstMs === undefined ? ctx : { ...ctx, settings: { ...ctx.settings, warmupMs: 0, durationMs: step.firstMs } };
      rows.push(await guard(step.target.name, () => loadRow(run, step.target, step.stream === true, step.connections ?? 32)));
    }
  }
  return { name, title, kind, baseline: BASELINES[name] ?? FLOOR, rows };
}
