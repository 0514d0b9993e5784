// Shared by the mesh tests (strategies, policy, recovery): meshes over fake upstreams, one-call routing,
// and a StrategyContext for calling `strategy.order` directly.
import type { TestContext } from 'node:test';
import { ManualClock } from '../../src/lib/clock.ts';
import { NO_NEEDS } from '../../src/mesh/eligibility.ts';
import type { MeshEvent } from '../../src/mesh/events.ts';
import { ModelMesh } from '../../src/mesh/mesh.ts';
import type { PoolEntry, StrategyContext } from '../../src/mesh/types.ts';
import { json, startFakeUpstream, type Behaviour, type FakeUpstream } from '../helpers/fake-upstream.ts';

export const CHAT_OK = { id: 'chatcmpl-1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }] };

/** An OpenAI-style 200 chat answer, optionally with extra response headers (x-ratelimit-*). */
export function ok(headers: Record<string, string> = {}): Behaviour {
  return json(200, CHAT_OK, headers);
}

export function fail(status: number): Behaviour {
  return json(status, { error: { message: `failed with ${status}`, type: 'server_error', param: null, code: null } });
}

/** `n` fake upstreams (closed after the test). */
export async function upstreams(t: TestContext, n: number): Promise<FakeUpstream[]> {
  const list: FakeUpstream[] = [];
  for (let i = 0; i < n; i++) {
    const up = await startFakeUpstream();
    t.after(() => up.close());
    list.push(up);
  }
  return list;
}

export interface MeshSpec {
  /** provider id → base URL (each gets one model `<id>.m` unless `models` says otherwise). */
  providers: Record<string, string>;
  models?: Record<string, Record<string, unknown>>;
  pool: Record<string, unknown>;
  providerExtra?: Record<string, Record<string, unknown>>;
  proxy?: Record<string, unknown>;
  env?: Record<string, string>;
}

/** The raw mesh.yaml-shaped object of a spec: pool `p` over every model. */
export function rawConfig(spec: MeshSpec): Record<string, unknown> {
  const providers: Record<string, unknown> = {};
  const models: Record<string, unknown> = {};
  for (const [id, url] of Object.entries(spec.providers)) {
    providers[id] = { connector: 'openai.llm.v1', base_url: url, api_key: 'sk-test-key', ...spec.providerExtra?.[id] };
    if (!spec.models) models[`${id}.m`] = { provider: id, capabilities: ['chat-completion'] };
  }
  Object.assign(models, spec.models ?? {});
  return {
    ...(spec.proxy ? { proxy: spec.proxy } : {}),
    providers,
    models,
    pools: { p: { models: Object.keys(models), retry: { max_attempts: 1 }, ...spec.pool } },
  };
}

export function buildMesh(t: TestContext, spec: MeshSpec, clock = new ManualClock()): { mesh: ModelMesh; clock: ManualClock; events: MeshEvent[] } {
  const mesh = ModelMesh.fromConfig(rawConfig(spec), { clock, env: spec.env ?? {} });
  t.after(() => mesh.shutdown());
  const events: MeshEvent[] = [];
  mesh.events.on((e) => {
    if (e.type !== 'request') events.push(e);
  });
  return { mesh, clock, events };
}

export interface RouteResult {
  model: string;
  error: string | null;
  status: number;
}

/** One chat request through the router; finishes it with `usage`. Never throws: failures come back as `error`. */
export async function route(
  mesh: ModelMesh, options: { pool?: string; sessionId?: string | null; usage?: { prompt_tokens: number; completion_tokens: number } } = {},
): Promise<RouteResult> {
  try {
    const routed = await mesh.router.route({
      endpoint: 'chat', model: options.pool ?? 'p', body: { messages: [{ role: 'user', content: 'hello' }] }, form: null, mode: 'buffer',
      needs: NO_NEEDS, sessionId: options.sessionId ?? null, requestId: 'r1', signal: new AbortController().signal,
    });
    routed.finish({ usage: options.usage ?? { prompt_tokens: 10, completion_tokens: 5 } });
    return { model: routed.model.id, error: null, status: routed.response.status };
  } catch (err) {
    const e = err as { message: string; status: number };
    return { model: '', error: e.message, status: e.status };
  }
}

/** Route `n` requests one after another; the serving model ids in order. */
export async function routeMany(mesh: ModelMesh, n: number, options: Parameters<typeof route>[1] = {}): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await route(mesh, options)).model);
  return out;
}

export function pool(mesh: ModelMesh, name = 'p'): PoolEntry {
  const entry = mesh.registry.pools.get(name);
  if (!entry) throw new Error(`no pool ${name}`);
  return entry;
}

export function ctxOf(mesh: ModelMesh, name = 'p', sessionId: string | null = null): StrategyContext {
  return { pool: pool(mesh, name), state: mesh.state, clock: mesh.clock, sessionId, requestId: 'r1' };
}

/** Ids of `strategy.order` over every member of the pool. */
export function orderIds(mesh: ModelMesh, name = 'p', sessionId: string | null = null): string[] {
  const p = pool(mesh, name);
  return p.strategy.order(p.members, ctxOf(mesh, name, sessionId)).map((m) => m.id);
}

/** Counts of each value. */
export function tally(ids: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of ids) counts[id] = (counts[id] ?? 0) + 1;
  return counts;
}

/** A base URL nothing listens on is never called by the pure-ordering tests. */
export const UNUSED_URL = 'http://127.0.0.1:9/v1';
