// Benchmark orchestrator: `npm run bench` (build first) or
//   node --import tsx test/bench/run.ts
// Env: BENCH_DURATION_MS (5000), BENCH_WARMUP_MS (1000), BENCH_SCENARIOS
// (sync32,sync256,stream,failover,memory,startup,tracing,clients,protocols,redis), BENCH_MEMORY_STREAMS (1000),
// BENCH_STARTUP_RUNS (5), BENCH_SERVER_JS (dist/server.js; another ModelMesh entry point),
// BENCH_HTTP_CLIENT (modelmesh | node: providers.<id>.http_client; default the config default).
//
// Processes: fake upstream (tsx), load generator (tsx), floor = bare pipe proxy (plain node), ModelMesh =
// `node dist/server.js --config <generated> --port <p>` (the main copy, plus a traced copy, an auth-off copy
// and a copy on a redis-server when their scenarios run). Output: the tables, a summary with every ratio, the
// checks; results/bench-<time>.json and .txt. Exit code: 1 if a target (or the harness's own upstream/loadgen)
// could not start at all; 0 otherwise, including when dist/server.js is absent (floor only).

import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { computeChecks, renderChecks, renderSummary } from './checks.ts';
import { loadSettings, modelmeshConfigYaml } from './config.ts';
import type { BenchSettings, ModelMeshPorts, ScenarioName } from './config.ts';
import { BENCH_DIR, Tail, forkTs, freePort, killAllNow, spawnModelMesh, spawnPipeProxy, stopAll, waitMessage } from './procs.ts';
import { REDIS_MISSING, startRedis } from './redis.ts';
import { FLOOR, MODELMESH, MODELMESH_NOAUTH, REDIS, TRACED, renderScenario } from './report.ts';
import type { ScenarioResult } from './report.ts';
import { runScenario } from './run-scenario.ts';
import { prime } from './scenarios.ts';
import type { BenchContext, Starter } from './scenarios.ts';
import { FLOOR_HOW, MM_HOW, SERVER_JS, errMsg, indent, listeningPort, log, startFloor, startModelMesh, startOtlpSink, transcript } from './targets.ts';
import type { Started } from './targets.ts';

const RESULTS_DIR = path.join(BENCH_DIR, 'results');

function header(settings: BenchSettings): void {
  const cpu = os.cpus();
  log(`ModelMesh benchmark -- ${new Date().toISOString()}`);
  log(`node ${process.version}, ${cpu.length} x ${cpu[0]?.model ?? 'cpu'}, load avg ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  log(`duration ${settings.durationMs} ms + warm-up ${settings.warmupMs} ms per target; scenarios: ${settings.scenarios.join(', ')}`);
  log('upstream, load generator and proxy share this machine: absolute numbers are machine-bound, compare the ratios.');
  log();
}

async function startHarness(settings: BenchSettings): Promise<{ upstream: ChildProcess; loadgen: ChildProcess; upstreamPort: number }> {
  const upTail = new Tail();
  const upstream = forkTs('./fake-upstream.ts', ['--chunks', String(settings.streamChunks), '--pace', '0'], upTail);
  const upstreamPort = await waitMessage(upstream, listeningPort, 30_000, 'fake upstream').catch((err: unknown) => {
    throw new Error(`${errMsg(err)}\n${indent(upTail.toString())}`);
  });
  log(`upstream   : fake OpenAI upstream on 127.0.0.1:${upstreamPort} pid ${String(upstream.pid)} (tsx)`);
  const lgTail = new Tail();
  const loadgen = forkTs('./loadgen.ts', [], lgTail);
  await waitMessage(loadgen, (m) => ((m as { type?: unknown }).type === 'ready' ? true : undefined), 30_000, 'loadgen').catch((err: unknown) => {
    throw new Error(`${errMsg(err)}\n${indent(lgTail.toString())}`);
  });
  log(`loadgen    : pid ${String(loadgen.pid)} (tsx)`);
  return { upstream, loadgen, upstreamPort };
}

/** The copies the selected scenarios need besides the main one; each failed start marks the run failed. */
async function startCopies(ctx: BenchContext, tmp: string, ports: ModelMeshPorts, failed: () => void): Promise<{ posts: () => number; close: () => void } | null> {
  const want = (n: ScenarioName): boolean => ctx.settings.scenarios.includes(n);
  const add = (s: Started): Started['target'] => {
    if (s.startFailed) failed();
    return s.target;
  };
  let sink: Awaited<ReturnType<typeof startOtlpSink>> | null = null;
  if (want('tracing')) {
    sink = await startOtlpSink();
    log(`otlp sink  : node:http on 127.0.0.1:${sink.port} (in the orchestrator), answering 200`);
    ctx.traced = add(await startModelMesh(tmp, modelmeshConfigYaml({ ...ports, otlpPort: sink.port }), TRACED));
  }
  if (want('clients')) ctx.noauth = add(await startModelMesh(tmp, modelmeshConfigYaml({ ...ports, auth: false }), MODELMESH_NOAUTH));
  if (want('redis')) {
    const redisDir = fs.mkdtempSync(path.join(tmp, 'redis-'));
    const redis = await startRedis(redisDir).catch((err: unknown) => {
      ctx.redisMissing = errMsg(err);
      failed();
      return null;
    });
    if (redis === null) {
      ctx.redisMissing ??= REDIS_MISSING;
      log(ctx.redisMissing);
    } else {
      log(`redis      : redis-server on 127.0.0.1:${redis.port} pid ${String(redis.child.pid)} (dir ${redisDir}, no persistence)`);
      ctx.redis = add(await startModelMesh(tmp, modelmeshConfigYaml({ ...ports, redisPort: redis.port }), REDIS));
    }
  }
  if (sink === null) return null;
  const { server } = sink;
  return { posts: sink.posts, close: () => (server.close(), server.closeAllConnections()) };
}

async function main(): Promise<number> {
  const settings = loadSettings();
  const startedAt = new Date();
  // Hard wall-clock bound for the whole run (every loop inside is bounded too).
  const limitMs = 300_000 + 8 * (settings.durationMs + settings.warmupMs) * settings.scenarios.length;
  setTimeout(() => {
    log(`!!! bench exceeded ${Math.round(limitMs / 1000)} s -- aborting`);
    killAllNow();
    process.exit(1);
  }, limitMs).unref();
  header(settings);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelmesh-bench-'));
  let exitCode = 0;
  let sink: Awaited<ReturnType<typeof startCopies>> = null;
  try {
    const { upstream, loadgen, upstreamPort } = await startHarness(settings);
    const ports: ModelMeshPorts = { upstreamPort, deadPort: await freePort() }; // nobody listens on deadPort: refused
    const mainYaml = modelmeshConfigYaml(ports);
    const floor = await startFloor(upstreamPort);
    const mm = await startModelMesh(tmp, mainYaml);
    if (floor.startFailed || mm.startFailed) exitCode = 1;
    const mmUnavailable = mm.target.child === null ? mm.target.down() : null;
    const mainConfig = path.join(tmp, `${MODELMESH}.yaml`);
    const starters: Starter[] = [
      {
        target: FLOOR,
        how: FLOOR_HOW,
        spawn: (port, tail) => spawnPipeProxy(['--upstream-port', String(upstreamPort), '--port', String(port)], tail, false),
        unavailable: floor.target.child === null ? floor.target.down() : null,
      },
      { target: MODELMESH, how: MM_HOW, spawn: (port, tail) => spawnModelMesh(SERVER_JS, mainConfig, port, tail), unavailable: mmUnavailable },
    ];
    const ctx: BenchContext = { settings, loadgen, upstream, floor: floor.target, modelmesh: mm.target, starters, newTail: () => new Tail() };
    sink = await startCopies(ctx, tmp, ports, () => void (exitCode = 1));
    const copies = [ctx.traced, ctx.noauth, ctx.redis].filter((t) => t !== undefined);
    const reportDeaths = (): void => [floor.target, mm.target, ...copies].forEach((t) => t.reportDeath());
    log();
    if (settings.scenarios.some((n) => n !== 'startup')) {
      const t0 = performance.now();
      await prime(ctx, 1000);
      log(`(priming run, not recorded: ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      reportDeaths();
      log();
    }

    const results: ScenarioResult[] = [];
    for (const name of settings.scenarios) {
      const t0 = performance.now();
      const result = await runScenario(ctx, name);
      results.push(result);
      log(renderScenario(result));
      reportDeaths();
      log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      log();
    }
    if (sink !== null) log(`(otlp sink received ${sink.posts()} export requests)`);
    const checks = computeChecks(results, ctx.redisMissing !== undefined ? { redis: ctx.redisMissing } : {});
    log(renderSummary(results));
    log();
    log(renderChecks(checks));
    log();

    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, `bench-${startedAt.toISOString().replace(/:/g, '-')}`);
    const doc = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? null,
      loadavgEnd: os.loadavg(),
      settings,
      targets: {
        floor: { how: FLOOR_HOW, available: floor.target.child !== null },
        // The config without its 1,000 client lines (they are generated: config.ts clientsYaml).
        modelmesh: { how: MM_HOW, available: mm.target.child !== null, reason: mmUnavailable, config: modelmeshConfigYaml({ ...ports, auth: false }) },
      },
      scenarios: results,
      checks,
      exitCode,
    };
    fs.writeFileSync(`${file}.json`, `${JSON.stringify(doc, null, 2)}\n`);
    log(`results written to ${path.relative(process.cwd(), file) || file}.json and .txt`);
    if (mmUnavailable !== null) log(`note: modelmesh rows unavailable -- ${mmUnavailable.split('\n')[0] ?? ''}`);
    fs.writeFileSync(`${file}.txt`, `${transcript.join('\n')}\n`);
  } catch (err) {
    log(`!!! bench aborted: ${errMsg(err)}`);
    exitCode = 1;
  } finally {
    sink?.close();
    await stopAll();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return exitCode;
}

process.on('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    log(`\n${sig}: stopping child processes`);
    killAllNow();
    process.exit(130);
  });
}
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`!!! ${errMsg(err)}`);
    killAllNow();
    process.exit(1);
  },
);
