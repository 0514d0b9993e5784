// The `redis` scenario's redis-server (issue 13 §4): started on a free loopback port in a temp dir with no
// persistence, stopped with the other children. Absent binary: one line saying how to install it, scenario skipped.
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { Tail, freePort, isAlive, spawnTracked } from './procs.ts';

export const REDIS_MISSING = 'redis-server not installed: apt-get install -y redis-server (redis scenario skipped)';

export interface BenchRedis {
  port: number;
  child: ChildProcess;
}

/** Any RESP reply to a raw PING means the server is serving. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.once('data', (chunk: Buffer) => done(chunk[0] === 0x2b));
  });
}

/** null when redis-server is not installed; throws when it is but does not start within 5 s. */
export async function startRedis(dir: string): Promise<BenchRedis | null> {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore', timeout: 5000 }).status !== 0) return null;
  const port = await freePort();
  const tail = new Tail();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const child = spawnTracked('redis-server', args, tail);
  const deadline = Date.now() + 5000;
  while (!(await answersPing(port))) {
    if (!isAlive(child) || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start on port ${port}: ${tail.toString().trim() || 'no answer to PING'}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { port, child };
}
