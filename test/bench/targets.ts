// Starting the measured processes: the floor, ModelMesh copies, the OTLP sink of the tracing scenario.

import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BENCH_DIR, Tail, forkTs, freePort, isAlive, spawnModelMesh, spawnPipeProxy, stop, tailOfFile, waitMessage, waitReady } from './procs.ts';
import { FLOOR, MODELMESH } from './report.ts';
import type { Target } from './scenarios.ts';

export const ROOT = path.resolve(BENCH_DIR, '..', '..');
export const SERVER_JS = path.resolve(ROOT, process.env['BENCH_SERVER_JS'] ?? path.join('dist', 'server.js'));
export const FLOOR_HOW = 'node --input-type=module -e <pipe-proxy.ts> (plain node, no tsx)';
const SERVER_SHOWN = path.relative(ROOT, SERVER_JS).startsWith('..') ? SERVER_JS : path.relative(ROOT, SERVER_JS);
export const MM_HOW = `node ${SERVER_SHOWN} --config <generated> --port <p>`;

/** Everything printed, for the results file next to the JSON. */
export const transcript: string[] = [];
export const log = (line = ''): void => {
  transcript.push(line);
  process.stdout.write(`${line}\n`);
};
export const errMsg = (err: unknown): string => (err instanceof Error ? err.message : String(err));
/** Last `max` complete lines of a stderr tail, indented. */
export const indent = (text: string, max = 20): string => {
  const lines = text.trim().split('\n');
  if (lines.length > 1 && text.length >= 3900) lines.shift(); // first line is cut off
  return lines.slice(-max).map((l) => `    | ${l}`).join('\n');
};

export function listeningPort(m: unknown): number | undefined {
  const msg = m as { type?: unknown; port?: unknown };
  return msg.type === 'listening' && typeof msg.port === 'number' ? msg.port : undefined;
}

type ChildLike = NonNullable<Target['child']>;

function upTarget(name: string, port: number, child: ChildLike, tailText: () => string): Target {
  let reported = false;
  const exitInfo = (): string => (child.signalCode !== null ? `signal ${child.signalCode}` : `code ${String(child.exitCode)}`);
  return {
    name,
    port,
    model: 'bench',
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

function downTarget(name: string, reason: string): Target {
  return { name, port: 0, model: 'bench', child: null, down: () => reason, reportDeath: () => undefined };
}

export interface Started {
  target: Target;
  /** Set when the process exists but could not be started (exit code 1). */
  startFailed: boolean;
}

export async function startFloor(upstreamPort: number): Promise<Started> {
  const tail = new Tail();
  const child = spawnPipeProxy(['--upstream-port', String(upstreamPort), '--port', '0'], tail, true);
  try {
    const port = await waitMessage(child, listeningPort, 10_000, 'pipe proxy');
    await waitReady(child, port, performance.now(), 5000);
    log(`floor      : bare pipe proxy on 127.0.0.1:${port} pid ${String(child.pid)} (${FLOOR_HOW})`);
    return { target: upTarget(FLOOR, port, child, () => tail.toString()), startFailed: false };
  } catch (err) {
    await stop(child);
    const reason = `pipe proxy failed to start: ${errMsg(err)}`;
    log(`!!! ${reason}${tail.toString().trim() ? `\n${indent(tail.toString())}` : ''}`);
    return { target: downTarget(FLOOR, reason), startFailed: true };
  }
}

/** The side tools' (ab, profile, pair) fake upstream: 20 chunks a stream, no pacing. */
export async function startUpstream(): Promise<{ upstream: ChildProcess; upstreamPort: number }> {
  const upstream = forkTs('./fake-upstream.ts', ['--chunks', '20', '--pace', '0'], new Tail());
  return { upstream, upstreamPort: await waitMessage(upstream, listeningPort, 30_000, 'upstream') };
}

/** A load generator process, once it says it is ready. */
export async function startLoadgen(): Promise<ChildProcess> {
  const loadgen = forkTs('./loadgen.ts', [], new Tail());
  await waitMessage(loadgen, (m) => ((m as { type?: string }).type === 'ready' ? true : undefined), 30_000, 'loadgen');
  return loadgen;
}

/** The tracing scenario's collector: a node:http server that reads each OTLP POST and answers 200 `{}`. */
export async function startOtlpSink(): Promise<{ server: Server; port: number; posts: () => number }> {
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

/** One ModelMesh copy from `yaml` (written to `<dir>/<name>.yaml`, stderr to `<dir>/<name>.log`). */
export async function startModelMesh(dir: string, yaml: string, name = MODELMESH, serverJs = SERVER_JS): Promise<Started> {
  if (!fs.existsSync(serverJs)) {
    const reason = `${path.relative(ROOT, serverJs)} not found (ModelMesh not built yet? run \`npm run build\`)`;
    log(`!!! ${name}: ${reason} -- measuring the floor only`);
    return { target: downTarget(name, reason), startFailed: false };
  }
  const configPath = path.join(dir, `${name}.yaml`);
  const logPath = path.join(dir, `${name}.log`);
  fs.writeFileSync(configPath, yaml);
  const port = await freePort();
  const t0 = performance.now();
  const child = spawnModelMesh(serverJs, configPath, port, logPath);
  try {
    const ms = await waitReady(child, port, t0, 15_000);
    log(`${name.padEnd(11)}: ${MM_HOW} on 127.0.0.1:${port} pid ${String(child.pid)}, ready in ${ms.toFixed(0)} ms`);
    return { target: upTarget(name, port, child, () => tailOfFile(logPath)), startFailed: false };
  } catch (err) {
    await stop(child);
    const reason = `failed to start: ${errMsg(err)}`;
    const tail = tailOfFile(logPath).trim();
    log(`!!! ${name} ${reason}; config: ${configPath}`);
    log(tail ? `    stderr tail:\n${indent(tail)}` : '    (no stderr output)');
    return { target: downTarget(name, reason), startFailed: true };
  }
}
