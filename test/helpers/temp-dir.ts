// Temporary folders for tests, removed when the test (or suite) ends.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Anything with `after` (a TestContext, or node:test's `after` hook wrapped as `{ after }`). */
export interface Cleanup {
  after(fn: () => void): void;
}

/** A fresh `<tmp>/<prefix>XXXXXX` folder, removed (with everything in it) after the test. */
export function tempDir(t: Cleanup, prefix = 'modelmesh-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `text` to `<dir>/<name>` and returns the file's path. */
export function writeIn(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}
