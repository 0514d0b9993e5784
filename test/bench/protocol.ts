// IPC message shapes shared by run.ts and its child processes (types only).

import type { LatencySummary } from './histogram.ts';

/** Where and what the load generator sends. */
export interface RequestSpec {
  host: string;
  port: number;
  path: string;
  /** JSON request body, sent verbatim as a precomputed Buffer. */
  body: string;
  stream: boolean;
  headers: Record<string, string>;
}

export interface LoadJob {
  type: 'load';
  id: number;
  request: RequestSpec;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Per-request idle timeout (socket inactivity) before the request is aborted. */
  requestTimeoutMs: number;
}

export interface HoldJob {
  type: 'hold';
  id: number;
  request: RequestSpec;
  count: number;
  /** Give up waiting for all first bytes after this long. */
  firstByteTimeoutMs: number;
}

export interface ReleaseJob {
  type: 'release';
  id: number;
}

export type LoadgenCommand = LoadJob | HoldJob | ReleaseJob;

export interface LoadResult {
  /** Completed 2xx responses that started inside the measured window. */
  ok: number;
  non2xx: number;
  errors: number;
  /** 2xx streams that did not end with `data: [DONE]`. */
  incomplete: number;
  statusCounts: Record<string, number>;
  errorCounts: Record<string, number>;
  /** Responses (any status) completed inside the window, divided by the window. */
  reqPerSec: number;
  windowMs: number;
  bytesPerResponse: number;
  total: LatencySummary;
  /** Time to first response body byte (streaming only). */
  ttfb: LatencySummary | null;
}

export interface HoldResult {
  requested: number;
  firstBytes: number;
  non2xx: number;
  errors: number;
  errorCounts: Record<string, number>;
  /** ms from the first request until all streams had their first byte (or gave up). */
  rampMs: number;
  ttfb: LatencySummary;
  timedOut: boolean;
}

export type LoadgenReply =
  | { type: 'ready' }
  | { type: 'phase'; id: number; phase: 'measure' | 'drain' }
  | { type: 'load-result'; id: number; result: LoadResult }
  | { type: 'held'; id: number; result: HoldResult }
  | { type: 'released'; id: number; completed: number; aborted: number }
  | { type: 'failed'; id: number; message: string };

export type UpstreamCommand = { type: 'set'; chunks?: number; paceMs?: number };

export type UpstreamReply =
  | { type: 'listening'; port: number }
  | { type: 'set-done'; chunks: number; paceMs: number };
