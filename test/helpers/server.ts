// Starting the built CLI (`node dist/server.js`) as a user does, for end-to-end tests (DESIGN §10).
// `npm test` builds first; alone: `npx tsc -p tsconfig.json` then the test file.
import type { ChildProcess } from 'node:child_process';
import { request } from './proxy.ts';
import { ROOT, cleanEnv, killIfRunning, spawnCli } from './cli.ts';
import { freePort } from './ports.ts';
import { tempDir, writeIn } from './temp-dir.ts';

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
export async function startServer(config: { path: string } | { yaml: string }, options: { env?: Record<string, string>; cwd?: string; port?: number } = {}): Promise<RunningServer> {
  // The temp folder lives until stop(): a server may outlive the test that started it (a suite's before hook).
  const removers: (() => void)[] = [];
  let dir: string | undefined;
  let path: string;
  if ('path' in config) path = config.path;
  else {
    dir = tempDir({ after: (fn) => removers.push(fn) }, 'modelmesh-e2e-');
    path = writeIn(dir, 'mesh.yaml', config.yaml);
  }
  const port = options.port ?? (await freePort()); // a given port: a restart where the last one listened
  const run = spawnCli(['--config', path, '--host', '127.0.0.1', '--port', String(port)], {
    cwd: options.cwd ?? dir ?? ROOT, env: options.env ?? cleanEnv(), stdout: false,
  });
  const { child } = run;
  const stderr = run.stderr;
  const exited = run.exit;
  const cleanup = (): void => {
    for (const remove of removers) remove();
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      cleanup();
      throw new Error(`server exited with ${child.exitCode}:\n${stderr()}`);
    }
    try {
      if ((await request(`${url}/health`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      killIfRunning(child);
      cleanup();
      throw new Error(`server did not come up within 15 s:\n${stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url, port, child, stderr,
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
