// The composition root (mesh.ts): per-request views and reload generations (issue 11.2 at unit level).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CancelToken } from '../../src/lib/cancel.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { ModelMesh, SERVICE_STOP_MS } from '../../src/mesh/mesh.ts';
import type { RouteRequest, Router } from '../../src/mesh/router.ts';
import { NO_NEEDS } from '../../src/mesh/eligibility.ts';
import { captureLogger, simulatedConfig } from '../helpers/proxy.ts';

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

test('shutdown: a service that never stops is given up after its bound, and the state save after it still runs', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-stop-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const clock = new ManualClock();
  const { logger, records } = captureLogger();
  const mesh = ModelMesh.fromConfig(simulatedConfig({ storage: { path: 'state.json' } }), { env: {}, clock, logger, baseDir: dir });
  await mesh.start();
  // A log file on a filesystem that stopped answering: its flush never settles.
  let stuck!: () => void;
  const reached = new Promise<void>((resolve) => (stuck = resolve));
  mesh.observability.stop = () => {
    stuck();
    return new Promise<void>(() => undefined);
  };
  let finished = false;
  const done = mesh.shutdown().then(() => (finished = true));
  await reached;
  clock.advance(SERVICE_STOP_MS - 1);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(finished, false, 'the service gets its whole bound');
  clock.advance(1);
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  assert.equal(finished, true, 'shutdown finished without the stuck service');
  assert.ok(fs.existsSync(path.join(dir, 'state.json')), 'the state was saved after it');
  const line = records.find((r) => r.msg === 'service did not stop in time');
  assert.deepEqual(line?.fields, { service: 'observability', waited_ms: SERVICE_STOP_MS });
  assert.equal(records.filter((r) => r.msg === 'service did not stop in time').length, 1, 'only that one');
});
