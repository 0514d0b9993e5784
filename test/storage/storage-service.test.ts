// The storage service: each sync policy with a ManualClock, restore rules, corrupt files, failing saves.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ManualClock } from '../../src/lib/clock.ts';
import { ModelMesh } from '../../src/mesh/mesh.ts';
import { nodeFs, type AtomicFs } from '../../src/storage/atomic-write.ts';
import { createStorageService } from '../../src/storage/storage-service.ts';
import { checkStatePath } from '../../src/storage/local-file.ts';
import { captureLogger } from '../helpers/proxy.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const HOUR = 3_600_000;

function meshFor(path: string | null, policy: string, clock: ManualClock, extraModels: Record<string, unknown> = {}) {
  const { logger, records } = captureLogger();
  const storage: Record<string, unknown> = { sync_policy: policy, sync_interval: '10s' };
  if (path !== null) storage['path'] = path;
  const mesh = ModelMesh.fromConfig({
    providers: { sim: { connector: 'modelmesh.simulated.v1' } },
    models: { 'sim.a': { provider: 'sim', capabilities: ['chat-completion'] }, 'sim.b': { provider: 'sim', capabilities: ['chat-completion'] }, ...extraModels },
    storage,
  }, { clock, logger, env: {} });
  return { mesh, records, storage: createStorageService(mesh) };
}

function readState(path: string): { models: Record<string, { status: string; until: number | null; reason: string | null }> } {
  return JSON.parse(readFileSync(path, 'utf8'));
}

test('in-memory never touches disk', async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock();
  const { mesh, storage } = meshFor(join(dir, 'state.json'), 'in-memory', clock);
  writeFileSync(join(dir, 'state.json'), 'not even read');
  await storage.start?.();
  mesh.state.holdModel('sim.a', 'sim', { reason: 'test', until: clock.now() + HOUR, cause: 'failure', pool: null, manual: false });
  clock.advance(HOUR);
  await storage.stop?.();
  assert.deepEqual(readdirSync(dir), ['state.json']);
  assert.equal(readFileSync(join(dir, 'state.json'), 'utf8'), 'not even read');
  assert.equal(storage.saves, 0);
});

test('sync-on-boundary: saved at stop, loaded at start; a standby survives until its absolute `until`', async (t) => {
  const path = join(tempDir(t), 'state', 'state.json');
  const clock = new ManualClock();
  const first = meshFor(path, 'sync-on-boundary', clock);
  await first.storage.start?.();
  assert.ok(!existsSync(path), 'first start: no file yet, none created');
  first.mesh.state.holdModel('sim.a', 'sim', { reason: '3 consecutive failures', until: clock.now() + HOUR, cause: 'failure', pool: 'text-generation', manual: false });
  clock.advance(60_000);
  assert.ok(!existsSync(path), 'nothing written before the boundary');
  await first.storage.stop?.();
  assert.equal(readState(path).models['sim.a']?.status, 'standby');

  clock.advance(20 * 60_000); // "restart" 20 minutes later
  const second = meshFor(path, 'sync-on-boundary', clock);
  await second.storage.start?.();
  assert.equal(second.mesh.state.isModelActive('sim.a', 'sim'), false);
  assert.equal(second.mesh.state.model('sim.a').reason, '3 consecutive failures');
  assert.equal(second.mesh.state.isModelActive('sim.b', 'sim'), true);
  assert.ok(second.records.some((r) => r.msg === 'state loaded' && r.fields?.['standby'] === 1));
  clock.advance(40 * 60_000); // the hour has passed
  assert.equal(second.mesh.state.isModelActive('sim.a', 'sim'), true);
  await second.storage.stop?.();
  assert.equal(readState(path).models['sim.a']?.status, 'active');
});

test('state of models and providers no longer configured is dropped on load; missing fields get defaults', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const clock = new ManualClock();
  const old = { status: 'standby', reason: 'old', until: clock.now() + HOUR, since: clock.now(), manual: false };
  writeFileSync(path, JSON.stringify({
    version: 1, saved_at: clock.now(),
    models: { 'sim.a': old, 'gone.model': old },
    providers: { sim: { status: 'active', reason: null, until: null, since: 0, manual: false }, gone: { status: 'active', until: null } },
  }));
  const { mesh, storage } = meshFor(path, 'sync-on-boundary', clock);
  await storage.start?.();
  const snap = mesh.state.snapshot();
  assert.deepEqual(Object.keys(snap.models), ['sim.a']);
  assert.deepEqual(Object.keys(snap.providers), ['sim']);
  const a = mesh.state.model('sim.a');
  assert.equal(a.status, 'standby');
  assert.equal(a.consecutive_failures, 0, 'a field the file lacked has its default');
  assert.deepEqual(a.recent, []);
  await storage.stop?.();
  assert.deepEqual(Object.keys(readState(path).models), ['sim.a']);
});

for (const [name, content] of [
  ['truncated in the middle', '{"version":1,"saved_at":1,"models":{"sim.a":{"status":"stan'],
  ['not JSON', 'garbage\u0000\u0001'],
  ['a wrong version', '{"version":99,"saved_at":1,"models":{},"providers":{}}'],
  ['a bad entry', '{"version":1,"saved_at":1,"models":{"sim.a":{"status":"sleepy"}},"providers":{}}'],
  ['empty', ''],
] as const) {
  test(`a state file that is ${name} is moved aside with a warning; startup goes on with fresh state`, async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'state.json');
    writeFileSync(path, content);
    const clock = new ManualClock();
    const { mesh, storage, records } = meshFor(path, 'sync-on-boundary', clock);
    await storage.start?.();
    const aside = readdirSync(dir).filter((f) => f.startsWith('state.json.corrupt-'));
    assert.equal(aside.length, 1, readdirSync(dir).join(','));
    assert.equal(aside[0], 'state.json.corrupt-2026-01-01T00-00-00-000Z');
    assert.equal(readFileSync(join(dir, aside[0] ?? ''), 'utf8'), content, 'kept for inspection');
    assert.ok(!existsSync(path));
    const warn = records.find((r) => r.level === 'warn' && r.msg.includes('moved aside'));
    assert.ok(warn, JSON.stringify(records));
    assert.equal(mesh.state.isModelActive('sim.a', 'sim'), true);
    await storage.stop?.();
    assert.equal(readState(path).models['sim.a'] ?? null, null);
  });
}

test('a storage.path that is a folder is a clear start error and the folder is left alone (it was renamed aside with all it held)', async (t) => {
  const dir = tempDir(t);
  const folder = join(dir, 'conf');
  mkdirSync(folder);
  writeFileSync(join(folder, 'mesh.yaml'), 'kept: true\n');
  const { storage } = meshFor(folder, 'sync-on-boundary', new ManualClock());
  await assert.rejects(storage.start?.() ?? Promise.resolve(), /storage\.path .*conf is a folder, not a file: name a file in it/);
  assert.deepEqual(readdirSync(dir), ['conf'], 'nothing moved aside');
  assert.equal(readFileSync(join(folder, 'mesh.yaml'), 'utf8'), 'kept: true\n');
  await assert.rejects(checkStatePath(folder), /is a folder/, '--check says the same');
  await checkStatePath(join(dir, 'absent.json')); // a first start is fine
});

test('fields of the wrong type in a state file take their defaults with a warning; the model keeps working and the bad values are not saved back', async (t) => {
  const path = join(tempDir(t), 'state.json');
  writeFileSync(path, JSON.stringify({
    version: 1, saved_at: 1,
    models: { 'sim.a': { status: 'active', recent: null, minute: null, consecutive_failures: 'x', window_cost: 2 } },
    providers: { sim: { status: 'active', outage_models: null, spend_daily: 'x', spend_monthly: 3 } },
  }));
  const clock = new ManualClock();
  const { mesh, storage, records } = meshFor(path, 'sync-on-boundary', clock);
  await storage.start?.();
  const warn = records.find((r) => r.level === 'warn' && r.msg === 'state file: fields of the wrong type took their defaults');
  assert.deepEqual(warn?.fields?.['fields'], 5);
  const model = mesh.state.model('sim.a');
  assert.deepEqual([model.recent, model.minute, model.consecutive_failures, model.window_cost], [[], [], 0, 2], 'good fields kept');
  const provider = mesh.state.provider('sim');
  assert.deepEqual([provider.outage_models, provider.spend_daily, provider.spend_monthly], [[], 0, 3]);
  mesh.state.noteRequest('sim.a'); // threw on a null `minute`: every request to the model was a 500
  mesh.state.recordOutcome('sim.a', 'sim', 1, 10);
  await storage.stop?.();
  const saved = readState(path).models['sim.a'] as unknown as Record<string, unknown>;
  assert.ok(Array.isArray(saved['recent']) && Array.isArray(saved['minute']), JSON.stringify(saved));
});

test('client usage in a form this version does not read is not restored, with a warning (budgets refilled silently)', async (t) => {
  const path = join(tempDir(t), 'state.json');
  writeFileSync(path, JSON.stringify({ version: 1, saved_at: 1, models: {}, providers: {}, clients: { version: 2, clients: {} } }));
  const { mesh, records } = meshFor(path, 'sync-on-boundary', new ManualClock());
  const storage = createStorageService(mesh, { clients: mesh.clientLimiter });
  await storage.start?.();
  assert.ok(records.some((r) => r.level === 'warn' && r.msg.startsWith('state file: client usage in a form this version does not read')), JSON.stringify(records));
  await storage.stop?.();
  const { mesh: again, records: quiet } = meshFor(path, 'sync-on-boundary', new ManualClock());
  const second = createStorageService(again, { clients: again.clientLimiter });
  await second.start?.(); // the file now holds this version's client usage
  assert.ok(!quiet.some((r) => r.level === 'warn'), JSON.stringify(quiet));
  await second.stop?.();
});

test('periodic: saves every sync_interval only when state.version moved, and at stop', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const clock = new ManualClock();
  const { mesh, storage } = meshFor(path, 'periodic', clock);
  await storage.start?.();
  mesh.state.holdModel('sim.a', 'sim', { reason: 'x', until: clock.now() + HOUR, cause: 'failure', pool: null, manual: false });
  clock.advance(9_999);
  await storage.idle();
  assert.ok(!existsSync(path), 'not before the interval');
  clock.advance(1);
  await storage.idle();
  assert.equal(readState(path).models['sim.a']?.status, 'standby');
  assert.equal(storage.saves, 1);
  clock.advance(50_000); // five quiet intervals
  await storage.idle();
  assert.equal(storage.saves, 1, 'no change, no write');
  mesh.state.releaseModel('sim.a', 'sim', 'manual');
  clock.advance(10_000);
  await storage.idle();
  assert.equal(storage.saves, 2);
  assert.equal(readState(path).models['sim.a']?.status, 'active');
  mesh.state.holdModel('sim.b', 'sim', { reason: 'y', until: null, cause: 'failure', pool: null, manual: false });
  await storage.stop?.();
  assert.equal(readState(path).models['sim.b']?.status, 'standby', 'the stop saves the last change');
  assert.equal(clock.pending, 0, 'no timer left behind');
});

/** An fs whose renames wait until released, so a write can be held "in flight". */
function gatedFs(): { fs: AtomicFs; release(): void; renames: number } {
  let open: (() => void)[] = [];
  let gate = true;
  const state = {
    renames: 0,
    release() {
      gate = false;
      for (const fn of open) fn();
      open = [];
    },
    fs: {
      ...nodeFs,
      async rename(from: string, to: string) {
        if (gate) await new Promise<void>((r) => open.push(r));
        state.renames++;
        return nodeFs.rename(from, to);
      },
    } as AtomicFs,
  };
  return state;
}

test('immediate: one write in flight plus one pending; a burst costs two writes and the last change is kept', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const clock = new ManualClock();
  const { mesh } = meshFor(path, 'immediate', clock);
  const gated = gatedFs();
  const storage = createStorageService(mesh, { fs: gated.fs });
  await storage.start?.();
  mesh.state.holdModel('sim.a', 'sim', { reason: 'first', until: null, cause: 'failure', pool: null, manual: false });
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r)); // the first write is now waiting on its rename
  for (let i = 0; i < 50; i++) {
    mesh.state.holdModel('sim.b', 'sim', { reason: `burst ${i}`, until: null, cause: 'failure', pool: null, manual: false });
    await new Promise((r) => setImmediate(r));
  }
  gated.release();
  await storage.idle();
  assert.equal(storage.saves, 2);
  assert.equal(gated.renames, 2);
  const saved = readState(path);
  assert.equal(saved.models['sim.a']?.reason, 'first');
  assert.equal(saved.models['sim.b']?.reason, 'burst 49', 'the pending write snapshots after the last change');
  await storage.stop?.();
});

test('immediate: every change is on disk shortly after, with no clock tick', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const clock = new ManualClock();
  const { mesh, storage } = meshFor(path, 'immediate', clock);
  await storage.start?.();
  for (const reason of ['a', 'b', 'c']) {
    mesh.state.holdModel('sim.a', 'sim', { reason: reason, until: null, cause: 'failure', pool: null, manual: false });
    await new Promise((r) => setImmediate(r));
    await storage.idle();
    assert.equal(readState(path).models['sim.a']?.reason, reason);
  }
  await storage.stop?.();
});

test('a failing save is logged, retried later, and leaves the previous file intact', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const clock = new ManualClock();
  const { mesh, records } = meshFor(path, 'periodic', clock);
  let fail = false;
  const fs: AtomicFs = { ...nodeFs, rename: async (a, b) => { if (fail) throw new Error('EROFS: simulated'); return nodeFs.rename(a, b); } };
  const storage = createStorageService(mesh, { fs });
  await storage.start?.();
  mesh.state.holdModel('sim.a', 'sim', { reason: 'saved', until: null, cause: 'failure', pool: null, manual: false });
  clock.advance(10_000);
  await storage.idle();
  fail = true;
  mesh.state.holdModel('sim.a', 'sim', { reason: 'not saved', until: null, cause: 'failure', pool: null, manual: false });
  clock.advance(10_000);
  await storage.idle();
  assert.equal(storage.failures, 1);
  assert.equal(readState(path).models['sim.a']?.reason, 'saved');
  assert.ok(records.some((r) => r.level === 'warn' && r.msg.includes('state save failed')));
  assert.deepEqual(readdirSync(join(path, '..')), ['state.json'], 'no temp file left');
  fail = false;
  clock.advance(10_000);
  await storage.idle();
  assert.equal(readState(path).models['sim.a']?.reason, 'not saved', 'retried at the next interval');
  await storage.stop?.();
});

test('reload switches policy and path without reloading state', async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock();
  const { mesh, storage } = meshFor(join(dir, 'a.json'), 'sync-on-boundary', clock);
  await storage.start?.();
  mesh.state.holdModel('sim.a', 'sim', { reason: 'kept', until: null, cause: 'failure', pool: null, manual: false });
  const next = ModelMesh.fromConfig({
    providers: { sim: { connector: 'modelmesh.simulated.v1' } },
    models: { 'sim.a': { provider: 'sim', capabilities: ['chat-completion'] } },
    storage: { path: join(dir, 'b.json'), sync_policy: 'periodic', sync_interval: '1s' },
  }, { clock, env: {} }).config;
  mesh.reload(next);
  storage.reload?.(next);
  clock.advance(1_000);
  await storage.idle();
  assert.equal(readState(join(dir, 'b.json')).models['sim.a']?.reason, 'kept');
  await storage.stop?.();
  assert.ok(!existsSync(join(dir, 'a.json')));
});

test('a stop while the state file is still loading saves only after the load: the file is never overwritten with fresh state', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const clock = new ManualClock();
  const first = meshFor(path, 'periodic', clock);
  await first.storage.start?.();
  first.mesh.state.holdModel('sim.a', 'sim', { reason: 'kept across restarts', until: clock.now() + HOUR, cause: 'failure', pool: null, manual: false });
  await first.storage.stop?.();

  // SIGTERM right at startup: the load is held at its first fs call while stop() runs.
  let release = (): void => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const fs: AtomicFs = { ...nodeFs, readdir: async (dir) => { await gate; return nodeFs.readdir(dir); } };
  const second = meshFor(path, 'periodic', clock);
  const storage = createStorageService(second.mesh, { fs });
  const starting = storage.start?.();
  const stopping = storage.stop?.();
  release();
  await Promise.all([starting, stopping]);
  assert.equal(readState(path).models['sim.a']?.reason, 'kept across restarts');
  assert.equal(second.mesh.state.model('sim.a').status, 'standby');
  assert.equal(clock.pending, 0, 'no sync timer armed after the stop');
});

test('a reload that changes the shared state store warns that it needs a restart, naming keys only (never the URL)', () => {
  const clock = new ManualClock();
  const { logger, records } = captureLogger();
  const raw = (url: string, prefix: string) => ({
    providers: { sim: { connector: 'modelmesh.simulated.v1' } },
    models: { 'sim.a': { provider: 'sim', capabilities: ['chat-completion'] } },
    storage: { connector: 'modelmesh.redis.v1', url, key_prefix: prefix },
  });
  const mesh = ModelMesh.fromConfig(raw('redis://:pw-first-0000@127.0.0.1:6390', 'a:'), { clock, logger, env: {} });
  mesh.reload(ModelMesh.fromConfig(raw('redis://:pw-first-0000@127.0.0.1:6390', 'a:'), { clock, env: {} }).config);
  assert.deepEqual(records.filter((r) => r.level === 'warn'), [], 'nothing changed: no warning');
  mesh.reload(ModelMesh.fromConfig(raw('redis://:pw-second-000@127.0.0.1:6391', 'b:'), { clock, env: {} }).config);
  const warnings = records.filter((r) => r.level === 'warn');
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]?.msg, 'storage.url, storage.key_prefix changed: restart the server to use the new shared state store (still on the one it started with)');
  assert.ok(!JSON.stringify(records).includes('pw-'), 'no password in any record');
  assert.ok(!records.some((r) => r.msg.includes('in memory only')), 'not mistaken for a state file change');
});
