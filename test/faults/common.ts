// Shared by the fault suite (issue 11, "Keep it this way"): the run size, the summary lines, an OpenAI error
// check, and a mesh config with every endpoint's capability on scripted fake upstreams.
//
// Size: `npm test` runs a bounded sample (a few seconds in all); `MESH_FAULTS=full` runs the large one whose
// figures the README quotes. Each group prints one `# faults: …` line (a node:test diagnostic) with its figures.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { FakeUpstream } from '../helpers/fake-upstream.ts';

export const FULL = process.env['MESH_FAULTS'] === 'full';

/** `small` in `npm test`, `full` with MESH_FAULTS=full. */
export function size(small: number, full: number): number {
  return FULL ? full : small;
}

/** 1240 -> "1,240". */
export function n(value: number): string {
  return value.toLocaleString('en-US');
}

/** One summary line per group, e.g. `# faults: bad inputs 1,240 → 1,240 OpenAI-shaped 4xx, …`. */
export function summary(t: TestContext, line: string): void {
  t.diagnostic(`faults: ${line}`);
}

/** True when `body` is exactly `{"error":{"message","type","param","code"}}` with a string message and type. */
export function isOpenAiError(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const err = (body as { error?: unknown }).error;
  if (typeof err !== 'object' || err === null || Array.isArray(err)) return false;
  const e = err as Record<string, unknown>;
  if (Object.keys(e).sort().join(',') !== 'code,message,param,type') return false;
  const nullableString = (v: unknown): boolean => v === null || typeof v === 'string';
  return typeof e['message'] === 'string' && typeof e['type'] === 'string' && nullableString(e['param']) && nullableString(e['code']);
}

/** Asserts that every failure in `failures` is absent, printing the first few when not. */
export function assertNone(failures: string[], what: string): void {
  assert.equal(failures.length, 0, `${failures.length} ${what}:\n${failures.slice(0, 60).join('\n')}`);
}

export const ADMIN_TOKEN = 'adm-faults';

/**
 * A mesh.yaml-shaped object: one openai-compatible provider per fake upstream (`a`, `b`, …), each with a model
 * for every endpoint's capability, so every pool has one member per upstream.
 */
export function meshFor(ups: FakeUpstream[], extra: { proxy?: Record<string, unknown>; pools?: Record<string, unknown>; timeouts?: Record<string, string> } = {}): Record<string, unknown> {
  const providers: Record<string, unknown> = {};
  const models: Record<string, unknown> = {};
  ups.forEach((up, i) => {
    const id = String.fromCharCode(97 + i);
    providers[id] = { connector: 'openai.llm.v1', base_url: up.url, api_key: 'sk-test', ...(extra.timeouts ? { timeouts: extra.timeouts } : {}) };
    models[`${id}.chat`] = { provider: id, capabilities: ['chat-completion'] };
    models[`${id}.embed`] = { provider: id, capabilities: ['text-embeddings'] };
    models[`${id}.tts`] = { provider: id, capabilities: ['text-to-speech'] };
    models[`${id}.stt`] = { provider: id, capabilities: ['speech-to-text'] };
    models[`${id}.image`] = { provider: id, capabilities: ['text-to-image'] };
  });
  return {
    proxy: { metrics: { enabled: true }, admin: { tokens: [ADMIN_TOKEN] }, ...extra.proxy },
    providers,
    models,
    ...(extra.pools ? { pools: extra.pools } : {}),
  };
}

/** Total upstream calls over the fakes. */
export function upstreamCalls(ups: FakeUpstream[]): number {
  return ups.reduce((sum, up) => sum + up.requests.length, 0);
}

/** Sum of the samples of a Prometheus counter whose labels include every `labels` pair. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Runs `count` tasks, at most `concurrency` at a time. */
export async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
