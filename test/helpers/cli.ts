// Spawning the built CLI (`node dist/server.js …`) as a user runs it, for end-to-end tests (DESIGN §10).
// `npm test` builds first; alone: `npx tsc -p tsconfig.json` then the test file.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const SERVER = join(ROOT, 'dist/server.js');

/** The environment minus provider keys and MESH_* so only what the test configures can answer. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !/API_KEY|TOKEN|SECRET|^MESH_/i.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliProcess {
  child: ChildProcess;
  /** Everything written so far (empty when that stream is ignored). */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process exits. */
  exit: Promise<CliExit>;
}

export interface SpawnOptions {
  /** The child's whole environment; default: this process's. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Collect stdout (default true); false ignores it (a server's stdout is never read). */
  stdout?: boolean;
}

/** Starts `node dist/server.js ...args` and collects its output. */
export function spawnCli(args: readonly string[], options: SpawnOptions = {}): CliProcess {
  const child = spawn(process.execPath, [SERVER, ...args], {
    env: options.env ?? process.env, stdio: ['ignore', options.stdout === false ? 'ignore' : 'pipe', 'pipe'],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exit = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** Runs the CLI to its end (killed after `timeoutMs`); resolves once its output streams are closed. */
export async function runCli(args: readonly string[], options: SpawnOptions & { timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = spawnCli(args, options);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), options.timeoutMs ?? 10_000);
  const [code] = (await once(run.child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** SIGKILL the child if it is still running (a test that failed before stopping it). */
export function killIfRunning(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
