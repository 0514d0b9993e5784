// Fault suite, bad inputs (issue 11): every malformed or wrongly typed request to every endpoint gets an
// OpenAI-shaped 4xx, reaches no upstream and changes no state (GET /mesh/status and the state store compared
// before and after), and the proxy keeps serving. Cases come from the tables in inputs.ts.
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { test } from 'node:test';
import { json, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { postJson, request, startProxy } from '../helpers/proxy.ts';
import { ADMIN_TOKEN, assertNone, isOpenAiError, meshFor, n, pool, summary, upstreamCalls } from './common.ts';
import { deepNesting, hugeValues, malformedJson, multipart, wrongTypes, type BadInput } from './inputs.ts';

const CHAT_OK = { id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] };

test('bad inputs: every one an OpenAI-shaped 4xx, 0 upstream calls, 0 state changes, 0 crashes', async (t) => {
  const ups = [await startFakeUpstream(), await startFakeUpstream()];
  for (const up of ups) {
    t.after(() => up.close());
    up.handle(json(200, CHAT_OK));
  }
  const proxy = await startProxy(meshFor(ups, { proxy: { limits: { max_body: '1MiB', max_upload: '1MiB' } } }));
  t.after(() => proxy.close());
  const status = async (): Promise<string> => {
    const reply = await request(`${proxy.url}/mesh/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(reply.status, 200);
    return JSON.stringify(withoutClock(reply.json));
  };
  const statusBefore = await status();
  const stateBefore = storeState(proxy.mesh.state.snapshot());

  const groups: [string, BadInput[]][] = [
    ['wrong types', wrongTypes()], ['malformed JSON', malformedJson()], ['deep nesting', deepNesting()],
    ['huge values', hugeValues()], ['malformed multipart', multipart()],
  ];
  const all = groups.flatMap(([, cases]) => cases);
  const failures: string[] = [];
  const perGroup = new Map<string, number>();
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  t.after(() => agent.destroy());
  await pool(all.length, 8, async (i) => {
    const c = all[i] as BadInput;
    const reply = await request(`${proxy.url}${c.path}`, { method: 'POST', headers: c.headers, body: c.body, agent }).catch((err: Error) => err);
    if (reply instanceof Error) return void failures.push(`${c.name}: ${reply.message}`);
    if (reply.status < 400 || reply.status > 499 || !isOpenAiError(reply.json)) {
      return void failures.push(`${c.name}: ${reply.status} ${reply.body.slice(0, 200)}`);
    }
  });
  for (const [name, cases] of groups) perGroup.set(name, cases.length);
  const calls = upstreamCalls(ups);
  const statusAfter = await status();
  const stateAfter = storeState(proxy.mesh.state.snapshot());
  const stateChanged = statusAfter !== statusBefore || stateAfter !== stateBefore;

  // Still serving: a valid request after all that is answered by an upstream.
  const ok = await postJson(`${proxy.url}/v1/chat/completions`, { model: 'text-generation', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(ok.status, 200);
  summary(t, `bad inputs ${n(all.length)} (${[...perGroup].map(([k, v]) => `${k} ${n(v)}`).join(', ')}) → ` +
    `${n(all.length - failures.length)} OpenAI-shaped 4xx, ${n(calls)} upstream calls, ${stateChanged ? 1 : 0} state changes, 0 crashes`);
  assertNone(failures, 'bad inputs not answered with an OpenAI-shaped 4xx');
  assert.equal(calls, 0, 'no bad input reaches an upstream');
  assert.equal(stateChanged, false, 'no bad input changes the mesh state');
});

/** /mesh/status without the fields that move with the clock (uptime, timestamps). */
function withoutClock(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutClock);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (!/uptime|^now$|generated|^time$|_at$/.test(k)) out[k] = withoutClock(v);
  return out;
}


/** The state store's models and providers (not the snapshot's own `saved_at`). */
function storeState(snapshot: { models: unknown; providers: unknown }): string {
  return JSON.stringify({ models: snapshot.models, providers: snapshot.providers });
}
