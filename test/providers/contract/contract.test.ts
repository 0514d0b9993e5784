// The provider connector contract (src/providers/provider.ts, DESIGN §8), run over every connector
// (connectors.ts): priming on the first event, the rejection shape, cancellation, usage.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MeshError } from '../../../src/errors.ts';
import type { SseEvent } from '../../../src/lib/sse.ts';
import type { ProviderResponse } from '../../../src/providers/provider.ts';
import { bodyUsage } from '../../../src/proxy/endpoints/usage-scan.ts';
import { providerCall, rejection } from '../../helpers/provider-call.ts';
import { CONNECTORS, type Harness } from './connectors.ts';

const STREAM_BODY = { model: 'x', messages: [{ role: 'user', content: 'Hello' }], stream: true, stream_options: { include_usage: true } };

function streamCall(h: Harness, signal = new AbortController().signal) {
  return h.provider.call(providerCall(h.model, 'Hello', 'req-contract', { mode: 'sse', body: STREAM_BODY, signal }));
}

async function drain(res: ProviderResponse): Promise<SseEvent[]> {
  assert.equal(res.kind, 'sse');
  if (res.kind !== 'sse') return [];
  const out: SseEvent[] = [];
  for (let r = await res.events.next(); r.done !== true; r = await res.events.next()) out.push(r.value);
  return out;
}

/** Resolves within `ms`, or fails the test naming `what`. */
async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

for (const connector of CONNECTORS) {
  describe(`connector contract: ${connector.name}`, () => {
    test('a stream resolves only once its first event has arrived, and yields that event first', async (t) => {
      const h = await connector.firstEventAfter(150);
      t.after(() => h.close());
      const started = performance.now();
      const res = await streamCall(h);
      const waited = performance.now() - started;
      assert.ok(waited >= 120, `resolved after ${waited.toFixed(0)} ms, before the first event (150 ms)`);
      assert.equal(res.kind, 'sse');
      if (res.kind !== 'sse') return;
      // The first event is already in hand: next() answers at once, with data.
      const first = await within(50, 'the primed first event', res.events.next());
      assert.equal(first.done, false);
      assert.ok(first.value.data.length > 0);
      const rest = await drain(res);
      assert.equal(rest.at(-1)?.data, '[DONE]');
    });

    test('a failure before the first event rejects the call (the router may still fail over)', async (t) => {
      const h = await connector.failsBeforeFirstEvent();
      t.after(() => h.close());
      const err = await rejection(streamCall(h));
      assert.equal(err.code, 'upstream_error');
      assert.equal(err.upstream?.status, h.expected.status);
      assert.match(err.upstream?.reason ?? '', h.expected.reason);
    });

    test('the rejection shape: MeshError upstream_error (502) with upstream.status and reason', async (t) => {
      const h = await connector.failsWithStatus();
      t.after(() => h.close());
      for (const mode of ['buffer', 'sse'] as const) {
        const body = mode === 'sse' ? STREAM_BODY : { model: 'x', messages: [{ role: 'user', content: 'Hello' }] };
        const err = await rejection(h.provider.call(providerCall(h.model, 'Hello', 'req-contract', { mode, body })));
        assert.ok(err instanceof MeshError);
        assert.equal(err.code, 'upstream_error', mode);
        assert.equal(err.status, 502, mode);
        assert.equal(err.type, 'server_error', mode);
        assert.equal(err.upstream?.status, h.expected.status, mode);
        assert.match(err.upstream?.reason ?? '', h.expected.reason, mode);
        assert.ok(err.message.length > 0);
      }
    });

    test('cancellation: an abort rejects with cancelled at once and ends the upstream request', async (t) => {
      const h = await connector.neverAnswers();
      t.after(() => h.close());
      for (const mode of ['buffer', 'sse'] as const) {
        const ac = new AbortController();
        const body = mode === 'sse' ? STREAM_BODY : { model: 'x', messages: [{ role: 'user', content: 'Hello' }] };
        const pending = h.provider.call(providerCall(h.model, 'Hello', 'req-contract', { mode, body, signal: ac.signal }));
        await new Promise((r) => setTimeout(r, 30));
        const aborted = performance.now();
        ac.abort();
        const err = await within(500, 'the cancelled rejection', rejection(pending));
        assert.equal(err.code, 'cancelled', mode);
        assert.ok(performance.now() - aborted < 500);
        await until(() => h.openRequests() === 0, 500, `${mode}: the upstream request ends`);
      }
      // An already-aborted signal never reaches the upstream at all.
      const ac = new AbortController();
      ac.abort();
      const err = await rejection(streamCall(h, ac.signal));
      assert.equal(err.code, 'cancelled');
    });

    test('usage is reported: a buffered answer carries OpenAI usage the relay can read', async (t) => {
      const h = await connector.answersWithUsage(false);
      t.after(() => h.close());
      const res = await h.provider.call(providerCall(h.model, 'Hello', 'req-contract'));
      assert.equal(res.kind, 'buffer');
      if (res.kind !== 'buffer') return;
      const body = JSON.parse(res.body.toString('utf8')) as { usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } };
      const usage = body.usage;
      assert.ok(usage !== undefined, 'usage present');
      if (h.usage === null) {
        assert.ok(usage.prompt_tokens > 0 && usage.completion_tokens > 0, JSON.stringify(usage));
      } else {
        assert.equal(usage.prompt_tokens, h.usage.prompt_tokens);
        assert.equal(usage.completion_tokens, h.usage.completion_tokens);
      }
      assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
      assert.deepEqual(bodyUsage(res.body), { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens });
    });

    test('usage is reported: a stream with include_usage ends with a usage chunk before [DONE]', async (t) => {
      const h = await connector.answersWithUsage(true);
      t.after(() => h.close());
      const events = await drain(await streamCall(h));
      assert.equal(events.at(-1)?.data, '[DONE]');
      const last = JSON.parse(events.at(-2)?.data ?? '{}') as { choices?: unknown[]; usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } };
      assert.deepEqual(last.choices, []);
      const usage = last.usage;
      assert.ok(usage !== undefined, 'usage chunk present');
      if (h.usage === null) assert.ok(usage.prompt_tokens > 0 && usage.completion_tokens > 0, JSON.stringify(usage));
      else assert.deepEqual([usage.prompt_tokens, usage.completion_tokens], [h.usage.prompt_tokens, h.usage.completion_tokens]);
      assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
    });
  });
}
