// CPU profile of ModelMesh under one bench load (issue 16 Part B): not part of `npm run bench`.
//   npm run build && node --import tsx test/bench/profile.ts [sync|stream|responses] [seconds]
// Starts the fake upstream and the load generator of the bench, `node --cpu-prof dist/server.js` with the bench's
// main config (auth + 1,000 clients, default observability), drives it with 32 connections, stops it with SIGTERM
// (it drains and exits, so V8 writes the profile) and prints the top frames by self time, with the read/write
// system calls (/proc/<pid>/io) and the CPU of the main thread and of the other threads (V8's GC helpers) per
// request. Env: FLOOR=1 the bare pipe proxy instead; TRACING=1 tracing on at ratio 1.0; NOAUTH=1 no clients: (auth off); NOPROF=1 no profile (figures only); NODE_EXTRA="--trace-gc"
// more node flags for the proxy; SERVER_JS another build (/tmp/before/dist/server.js); CONCURRENCY connections (32); PROFILE_OUT where the .cpuprofile goes (os.tmpdir()); TOP frames shown (30).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { CLIENT_HEADERS, CHAT_PATH, RESPONSES_BODY, RESPONSES_PATH, chatBody, modelmeshConfigYaml } from './config.ts';
import { freePort, readCpuMs, stop, stopAll, waitMessage, waitReady } from './procs.ts';
import type { LoadgenCommand, LoadgenReply } from './protocol.ts';
import { SERVER_JS, startLoadgen, startOtlpSink, startUpstream } from './targets.ts';
import { topFrames } from './profile-summary.ts';

const mode = process.argv[2] ?? 'sync';
const seconds = Number(process.argv[3] ?? 8);
const stream = mode === 'stream';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelmesh-prof-'));
try {
  const { upstream, upstreamPort } = await startUpstream();
  const loadgen = await startLoadgen();
  const config = path.join(tmp, 'mesh.yaml');
  // TRACING=1: tracing on at ratio 1.0 into an OTLP sink in this process (the bench's `tracing` copy).
  const sink = process.env['TRACING'] ? await startOtlpSink() : null;
  sink?.server.unref();
  fs.writeFileSync(config, modelmeshConfigYaml({ upstreamPort, deadPort: await freePort(), ...(sink === null ? {} : { otlpPort: sink.port }), ...(process.env['NOAUTH'] ? { auth: false } : {}) }));
  const port = await freePort();
  // FLOOR=1: the bare pipe proxy instead, to compare.
  const extra0 = (process.env['NODE_EXTRA'] ?? '').split(' ').filter((a) => a !== '');
  const floorArgs = [...extra0, ...(process.env['NOPROF'] ? [] : ['--cpu-prof', '--cpu-prof-dir', tmp]), '--import', 'data:text/javascript,process.on("SIGTERM",()=>process.exit(0))', '--input-type=module', '-e', fs.readFileSync(new URL('./pipe-proxy.ts', import.meta.url), 'utf8'), '--', '--upstream-port', String(upstreamPort), '--port', String(port)];
  const prof = process.env['NOPROF'] ? [] : ['--cpu-prof', '--cpu-prof-dir', tmp];
  const extra = (process.env['NODE_EXTRA'] ?? '').split(' ').filter((a) => a !== '');
  const nodeArgs = process.env['FLOOR'] ? floorArgs : [...prof, ...extra, process.env['SERVER_JS'] ?? SERVER_JS, '--config', config, '--port', String(port)];
  const child = spawn(process.execPath, nodeArgs, { stdio: ['ignore', process.env['NODE_EXTRA'] ? 'inherit' : 'ignore', 'inherit'] });
  await waitReady(child, port, performance.now(), 15_000);
  const [p, body] = mode === 'responses' ? [RESPONSES_PATH, RESPONSES_BODY] : [CHAT_PATH, chatBody('bench', stream)];
  const job: LoadgenCommand = {
    type: 'load', id: 1, concurrency: Number(process.env['CONCURRENCY'] ?? 32), warmupMs: 1000, durationMs: seconds * 1000, requestTimeoutMs: 30_000,
    request: { host: '127.0.0.1', port, path: p, body, stream, headers: CLIENT_HEADERS },
  };
  const io = (): number[] => {
    const text = fs.readFileSync(`/proc/${String(child.pid)}/io`, 'utf8');
    return ['syscr', 'syscw'].map((k) => Number(new RegExp(`${k}: (\\d+)`).exec(text)?.[1]));
  };
  // CPU per thread (main, V8 GC workers, libuv pool): the profile shows the main thread only.
  const threads = (): Map<string, number> => {
    const out = new Map<string, number>();
    for (const tid of fs.readdirSync(`/proc/${String(child.pid)}/task`)) {
      const stat = fs.readFileSync(`/proc/${String(child.pid)}/task/${tid}/stat`, 'utf8');
      const name = tid === String(child.pid) ? 'main' : 'other threads';
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${name} user`, (out.get(`${name} user`) ?? 0) + Number(f[11]) * 10);
      out.set(`${name} sys`, (out.get(`${name} sys`) ?? 0) + Number(f[12]) * 10);
    }
    return out;
  };
  const t0 = threads();
  const cpu0 = readCpuMs(child.pid);
  const io0 = io();
  loadgen.send(job);
  const res = await waitMessage(loadgen, (m) => ((m as LoadgenReply).type === 'load-result' ? (m as Extract<LoadgenReply, { type: 'load-result' }>) : undefined), seconds * 1000 + 60_000, 'load');
  const cpu = readCpuMs(child.pid) - cpu0;
  const [r1 = 0, w1 = 0] = io();
  const t1 = threads();
  const [r0 = 0, w0 = 0] = io0;
  const n = res.result.ok;
  const per = (v: number): string => (v / Math.max(1, n)).toFixed(2);
  process.stdout.write(`${mode}: ${n} ok at ${res.result.reqPerSec.toFixed(0)} req/s; proxy cpu ${(cpu * 1000 / Math.max(1, n)).toFixed(0)} us/req, ${per(r1 - r0)} read + ${per(w1 - w0)} write syscalls/req (warm-up included)\n`);
  for (const [name, ms] of t1) process.stdout.write(`  thread ${name.padEnd(16)} ${((ms - (t0.get(name) ?? 0)) * 1000 / Math.max(1, n)).toFixed(1)} us/req\n`);
  await stop(child, 10_000);
  const file = fs.readdirSync(tmp).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined && process.env['NOPROF']) process.exit(0);
  if (file === undefined) throw new Error('no .cpuprofile written');
  const out = path.join(process.env['PROFILE_OUT'] ?? os.tmpdir(), `${process.env['FLOOR'] ? 'floor' : 'modelmesh'}-${mode}.cpuprofile`);
  fs.copyFileSync(path.join(tmp, file), out);
  process.stdout.write(`${out}\n${topFrames(JSON.parse(fs.readFileSync(out, 'utf8')), Number(process.env['TOP'] ?? 30))}\n`);
} finally {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
}
