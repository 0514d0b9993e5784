// The router and registry without HTTP: simulated providers, an injected clock (no sleeping).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/clock.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { MeshError } from '../../src/errors.ts';
import { NO_NEEDS } from '../../src/mesh/eligibility.ts';
import type { MeshEvent } from '../../src/mesh/events.ts';
import { ModelMesh } from '../../src/mesh/mesh.ts';
import type { RouteRequest } from '../../src/mesh/router.ts';
import { CapabilityTree } from '../../src/mesh/capabilities.ts';

function meshWith(pool: Record<string, unknown>, clock = new ManualClock()): ModelMesh {
  return ModelMesh.fromConfig(
    {
      providers: {
        bad: { connector: 'modelmesh.simulated.v1', failure_rate: 1 },
        good: { connector: 'modelmesh.simulated.v1' },
      },
      models: {
        'bad.m': { provider: 'bad', capabilities: ['chat-completion'] },
        'good.m': { provider: 'good', capabilities: ['chat-completion'] },
        'good.embed': { provider: 'good', capabilities: ['text-embeddings'] },
      },
      pools: { p: { models: ['bad.m', 'good.m'], retry: { max_attempts: 1 }, ...pool } },
    },
    { clock, env: {} },
  );
}

function ask(model: string, extra: Partial<RouteRequest> = {}): RouteRequest {
  return {
    endpoint: 'chat', model, body: { messages: [{ role: 'user', content: 'hi' }] }, form: null, mode: 'buffer',
    needs: NO_NEEDS, sessionId: null, requestId: 'r', signal: new AbortController().signal, ...extra,
  };
}

test('retry_limit consecutive failures put a model in standby for the cooldown, then it is tried again', async () => {
  const clock = new ManualClock();
  const mesh = meshWith({ deactivation: { retry_limit: 2 }, recovery: { cooldown: '30s' } }, clock);
  const events: MeshEvent[] = [];
  mesh.events.on((e) => events.push(e));
  const attemptsOf = (): string[] => events.flatMap((e) => (e.type === 'request' ? e.attempts.map((a) => a.model) : []));

  // The pool rotates away from bad.m and then sticks to good.m (stick-until-failure).
  const first = await mesh.router.route(ask('p'));
  assert.equal(first.model.id, 'good.m');
  first.finish({ usage: { prompt_tokens: 1, completion_tokens: 1 } });
  assert.deepEqual(attemptsOf(), ['bad.m', 'good.m']);
  assert.ok(events.some((e) => e.type === 'rotation' && e.from === 'bad.m' && e.to === 'good.m'));

  // Naming the model directly: retried under its home pool's policy, never rotated.
  await assert.rejects(mesh.router.route(ask('bad.m')), (err: MeshError) => err.status === 502);
  const standby = events.find((e) => e.type === 'model_standby');
  assert.ok(standby && standby.type === 'model_standby');
  assert.equal(standby.model, 'bad.m');
  assert.match(standby.reason, /2 consecutive failures/);
  assert.equal(standby.until, clock.now() + 30_000);

  await assert.rejects(mesh.router.route(ask('bad.m')), (err: MeshError) => err.code === 'no_available_models');
  assert.equal(attemptsOf().length, 3, 'no attempt while in standby');

  clock.advance(30_000);
  await assert.rejects(mesh.router.route(ask('bad.m')), (err: MeshError) => err.status === 502);
  assert.deepEqual(attemptsOf().slice(3), ['bad.m'], 'after the cooldown bad.m is tried again');
  assert.ok(events.some((e) => e.type === 'model_active' && e.model === 'bad.m' && /cooldown/.test(e.reason)));
  await mesh.shutdown();
});

test('every member in standby → 503 no_available_models with Retry-After', async () => {
  const mesh = meshWith({ models: ['bad.m'], deactivation: { retry_limit: 1 }, recovery: { cooldown: '10s' } });
  await assert.rejects(mesh.router.route(ask('p')), (err: MeshError) => err.status === 502);
  await assert.rejects(mesh.router.route(ask('p')), (err: MeshError) => {
    assert.equal(err.status, 503);
    assert.equal(err.code, 'no_available_models');
    assert.match(err.message, /bad\.m: in standby/);
    assert.equal(err.headers['retry-after'], '10');
    return true;
  });
  await mesh.shutdown();
});

test('a model id or a unique upstream name resolves to that one model; aliases resolve to the pool', async () => {
  const mesh = meshWith({ aliases: ['gpt-4o'] });
  const direct = await mesh.router.route(ask('good.m'));
  assert.equal(direct.model.id, 'good.m');
  assert.equal(direct.pool, null);
  assert.equal(direct.headers['x-modelmesh-pool'], '');
  direct.finish({ usage: null });
  const alias = await mesh.router.route(ask('gpt-4o'));
  assert.equal(alias.pool, 'p');
  alias.finish({ usage: null });
  await assert.rejects(mesh.router.route(ask('bad.m')), (err: MeshError) => err.status === 502, 'a named model is retried, not rotated');
  await mesh.shutdown();
});

test('the endpoint decides eligibility: an embeddings model never serves chat and vice versa', async () => {
  const mesh = meshWith({});
  await assert.rejects(mesh.router.route(ask('good.embed')), (err: MeshError) => {
    assert.equal(err.code, 'no_eligible_models');
    assert.match(err.message, /does not serve chat/);
    return true;
  });
  const embed = await mesh.router.route(ask('embeddings', { endpoint: 'embeddings', body: { input: 'x' } }));
  assert.equal(embed.model.id, 'good.embed');
  embed.finish({ usage: null });
  await mesh.shutdown();
});

test('an empty predefined pool answers 503 saying it has no models', async () => {
  const mesh = meshWith({});
  await assert.rejects(mesh.router.route(ask('text-to-speech', { endpoint: 'speech' })), (err: MeshError) => {
    assert.equal(err.code, 'no_available_models');
    assert.match(err.message, /has no models/);
    return true;
  });
  await mesh.shutdown();
});

test('usage and pricing feed the request event and provider spend', async () => {
  const mesh = ModelMesh.fromConfig({
    providers: { s: { connector: 'modelmesh.simulated.v1' } },
    models: { 's.m': { provider: 's', capabilities: ['chat-completion'], pricing: { input_per_1m: 2, output_per_1m: 10 } } },
  }, { env: {} });
  const events: MeshEvent[] = [];
  mesh.events.on((e) => events.push(e));
  const routed = await mesh.router.route(ask('text-generation'));
  routed.finish({ usage: { prompt_tokens: 1000, completion_tokens: 500 } });
  const request = events.find((e) => e.type === 'request');
  assert.ok(request && request.type === 'request');
  assert.equal(request.outcome, 'success');
  assert.equal(request.tokens_in, 1000);
  assert.ok(Math.abs(request.cost - 0.007) < 1e-12);
  assert.ok(Math.abs(mesh.state.provider('s').spend_daily - 0.007) < 1e-12);
  await mesh.shutdown();
});

test('capability names: full path or unique leaf; unknown and ambiguous names list candidates', () => {
  const tree = new CapabilityTree(['custom.tools.chat-completion']);
  assert.equal(tree.resolve('generation.text-generation.chat-completion', 'x'), 'generation.text-generation.chat-completion');
  assert.equal(tree.resolve('ocr', 'x'), 'understanding.vision-understanding.ocr');
  assert.equal(tree.resolve('translation', 'x'), 'transformation.translation');
  assert.throws(() => tree.resolve('chat-completion', 'models.m.capabilities[0]'), /ambiguous, use one of: generation\.text-generation\.chat-completion, custom\.tools\.chat-completion/);
  assert.throws(() => tree.resolve('chat-complete', 'models.m.capabilities[0]'), /models\.m\.capabilities\[0\]: unknown capability "chat-complete"/);
  assert.ok(tree.isLeaf('custom.tools.chat-completion'));
  assert.ok(!tree.isLeaf('custom.tools'));
  assert.equal(new CapabilityTree().paths().filter((p) => new CapabilityTree().isLeaf(p)).length, 58, "every leaf of capabilities.md (13+13+9+5+10+4+4)");
});

test('config errors from the registry: unknown capability, unknown strategy, alias hiding a predefined pool', () => {
  assert.throws(
    () => ModelMesh.fromConfig({
      providers: { s: { connector: 'modelmesh.simulated.v1' } },
      models: { 's.m': { provider: 's', capabilities: ['chat-compleshun'] } },
      pools: { p: { strategy: 'modelmesh.stick-until-failur.v1', aliases: ['embeddings'] } },
    }, { env: {} }),
    (err: ConfigError) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, 'config_invalid');
      assert.match(err.message, /models\.s\.m\.capabilities\[0\]: unknown capability/);
      assert.match(err.message, /pools\.p\.strategy: unknown strategy .*did you mean "modelmesh\.stick-until-failure\.v1"/);
      assert.match(err.message, /alias "embeddings" is already the name of the predefined pool/);
      return true;
    },
  );
});

test('retry.scope: same_model retries the model, same_provider moves to a sibling model, any rotates at once', async () => {
  const orderFor = async (scope: string): Promise<string[]> => {
    const mesh = ModelMesh.fromConfig({
      providers: {
        a: { connector: 'modelmesh.simulated.v1', failure_rate: 1 },
        b: { connector: 'modelmesh.simulated.v1' },
      },
      models: {
        'a.one': { provider: 'a', capabilities: ['chat-completion'] },
        'b.one': { provider: 'b', capabilities: ['chat-completion'] },
        'a.two': { provider: 'a', capabilities: ['chat-completion'] },
      },
      pools: { p: { models: ['a.one', 'b.one', 'a.two'], retry: { max_attempts: 2, backoff: 'fixed', initial_delay: 0, scope } } },
    }, { env: {} });
    const attempts: string[] = [];
    mesh.events.on((e) => {
      if (e.type === 'request') attempts.push(...e.attempts.map((a) => a.model));
    });
    (await mesh.router.route(ask('p'))).finish({ usage: null });
    await mesh.shutdown();
    return attempts;
  };
  assert.deepEqual(await orderFor('same_model'), ['a.one', 'a.one', 'b.one']);
  assert.deepEqual(await orderFor('same_provider'), ['a.one', 'a.two', 'a.two', 'b.one']);
  assert.deepEqual(await orderFor('any'), ['a.one', 'b.one']);
});

test('eligibility: declared features and constraints exclude a model, with the reason; undeclared never do', async () => {
  const { unfitReason } = await import('../../src/mesh/eligibility.ts');
  const mesh = ModelMesh.fromConfig({
    providers: { s: { connector: 'modelmesh.simulated.v1' } },
    models: {
      's.strict': {
        provider: 's', capabilities: ['chat-completion', 'speech-to-text'],
        features: { system_prompt: false, logprobs: false },
        constraints: { max_images: 1, max_file_size: '1KiB', supported_languages: ['en', 'de'] },
      },
      's.open': { provider: 's', capabilities: ['chat-completion', 'speech-to-text'] },
    },
  }, { env: {} });
  const strict = mesh.registry.models.get('s.strict');
  const open = mesh.registry.models.get('s.open');
  assert.ok(strict && open);
  const cases: [Partial<typeof NO_NEEDS> & Record<string, unknown>, 'chat' | 'transcriptions', RegExp][] = [
    [{ system_prompt: true }, 'chat', /no system prompt support/],
    [{ logprobs: true }, 'chat', /no logprobs/],
    [{ images: 2 }, 'chat', /at most 1 images \(request has 2\)/],
    [{ file_bytes: 2048 }, 'transcriptions', /file of 2048 bytes over its 1024-byte limit/],
    [{ language: 'fr' }, 'transcriptions', /language "fr" not supported \(en, de\)/],
  ];
  for (const [needs, endpoint, reason] of cases) {
    assert.match(unfitReason(strict, endpoint, { ...NO_NEEDS, ...needs }) ?? '', reason);
    assert.equal(unfitReason(open, endpoint, { ...NO_NEEDS, ...needs }), null, 'undeclared: assumed able');
  }
  assert.equal(unfitReason(strict, 'transcriptions', { ...NO_NEEDS, file_bytes: 1024, language: 'de', images: 1 }), null);
  await mesh.shutdown();
});

test('a pool or alias named like an Object.prototype member (toString, constructor) is an ordinary name', () => {
  const mesh = ModelMesh.fromConfig({
    providers: { sim: { connector: 'modelmesh.simulated.v1' } },
    models: { 'sim.chat': { provider: 'sim', capabilities: ['chat-completion'] } },
    pools: { constructor: { models: ['sim.chat'], aliases: ['toString'] } },
  }, { env: {} });
  assert.deepEqual(mesh.findModel('toString')?.id, 'toString');
  assert.ok(mesh.listModels().some((card) => card.id === 'constructor'));
});
