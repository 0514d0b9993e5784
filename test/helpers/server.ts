// Starting the built CLI (`node dist/server.js`) as a user does, for end-to-end tests (DESIGN §10).
// `npm test` builds first; alone: `npx tsc -p tsconfig.json` then the test file.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from './proxy.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const SERVER = join(ROOT, 'dist/server.js');

/** A port nothing listens on right now (listen 0, read, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** The environment minus provider keys and MESH_* so only what the test configures can answer. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !/API_KEY|TOKEN|SECRET|^MESH_/i.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

export interface RunningServer {
  url: string;
  port: number;
  child: ChildProcess;
  stderr(): string;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts dist/server.js on a free port with `config` (a path, or YAML text written to a temp folder that is
 * also the working directory) and waits until /health answers.
 */
export async function startServer(config: { path: string } | { yaml: string }, options: { env?: Record<string, string>; cwd?: string } = {}): Promise<RunningServer> {
  let dir: string | undefined;
  let path: string;
  if ('path' in config) path = config.path;
  else {
    dir = mkdtempSync(join(tmpdir(), 'modelmesh-e2e-'));
    path = join(dir, 'mesh.yaml');
    writeFileSync(path, config.yaml);
  }
  const port = await freePort();
  const child = spawn(process.execPath, [SERVER, '--config', path, '--host', '127.0.0.1', '--port', String(port)], {
    cwd: options.cwd ?? dir ?? ROOT, env: options.env ?? cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const cleanup = (): void => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      cleanup();
      throw new Error(`server exited with ${child.exitCode}:\n${stderr}`);
    }
    try {
      if ((await request(`${url}/health`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      cleanup();
      throw new Error(`server did not come up within 15 s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url, port, child, stderr: () => stderr,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      cleanup();
      return child.exitCode;
    },
  };
}
