// Load generator (own process, forked by run.ts; jobs in and results out over IPC).
//
// load: N concurrent closed loops over one keep-alive agent (maxSockets = N); each
//       loop sends the precomputed body, reads the whole response, records latency
//       (and time to first body byte). A warm-up period is run but not recorded.
// hold: opens K streaming requests at once, reports when all K have their first
//       byte, keeps them open until {type:'release'} (or until they complete).

import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { Histogram } from './histogram.ts';
import type { HoldJob, HoldResult, LoadJob, LoadResult, LoadgenCommand, LoadgenReply, RequestSpec } from './protocol.ts';

interface Prepared {
  spec: RequestSpec;
  body: Buffer;
  headers: Record<string, string>;
}

interface Outcome {
  status: number;
  error: string | null;
  ttfbMs: number;
  totalMs: number;
  bytes: number;
  /** false for a 2xx stream that did not end with `data: [DONE]`. */
  complete: boolean;
}

interface InFlight {
  done: Promise<Outcome>;
  abort: () => void;
}

function send(msg: LoadgenReply): void {
  if (process.send) process.send(msg);
}

function prepare(spec: RequestSpec): Prepared {
  const body = Buffer.from(spec.body);
  return {
    spec,
    body,
    headers: { ...spec.headers, 'content-type': 'application/json', 'content-length': String(body.length) },
  };
}

function errorCode(err: unknown): string {
  if (err instanceof Error) return (err as NodeJS.ErrnoException).code ?? err.message;
  return String(err);
}

const DONE_TAIL = 'data: [DONE]';

function requestOnce(
  agent: http.Agent,
  p: Prepared,
  idleTimeoutMs: number,
  onFirstByte?: (status: number) => void,
): InFlight {
  const t0 = performance.now();
  let req: http.ClientRequest | undefined;
  const done = new Promise<Outcome>((resolve) => {
    let ttfb = -1;
    let bytes = 0;
    let tail = '';
    let settled = false;
    const finish = (status: number, error: string | null, complete: boolean): void => {
      if (settled) return;
      settled = true;
      resolve({ status, error, ttfbMs: ttfb, totalMs: performance.now() - t0, bytes, complete });
    };
    req = http.request(
      { agent, host: p.spec.host, port: p.spec.port, path: p.spec.path, method: 'POST', headers: p.headers },
      (res) => {
        const status = res.statusCode ?? 0;
        res.on('data', (chunk: Buffer) => {
          if (ttfb < 0) {
            ttfb = performance.now() - t0;
            if (onFirstByte) onFirstByte(status);
          }
          bytes += chunk.length;
          if (p.spec.stream) tail = (tail + chunk.toString('latin1')).slice(-24);
        });
        res.on('end', () => finish(status, null, !p.spec.stream || tail.trimEnd().endsWith(DONE_TAIL)));
        res.on('error', (err) => finish(status, errorCode(err), false));
        res.on('close', () => finish(status, 'ECONNRESET', false));
      },
    );
    req.setTimeout(idleTimeoutMs, () => req?.destroy(Object.assign(new Error('idle timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err) => finish(0, errorCode(err), false));
    req.end(p.body);
  });
  return { done, abort: () => req?.destroy() };
}

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function runLoad(job: LoadJob): Promise<LoadResult> {
  const p = prepare(job.request);
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency, maxFreeSockets: job.concurrency });
  const total = new Histogram();
  const ttfb = new Histogram();
  const statusCounts: Record<string, number> = {};
  const errorCounts: Record<string, number> = {};
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let incomplete = 0;
  let okInWindow = 0;
  let okBytes = 0;
  const start = performance.now();
  const measureStart = start + job.warmupMs;
  const endAt = measureStart + job.durationMs;
  let drained = false;
  const drain = (): void => {
    if (drained) return;
    drained = true;
    send({ type: 'phase', id: job.id, phase: 'drain' });
  };
  const t1 = setTimeout(() => send({ type: 'phase', id: job.id, phase: 'measure' }), job.warmupMs);
  const t2 = setTimeout(drain, job.warmupMs + job.durationMs);

  const loop = async (): Promise<void> => {
    while (performance.now() < endAt) {
      const began = performance.now();
      const o = await requestOnce(agent, p, job.requestTimeoutMs).done;
      const ended = began + o.totalMs;
      const good = o.error === null && o.status >= 200 && o.status < 300 && o.complete;
      if (good && ended >= measureStart && ended <= endAt) okInWindow++;
      if (began >= measureStart) {
        if (o.error !== null) {
          errors++;
          bump(errorCounts, o.error);
        } else if (o.status < 200 || o.status >= 300) {
          non2xx++;
          bump(statusCounts, String(o.status));
        } else if (!o.complete) {
          incomplete++;
        } else {
          ok++;
          okBytes += o.bytes;
          total.recordMs(o.totalMs);
          if (p.spec.stream) ttfb.recordMs(o.ttfbMs);
        }
      }
      // Do not spin a hot loop against a dead target.
      if (o.error !== null) await sleep(5);
    }
  };
  try {
    await Promise.all(Array.from({ length: job.concurrency }, loop));
  } finally {
    clearTimeout(t1);
    clearTimeout(t2);
    drain(); // the loops may finish before a late timer fires
    agent.destroy();
  }
  return {
    ok,
    non2xx,
    errors,
    incomplete,
    statusCounts,
    errorCounts,
    reqPerSec: okInWindow / (job.durationMs / 1000),
    windowMs: job.durationMs,
    bytesPerResponse: ok > 0 ? Math.round(okBytes / ok) : 0,
    total: total.summary(),
    ttfb: p.spec.stream ? ttfb.summary() : null,
  };
}

interface Held {
  inflight: InFlight[];
  settled: Promise<Outcome[]>;
}
const holds = new Map<number, Held>();

function startHold(job: HoldJob): void {
  const p = prepare(job.request);
  const agent = new http.Agent({ keepAlive: false, maxSockets: job.count + 16 });
  const ttfb = new Histogram();
  const errorCounts: Record<string, number> = {};
  const t0 = performance.now();
  let firstBytes = 0;
  let failed = 0;
  let non2xx = 0;
  let reported = false;
  const report = (timedOut: boolean): void => {
    if (reported) return;
    reported = true;
    clearTimeout(timer);
    const result: HoldResult = {
      requested: job.count,
      firstBytes,
      non2xx,
      errors: failed - non2xx,
      errorCounts,
      rampMs: performance.now() - t0,
      ttfb: ttfb.summary(),
      timedOut,
    };
    send({ type: 'held', id: job.id, result });
  };
  const timer = setTimeout(() => report(true), job.firstByteTimeoutMs);
  const inflight: InFlight[] = [];
  for (let i = 0; i < job.count; i++) {
    const f = requestOnce(agent, p, 60_000, (status) => {
      if (status >= 200 && status < 300) {
        firstBytes++;
        ttfb.recordMs(performance.now() - t0);
      } else {
        failed++;
        non2xx++;
      }
      if (firstBytes + failed >= job.count) report(false);
    });
    void f.done.then((o) => {
      if (o.ttfbMs >= 0) return; // already counted when its first byte arrived
      failed++;
      if (o.error !== null) bump(errorCounts, o.error);
      else if (o.status >= 200 && o.status < 300) bump(errorCounts, 'empty-body');
      else non2xx++;
      if (firstBytes + failed >= job.count) report(false);
    });
    inflight.push(f);
  }
  const settled = Promise.all(inflight.map((f) => f.done)).finally(() => agent.destroy());
  holds.set(job.id, { inflight, settled });
}

async function release(id: number): Promise<void> {
  const held = holds.get(id);
  if (!held) {
    send({ type: 'released', id, completed: 0, aborted: 0 });
    return;
  }
  holds.delete(id);
  for (const f of held.inflight) f.abort();
  const outcomes = await held.settled;
  const completed = outcomes.filter((o) => o.error === null && o.complete).length;
  send({ type: 'released', id, completed, aborted: outcomes.length - completed });
}

process.on('message', (raw: unknown) => {
  const cmd = raw as LoadgenCommand;
  const fail = (err: unknown): void => send({ type: 'failed', id: cmd.id, message: errorCode(err) });
  if (cmd.type === 'load') {
    runLoad(cmd).then((result) => send({ type: 'load-result', id: cmd.id, result }), fail);
  } else if (cmd.type === 'hold') {
    try {
      startHold(cmd);
    } catch (err) {
      fail(err);
    }
  } else if (cmd.type === 'release') {
    release(cmd.id).catch(fail);
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
