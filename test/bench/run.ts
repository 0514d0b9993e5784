// Benchmark orchestrator: `npm run bench` (build first) or
//   node --import tsx test/bench/run.ts
// Env: BENCH_DURATION_MS (5000), BENCH_WARMUP_MS (1000), BENCH_SCENARIOS
// (sync32,sync256,stream,failover,memory,startup,tracing), BENCH_MEMORY_STREAMS (1000),
// BENCH_STARTUP_RUNS (5), BENCH_SERVER_JS (dist/server.js; another ModelMesh entry point),
// BENCH_HTTP_CLIENT (modelmesh | node: providers.<id>.http_client; default the config default).
//
// Processes: fake upstream (tsx), load generator (tsx), floor = bare pipe proxy
// (plain node), ModelMesh = `node dist/server.js --config <generated> --port <p>`.
// Exit code: 1 if a target (or the harness's own upstream/loadgen) could not
// start at all; 0 otherwise, including when dist/server.js is absent (floor only).

import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BENCH_CLIENT_HEADERS, clientsConfigYaml, loadSettings, modelmeshConfigYaml } from './config.ts';
import type { BenchSettings } from './config.ts';
import { BENCH_DIR, Tail, forkTs, freePort, isAlive, killAllNow, spawnModelMesh, spawnPipeProxy, stop, stopAll, tailOfFile, waitMessage, waitReady } from './procs.ts';
import { FLOOR, MODELMESH, MODELMESH_CLIENTS, TRACED, computeChecks, renderChecks, renderScenario } from './report.ts';
import type { ScenarioResult } from './report.ts';
import { prime, runScenario } from './scenarios.ts';
import type { BenchContext, Starter, Target } from './scenarios.ts';

const ROOT = path.resolve(BENCH_DIR, '..', '..');
const SERVER_JS = path.resolve(ROOT, process.env['BENCH_SERVER_JS'] ?? path.join('dist', 'server.js'));
const RESULTS_DIR = path.join(BENCH_DIR, 'results');
const FLOOR_HOW = 'node --input-type=module -e <pipe-proxy.ts> (plain node, no tsx)';
const SERVER_SHOWN = path.relative(ROOT, SERVER_JS).startsWith('..') ? SERVER_JS : path.relative(ROOT, SERVER_JS);
const MM_HOW = `node ${SERVER_SHOWN} --config <generated> --port <p>`;

const log = (line = ''): void => void process.stdout.write(`${line}\n`);
const errMsg = (err: unknown): string => (err instanceof Error ? err.message : String(err));
/** Last `max` complete lines of a stderr tail, indented. */
const indent = (text: string, max = 20): string => {
  const lines = text.trim().split('\n');
  if (lines.length > 1 && text.length >= 3900) lines.shift(); // first line is cut off
  return lines.slice(-max).map((l) => `    | ${l}`).join('\n');
};

function listeningPort(m: unknown): number | undefined {
  const msg = m as { type?: unknown; port?: unknown };
  return msg.type === 'listening' && typeof msg.port === 'number' ? msg.port : undefined;
}

function upTarget(name: string, model: string, port: number, child: ChildLike, tailText: () => string): Target {
  let reported = false;
  const exitInfo = (): string => (child.signalCode !== null ? `signal ${child.signalCode}` : `code ${String(child.exitCode)}`);
  return {
    name,
    port,
    model,
    child,
    down: () => (isAlive(child) ? null : `process exited mid-bench (${exitInfo()})`),
    reportDeath: () => {
      if (reported || isAlive(child)) return;
      reported = true;
      const tail = tailText().trim();
      log(`!!! ${name} exited mid-bench (${exitInfo()})${tail ? `; stderr tail:\n${indent(tail)}` : ''}`);
    },
  };
}
type ChildLike = NonNullable<Target['child']>;

function downTarget(name: string, model: string, reason: string): Target {
  return { name, port: 0, model, child: null, down: () => reason, reportDeath: () => undefined };
}

interface Started {
  target: Target;
  /** Set when the process exists but could not be started (exit code 1). */
  startFailed: boolean;
}

async function startFloor(upstreamPort: number): Promise<Started> {
  const tail = new Tail();
  const child = spawnPipeProxy(['--upstream-port', String(upstreamPort), '--port', '0'], tail, true);
  try {
    const port = await waitMessage(child, listeningPort, 10_000, 'pipe proxy');
    await waitReady(child, port, performance.now(), 5000);
    log(`floor      : bare pipe proxy on 127.0.0.1:${port} pid ${String(child.pid)} (${FLOOR_HOW})`);
    return { target: upTarget(FLOOR, 'bench', port, child, () => tail.toString()), startFailed: false };
  } catch (err) {
    await stop(child);
    const reason = `pipe proxy failed to start: ${errMsg(err)}`;
    log(`!!! ${reason}${tail.toString().trim() ? `\n${indent(tail.toString())}` : ''}`);
    return { target: downTarget(FLOOR, 'bench', reason), startFailed: true };
  }
}

/** The tracing scenario's collector: a node:http server that reads each OTLP POST and answers 200 `{}`. */
async function startOtlpSink(): Promise<{ server: Server; port: number; posts: () => number }> {
  let posts = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      posts++;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { server, port, posts: () => posts };
}

async function startModelMesh(configPath: string, logPath: string, name = MODELMESH): Promise<Started> {
  if (!fs.existsSync(SERVER_JS)) {
    const reason = `${path.relative(ROOT, SERVER_JS)} not found (ModelMesh not built yet? run \`npm run build\`)`;
    log(`!!! modelmesh: ${reason} -- measuring the floor only`);
    return { target: downTarget(name, 'bench', reason), startFailed: false };
  }
  const port = await freePort();
  const t0 = performance.now();
  const child = spawnModelMesh(SERVER_JS, configPath, port, logPath);
  try {
    const ms = await waitReady(child, port, t0, 15_000);
    log(`${name.padEnd(11)}: ${MM_HOW} on 127.0.0.1:${port} pid ${String(child.pid)}, ready in ${ms.toFixed(0)} ms`);
    return { target: upTarget(name, 'bench', port, child, () => tailOfFile(logPath)), startFailed: false };
  } catch (err) {
    await stop(child);
    const reason = `failed to start: ${errMsg(err)}`;
    const tail = tailOfFile(logPath).trim();
    log(`!!! ${name} ${reason}; config: ${configPath}`);
    log(tail ? `    stderr tail:\n${indent(tail)}` : '    (no stderr output)');
    return { target: downTarget(name, 'bench', reason), startFailed: true };
  }
}

function header(settings: BenchSettings): void {
  const cpu = os.cpus();
  log(`ModelMesh benchmark -- ${new Date().toISOString()}`);
  log(`node ${process.version}, ${cpu.length} x ${cpu[0]?.model ?? 'cpu'}, load avg ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  log(`duration ${settings.durationMs} ms + warm-up ${settings.warmupMs} ms per target; scenarios: ${settings.scenarios.join(', ')}`);
  log('upstream, load generator and proxy share this machine: absolute numbers are machine-bound, compare the ratios.');
  log();
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
  let sink: Awaited<ReturnType<typeof startOtlpSink>> | null = null;
  try {
    const upTail = new Tail();
    const upstream = forkTs('./fake-upstream.ts', ['--chunks', String(settings.streamChunks), '--pace', '0'], upTail);
    const upstreamPort = await waitMessage(upstream, listeningPort, 30_000, 'fake upstream').catch((err: unknown) => {
      throw new Error(`${errMsg(err)}\n${indent(upTail.toString())}`);
    });
    log(`upstream   : fake OpenAI upstream on 127.0.0.1:${upstreamPort} pid ${String(upstream.pid)} (tsx)`);
    const lgTail = new Tail();
    const loadgen = forkTs('./loadgen.ts', [], lgTail);
    await waitMessage(loadgen, (m) => ((m as { type?: unknown }).type === 'ready' ? true : undefined), 30_000, 'loadgen').catch(
      (err: unknown) => {
        throw new Error(`${errMsg(err)}\n${indent(lgTail.toString())}`);
      },
    );
    log(`loadgen    : pid ${String(loadgen.pid)} (tsx)`);

    const deadPort = await freePort(); // nobody listens here: connection refused
    const configPath = path.join(tmp, 'modelmesh.yaml');
    fs.writeFileSync(configPath, modelmeshConfigYaml({ upstreamPort, deadPort }));
    const floor = await startFloor(upstreamPort);
    const mm = await startModelMesh(configPath, path.join(tmp, 'modelmesh.log'));
    if (floor.startFailed || mm.startFailed) exitCode = 1;
    let traced: Started | null = null;
    if (settings.scenarios.includes('tracing')) {
      sink = await startOtlpSink();
      const tracedPath = path.join(tmp, 'modelmesh-tracing.yaml');
      fs.writeFileSync(tracedPath, modelmeshConfigYaml({ upstreamPort, deadPort, otlpPort: sink.port }));
      log(`otlp sink  : node:http on 127.0.0.1:${sink.port} (in the orchestrator), answering 200`);
      traced = await startModelMesh(tracedPath, path.join(tmp, 'modelmesh-tracing.log'), TRACED);
      if (traced.startFailed) exitCode = 1;
    }
    const mmUnavailable = mm.target.child === null ? mm.target.down() : null;
    const starters: Starter[] = [
      {
        target: FLOOR,
        how: FLOOR_HOW,
        spawn: (port, tail) => spawnPipeProxy(['--upstream-port', String(upstreamPort), '--port', String(port)], tail, false),
        unavailable: floor.target.child === null ? floor.target.down() : null,
      },
      {
        target: MODELMESH,
        how: MM_HOW,
        spawn: (port, tail) => spawnModelMesh(SERVER_JS, configPath, port, tail),
        unavailable: mmUnavailable,
      },
    ];
    const ctx: BenchContext = {
      settings,
      loadgen,
      upstream,
      floor: floor.target,
      modelmesh: mm.target,
      ...(traced !== null ? { traced: traced.target } : {}),
      starters,
      newTail: () => new Tail(),
    };
    if (settings.scenarios.includes('clients')) {
      const clientsPath = path.join(tmp, 'modelmesh-clients.yaml');
      fs.writeFileSync(clientsPath, clientsConfigYaml({ upstreamPort, deadPort }));
      const keyed = await startModelMesh(clientsPath, path.join(tmp, 'modelmesh-clients.log'), MODELMESH_CLIENTS);
      ctx.clients = { ...keyed.target, headers: BENCH_CLIENT_HEADERS };
    }
    log();
    if (settings.scenarios.some((n) => n !== 'startup')) {
      const t0 = performance.now();
      await prime(ctx, 1000);
      log(`(priming run, not recorded: ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      floor.target.reportDeath();
      mm.target.reportDeath();
      log();
    }

    const results: ScenarioResult[] = [];
    for (const name of settings.scenarios) {
      const t0 = performance.now();
      const result = await runScenario(ctx, name);
      results.push(result);
      log(renderScenario(result));
      floor.target.reportDeath();
      mm.target.reportDeath();
      log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      log();
    }
    if (sink !== null) log(`(otlp sink received ${sink.posts()} export requests)`);
    const checks = computeChecks(results);
    log(renderChecks(checks));
    log();

    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, `bench-${startedAt.toISOString().replace(/:/g, '-')}.json`);
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
        modelmesh: { how: MM_HOW, available: mm.target.child !== null, reason: mmUnavailable, config: modelmeshConfigYaml({ upstreamPort, deadPort }) },
      },
      scenarios: results,
      checks,
      exitCode,
    };
    fs.writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
    log(`results written to ${path.relative(process.cwd(), file) || file}`);
    if (mmUnavailable !== null) log(`note: modelmesh rows unavailable -- ${mmUnavailable.split('\n')[0] ?? ''}`);
  } catch (err) {
    log(`!!! bench aborted: ${errMsg(err)}`);
    exitCode = 1;
  } finally {
    sink?.server.close();
    sink?.server.closeAllConnections();
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
