// A real redis-server for tests (issue 13): started on a free loopback port in a temp dir, no persistence.
// When the binary is missing, tests needing it skip, with one visible line for the whole run saying how to
// install it (skip-line.ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort } from './ports.ts';
import { skipLineOnce } from './skip-line.ts';
import { tmpdir } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';

/** The binary; REDIS_SERVER overrides it (e.g. a path that does not exist, to see the skip path). */
const BINARY = process.env['REDIS_SERVER'] ?? 'redis-server';
const SKIP_LINE = 'redis-server not installed: apt-get install -y redis-server (tests needing Redis skipped)';

let available: boolean | undefined;

/** True when redis-server can run; otherwise prints the skip line (once per test run) and returns false. */
export function redisAvailable(): boolean {
  if (available !== undefined) return available;
  available = spawnSync(BINARY, ['--version'], { stdio: 'ignore', timeout: 5000 }).status === 0;
  if (!available) skipLineOnce('redis', SKIP_LINE);
  return available;
}

/** `{ skip }` for node:test: false when Redis is available, else the reason. */
export function skipWithoutRedis(): { skip: string | false } {
  return { skip: redisAvailable() ? false : 'redis-server not installed' };
}

export interface RedisServerOptions {
  /** `--requirepass`. */
  password?: string;
  /** More arguments, e.g. ['--enable-debug-command', 'local']. */
  args?: string[];
  /** Serve TLS only (rediss://), with this PEM certificate and key; plain TCP is off. */
  tls?: { certFile: string; keyFile: string };
}

export class RedisServer {
  readonly port: number;
  readonly dir: string;
  readonly #args: string[];
  readonly #password: string | null;
  readonly #tls: boolean;
  #child: ChildProcess | null = null;

  private constructor(port: number, dir: string, args: string[], password: string | null, tls: boolean) {
    this.#tls = tls;
    this.port = port;
    this.dir = dir;
    this.#args = args;
    this.#password = password;
  }

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'modelmesh-redis-'));
    const listen = options.tls === undefined
      ? ['--port', String(port)]
      : ['--port', '0', '--tls-port', String(port), '--tls-cert-file', options.tls.certFile, '--tls-key-file', options.tls.keyFile, '--tls-auth-clients', 'no'];
    const args = [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...(options.args ?? [])];
    if (options.password !== undefined) args.push('--requirepass', options.password);
    const server = new RedisServer(port, dir, args, options.password ?? null, options.tls !== undefined);
    await server.#spawn();
    return server;
  }

  /** redis://[:password@]127.0.0.1:PORT[/db]. */
  url(db = 0, password: string | null = this.#password): string {
    return `${this.#tls ? 'rediss' : 'redis'}://${password === null ? '' : `:${encodeURIComponent(password)}@`}127.0.0.1:${this.port}${db === 0 ? '' : `/${db}`}`;
  }

  get running(): boolean {
    return this.#child !== null;
  }

  /** Kills the server (SIGKILL: a crash, nothing flushed) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === null) return;
    this.#child = null;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
  }

  /** Starts it again on the same port (data is gone: nothing is persisted). */
  async restart(): Promise<void> {
    await this.stop();
    await this.#spawn();
  }

  /** Stops it and removes its temp dir (for t.after). */
  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  async #spawn(): Promise<void> {
    const child = spawn(BINARY, this.#args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    this.#child = child;
    const deadline = Date.now() + 5000;
    while (!(await answersPing(this.port, this.#tls))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await this.stop();
        throw new Error(`redis-server did not start on port ${this.port}: ${stderr.trim() || 'no answer to PING'}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}


/** Sends a raw PING; any reply (+PONG, or -NOAUTH with requirepass) means the server is serving. */
function answersPing(port: number, tls: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }) : connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once(tls ? 'secureConnect' : 'connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.once('data', (chunk: Buffer) => done(chunk[0] === 0x2b || chunk[0] === 0x2d));
  });
}
