// The composition root (mesh.ts): per-request views and reload generations (issue 11.2 at unit level).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CancelToken } from '../../src/lib/cancel.ts';
import { ModelMesh } from '../../src/mesh/mesh.ts';
import type { RouteRequest, Router } from '../../src/mesh/router.ts';
import { NO_NEEDS } from '../../src/mesh/eligibility.ts';
import { simulatedConfig } from '../helpers/proxy.ts';

function chat(router: Router, requestId: string): ReturnType<Router['route']> {
  const req: RouteRequest = {
    endpoint: 'chat', model: 'text-generation', body: { messages: [{ role: 'user', content: 'hi' }] }, form: null, mode: 'buffer',
    needs: NO_NEEDS, sessionId: null, requestId, signal: new CancelToken(),
  };
  return router.route(req);
}

test('a view keeps its generation across a reload; the new one serves new views', async (t) => {
  const mesh = ModelMesh.fromConfig(simulatedConfig({}, '200ms'), { env: {} });
  t.after(() => mesh.shutdown());
  const lease = mesh.view();
  const pending = chat(lease.router, 'r1');
  mesh.reload(mesh.config);
  const fresh = mesh.view();
  assert.notEqual(fresh.router, lease.router);
  assert.equal(fresh.config, mesh.config);
  const routed = await pending; // before the fix: rejected with "provider closed" by the reload
  assert.equal(routed.response.status, 200);
  assert.equal(routed.headers['x-modelmesh-attempts'], '1');
  routed.finish({ usage: null });
  lease.release();
  fresh.release();
});

test('the old generation closes when its last view is released, not before', (t) => {
  const mesh = ModelMesh.fromConfig(simulatedConfig(), { env: {} });
  t.after(() => mesh.shutdown());
  const first = mesh.view();
  const second = mesh.view();
  const provider = first.runtime.registry.providers.get('sim');
  assert.ok(provider);
  let closes = 0;
  const close = provider.close.bind(provider);
  provider.close = () => {
    closes++;
    close();
  };
  mesh.reload(mesh.config);
  assert.equal(closes, 0, 'closed at reload while views still hold it');
  first.release();
  first.release(); // a second release is a no-op: `second` still holds the generation
  assert.equal(closes, 0);
  second.release();
  assert.equal(closes, 1, 'closed when the last view was released');
  // A generation nobody holds closes at the reload itself.
  const current = mesh.view().runtime.registry.providers.get('sim');
  assert.ok(current);
  let currentCloses = 0;
  current.close = () => void currentCloses++;
  mesh.view().release();
  mesh.reload(mesh.config);
  assert.equal(currentCloses, 0, 'the view taken above is still held');
});
