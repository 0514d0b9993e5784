// Crash-safe file replacement (DESIGN §6: "written atomically: temp file, fsync, rename").
// The sequence is the classic one (see e.g. LWN "Ensuring data reaches disk", 2011):
//   1. write the whole content to `path.tmp-<pid>-<n>` in the same folder (same filesystem, so rename is atomic),
//   2. fsync the temp file (its bytes are on disk before the name points at them),
//   3. rename(2) it over `path` (POSIX: readers see the old file or the new one, never a mix),
//   4. fsync the folder (the rename itself survives a power cut).
// A crash or `kill -9` at any step leaves the old file intact; only a stray temp file can remain, which
// `removeStaleTemps` clears at the next start.
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The few fs calls the writer makes; injectable so tests can make a step fail. */
export interface AtomicFs {
  mkdir(path: string, options: { recursive: true }): Promise<unknown>;
  open(path: string, flags: string, mode?: number): Promise<fsp.FileHandle>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
}

export const nodeFs: AtomicFs = {
  mkdir: (path, options) => fsp.mkdir(path, options),
  open: (path, flags, mode) => fsp.open(path, flags, mode),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  readdir: (path) => fsp.readdir(path),
};

let sequence = 0;

/** The temp name for the next write to `path`: unique per process and per write. */
export function tempPath(path: string): string {
  return `${path}.tmp-${process.pid}-${++sequence}`;
}

/**
 * Replaces `path` with `data` atomically. On any failure the temp file is removed (best effort), the
 * previous `path` is left untouched, and the error is rethrown.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, fs: AtomicFs = nodeFs): Promise<void> {
  const dir = dirname(path);
  await fs.mkdir(dir, { recursive: true });
  const tmp = tempPath(path);
  try {
    // 0o600: state names models and providers, and spend; nobody else on the box needs it.
    const handle = await fs.open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDir(dir, fs);
}

/** fsync a folder so a rename in it is durable. Some platforms refuse to open a folder: that is not fatal. */
async function syncDir(dir: string, fs: AtomicFs): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // EISDIR/EPERM/EINVAL on Windows and some network filesystems: the rename happened, durability is best effort.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Removes temp files a crashed writer left next to `path` (`path.tmp-*`). Returns how many went. */
export async function removeStaleTemps(path: string, fs: AtomicFs = nodeFs): Promise<number> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.tmp-`;
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return 0; // no folder yet: nothing to clean
  }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    try {
      await fs.unlink(join(dir, name));
      removed++;
    } catch {
      // raced with another cleaner, or not ours to remove: leave it
    }
  }
  return removed;
}
