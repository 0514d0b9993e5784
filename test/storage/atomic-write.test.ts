// The atomic writer: tmp + fsync + rename + fsync(dir); any failing step leaves the old file intact.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { nodeFs, removeStaleTemps, writeFileAtomic, type AtomicFs } from '../../src/storage/atomic-write.ts';
import { tempDir } from '../helpers/temp-dir.ts';

test('writes through a temp file in the same folder, renamed over the target, and fsyncs file and folder', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'state.json');
  const calls: string[] = [];
  const traced: AtomicFs = {
    ...nodeFs,
    async open(p, flags, mode) {
      const handle = await nodeFs.open(p, flags, mode);
      const sync = handle.sync.bind(handle);
      handle.sync = async () => {
        calls.push(`fsync ${p === dir ? 'dir' : p.replace(dir, '')}`);
        return sync();
      };
      return handle;
    },
    async rename(from, to) {
      calls.push(`rename ${from.replace(dir, '')} -> ${to.replace(dir, '')}`);
      return nodeFs.rename(from, to);
    },
  };
  await writeFileAtomic(path, '{"a":1}', traced);
  assert.equal(readFileSync(path, 'utf8'), '{"a":1}');
  assert.equal(calls.length, 3);
  assert.match(calls[0] ?? '', new RegExp(`^fsync /state\\.json\\.tmp-${process.pid}-\\d+$`));
  assert.match(calls[1] ?? '', new RegExp(`^rename /state\\.json\\.tmp-${process.pid}-\\d+ -> /state\\.json$`));
  assert.equal(calls[2], 'fsync dir');
  assert.deepEqual(readdirSync(dir), ['state.json'], 'no temp file left');
});

test('creates missing folders', async (t) => {
  const path = join(tempDir(t), 'a', 'b', 'state.json');
  await writeFileAtomic(path, 'x');
  assert.equal(readFileSync(path, 'utf8'), 'x');
});

test('a failing rename leaves the old file untouched and removes the temp file', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'state.json');
  writeFileSync(path, 'old');
  const failing: AtomicFs = { ...nodeFs, rename: async () => { throw Object.assign(new Error('EXDEV: simulated'), { code: 'EXDEV' }); } };
  await assert.rejects(writeFileAtomic(path, 'new', failing), /simulated/);
  assert.equal(readFileSync(path, 'utf8'), 'old');
  assert.deepEqual(readdirSync(dir), ['state.json']);
});

test('a failing write (disk full) leaves the old file untouched', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'state.json');
  writeFileSync(path, 'old');
  const full: AtomicFs = {
    ...nodeFs,
    async open(p, flags, mode) {
      const handle = await nodeFs.open(p, flags, mode);
      if (flags === 'w') handle.writeFile = async () => { throw Object.assign(new Error('ENOSPC: simulated'), { code: 'ENOSPC' }); };
      return handle;
    },
  };
  await assert.rejects(writeFileAtomic(path, 'new', full), /ENOSPC/);
  assert.equal(readFileSync(path, 'utf8'), 'old');
  assert.deepEqual(readdirSync(dir), ['state.json']);
});

test('a folder that cannot be fsynced is not an error (the rename happened)', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'state.json');
  const noDirSync: AtomicFs = {
    ...nodeFs,
    async open(p, flags, mode) {
      if (p === dir) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
      return nodeFs.open(p, flags, mode);
    },
  };
  await writeFileAtomic(path, 'ok', noDirSync);
  assert.equal(readFileSync(path, 'utf8'), 'ok');
});

test('removeStaleTemps clears temp files of an interrupted writer, and only those', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'state.json');
  writeFileSync(path, 'keep');
  writeFileSync(`${path}.tmp-123-1`, 'partial');
  writeFileSync(`${path}.tmp-456-9`, '');
  writeFileSync(join(dir, 'other.json.tmp-1-1'), 'not ours');
  assert.equal(await removeStaleTemps(path), 2);
  assert.deepEqual(readdirSync(dir).sort(), ['other.json.tmp-1-1', 'state.json']);
  assert.equal(await removeStaleTemps(join(dir, 'missing', 'state.json')), 0);
  assert.ok(existsSync(path));
});

test('concurrent writers never produce a torn file', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const bodies = Array.from({ length: 20 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(10_000 + i) }));
  await Promise.all(bodies.map((b) => writeFileAtomic(path, b)));
  const final = readFileSync(path, 'utf8');
  assert.ok(bodies.includes(final));
});
