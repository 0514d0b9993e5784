// Child-process plumbing for the bench: start, wait, measure, kill.

import { fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const children = new Set<ChildProcess>();

/** Keeps the last `max` characters written to a stream (for error reports). */
export class Tail {
  #text = '';
  readonly #max: number;
  constructor(max = 4000) {
    this.#max = max;
  }
  push(chunk: Buffer | string): void {
    this.#text = (this.#text + chunk.toString()).slice(-this.#max);
  }
  toString(): string {
    return this.#text;
  }
}

export function tailOfFile(path: string, max = 4000): string {
  try {
    const buf = fs.readFileSync(path);
    return buf.subarray(Math.max(0, buf.length - max)).toString('utf8');
  } catch {
    return '';
  }
}

function track(child: ChildProcess, stderrTail?: Tail): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.on('error', () => undefined); // surfaced through exit / waitMessage
  if (stderrTail && child.stderr) child.stderr.on('data', (c: Buffer) => stderrTail.push(c));
  return child;
}

/** Fork a TypeScript module of this folder under tsx, with an IPC channel. */
export function forkTs(file: string, args: string[], stderrTail: Tail): ChildProcess {
  return track(
    fork(fileURLToPath(new URL(file, import.meta.url)), args, {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    }),
    stderrTail,
  );
}

const pipeProxySource = fs.readFileSync(new URL('./pipe-proxy.ts', import.meta.url), 'utf8');

/** Start the floor with plain node (no tsx): see the header of pipe-proxy.ts. */
export function spawnPipeProxy(args: string[], stderrTail: Tail, ipc: boolean): ChildProcess {
  return track(
    spawn(process.execPath, ['--input-type=module', '-e', pipeProxySource, '--', ...args], {
      stdio: ['ignore', 'ignore', 'pipe', ipc ? 'ipc' : 'ignore'],
    }),
    stderrTail,
  );
}

/** Start `node <serverJs> --config <cfg> --port <p>`; stderr to a file or a Tail. */
export function spawnModelMesh(serverJs: string, configPath: string, port: number, log: string | Tail): ChildProcess {
  const args = [serverJs, '--config', configPath, '--port', String(port)];
  if (typeof log === 'string') {
    const fd = fs.openSync(log, 'w');
    try {
      return track(spawn(process.execPath, args, { stdio: ['ignore', fd, fd] }));
    } finally {
      fs.closeSync(fd);
    }
  }
  return track(spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] }), log);
}

/** Any other binary (redis-server), tracked like the rest so killAllNow stops it too. */
export function spawnTracked(command: string, args: string[], stderrTail: Tail): ChildProcess {
  return track(spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] }), stderrTail);
}

function describeExit(child: ChildProcess): string {
  return child.signalCode !== null ? `signal ${child.signalCode}` : `code ${String(child.exitCode)}`;
}

export function isAlive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** First IPC message accepted by `pick`; rejects if the child exits or on timeout. */
export function waitMessage<T>(child: ChildProcess, pick: (m: unknown) => T | undefined, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (m: unknown): void => {
      let v: T | undefined;
      try {
        v = pick(m);
      } catch (err) {
        cleanup();
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (v === undefined) return;
      cleanup();
      resolve(v);
    };
    const onExit = (): void => {
      cleanup();
      reject(new Error(`${what}: process exited (${describeExit(child)})`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    if (!isAlive(child)) {
      onExit();
      return;
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** A port that was free a moment ago (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function probeReady(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/ready', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/**
 * Poll GET /ready every `everyMs` until it answers 200. Resolves with the time
 * (ms) since `sinceMs` (a performance.now() stamp); rejects if the child exits
 * or after `timeoutMs`.
 */
export async function waitReady(child: ChildProcess, port: number, sinceMs: number, timeoutMs: number, everyMs = 5): Promise<number> {
  const deadline = sinceMs + timeoutMs;
  while (performance.now() < deadline) {
    if (!isAlive(child)) throw new Error(`exited before ready (${describeExit(child)})`);
    if (await probeReady(port)) return performance.now() - sinceMs;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`GET /ready did not answer 200 within ${timeoutMs} ms`);
}

/** Resident set size of a process in MB (VmRSS from /proc), or NaN. */
export function readRssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] !== undefined ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** utime+stime of a process in ms (assumes CLK_TCK = 100, as on Linux), or NaN. */
export function readCpuMs(pid: number | undefined): number {
  const { user, sys } = readCpuSplitMs(pid);
  return user + sys;
}

/** User and kernel CPU ms of a process apart (where the time goes: our JS, or syscalls and copies). */
export function readCpuSplitMs(pid: number | undefined): { user: number; sys: number } {
  if (pid === undefined) return { user: Number.NaN, sys: Number.NaN };
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime/stime are fields 14/15, in clock ticks of 10 ms.
    return { user: Number(fields[11]) * 10, sys: Number(fields[12]) * 10 };
  } catch {
    return { user: Number.NaN, sys: Number.NaN };
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone. */
export function stop(child: ChildProcess, graceMs = 1500): Promise<void> {
  if (!isAlive(child)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stop(c)));
}

/** Last resort (process 'exit' hook): signal every child we started, synchronously. */
export function killAllNow(): void {
  for (const c of children) if (isAlive(c)) c.kill('SIGKILL');
}
