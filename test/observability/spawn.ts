// Spawning the built CLI (`node dist/server.js --config <yaml> --port <free>`) for end-to-end tests of state
// and observability, as a user runs it (DESIGN §10). Needs `npm run build` (npm test builds first).
import type { ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { killIfRunning, spawnCli } from '../helpers/cli.ts';
import { freePort } from '../helpers/ports.ts';
import { writeIn } from '../helpers/temp-dir.ts';

export { tempDir } from '../helpers/temp-dir.ts';

export interface Running {
  child: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Writes `yaml` to `<dir>/mesh.yaml` and returns its path. */
export function writeConfig(dir: string, yaml: string): string {
  return writeIn(dir, 'mesh.yaml', yaml);
}

/** Starts the CLI; resolves once it logged `listening` (or rejects with its stderr if it exits first). */
export async function startCli(t: TestContext, config: string, env: Record<string, string> = {}): Promise<Running> {
  const port = await freePort();
  const run = spawnCli(['--config', config, '--port', String(port)], { env: { ...process.env, ...env } });
  const { child, exit } = run;
  const err = run.stderr;
  t.after(() => killIfRunning(child));
  const running: Running = {
    child, url: `http://127.0.0.1:${port}`, stdout: run.stdout, stderr: err, exit,
    async stop() {
      child.kill('SIGTERM');
      return exit;
    },
  };
  const end = Date.now() + 15_000;
  for (;;) {
    if (/"msg":"listening"/.test(err())) return running;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited before listening:\n${err()}`);
    if (Date.now() > end) throw new Error(`server did not listen within 15 s:\n${err()}`);
    await delay(20);
  }
}

/** Polls `check` every 50 ms until it returns true or `ms` pass. */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(50);
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
