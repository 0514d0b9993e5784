// Row runners: drive one target with a load (or a hold, or fresh starts) and collect its row. Which rows
// make which scenario is in run-scenario.ts.

import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { CHAT_PATH, CLIENT_HEADERS, MESSAGES_BODY, MESSAGES_PATH, RESPONSES_BODY, RESPONSES_PATH, chatBody } from './config.ts';
import type { BenchSettings } from './config.ts';
import { Histogram } from './histogram.ts';
import { freePort, readCpuMs, readRssMb, stop, waitMessage, waitReady } from './procs.ts';
import type { Tail } from './procs.ts';
import type { HoldResult, LoadResult, LoadgenCommand, LoadgenReply, RequestSpec, UpstreamCommand } from './protocol.ts';
import type { Row } from './report.ts';

export interface Target {
  name: string;
  port: number;
  /** `model` sent in the body (ModelMesh pool name). */
  model: string;
  child: ChildProcess | null;
  /** Why this target cannot be measured now, or null if it is up. */
  down: () => string | null;
  /** Print (once) how the process died, with its stderr tail, if it did. */
  reportDeath: () => void;
  /** Request path and body instead of chat's (the protocols scenario). Streams are always chat. */
  path?: string;
  body?: string;
}

/** Starts one fresh copy of a proxy on `port` for the startup scenario. */
export interface Starter {
  target: string;
  how: string;
  spawn: (port: number, stderr: Tail) => ChildProcess;
  /** Why it cannot be started at all, or null. */
  unavailable: string | null;
}

export interface BenchContext {
  settings: BenchSettings;
  loadgen: ChildProcess;
  upstream: ChildProcess;
  floor: Target;
  modelmesh: Target;
  /** ModelMesh with tracing on (ratio 1.0) to a local OTLP sink; only started for the `tracing` scenario. */
  traced?: Target;
  /** The same config with auth off (no `clients:`), for the `clients` scenario. */
  noauth?: Target;
  /** The same config with shared state on a redis-server, for the `redis` scenario. */
  redis?: Target;
  /** Why the `redis` scenario cannot run (redis-server not installed). */
  redisMissing?: string;
  starters: Starter[];
  newTail: () => Tail;
}

let nextId = 1;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function spec(t: Target, stream: boolean): RequestSpec {
  const body = !stream && t.body !== undefined ? t.body : chatBody(t.model, stream);
  return { host: '127.0.0.1', port: t.port, path: stream ? CHAT_PATH : (t.path ?? CHAT_PATH), body, stream, headers: CLIENT_HEADERS };
}

function reply<T extends LoadgenReply['type']>(id: number, type: T): (m: unknown) => Extract<LoadgenReply, { type: T }> | undefined {
  return (m) => {
    const msg = m as LoadgenReply;
    if (msg.type === 'failed' && msg.id === id) throw new Error(`loadgen job ${id} failed: ${msg.message}`);
    return msg.type === type && 'id' in msg && msg.id === id ? (msg as Extract<LoadgenReply, { type: T }>) : undefined;
  };
}

export async function loadRow(ctx: BenchContext, t: Target, stream: boolean, concurrency: number): Promise<Row> {
  const down = t.down();
  if (down !== null) return { target: t.name, unavailable: down };
  const pid = t.child?.pid;
  const { warmupMs, durationMs } = ctx.settings;
  const id = nextId++;
  const pids = [pid, ctx.loadgen.pid, ctx.upstream.pid];
  const cpuNow = (): number[] => [performance.now(), ...pids.map(readCpuMs)];
  let cpu0: number[] = [];
  let cpu1: number[] = [];
  let peak = readRssMb(pid);
  const onPhase = (m: unknown): void => {
    const msg = m as LoadgenReply;
    if (msg.type !== 'phase' || msg.id !== id) return;
    if (msg.phase === 'measure') cpu0 = cpuNow();
    else cpu1 = cpuNow();
  };
  /** CPU % of one core over the measured window for pids[i]. */
  const pct = (i: number): number => (((cpu1[i + 1] ?? NaN) - (cpu0[i + 1] ?? NaN)) / ((cpu1[0] ?? NaN) - (cpu0[0] ?? NaN))) * 100;
  const sampler = setInterval(() => {
    const v = readRssMb(pid);
    if (v > peak || !Number.isFinite(peak)) peak = v;
  }, 200);
  ctx.loadgen.on('message', onPhase);
  try {
    const job: LoadgenCommand = {
      type: 'load',
      id,
      request: spec(t, stream),
      concurrency,
      warmupMs,
      durationMs,
      requestTimeoutMs: 30_000,
    };
    ctx.loadgen.send(job);
    const res = await waitMessage(ctx.loadgen, reply(id, 'load-result'), warmupMs + durationMs + 90_000, `loadgen ${t.name}`);
    const result: LoadResult = res.result;
    return { target: t.name, load: result, peakRssMb: peak, cpuPct: pct(0), loadgenCpuPct: pct(1), upstreamCpuPct: pct(2) };
  } finally {
    clearInterval(sampler);
    ctx.loadgen.off('message', onPhase);
  }
}

export async function setUpstream(ctx: BenchContext, cmd: UpstreamCommand): Promise<void> {
  ctx.upstream.send(cmd);
  await waitMessage(ctx.upstream, (m) => ((m as { type?: string }).type === 'set-done' ? true : undefined), 5000, 'fake upstream set');
}

export async function holdRow(ctx: BenchContext, t: Target): Promise<Row> {
  const down = t.down();
  if (down !== null) return { target: t.name, unavailable: down };
  const pid = t.child?.pid;
  const count = ctx.settings.memoryStreams;
  const idleRssMb = readRssMb(pid);
  const id = nextId++;
  ctx.loadgen.send({ type: 'hold', id, request: spec(t, true), count, firstByteTimeoutMs: 20_000 } satisfies LoadgenCommand);
  let hold: HoldResult;
  let heldRssMb: number;
  try {
    const held = await waitMessage(ctx.loadgen, reply(id, 'held'), 30_000, `loadgen hold ${t.name}`);
    heldRssMb = readRssMb(pid);
    hold = held.result;
  } finally {
    ctx.loadgen.send({ type: 'release', id } satisfies LoadgenCommand);
    await waitMessage(ctx.loadgen, reply(id, 'released'), 30_000, `loadgen release ${t.name}`);
  }
  await sleep(500); // let the proxy and upstream tear the streams down
  return { target: t.name, hold, idleRssMb, heldRssMb };
}

export async function startupRow(ctx: BenchContext, s: Starter): Promise<Row> {
  if (s.unavailable !== null) return { target: s.target, unavailable: s.unavailable };
  const runsMs: number[] = [];
  const failures: string[] = [];
  const hist = new Histogram();
  for (let i = 0; i < ctx.settings.startupRuns; i++) {
    const port = await freePort();
    const tail = ctx.newTail();
    const t0 = performance.now();
    const child = s.spawn(port, tail);
    try {
      const ms = await waitReady(child, port, t0, 10_000);
      runsMs.push(ms);
      hist.recordMs(ms);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      failures.push(`${msg}${tail.toString().trim() ? `; stderr tail:\n${tail.toString().trim()}` : ''}`);
    } finally {
      await stop(child);
    }
    if (failures.length >= 2 && runsMs.length === 0) break; // it is not going to start
  }
  const summary = hist.summary();
  return { target: s.target, startup: { how: s.how, runsMs, failures, p50Ms: summary.p50Ms, maxMs: summary.maxMs } };
}

/**
 * Unrecorded warm-up of every process (JIT, socket pools) before the first
 * scenario, so the first table is not penalised for going first.
 */
export async function prime(ctx: BenchContext, ms: number): Promise<void> {
  const quick: BenchContext = { ...ctx, settings: { ...ctx.settings, warmupMs: 0, durationMs: ms } };
  for (const t of [ctx.floor, ctx.modelmesh]) {
    if (t.down() !== null) continue;
    await loadRow(quick, t, false, 32).catch(() => undefined);
    await loadRow(quick, t, true, 32).catch(() => undefined);
  }
  // The other copies only serve sync rows; half as long.
  const half: BenchContext = { ...quick, settings: { ...quick.settings, durationMs: ms / 2 } };
  const translated: Target[] = [
    { ...ctx.modelmesh, path: RESPONSES_PATH, body: RESPONSES_BODY },
    { ...ctx.modelmesh, path: MESSAGES_PATH, body: MESSAGES_BODY },
  ];
  for (const t of [ctx.traced, ctx.noauth, ctx.redis, ...translated]) {
    if (t !== undefined && t.down() === null) await loadRow(half, t, false, 32).catch(() => undefined);
  }
}
