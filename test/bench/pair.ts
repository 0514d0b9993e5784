// Paired A/B: two ModelMesh copies driven at the same time by two load generators, so that the other
// tenants of this shared machine slow both alike; CPU per request of each over the same window. Steadier
// than runs one after the other (issue 16: "quote ratios from one run"). Not part of `npm run bench`.
//   node --import tsx test/bench/pair.ts [sync|stream]
// Env: PAIR_A / PAIR_B what each copy is: `main` (the bench config), `tracing` (tracing on at ratio 1.0),
// `ratio0` (tracing at ratio 0: the trace context alone), `noauth` (no clients:), `nolimits` (the clients
// without limits: attribution only), `floor` (the bare pipe proxy), optionally `@<path of server.js>` after it (main@/tmp/dist-before/server.js);
// default PAIR_A=main@dist, PAIR_B=tracing. PAIR_ROUNDS (5) windows of BENCH_DURATION_MS (3000) each;
// CONCURRENCY per copy (16). The sides swap load generators every round. Calibration on this machine: two
// copies of one build read within 2–3% of each other, the B copy 1–3% cheaper; so confirm a change in both
// orders. A build copied elsewhere needs its package.json beside its dist/ (`"type": "module"`): without it
// Node loads the files by syntax detection and that copy runs about 3% slower.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHAT_PATH, CLIENT_HEADERS, chatBody, modelmeshConfigYaml, type ModelMeshPorts } from './config.ts';
import { freePort, readCpuSplitMs, stopAll, waitMessage } from './procs.ts';
import type { LoadgenCommand, LoadgenReply } from './protocol.ts';
import { SERVER_JS, log, startFloor, startLoadgen, startModelMesh, startOtlpSink, startUpstream } from './targets.ts';

const mode = process.argv[2] ?? 'sync';
const stream = mode === 'stream';
const rounds = Number(process.env['PAIR_ROUNDS'] ?? 5);
const durationMs = Number(process.env['BENCH_DURATION_MS'] ?? 3000);
const concurrency = Number(process.env['CONCURRENCY'] ?? 16);
const sides = [process.env['PAIR_A'] ?? 'main', process.env['PAIR_B'] ?? 'tracing'];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelmesh-pair-'));
try {
  const { upstreamPort } = await startUpstream();
  const loadgens = await Promise.all([startLoadgen(), startLoadgen()]);
  const sink = await startOtlpSink();
  sink.server.unref();
  const base: ModelMeshPorts = { upstreamPort, deadPort: await freePort() };
  const targets = await Promise.all(sides.map(async (side, i) => {
    const [kind = 'main', serverJs = SERVER_JS] = side.split('@');
    if (kind === 'floor') return (await startFloor(upstreamPort)).target;
    const ports: Record<string, ModelMeshPorts> = {
      main: base, tracing: { ...base, otlpPort: sink.port }, ratio0: { ...base, otlpPort: sink.port, sampleRatio: 0 },
      noauth: { ...base, auth: false }, nolimits: { ...base, limits: false },
    };
    const chosen = ports[kind];
    if (chosen === undefined) throw new Error(`PAIR_${'AB'[i]}: unknown kind ${kind} (${Object.keys(ports).join(', ')}, floor)`);
    const started = await startModelMesh(tmp, modelmeshConfigYaml(chosen), `${'ab'[i]}-${kind}`, path.resolve(serverJs));
    if (started.startFailed) throw new Error(`${side} did not start`);
    return started.target;
  }));
  let id = 1;
  const load = async (gen: number, port: number, ms: number): Promise<number> => {
    const job: LoadgenCommand = {
      type: 'load', id: id++, concurrency, warmupMs: 0, durationMs: ms, requestTimeoutMs: 30_000,
      request: { host: '127.0.0.1', port, path: CHAT_PATH, body: chatBody('bench', stream), stream, headers: CLIENT_HEADERS },
    };
    const l = loadgens[gen] as (typeof loadgens)[number];
    const want = job.id;
    l.send(job);
    const res = await waitMessage(l, (m) => {
      const r = m as LoadgenReply;
      return r.type === 'load-result' && r.id === want ? r : undefined;
    }, ms + 60_000, 'load');
    return res.result.ok;
  };
  // Warm-up (JIT) of both at once, then the measured rounds.
  await Promise.all(targets.map((t, i) => load(i, t.port, 1500)));
  const ratios: number[] = [];
  const cpus: number[][] = [[], []];
  for (let r = 0; r < rounds; r++) {
    const cpu0 = targets.map((t) => readCpuSplitMs(t.child?.pid));
    const oks = await Promise.all(targets.map((t, i) => load((i + r) % 2, t.port, durationMs)));
    // us per request, user and sys apart (10 ms ticks: about 0.5 us/req of resolution at these rates).
    const split = targets.map((t, i) => {
      const now = readCpuSplitMs(t.child?.pid);
      const n = Math.max(1, oks[i] as number);
      const was = cpu0[i] as { user: number; sys: number };
      return { user: ((now.user - was.user) * 1000) / n, sys: ((now.sys - was.sys) * 1000) / n };
    });
    const per = split.map((s) => s.user + s.sys);
    per.forEach((v, i) => cpus[i]?.push(v));
    ratios.push((per[1] as number) / (per[0] as number));
    const side = (i: number): string => {
      const s = split[i] as { user: number; sys: number };
      return `${sides[i]} ${(per[i] as number).toFixed(1)} us/req (user ${s.user.toFixed(1)} sys ${s.sys.toFixed(1)}; ${oks[i]} ok)`;
    };
    log(`round ${r + 1}: A ${side(0)}, B ${side(1)}, B/A ${(ratios[r] as number).toFixed(3)}`);
  }
  const median = (v: number[]): number => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)] as number;
  log(`${mode}: median cpu us/req A ${median(cpus[0] as number[]).toFixed(1)}, B ${median(cpus[1] as number[]).toFixed(1)}; median B/A ${median(ratios).toFixed(3)} (min ${Math.min(...ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)})`);
} finally {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
}
