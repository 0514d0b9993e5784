// A/B of two ModelMesh builds under the same load, interleaved A B B A (issue 16 Part B: before/after figures
// of one change from the same run). Not part of `npm run bench`.
//   cp -r dist /tmp/dist-before; <change>; npm run build
//   AB_BEFORE=/tmp/dist-before/server.js node --import tsx test/bench/ab.ts [sync|stream|responses]... 
// Env: BENCH_DURATION_MS (4000), BENCH_WARMUP_MS (1000), AB_ROUNDS (1: A B B A once).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RESPONSES_BODY, RESPONSES_PATH, loadSettings, modelmeshConfigYaml } from './config.ts';
import { Tail, freePort, stopAll } from './procs.ts';
import { cpuPerReq } from './report.ts';
import type { Row } from './report.ts';
import { loadRow, type BenchContext, type Target } from './scenarios.ts';
import { SERVER_JS, log, startLoadgen, startModelMesh, startUpstream } from './targets.ts';

const before = process.env['AB_BEFORE'];
if (before === undefined) throw new Error('AB_BEFORE=<path of the other build\'s server.js> is required');
const modes = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['sync', 'stream'];
const rounds = Number(process.env['AB_ROUNDS'] ?? 1);
const settings = { ...loadSettings(), durationMs: Number(process.env['BENCH_DURATION_MS'] ?? 4000) };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelmesh-ab-'));
try {
  const { upstream, upstreamPort } = await startUpstream();
  const loadgen = await startLoadgen();
  const yaml = modelmeshConfigYaml({ upstreamPort, deadPort: await freePort() });
  const a = (await startModelMesh(tmp, yaml, 'before', path.resolve(before))).target;
  const b = (await startModelMesh(tmp, yaml, 'after', SERVER_JS)).target;
  const ctx: BenchContext = { settings, loadgen, upstream, floor: a, modelmesh: b, starters: [], newTail: () => new Tail() };
  const quick = { ...ctx, settings: { ...settings, warmupMs: 0, durationMs: 1000 } };
  for (const t of [a, b]) for (const s of [false, true]) await loadRow(quick, t, s, 32);
  for (const mode of modes) {
    const stream = mode === 'stream';
    const shape = (t: Target): Target => (mode === 'responses' ? { ...t, path: RESPONSES_PATH, body: RESPONSES_BODY } : t);
    const rows: Row[] = [];
    for (let i = 0; i < rounds; i++) for (const t of [a, b, b, a]) rows.push(await loadRow(ctx, shape(t), stream, 32));
    const mean = (name: string): number => {
      const v = rows.filter((r) => r.target === name).map(cpuPerReq);
      return v.reduce((x, y) => x + y, 0) / v.length;
    };
    const each = rows.map((r) => `${r.target} ${cpuPerReq(r).toFixed(1)} (${Math.round(r.load?.reqPerSec ?? 0)} req/s)`).join(', ');
    log(`${mode}: cpu us/req before ${mean('before').toFixed(1)}, after ${mean('after').toFixed(1)} = ${(mean('after') / mean('before')).toFixed(3)}x  [${each}]`);
  }
} finally {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
}
